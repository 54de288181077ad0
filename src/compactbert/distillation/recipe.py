"""`compactbert distill RECIPE.yaml`: distil a fine-tuned teacher into a student on a task.

A recipe's keys are fields of `ModelArguments` (the student's source when it is not built from the teacher: a
folder, Hub id or `minilm`, optionally shrunk or LoRA-wrapped as in fine-tuning), `TeacherArguments`,
`DataArguments` and `DistillRecipeArguments` (`DistillationTrainingArguments` plus the fine-tuning recipe's
`bf16_auto` / `overwrite`). `stages: [intermediate, prediction]` runs TinyBERT's two task-specific steps one
after the other, each for `num_train_epochs`; otherwise the single `stage` runs.

`student_init: pruned` cuts a TinyBert student out of the teacher (`compactbert.prune`: the `tiny_bert_*` sizes,
TinyBERT-4's by default; `prune_layers` picks the teacher layers; importance scored on the first
`prune_calibration_size` training texts of the task), then the stages train it. `layer_map: kept` matches each of its
layers to the teacher layer it was cut from.

`student_init: tiny-bert` makes a TinyBert student (TinyBERT-4 sizes by default, its projection fitted to the
teacher's width) and, with `general_epochs > 0`, first runs TinyBERT's general distillation: the pre-trained
`general_teacher` (MiniLM by default: TinyBERT uses the pre-trained, not the fine-tuned, BERT here) teaches the
bare TinyBert encoder its embeddings, hidden states and attention scores on unlabeled text (the paragraphs of the
BBC News training articles, offline). The task stages then start from that encoder.

`student_init: albert` makes an Albert-SOP student from the teacher (`compactbert.albert_from_bert`: word embeddings
factorised to `albert_embedding_size` by truncated SVD, optionally weighted by token counts in the task's training
texts, layers shared as `albert_sharing` says and started by `albert_init`), with the teacher's head. It applies its
layer(s) as many times as the teacher has layers and is as wide, so hidden states and attention scores match one to
one with no projection.

The ready student (without any trainer-added projection), its tokenizer and `metrics.json` are written
all-or-nothing into `output_dir/model`.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from transformers import AutoModelForSequenceClassification, DataCollatorWithPadding

from ..checkpoints import check_max_length, load_tokenizer, placeholder_labels, resolve_model_folder
from ..conversion import DEFAULT_INIT, INIT_RULES
from ..data import first_rows, load_task
from ..finetune import (
    DataArguments,
    FinetuneArguments,
    ModelArguments,
    build_model,
    classification_metrics,
    evaluate_splits,
    parse_recipe_into,
    predict_labels,
    prepare_task_run,
    tokenize_task,
)
from ..io import leaves_no_empty_run_folder, save_model
from ..pruning import IMPORTANCE_MEASURES
from ..records import read_metrics
from .arguments import CHECKPOINTING_ON, STAGES, DistillationTrainingArguments, check_checkpointing
from .layer_map import kept_teacher_layers
from .student import LAYER_CHOICES, PRUNED, init_student
from .trainer import DistillationTrainer, strip_projection

STUDENT_CHOICES = (*LAYER_CHOICES, "tiny-bert", PRUNED, "albert")  # albert: an Albert-SOP from the teacher


@dataclass
class TeacherArguments:
    """The teacher, and whether the student is built from it (DistilBERT-style) instead of from `model`."""

    teacher: str = field(default=None, metadata={"help": "Fine-tuned teacher: a folder, Hub id or built-in name."})
    student_init: str | None = field(
        default=None,
        metadata={
            "help": f"Build the student from the teacher's embeddings, head and layers ({', '.join(LAYER_CHOICES)}), "
            "or as a fresh TinyBert fitted to the teacher (tiny-bert), or as a TinyBert cut out of the teacher "
            "(pruned). Else the student is `model`, loaded with a fresh head and shrunk as in fine-tuning."
        },
    )
    student_init_layers: list[int] | None = field(
        default=None, metadata={"help": "Explicit 0-based teacher layers for the student (instead of student_init)."}
    )
    tiny_bert_layers: int = field(
        default=4, metadata={"help": "tiny-bert / pruned: number of layers (TinyBERT-4: 4)."}
    )
    tiny_bert_hidden_size: int = field(
        default=312, metadata={"help": "tiny-bert / pruned: hidden size (TinyBERT-4: 312)."}
    )
    tiny_bert_intermediate_size: int = field(default=1200, metadata={"help": "tiny-bert / pruned: FFN size (1200)."})
    tiny_bert_heads: int = field(default=12, metadata={"help": "tiny-bert / pruned: attention heads (12)."})
    prune_layers: str | list[int] = field(  # None: the default choice (HfArgumentParser takes no 3-way union)
        default=None,
        metadata={
            "help": "pruned: which teacher layers to keep: a layer-dropping strategy (e.g. even-alternate, top, "
            "contribution) or 0-based teacher layers, e.g. [0, 1, 2, 4]. Default: even-alternate (6 -> 4 keeps "
            "0, 1, 2, 4), top when more than half the layers go."
        },
    )
    prune_importance: str = field(
        default="activation",
        metadata={"help": "pruned: activation (Minitron, on calibration texts) or magnitude (weight norms)."},
    )
    prune_calibration_size: int = field(
        default=1024, metadata={"help": "pruned: score importance on the first N training texts of the task."}
    )
    general_teacher: str = field(
        default="minilm", metadata={"help": "tiny-bert: the pre-trained teacher of general distillation."}
    )
    general_epochs: float = field(
        default=0.0, metadata={"help": "tiny-bert: epochs of general distillation on unlabeled text (0 = none)."}
    )
    general_max_texts: int | None = field(
        default=None, metadata={"help": "tiny-bert: use at most this many unlabeled paragraphs."}
    )
    albert_embedding_size: int = field(
        default=128, metadata={"help": "albert: E, the factorised embedding size (2 to the teacher's hidden size)."}
    )
    albert_sharing: str = field(
        default="all", metadata={"help": "albert: what the layers share (all, attention, ffn, none)."}
    )
    albert_init: str = field(
        default=DEFAULT_INIT,
        metadata={
            "help": "albert: how shared weights start: middle (default), mean, first, last, or a 0-based layer."
        },
    )
    albert_frequency_weighting: bool = field(
        default=False,
        metadata={"help": "albert: weight the SVD's word rows by token counts in the task's training texts."},
    )

    def __post_init__(self):
        if not self.teacher:
            raise ValueError("teacher is required: a fine-tuned model folder (e.g. a finetune run's output_dir/model)")
        if self.student_init is not None and self.student_init_layers is not None:
            raise ValueError("give student_init or student_init_layers, not both")
        if self.student_init is not None and self.student_init not in STUDENT_CHOICES:
            raise ValueError(
                f"unknown student_init '{self.student_init}'; choose one of: {', '.join(STUDENT_CHOICES)}"
            )
        if self.general_epochs < 0:
            raise ValueError(f"general_epochs must be >= 0, got {self.general_epochs}")
        if self.general_epochs and self.student_init != "tiny-bert":
            raise ValueError("general_epochs (general distillation) applies to student_init: tiny-bert only")
        self.prune_layers = _parse_prune_layers(self.prune_layers)
        if self.student_init == "albert":
            check_albert_fields(self)
        if self.student_init != PRUNED and (self.prune_layers is not None or self.prune_importance != "activation"):
            raise ValueError("prune_layers and prune_importance apply to student_init: pruned only")
        if self.prune_importance not in IMPORTANCE_MEASURES:
            raise ValueError(
                f"unknown prune_importance '{self.prune_importance}'; choose one of: {', '.join(IMPORTANCE_MEASURES)}"
            )
        if self.prune_calibration_size < 1:
            raise ValueError(f"prune_calibration_size must be >= 1, got {self.prune_calibration_size}")


def _parse_prune_layers(value):
    """A strategy name, or 0-based layers given as a list or as text ('0,1,2,4' or '[0, 1, 2, 4]')."""
    if value is None or isinstance(value, list):
        return value
    text = str(value).strip()
    if text.strip("[]").replace(",", " ").replace(" ", "").isdigit():
        return [int(i) for i in text.strip("[]").replace(",", " ").split()]
    return text


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
            # each stage's run is checked when it starts: a later one's refusal is said before any training
            check_checkpointing(
                self.components_of(stage), self.gradient_checkpointing, f"stage {stage}: {CHECKPOINTING_ON}"
            )
        super().__post_init__()


DATACLASSES = (ModelArguments, TeacherArguments, DataArguments, DistillRecipeArguments)


def parse_distill_recipe(path: str | os.PathLike | None = None, overrides: dict[str, Any] | None = None):
    """Parse a YAML recipe (and overrides) into `(ModelArguments, TeacherArguments, DataArguments, DistillRecipeArguments)`."""
    parsed = parse_recipe_into(
        DATACLASSES,
        path,
        overrides,
        "ModelArguments, TeacherArguments, DataArguments or DistillationTrainingArguments (see docs/distillation.md)",
    )
    _, teacher_args, _, training_args = parsed
    if teacher_args.general_epochs:  # the general stage runs first, with these weights
        general = training_args.components_of("general")
        check_checkpointing(general, training_args.gradient_checkpointing, f"general distillation: {CHECKPOINTING_ON}")
    return parsed


def build_student(
    model_args: ModelArguments,
    teacher_args: TeacherArguments,
    teacher,
    label_names,
    calibration_texts: list[str] | None = None,
    tokenizer=None,
    texts: list[str] | None = None,
):
    """The student: from the teacher (DistilBERT-style), a fresh TinyBert, a TinyBert pruned from the teacher (scored
    on `calibration_texts` with the teacher's `tokenizer`), an Albert-SOP converted from the teacher (`tokenizer` and
    the training `texts` weight its SVD when asked), or `model_args` as fine-tuning builds it."""
    if teacher_args.student_init == PRUNED:
        return init_student(
            teacher,
            PRUNED,
            target={
                "num_hidden_layers": teacher_args.tiny_bert_layers,
                "hidden_size": teacher_args.tiny_bert_hidden_size,
                "intermediate_size": teacher_args.tiny_bert_intermediate_size,
                "num_attention_heads": teacher_args.tiny_bert_heads,
            },
            prune_layers=teacher_args.prune_layers,
            calibration_texts=calibration_texts,
            tokenizer=tokenizer,
            importance=teacher_args.prune_importance,
            calibration_size=teacher_args.prune_calibration_size,
        )
    if teacher_args.student_init == "tiny-bert":
        from ..models.tiny_bert import TinyBertForSequenceClassification

        return TinyBertForSequenceClassification(tiny_bert_config(teacher_args, teacher.config, len(label_names)))
    if teacher_args.student_init == "albert":
        return albert_student(teacher_args, teacher, tokenizer, texts)
    if teacher_args.student_init is not None or teacher_args.student_init_layers is not None:
        return init_student(teacher, teacher_args.student_init_layers or teacher_args.student_init)
    student, _ = build_model(model_args, label_names)
    return student


def check_albert_fields(teacher_args: TeacherArguments) -> None:
    """Refuse an unknown `albert_sharing` or `albert_init` when the recipe is parsed, not after the data is loaded."""
    from ..models.albert_sop import SHARING_MODES

    if teacher_args.albert_sharing not in SHARING_MODES:
        raise ValueError(
            f"unknown albert_sharing '{teacher_args.albert_sharing}'; choose one of: {', '.join(SHARING_MODES)}"
        )
    init = str(teacher_args.albert_init)
    if init not in INIT_RULES and not init.isdigit():
        raise ValueError(
            f"unknown albert_init '{init}'; choose one of: {', '.join(INIT_RULES)}, or a 0-based teacher layer index"
        )


def albert_student(teacher_args: TeacherArguments, teacher, tokenizer=None, texts=None):
    """`student_init: albert`: `albert_from_bert(teacher)` with the recipe's E, sharing, init and weighting."""
    from ..conversion import albert_from_bert

    weighted = teacher_args.albert_frequency_weighting
    return albert_from_bert(
        teacher,
        embedding_size=teacher_args.albert_embedding_size,
        sharing=teacher_args.albert_sharing,
        init=str(teacher_args.albert_init),
        frequency_texts=texts if weighted else None,
        tokenizer=tokenizer if weighted else None,
    ).train()


def tiny_bert_config(teacher_args: TeacherArguments, teacher_config, num_labels: int):
    from ..models.tiny_bert import tiny_bert_config_for

    return tiny_bert_config_for(
        teacher_config,
        num_hidden_layers=teacher_args.tiny_bert_layers,
        hidden_size=teacher_args.tiny_bert_hidden_size,
        intermediate_size=teacher_args.tiny_bert_intermediate_size,
        num_attention_heads=teacher_args.tiny_bert_heads,
        num_labels=num_labels,
    )


def general_corpus(max_texts: int | None = None, split_seed: int = 42) -> list[str]:
    """Unlabeled text for general distillation: the paragraphs of the BBC News *training* articles (offline).

    Only the training split (of the fixed `split_seed` split) is used, so a bbc-news task evaluated afterwards never
    saw its validation or test articles, not even unlabeled.
    """
    articles = load_task("bbc-news", seed=split_seed).dataset["train"]["text"]
    paragraphs = [p.strip() for article in articles for p in article.split("\n\n") if len(p.split()) >= 8]
    return paragraphs[:max_texts] if max_texts is not None else paragraphs


def general_distillation(student_base, teacher_args, data_args, training_args, tokenizer) -> dict:
    """TinyBERT's general stage: the bare student encoder learns the pre-trained teacher's states on unlabeled text."""
    from datasets import Dataset
    from transformers import AutoModel

    teacher = AutoModel.from_pretrained(resolve_model_folder(teacher_args.general_teacher))
    texts = general_corpus(teacher_args.general_max_texts, data_args.split_seed)
    encoded = Dataset.from_dict({"text": texts}).map(
        lambda b: tokenizer(b["text"], truncation=True, max_length=data_args.max_length),
        batched=True,
        remove_columns=["text"],
        desc="tokenizing the general corpus",
    )
    args = replace(
        training_args,
        stage="general",
        alpha_ce=0.0,
        alpha_mlm=0.0,
        num_train_epochs=teacher_args.general_epochs,
        output_dir=str(Path(training_args.output_dir) / "stage-general"),
        stages=None,
    )
    trainer = DistillationTrainer(
        model=student_base,
        args=args,
        teacher=teacher,
        teacher_tokenizer=tokenizer,
        train_dataset=encoded,
        data_collator=DataCollatorWithPadding(tokenizer),
    )
    output = trainer.train()
    return {"stage": "general", "texts": len(texts)} | output.metrics | {"global_step": output.global_step}


def check_teacher_labels(teacher_config, label_names, task: str, folder: Path) -> None:
    """Refuse a teacher that was not fine-tuned on the task's labels, before any training.

    Its number of labels must be the task's, and when its labels have names, they must be the task's names (in any
    case) in the task's order: the student learns the task's label ids from the teacher's logits, so a teacher of
    other labels (or of the same names in another order) would teach it wrong answers. The message names the task the teacher's
    `metrics.json` records, when it has one.
    """
    teacher_names = [teacher_config.id2label[i] for i in sorted(teacher_config.id2label)]
    names = list(label_names)
    same = [str(n).casefold() for n in teacher_names] == [str(n).casefold() for n in names]
    if len(teacher_names) == len(names) and (placeholder_labels(teacher_names) or same):
        return
    record = read_metrics(folder)
    recorded = record.get("task")
    data = (record.get("recipe") or {}).get("data")
    data = data if isinstance(data, dict) else {}
    columns = "".join(
        f" --{key} {data[key]}" for key in ("text_column", "text_pair_column", "label_column") if data.get(key)
    )
    hint = (
        f"its metrics.json says it was fine-tuned on {recorded!r}: distil on that task (--task {recorded}{columns}) "
        "or "
        if recorded and recorded != task
        else ""
    )
    if len(teacher_names) != len(names):
        what = f"the teacher predicts {len(teacher_names)} labels {teacher_names} but task {task!r} has {len(names)} {names}"
    elif sorted(teacher_names) == sorted(names):
        what = f"the teacher's labels are in another order ({teacher_names}) than task {task!r}'s ({names})"
    else:
        what = f"the teacher's labels {teacher_names} are not those of task {task!r} ({names})"
    raise ValueError(f"{what}; {hint}give a teacher fine-tuned on this task")


def ran_losses(training_args, stages, general: bool = False) -> dict[str, float]:
    """The weighted loss components of every stage the run ran, in order: general distillation's layer losses (its
    `ce` and `mlm` are not used there), then each task stage's (intermediate's layer losses, prediction's soft
    targets)."""
    ran = ([c for c in STAGES["general"] if c not in ("ce", "mlm")] if general else []) + [
        c for stage in stages for c in STAGES[stage]
    ]
    weights = {c: getattr(training_args, f"alpha_{c}") for c in dict.fromkeys(ran)}
    return {c: w for c, w in weights.items() if w > 0}


def score_teacher(teacher, tokenizer, test, data_args) -> dict[str, float]:
    """The teacher's accuracy and macro-F1 on the student's test texts (the first `max_eval_samples`, as the student
    is evaluated): what the student keeps of it, with no second command. A plain inference loop, not a `Trainer`, so
    that no DeepSpeed / FSDP set-up or logger of the run sees it."""
    test = first_rows(test, data_args.max_eval_samples)
    pairs = test["text_pair"] if "text_pair" in test.column_names else None
    predicted = predict_labels(teacher, tokenizer, test["text"], pairs, max_length=data_args.max_length)
    return classification_metrics((np.eye(teacher.config.num_labels)[predicted], np.asarray(test["label"])))


@leaves_no_empty_run_folder
def distill(model_args, teacher_args, data_args, training_args: DistillRecipeArguments) -> dict:
    """Run a distillation recipe end to end; returns the metrics also written to `output_dir/model/metrics.json`."""
    from ..evaluation import require_classifier

    try:
        folder = resolve_model_folder(teacher_args.teacher)
    except (FileNotFoundError, ValueError) as err:  # say it is the recipe's teacher that is missing
        kind = FileNotFoundError if isinstance(err, FileNotFoundError) else ValueError
        raise kind(f"the teacher (teacher: in the recipe, or --teacher): {err}") from None
    require_classifier(folder, teacher_args.teacher)  # a bare encoder would teach a random head: refused first
    tokenizer = load_tokenizer(folder, f"the teacher {teacher_args.teacher}")  # before the run folder is made
    final_dir, (dataset, label_names) = prepare_task_run(data_args, training_args)
    teacher = AutoModelForSequenceClassification.from_pretrained(folder)
    check_teacher_labels(teacher.config, label_names, data_args.task, folder)
    check_max_length(data_args.max_length, teacher.config, f"the teacher {teacher_args.teacher}")
    calibration = None
    if teacher_args.student_init == PRUNED:  # the first training texts (the split is seeded and shuffled)
        calibration = dataset["train"][: teacher_args.prune_calibration_size]["text"]
    train_texts = None  # albert_frequency_weighting: the training texts the student will see
    if teacher_args.albert_frequency_weighting:
        train_texts = dataset["train"]["text"][: data_args.max_train_samples]
    student = build_student(model_args, teacher_args, teacher, label_names, calibration, tokenizer, train_texts)
    # the task's names (the teacher's may be placeholders, or the same names in another case)
    student.config.id2label = dict(enumerate(label_names))
    student.config.label2id = {name: i for i, name in enumerate(label_names)}
    encoded = tokenize_task(dataset, tokenizer, data_args)
    student_tokenizer = None
    if teacher_args.student_init is None and teacher_args.student_init_layers is None:
        student_tokenizer = load_tokenizer(resolve_model_folder(model_args.model), model_args.model)
    stages = training_args.stages or [training_args.stage]
    history = []
    if teacher_args.general_epochs:
        history.append(general_distillation(student.bert, teacher_args, data_args, training_args, tokenizer))
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
        losses = ran_losses(stage_args, [stage])  # what this stage trained on (a card names a labels-only one so)
        history.append({"stage": stage, "losses": losses} | output.metrics | {"global_step": output.global_step})
        student = trainer.model
    metrics = {
        "train": history[-1],  # the last stage, shaped like a fine-tuning run's (model cards read it)
        "train_stages": history,
    }
    metrics |= evaluate_splits(trainer, encoded)
    metrics["teacher_scores"] = {"test": score_teacher(teacher, tokenizer, dataset["test"], data_args)}
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
            "hidden_size": final.config.hidden_size,
            "kept_layers": kept_teacher_layers(final.config),
            "stages": stages,
            "losses": ran_losses(training_args, stages, general=bool(teacher_args.general_epochs)),
            "recipe": {"model": asdict(model_args), "teacher": asdict(teacher_args), "data": asdict(data_args)},
            "bf16": training_args.bf16,
        }
        if train_texts is not None:  # albert_frequency_weighting: how many texts weighted the SVD's word rows
            metrics["albert_frequency_texts"] = len(train_texts)

        save_model(final, final_dir, tokenizer=tokenizer, overwrite=training_args.overwrite, metrics=metrics)
    return metrics
