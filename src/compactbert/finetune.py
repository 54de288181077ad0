"""Fine-tuning recipes: (optionally shrink, optionally LoRA) fine-tune a model on a task with `transformers.Trainer`.

A recipe is YAML whose keys are fields of `ModelArguments`, `DataArguments` and `FinetuneArguments` (a
`TrainingArguments` subclass), parsed with `HfArgumentParser`. The same recipe runs on a CPU, a GPU, and under
`accelerate launch` / `torchrun`: the Trainer handles devices and processes.

The run folder is `output_dir`: the Trainer's checkpoints and logs go there, and the ready model, its tokenizer,
its card data and `metrics.json` are written all-or-nothing into `output_dir/model`.
"""

from __future__ import annotations

import os
import sys
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, f1_score
from transformers import (
    AutoConfig,
    AutoModelForSequenceClassification,
    DataCollatorWithPadding,
    HfArgumentParser,
    Trainer,
    TrainingArguments,
)

from .assets import BUILTIN_MODELS
from .checkpoints import (
    check_head_labels,
    check_max_length,
    load_report_off,
    load_tokenizer,
    resolve_model_folder,
    weight_files,
)
from .data import Task, first_rows, load_task
from .fields import did_you_mean, read_yaml_recipe, recipe_file, typed_numbers, yaml_number
from .hardware import native_bf16
from .hub.gate import majority_class
from .io import MODEL_FOLDER, check_replaceable, file_in_the_way, leaves_no_empty_run_folder, save_model
from .shrinking import shrink
from .shrinking.strategies import STRATEGIES

MODEL_SUBDIR = "model"


@dataclass
class ModelArguments:
    """What to fine-tune: a source model, an optional layer drop before training, and optional LoRA."""

    model: str = field(default="minilm", metadata={"help": "Hub id, local folder, or built-in name (minilm)."})
    revision: str | None = field(default=None, metadata={"help": "Hub revision of `model`."})
    shrink_strategy: str | None = field(
        default=None, metadata={"help": f"Drop layers before fine-tuning: one of {', '.join(STRATEGIES)}."}
    )
    shrink_drop: int | None = field(default=None, metadata={"help": "How many layers to drop (K)."})
    shrink_keep: list[int] | None = field(default=None, metadata={"help": "Explicit 0-based layers to keep."})
    lora_rank: int = field(default=0, metadata={"help": "LoRA rank; 0 = full fine-tuning."})
    lora_alpha: float = field(default=16.0, metadata={"help": "LoRA scaling numerator (alpha / rank)."})
    lora_dropout: float = field(default=0.1, metadata={"help": "Dropout on the LoRA branch."})
    lora_target_modules: list[str] = field(
        default_factory=lambda: ["query", "value"], metadata={"help": "Module names that get LoRA adapters."}
    )
    calibration_texts: int = field(
        default=64, metadata={"help": "For shrink_strategy: contribution, score layers on this many training texts."}
    )
    allow_pickle: bool = field(default=False, metadata={"help": "Accept pytorch_model.bin (pickle) weights."})
    ignore_mismatched_sizes: bool = field(
        default=False,
        metadata={"help": "Re-initialise a source classifier head whose number of labels differs from the task's."},
    )

    def __post_init__(self):
        if self.calibration_texts < 1:
            raise ValueError(f"calibration_texts must be >= 1, got {self.calibration_texts}")
        if self.shrink_strategy is not None and self.shrink_strategy not in STRATEGIES:
            raise ValueError(
                f"unknown shrink_strategy '{self.shrink_strategy}'; choose one of: {', '.join(STRATEGIES)} (or "
                "null, with shrink_drop null, to fine-tune every layer: --shrink_strategy null --shrink_drop null)"
            )
        if self.shrink_strategy is not None and self.shrink_keep is not None:
            raise ValueError("give shrink_strategy + shrink_drop, or shrink_keep, not both")
        if (self.shrink_strategy is None) != (self.shrink_drop is None) and self.shrink_keep is None:
            raise ValueError(
                "shrink_strategy and shrink_drop go together (which layers, and how many); to fine-tune every layer, "
                "set both to null (--shrink_strategy null --shrink_drop null)"
            )
        if self.lora_rank < 0:
            raise ValueError(f"lora_rank must be >= 0 (0 = full fine-tuning), got {self.lora_rank}")
        if self.lora_rank and not self.lora_target_modules:
            raise ValueError("lora_target_modules must name at least one module, e.g. [query, value]")


@dataclass
class DataArguments:
    """Which task, how it is split and tokenized."""

    task: str = field(
        default="bbc-news",
        metadata={"help": "Built-in set (bbc-news, rotten-tomatoes), a local CSV/JSON/Parquet file, or a Hub id."},
    )
    split_seed: int = field(default=42, metadata={"help": "Seed of the train/validation/test split (fixed per task)."})
    max_length: int = field(default=128, metadata={"help": "Texts are truncated to this many tokens."})
    text_column: str | None = field(default=None, metadata={"help": "Text column of a local file."})
    text_pair_column: str | None = field(default=None, metadata={"help": "Second-text column, for pair tasks."})
    label_column: str | None = field(default=None, metadata={"help": "Label column of a local file."})
    max_train_samples: int | None = field(default=None, metadata={"help": "Use only the first N training examples."})
    max_eval_samples: int | None = field(default=None, metadata={"help": "Evaluate on the first N examples."})

    def __post_init__(self):
        if self.max_length < 8:
            raise ValueError(f"max_length must be at least 8 tokens, got {self.max_length}")
        for name in ("max_train_samples", "max_eval_samples"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be >= 1 when given, got {value}")


@dataclass
class FinetuneArguments(TrainingArguments):
    """`TrainingArguments` plus the few fields a fine-tuning recipe adds."""

    bf16_auto: bool = field(
        default=True,
        metadata={
            "help": "Use bf16 autocast where the hardware has native bf16 (a CUDA GPU with bf16, or a CPU with "
            "AMX/AVX512-BF16): sets `bf16`. Off: `bf16` is as given. On a machine without CUDA, `use_cpu` is set "
            "whenever bf16 or several processes (torchrun / accelerate launch) are used, as transformers needs it."
        },
    )
    overwrite: bool = field(default=False, metadata={"help": "Replace an existing output_dir/model."})

    def __post_init__(self):
        if self.output_dir is None:
            raise ValueError("output_dir is required: the run folder (the ready model goes to output_dir/model)")
        check_trainable(self)
        # documented in the fields' help: the one place a recipe's precision and device are chosen for the user
        if self.bf16_auto and not self.fp16 and native_bf16():
            self.bf16 = True
        multi_process = int(os.environ.get("WORLD_SIZE", "1")) > 1
        if not _cuda_available() and (self.bf16 or multi_process):
            self.use_cpu = True  # transformers needs it for bf16 on a CPU and for DDP over gloo on CPUs
        super().__post_init__()


def check_trainable(args: TrainingArguments) -> None:
    """Refuse training arguments under which nothing (or nothing sensible) would train, before any work.

    Every recipe command reads its `TrainingArguments` through `FinetuneArguments` (fine-tuning, distillation,
    pretraining, and the runs of `compactbert build`), so this is their one check. `transformers` accepts these
    values and would save an untrained model, or fail deep inside training.

    Raises:
        `ValueError`: naming the field, its value and what is expected: `num_train_epochs` < 0;
            `num_train_epochs` 0 while `max_steps` <= 0 (no step to run); `learning_rate` <= 0; a batch size or
            `gradient_accumulation_steps` < 1.
    """
    if args.num_train_epochs < 0:
        raise ValueError(
            f"num_train_epochs must be >= 0 (passes over the training split, e.g. 1 or 0.5), got {args.num_train_epochs}"
        )
    if args.num_train_epochs == 0 and args.max_steps <= 0:
        raise ValueError(
            f"nothing to train: num_train_epochs is 0 and max_steps is {args.max_steps}; set num_train_epochs > 0 "
            "(e.g. 1) or max_steps > 0 (a number of optimizer steps)"
        )
    if args.learning_rate <= 0:
        raise ValueError(f"learning_rate must be > 0 (e.g. 1e-4), got {args.learning_rate}")
    for name in ("per_device_train_batch_size", "per_device_eval_batch_size", "gradient_accumulation_steps"):
        if getattr(args, name) < 1:
            raise ValueError(f"{name} must be a whole number >= 1, got {getattr(args, name)}")


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def parse_recipe(path: str | os.PathLike | None = None, overrides: dict[str, Any] | None = None):
    """Parse a YAML recipe (and `key: value` overrides) into `(ModelArguments, DataArguments, FinetuneArguments)`."""
    return parse_recipe_into(
        (ModelArguments, DataArguments, FinetuneArguments),
        path,
        overrides,
        "ModelArguments, DataArguments or TrainingArguments (listed in docs/recipes.md)",
    )


def parse_recipe_into(dataclass_types, path=None, overrides: dict[str, Any] | None = None, keys_hint: str = ""):
    """Read a YAML recipe plus `key: value` overrides into `dataclass_types` (one instance each, via HfArgumentParser).

    The one recipe reader of every command (finetune, distill, pretrain): a missing file, a recipe that is not a
    mapping and unknown keys (with close matches) are refused; `keys_hint` says where the valid keys are listed.
    """
    fields: dict[str, Any] = {}
    if path is not None:
        recipe = recipe_file(path)
        loaded = read_yaml_recipe(recipe)
        if not isinstance(loaded, dict):
            raise ValueError(f"recipe {recipe} must be a YAML mapping of field: value, got {type(loaded).__name__}")
        fields.update(loaded)
    fields.update(overrides or {})
    fields = {key: yaml_number(value) for key, value in fields.items()}
    parser = HfArgumentParser(tuple(dataclass_types))
    known = {f for dc in parser.dataclass_types for f in dc.__dataclass_fields__}
    unknown = sorted(set(fields) - known)
    if unknown:
        raise ValueError(
            f"unknown recipe keys {unknown}{did_you_mean(unknown, known)}; keys are fields of {keys_hint}"
        )
    fields = typed_numbers(fields, parser.dataclass_types, f"recipe {path}" if path is not None else "recipe")
    return parser.parse_dict(fields)


def classification_metrics(eval_pred) -> dict[str, float]:
    """Accuracy and macro-F1 from a Trainer `EvalPrediction` (numpy + scikit-learn)."""
    logits, labels = eval_pred
    logits = logits[0] if isinstance(logits, tuple) else logits
    predictions = np.asarray(logits).argmax(-1)
    return {
        "accuracy": float(accuracy_score(labels, predictions)),
        "macro_f1": float(f1_score(labels, predictions, average="macro")),
    }


def build_model(model_args: ModelArguments, label_names: list[str], calibration_texts: list[str] | None = None):
    """Load the source with a fresh classification head, shrink it if asked, and wrap it in LoRA if asked.

    `calibration_texts` (in-domain texts, e.g. the first training texts) score layers for the contribution strategy.
    """
    folder = resolve_model_folder(model_args.model, revision=model_args.revision, allow_pickle=model_args.allow_pickle)
    weights = weight_files(folder, allow_pickle=model_args.allow_pickle)  # refuses pickle unless allowed
    check_head_labels(folder, label_names, model_args.model, model_args.ignore_mismatched_sizes)
    tokenizer = load_tokenizer(folder, model_args.model)
    id2label = dict(enumerate(label_names))
    config = AutoConfig.from_pretrained(  # outside `load_classifier`'s quiet load: what it says about the config shows
        folder, num_labels=len(label_names), id2label=id2label, label2id={name: i for i, name in id2label.items()}
    )
    model = load_classifier(
        folder,
        model_args.model,
        config=config,
        use_safetensors=weights[0].suffix == ".safetensors",
        ignore_mismatched_sizes=model_args.ignore_mismatched_sizes,
    )
    builtin = BUILTIN_MODELS.get(model_args.model)
    model.config._name_or_path = builtin.hub_id if builtin else model_args.model
    if model_args.shrink_keep is not None:
        model = shrink(model, keep=model_args.shrink_keep)
    elif model_args.shrink_strategy is not None:
        model = shrink(
            model,
            model_args.shrink_strategy,
            model_args.shrink_drop,
            calibration_texts=calibration_texts,
            tokenizer=tokenizer,
            progress=False,
        )
    if model_args.lora_rank:
        from peft import LoraConfig, TaskType, get_peft_model

        lora = LoraConfig(
            task_type=TaskType.SEQ_CLS,
            r=model_args.lora_rank,
            lora_alpha=model_args.lora_alpha,
            lora_dropout=model_args.lora_dropout,
            target_modules=list(model_args.lora_target_modules),
        )
        model = get_peft_model(model, lora)
    return model, tokenizer


def load_classifier(folder: str | os.PathLike, source: str, **kwargs):
    """`AutoModelForSequenceClassification.from_pretrained(folder, **kwargs)`, with one line of ours instead of
    transformers' load report when the only weights the source lacks are the classification head's (a bare encoder,
    or with `ignore_mismatched_sizes` a head for another number of labels), with the pooler when the source has none
    at all (a masked-LM checkpoint): that head starts from random weights, as
    fine-tuning expects; the source's own heads (outside the base model, e.g. a pretraining checkpoint's `cls.*`) are
    said unused in one line too. Any weight of the base model the source lacks, holds in excess or holds in another
    shape is reported loudly (a warning naming each). `source` names the source in those lines."""
    try:
        with load_report_off():  # its load report: said below, the head in one line
            model, info = AutoModelForSequenceClassification.from_pretrained(
                folder, output_loading_info=True, **kwargs
            )
    except RuntimeError:
        # e.g. a head of another shape without ignore_mismatched_sizes: its error points to the report, so load again
        # with the report on, for the report and then that error
        AutoModelForSequenceClassification.from_pretrained(folder, **kwargs)
        raise
    base = f"{model.base_model_prefix}."
    # a bare encoder's checkpoint names its weights without the prefix (`encoder.layer.0...`, not `bert.encoder...`)
    parts = {name for name, _ in model.base_model.named_children()}
    in_base = lambda key: key.startswith(base) or key.split(".")[0] in parts  # noqa: E731
    mismatched = {key: (saved, wanted) for key, saved, wanted in info["mismatched_keys"]}
    # a source without any pooler (a masked-LM checkpoint, a folder saved without one): the pooler starts fresh with
    # the head it feeds, as fine-tuning expects
    pooler = {k for k in model.state_dict() if k.startswith(f"{base}pooler.")}
    fresh = pooler if pooler and pooler <= set(info["missing_keys"]) else set()
    head = sorted(k for k in {*info["missing_keys"], *mismatched} if not k.startswith(base) or k in fresh)
    others = {
        "missing from the source (random weights)": sorted(
            k for k in info["missing_keys"] if k.startswith(base) and k not in fresh
        ),
        "in the source but not in the model (ignored)": sorted(k for k in info["unexpected_keys"] if in_base(k)),
        "of another shape in the source (random weights)": sorted(
            f"{k} {tuple(mismatched[k][0])} vs {tuple(mismatched[k][1])}" for k in mismatched if k.startswith(base)
        ),
    }
    if head:
        why = "its head has another shape" if any(k in mismatched for k in head) else "it has none"
        print(
            f"{source}: the classification head ({', '.join(head)}) starts from random weights ({why}); fine-tuning "
            f"trains it for {model.config.num_labels} labels",
            file=sys.stderr,
        )
    # the source's own heads (a pretraining checkpoint's `cls.*`, say) are not used: normal when fine-tuning
    unused = sorted(k for k in info["unexpected_keys"] if not in_base(k))
    if unused:
        print(f"{source}: its other heads' weights are not used ({len(unused)}: {', '.join(unused[:3])}"
              f"{', ...' if len(unused) > 3 else ''})", file=sys.stderr)  # fmt: skip
    found = "; ".join(f"{what}: {', '.join(keys)}" for what, keys in others.items() if keys)
    if found:
        warnings.warn(
            f"{source} does not fit {type(model).__name__} beyond its classification head: weights {found}. Check "
            "that it is the model you meant (a checkpoint of this architecture)",
            stacklevel=2,
        )
    return model


def tokenize_task(dataset, tokenizer, data_args: DataArguments):
    """Tokenize every split (truncated, not padded: the collator pads each batch to its longest text); only the first
    `max_train_samples` / `max_eval_samples` rows, the ones used."""
    from datasets import DatasetDict

    has_pair = "text_pair" in dataset["train"].column_names

    def encode(batch):
        pair = batch["text_pair"] if has_pair else None
        return tokenizer(batch["text"], pair, truncation=True, max_length=data_args.max_length)

    limits = {"train": data_args.max_train_samples, "validation": data_args.max_eval_samples}
    limits["test"] = data_args.max_eval_samples
    used = DatasetDict({split: first_rows(rows, limits.get(split)) for split, rows in dataset.items()})
    removed = [c for c in dataset["train"].column_names if c != "label"]
    return used.map(encode, batched=True, remove_columns=removed, desc="tokenizing")


@leaves_no_empty_run_folder
def finetune(model_args: ModelArguments, data_args: DataArguments, training_args: FinetuneArguments) -> dict:
    """Run a recipe end to end; returns the metrics that are also written to `output_dir/model/metrics.json`."""
    final_dir, (dataset, label_names) = prepare_task_run(data_args, training_args)
    model, tokenizer = build_model(model_args, label_names, dataset["train"]["text"][: model_args.calibration_texts])
    check_max_length(data_args.max_length, model.config, model_args.model)
    encoded = tokenize_task(dataset, tokenizer, data_args)
    trainer = Trainer(
        model=model,
        args=training_args,
        train_dataset=encoded["train"],
        eval_dataset=encoded["validation"],
        data_collator=DataCollatorWithPadding(tokenizer),
        processing_class=tokenizer,
        compute_metrics=classification_metrics,
    )
    train_output = trainer.train(resume_from_checkpoint=training_args.resume_from_checkpoint)
    metrics = {"train": train_output.metrics | {"global_step": train_output.global_step}}
    metrics |= evaluate_splits(trainer, encoded)
    if trainer.is_world_process_zero():
        final = trainer.model
        if model_args.lora_rank:
            final = final.merge_and_unload()  # plain weights: loads without peft
        metrics |= {
            "task": data_args.task,
            "split_seed": data_args.split_seed,
            "seed": training_args.seed,
            "label_names": label_names,
            "num_parameters": final.num_parameters(),
            "num_hidden_layers": final.config.num_hidden_layers,
            "kept_layers": getattr(final.config, "kept_layers", None),
            "drop_strategy": getattr(final.config, "drop_strategy", None),
            "recipe": {"model": asdict(model_args), "data": asdict(data_args)},
            "bf16": training_args.bf16,
        }

        save_model(final, final_dir, tokenizer=tokenizer, overwrite=training_args.overwrite, metrics=metrics)
    return metrics


def seed_run(training_args) -> None:
    """Seed Python, numpy and torch with the recipe's `seed` before any weights are made (a fresh classification
    head, a student cut out of or converted from its teacher, a model from random init).

    `Trainer` seeds only when it is created, after the model exists; without this a run's starting weights came
    from whatever state the process's generator was in, and two runs of one recipe and seed trained different
    models. `full_determinism: true` also makes torch use deterministic kernels, as `Trainer` does with it.
    """
    from transformers import enable_full_determinism, set_seed

    if training_args.full_determinism:
        enable_full_determinism(training_args.seed)
    else:
        set_seed(training_args.seed)


def start_run(training_args) -> Path:
    """The start of every training command (fine-tuning, distillation, pretraining): `output_dir/model`, where the ready
    model goes. Refuses an existing one unless `overwrite` is set, before any work; then seeds the run (`seed_run`)."""
    final_dir = Path(training_args.output_dir) / MODEL_SUBDIR
    if (blocked := file_in_the_way(training_args.output_dir)) is not None:
        raise NotADirectoryError(
            f"output_dir {training_args.output_dir}: {blocked} is a file; give a folder for the run"
        )
    if final_dir.exists() and not training_args.overwrite:
        raise FileExistsError(f"{final_dir} already exists; choose another output_dir or set overwrite: true")
    check_replaceable(final_dir, MODEL_FOLDER)  # what overwrite would lose, before any training
    seed_run(training_args)
    return final_dir


def prepare_task_run(data_args: DataArguments, training_args: FinetuneArguments) -> tuple[Path, Task]:
    """The start of every task recipe run (fine-tuning, distillation): where the ready model goes, and the task.

    `start_run` (refuses an existing `output_dir/model` unless `overwrite` is set, before any work, and seeds the
    run); then loads the task with the recipe's split seed and column names.

    Returns:
        `tuple[Path, Task]`: `output_dir/model`, and the task (`dataset`, `label_names`) as `load_task` returns it.
    """
    final_dir = start_run(training_args)
    columns = {
        name: getattr(data_args, name)
        for name in ("text_column", "text_pair_column", "label_column")
        if getattr(data_args, name) is not None
    }
    return final_dir, load_task(data_args.task, seed=data_args.split_seed, **columns)


def evaluate_splits(
    trainer, encoded, splits: tuple[str, ...] = ("validation", "test")
) -> dict[str, dict[str, float | str]]:
    """`trainer.evaluate` on each split of `encoded`, the metric names without the split prefix.

    Each split also records its majority class (`majority_label`) and that class's share of the split
    (`majority_accuracy`: the accuracy of always predicting it), which the quality gate of `compactbert build` and
    `compactbert push` compares the test accuracy with.

    Returns:
        `dict[str, dict[str, float | str]]`: e.g. `{"validation": {"accuracy": ..., "macro_f1": ..., "loss": ...,
        "majority_label": "sport", "majority_accuracy": ...}, ...}`.
    """
    scores = {}
    for split in splits:
        metrics = trainer.evaluate(encoded[split], metric_key_prefix=split)
        scores[split] = {key.removeprefix(split + "_"): value for key, value in metrics.items()}
        feature = encoded[split].features.get("label")
        label, share = majority_class(encoded[split]["label"], getattr(feature, "names", None))
        scores[split] |= {"majority_label": label, "majority_accuracy": share}  # what the quality gate compares with
    return scores


def predict_labels(
    model, tokenizer, texts, text_pairs=None, batch_size: int = 64, max_length: int = 128, bf16: bool | None = None
) -> np.ndarray:
    """Predicted label ids for `texts` (eval mode, inference mode; bf16 autocast by default where it is native)."""
    import torch

    model.eval()
    device = next(model.parameters()).device
    use_bf16 = native_bf16() if bf16 is None else bf16
    predictions = []
    with torch.inference_mode(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16):
        for start in range(0, len(texts), batch_size):
            pair = None if text_pairs is None else list(text_pairs[start : start + batch_size])
            batch = tokenizer(
                list(texts[start : start + batch_size]),
                pair,
                truncation=True,
                max_length=max_length,
                padding=True,
                return_tensors="pt",
            ).to(device)
            predictions.append(model(**batch).logits.float().argmax(-1).cpu().numpy())
    return np.concatenate(predictions)
