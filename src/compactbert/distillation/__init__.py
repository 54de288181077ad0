"""Distillation: losses (pure functions), arguments, the DistillationTrainer, layer mapping, data augmentation."""
