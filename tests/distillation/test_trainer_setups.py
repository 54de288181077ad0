"""DistillationTrainer under the Trainer's own setups: `torch_compile` (the student compiled; the teacher runs as it
is). Multi-process runs are in test_recipe.py (torchrun)."""

import random

import torch
from datasets import Dataset
from transformers import BertForSequenceClassification, DataCollatorWithPadding

from compactbert.distillation import DistillationTrainer, DistillationTrainingArguments

from support.helpers import WORDS, make_bert, make_tokenizer


def test_torch_compile_trains_with_every_loss(tmp_path):
    """accelerate hands the teacher back compiled; taking its forward off the compiled wrapper left that wrapper
    without one ("_forward_unimplemented() got an unexpected keyword argument 'input_ids'")."""
    tokenizer, rng = make_tokenizer(), random.Random(0)
    texts = [" ".join(rng.sample(WORDS, rng.randint(3, 8))) for _ in range(16)]
    data = Dataset.from_dict({"text": texts, "label": [int("good" in t) for t in texts]})
    data = data.map(lambda b: tokenizer(b["text"]), batched=True, remove_columns=["text"])
    teacher = make_bert(BertForSequenceClassification, num_layers=4, hidden_size=48, intermediate_size=64)
    student = make_bert(BertForSequenceClassification, num_layers=2, seed=1)
    args = DistillationTrainingArguments(
        output_dir=str(tmp_path), stage="all", alpha_label=0.5, max_steps=2, per_device_train_batch_size=8,
        torch_compile=True, torch_compile_backend="eager", logging_steps=1, report_to="none", save_strategy="no",
        use_cpu=True, disable_tqdm=True,
    )  # fmt: skip
    trainer = DistillationTrainer(
        model=student, args=args, teacher=teacher, train_dataset=data, data_collator=DataCollatorWithPadding(tokenizer)
    )
    trainer.train()
    assert type(trainer.model_wrapped).__name__ == "OptimizedModule"  # the student ran compiled
    logged = [entry for entry in trainer.state.log_history if "loss" in entry]
    assert len(logged) == 2 and {"loss_ce", "loss_hidden", "loss_attn"} <= set(logged[0])
    assert all(torch.isfinite(torch.tensor(entry["loss"])) for entry in logged)
