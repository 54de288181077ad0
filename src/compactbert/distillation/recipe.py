"""`compactbert distill RECIPE.yaml`: distil a fine-tuned teacher into a student on a task.

A recipe's keys are fields of `ModelArguments` (the student's source when it is not built from the teacher: a
folder, Hub id or `minilm`, optionally shrunk or LoRA-wrapped as in fine-tuning), `TeacherArguments`,
`DataArguments` and `DistillRecipeArguments` (`DistillationTrainingArguments` plus the fine-tuning recipe's
`bf16_auto` / `overwrite`). `stages: [intermediate, prediction]` runs TinyBERT's two task-specific steps one
after the other, each for `num_train_epochs`; otherwise the single `stage` runs.

The ready student (without any trainer-added projection), its tokenizer and `metrics.json` are written
all-or-nothing into `output_dir/model`.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml
from transformers import AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding, HfArgumentParser

from ..checkpoints import resolve_model_folder
from ..data import load_task
from ..finetune import (
    MODEL_SUBDIR,
    DataArguments,
    FinetuneArguments,
    ModelArguments,
    _did_you_mean,
    _number,
    _strip,
    build_model,
    classification_metrics,
    tokenize_task,
)
from ..io import save_model
from .arguments import STAGES, DistillationTrainingArguments
from .student import LAYER_CHOICES, init_student
from .trainer import DistillationTrainer, strip_projection


@dataclass
class TeacherArguments:
    """The teacher, and whether the student is built from it (DistilBERT-style) instead of from `model`."""

    teacher: str = field(default=None, metadata={"help": "Fine-tuned teacher: a folder, Hub id or built-in name."})
    student_init: str | None = field(
        default=None,
        metadata={
            "help": f"Build the student from the teacher's embeddings, head and layers: {', '.join(LAYER_CHOICES)} "
            "(else the student is `model`, loaded with a fresh head and shrunk as in fine-tuning)."
        },
    )
    student_init_layers: list[int] | None = field(
        default=None, metadata={"help": "Explicit 0-based teacher layers for the student (instead of student_init)."}
    )

    def __post_init__(self):
        if not self.teacher:
            raise ValueError("teacher is required: a fine-tuned model folder (e.g. a finetune run's output_dir/model)")
        if self.student_init is not None and self.student_init_layers is not None:
            raise ValueError("give student_init or student_init_layers, not both")
        if self.student_init is not None and self.student_init not in LAYER_CHOICES:
            raise ValueError(f"unknown student_init '{self.student_init}'; choose one of: {', '.join(LAYER_CHOICES)}")


@dataclass
class DistillRecipeArguments(DistillationTrainingArguments, FinetuneArguments):
    """Distillation arguments plus the fine-tuning recipe's conveniences (`bf16_auto`, `overwrite`)."""

    stages: list[str] | None = field(
        default=None,
        metadata={
            "help": f"Run these stages in order (each one of {', '.join(STAGES)}), e.g. [intermediate, prediction]."
        },
    )

    def __post_init__(self):
        for stage in self.stages or []:
            if stage not in STAGES:
                raise ValueError(f"unknown stage '{stage}' in stages; choose from: {', '.join(STAGES)}")
        super().__post_init__()


DATACLASSES = (ModelArguments, TeacherArguments, DataArguments, DistillRecipeArguments)


def parse_distill_recipe(path: str | os.PathLike | None = None, overrides: dict[str, Any] | None = None):
    """Parse a YAML recipe (and overrides) into `(ModelArguments, TeacherArguments, DataArguments, DistillRecipeArguments)`."""
    fields: dict[str, Any] = {}
    if path is not None:
        recipe = Path(path)
        if not recipe.is_file():
            raise FileNotFoundError(f"recipe {recipe} does not exist")
        loaded = yaml.safe_load(recipe.read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict):
            raise ValueError(f"recipe {recipe} must be a YAML mapping of field: value, got {type(loaded).__name__}")
        fields.update(loaded)
    fields.update(overrides or {})
    fields = {key: _number(value) for key, value in fields.items()}
    parser = HfArgumentParser(DATACLASSES)
    known = {f for dc in DATACLASSES for f in dc.__dataclass_fields__}
    unknown = sorted(set(fields) - known)
    if unknown:
        raise ValueError(
            f"unknown recipe keys {unknown}{_did_you_mean(unknown, known)}; keys are fields of ModelArguments, "
            "TeacherArguments, DataArguments or DistillationTrainingArguments (see the README's distillation section)"
        )
    return parser.parse_dict(fields)


def build_student(model_args: ModelArguments, teacher_args: TeacherArguments, teacher, label_names):
    """The student: from the teacher (DistilBERT-style) or from `model_args` as a fine-tuning run would build it."""
    if teacher_args.student_init is not None or teacher_args.student_init_layers is not None:
        return init_student(teacher, teacher_args.student_init_layers or teacher_args.student_init)
    student, _ = build_model(model_args, label_names)
    return student


def distill(model_args, teacher_args, data_args, training_args: DistillRecipeArguments) -> dict:
    """Run a distillation recipe end to end; returns the metrics also written to `output_dir/model/metrics.json`."""
    final_dir = Path(training_args.output_dir) / MODEL_SUBDIR
    if final_dir.exists() and not training_args.overwrite:
        raise FileExistsError(f"{final_dir} already exists; choose another output_dir or set overwrite: true")
    columns = {
        name: getattr(data_args, name)
        for name in ("text_column", "text_pair_column", "label_column")
        if getattr(data_args, name) is not None
    }
    dataset, label_names = load_task(data_args.task, seed=data_args.split_seed, **columns)
    folder = resolve_model_folder(teacher_args.teacher)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    teacher = AutoModelForSequenceClassification.from_pretrained(folder)
    if teacher.config.num_labels != len(label_names):
        raise ValueError(
            f"the teacher predicts {teacher.config.num_labels} labels but task {data_args.task} has "
            f"{len(label_names)}; give a teacher fine-tuned on this task"
        )
    student = build_student(model_args, teacher_args, teacher, label_names)
    student.config.id2label, student.config.label2id = dict(teacher.config.id2label), dict(teacher.config.label2id)
    encoded = tokenize_task(dataset, tokenizer, data_args)
    student_tokenizer = None
    if teacher_args.student_init is None and teacher_args.student_init_layers is None:
        student_tokenizer = AutoTokenizer.from_pretrained(resolve_model_folder(model_args.model))
    stages = training_args.stages or [training_args.stage]
    history = []
    for i, stage in enumerate(stages):
        stage_args = training_args
        if len(stages) > 1:
            stage_args = replace(
                training_args, stage=stage, output_dir=str(Path(training_args.output_dir) / f"stage-{i}-{stage}")
            )
        trainer = DistillationTrainer(
            model=student,
            args=stage_args,
            teacher=teacher,
            teacher_tokenizer=tokenizer,
            train_dataset=encoded["train"],
            eval_dataset=encoded["validation"],
            data_collator=DataCollatorWithPadding(tokenizer),
            processing_class=student_tokenizer or tokenizer,
            compute_metrics=classification_metrics,
        )
        resume = training_args.resume_from_checkpoint if i == 0 else None
        output = trainer.train(resume_from_checkpoint=resume)
        history.append({"stage": stage} | output.metrics | {"global_step": output.global_step})
        student = trainer.model
    metrics = {
        "train": history,
        "validation": _strip(trainer.evaluate(encoded["validation"], metric_key_prefix="validation"), "validation"),
        "test": _strip(trainer.evaluate(encoded["test"], metric_key_prefix="test"), "test"),
    }
    if trainer.is_world_process_zero():
        final = trainer.model
        if model_args.lora_rank:
            final = final.merge_and_unload()
        strip_projection(final)
        metrics |= {
            "task": data_args.task,
            "teacher": teacher_args.teacher,
            "split_seed": data_args.split_seed,
            "seed": training_args.seed,
            "label_names": label_names,
            "num_parameters": final.num_parameters(),
            "num_hidden_layers": final.config.num_hidden_layers,
            "kept_layers": getattr(final.config, "kept_layers", None),
            "stages": stages,
            "losses": {c: getattr(training_args, f"alpha_{c}") for c in training_args.active_components},
            "recipe": {"model": asdict(model_args), "teacher": asdict(teacher_args), "data": asdict(data_args)},
            "bf16": training_args.bf16,
        }

        def write_metrics(out: Path) -> None:
            (out / "metrics.json").write_text(json.dumps(metrics, indent=2, default=str))

        save_model(final, final_dir, tokenizer=tokenizer, overwrite=training_args.overwrite, extra=write_metrics)
    return metrics
