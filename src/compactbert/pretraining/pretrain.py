"""Pretraining recipes: an Albert-SOP model on documents, MLM + SOP (or NSP), on `transformers.Trainer`: from scratch,
or continued from an Albert-SOP folder (`model`, e.g. one `compactbert albert` converted from a trained BERT).

Each epoch draws new sentence pairs and MLM masks, seeded by the epoch (`redraw_pairs_each_epoch`, on by default;
see `compactbert.pretraining.epochs`).

A recipe is YAML whose keys are fields of `PretrainModelArguments`, `PretrainDataArguments` and `PretrainArguments`
(a `FinetuneArguments` subclass: `TrainingArguments` plus `bf16_auto` and `overwrite`), parsed with
`HfArgumentParser` the same way as fine-tuning recipes. The run folder is `output_dir` (checkpoints, logs); the
ready model, its tokenizer and `metrics.json` are written all-or-nothing into `output_dir/model`.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from datasets import Dataset
from transformers import Trainer

from ..assets import builtin_model_path
from ..checkpoints import check_max_length, load_tokenizer, read_config, resolve_model_folder
from ..finetune import FinetuneArguments, parse_recipe_into, start_run
from ..io import leaves_no_empty_run_folder, save_model
from ..loss_logging import LossComponentsLogging
from ..models.albert_sop import SENTENCE_OBJECTIVES, SHARING_MODES, AlbertSopConfig, AlbertSopForPreTraining
from .epochs import EpochPairs, RedrawEachEpoch
from .masking import MASKING_MODES, MaskingCollator
from .pairs import SEGMENT_UNITS, bbc_bodies, build_pairs

OBJECTIVE_LOSSES = ("mlm_loss", "sentence_loss")  # the parts of AlbertSopForPreTraining's loss, logged next to it
# PretrainModelArguments fields that shape the run, not the model: never written to a fresh model's config
RECIPE_ONLY_FIELDS = ("tokenizer", "model", "mlm_bias_prior", "mlm_weight")


@dataclass
class PretrainModelArguments:
    """The architecture to pretrain from random init (or the Albert-SOP folder to continue from), and its tokenizer."""

    model: str | None = field(
        default=None,
        metadata={
            "help": "An Albert-SOP folder or Hub id to continue pretraining from (e.g. `compactbert albert`'s output); "
            "its config is the architecture (the size and sharing fields here are then unused) and the MLM and "
            "sentence heads start fresh where it has none. Default: random init from the fields below."
        },
    )
    tokenizer: str | None = field(
        default=None,
        metadata={
            "help": "Tokenizer folder or built-in name; minilm = MiniLM's BERT WordPiece (no ALBERT one offline). "
            "Default: the `model` folder's tokenizer, else minilm."
        },
    )
    sharing: str = field(default="all", metadata={"help": f"Cross-layer sharing: {', '.join(SHARING_MODES)}."})
    sentence_objective: str = field(default="sop", metadata={"help": "Sentence task: sop or nsp."})
    mlm_bias_prior: bool = field(
        default=False,
        metadata={
            "help": "Start the masked-LM head's output bias at the log frequency of each token in the training "
            "documents (add-one counts), so a fresh head need not learn the token prior through the encoder. Applied "
            "only when the model has no trained MLM head (random init, or a folder saved without one)."
        },
    )
    mlm_weight: float = field(
        default=1.0,
        metadata={
            "help": "Weight of the masked-LM loss in the training loss (the sentence loss has weight 1; ALBERT adds "
            "them, weight 1). From a pre-trained start with a fresh MLM head, the MLM gradient can swamp the sentence "
            "task's for hundreds of steps: a weight below 1 (e.g. 0.1) lets SOP be learned in a short run. 0 trains "
            "the sentence task alone (on masked inputs)."
        },
    )
    embedding_size: int = field(default=128, metadata={"help": "Factorized embedding size E."})
    hidden_size: int = field(default=768, metadata={"help": "Hidden size H."})
    num_hidden_layers: int = field(default=12, metadata={"help": "Number of layers."})
    num_attention_heads: int = field(default=12, metadata={"help": "Attention heads (must divide hidden_size)."})
    intermediate_size: int = field(default=3072, metadata={"help": "Feed-forward size."})
    max_position_embeddings: int = field(default=512, metadata={"help": "Longest sequence the model accepts."})

    def __post_init__(self):
        if self.sentence_objective not in SENTENCE_OBJECTIVES:
            raise ValueError(
                f"unknown sentence_objective '{self.sentence_objective}'; choose one of: {', '.join(SENTENCE_OBJECTIVES)}"
            )
        if not self.mlm_weight >= 0:
            raise ValueError(f"mlm_weight must be >= 0 (0: the sentence task alone), got {self.mlm_weight}")
        if self.sharing not in SHARING_MODES:
            raise ValueError(f"unknown sharing '{self.sharing}'; choose one of: {', '.join(SHARING_MODES)}")
        if self.model is None and not 2 <= self.embedding_size <= self.hidden_size:  # random init: these shape it
            raise ValueError(
                f"embedding_size must be between 2 and hidden_size {self.hidden_size}, got {self.embedding_size} (E > H "
                "would add parameters, not save them; `compactbert albert` refuses the same)"
            )


@dataclass
class PretrainDataArguments:
    """The documents, how they become pairs, and how they are masked."""

    corpus: str = field(
        default="bbc-news",
        metadata={
            "help": "bbc-news (the bodies of the bbc-news task's training articles, see corpus_split_seed), or a "
            "local .txt (documents separated by lines of ===) / .jsonl / .csv / .parquet file with a text column."
        },
    )
    corpus_split_seed: int = field(
        default=42,
        metadata={
            "help": "bbc-news: read only the training articles of the bbc-news task split with this seed, so a "
            "fine-tune evaluated on that split's test articles never saw them, not even unlabeled; give the "
            "split_seed you fine-tune with (42 is every recipe's default)."
        },
    )
    text_column: str = field(default="text", metadata={"help": "Text column of a local table file."})
    segment_unit: str = field(default="paragraph", metadata={"help": f"Segments: {', '.join(SEGMENT_UNITS)}."})
    max_length: int = field(default=128, metadata={"help": "Pairs are trimmed to this many tokens."})
    mlm_probability: float = field(default=0.15, metadata={"help": "Share of tokens that are MLM targets."})
    masking: str = field(default="token", metadata={"help": f"MLM targets: {', '.join(MASKING_MODES)}."})
    max_ngram: int = field(default=3, metadata={"help": "Longest n-gram (words) for masking: ngram."})
    eval_documents: float = field(
        default=0.1, metadata={"help": "Share of documents held out for evaluation (never paired with training ones)."}
    )
    data_seed_offset: int = field(default=0, metadata={"help": "Added to `seed` for pairs and masks."})
    skip_short_documents: bool = field(default=True, metadata={"help": "Drop documents with fewer than 2 segments."})
    max_documents: int | None = field(default=None, metadata={"help": "Use only the first N documents (quick runs)."})
    redraw_pairs_each_epoch: bool = field(
        default=True,
        metadata={
            "help": "Draw new pairs (which are swapped or replaced, how they are trimmed) and new MLM masks each "
            "epoch, seeded by the epoch; false: the first epoch's pairs every epoch."
        },
    )

    def __post_init__(self):
        if self.masking not in MASKING_MODES:
            raise ValueError(f"unknown masking '{self.masking}'; choose one of: {', '.join(MASKING_MODES)}")
        if self.segment_unit not in SEGMENT_UNITS:
            raise ValueError(f"unknown segment_unit '{self.segment_unit}'; choose one of: {', '.join(SEGMENT_UNITS)}")
        if not 0 < self.eval_documents < 1:
            raise ValueError(f"eval_documents must be a share in (0, 1), got {self.eval_documents}")
        if self.max_documents is not None and self.max_documents < 2:
            raise ValueError(f"max_documents must be >= 2 when given, got {self.max_documents}")


@dataclass
class PretrainArguments(FinetuneArguments):
    """`TrainingArguments` plus `bf16_auto` and `overwrite` (as fine-tuning recipes); nothing else is new."""


def parse_pretrain_recipe(path: str | os.PathLike | None = None, overrides: dict[str, Any] | None = None):
    """Parse a YAML recipe (and overrides) into `(PretrainModelArguments, PretrainDataArguments, PretrainArguments)`."""
    return parse_recipe_into(
        (PretrainModelArguments, PretrainDataArguments, PretrainArguments),
        path,
        overrides,
        "PretrainModelArguments, PretrainDataArguments or TrainingArguments (listed in docs/albert-sop.md)",
    )


def read_documents(corpus: str, text_column: str = "text", split_seed: int = 42) -> list[str]:
    """Documents of a corpus: the bodies of the `bbc-news` task's training articles (its split with `split_seed`:
    never its validation or test articles), or a local file (see `PretrainDataArguments.corpus`)."""
    if corpus == "bbc-news":
        from ..data import load_task

        return bbc_bodies(load_task("bbc-news", seed=split_seed).dataset["train"]["text"])
    path = Path(corpus)
    if not path.is_file():
        raise FileNotFoundError(f"corpus '{corpus}' is neither bbc-news nor an existing file")
    if path.suffix == ".txt":
        import re

        return [doc.strip() for doc in re.split(r"^={3,}\s*$", path.read_text(encoding="utf-8"), flags=re.M)]
    loaders = {".jsonl": "json", ".json": "json", ".csv": "csv", ".parquet": "parquet"}
    if path.suffix not in loaders:
        raise ValueError(f"unsupported corpus file type '{path.suffix}'; use .txt, .jsonl, .json, .csv or .parquet")
    from datasets import load_dataset

    table = load_dataset(loaders[path.suffix], data_files=str(path), split="train")
    if text_column not in table.column_names:
        raise ValueError(f"{path} has no '{text_column}' column; columns are {table.column_names} (set text_column)")
    return list(table[text_column])


def split_documents(documents: list[str], eval_share: float, seed: int) -> tuple[list[str], list[str]]:
    """A seeded split by document, so evaluation pairs come from documents never seen in training."""
    order = np.random.default_rng(seed).permutation(len(documents))
    num_eval = max(1, round(len(documents) * eval_share))
    return [documents[i] for i in sorted(order[num_eval:])], [documents[i] for i in sorted(order[:num_eval])]


@dataclass
class PretrainingSplit:
    """A recipe's documents split for pretraining, with the held-out pairs and masks `pretrain` evaluates on.

    Built by `pretraining_split`, so that scripts that score a pretrained folder again (or ask what a constant
    head would score) see the very pairs and masks that the run's `metrics.json` reports.
    """

    train_documents: list[str]
    eval_documents: list[str]
    eval_pairs: dict[str, Dataset]  # objective -> held-out pairs of the eval documents, with their `document` column
    data_seed: int  # seed + data_seed_offset: the split and the training pairs and masks

    @property
    def eval_mask_seed(self) -> int:
        """The seed of the held-out masks (`evaluate_pretraining`'s `seed`)."""
        return self.data_seed + 2

    def eval_collator(self, tokenizer, masking: str = "token") -> MaskingCollator:
        """The collator that draws the held-out masks (the same targets `evaluate_pretraining` scores)."""
        return MaskingCollator(tokenizer, masking=masking, seed=self.eval_mask_seed)


def pretraining_split(data_args: PretrainDataArguments, tokenizer, seed: int) -> PretrainingSplit:
    """Read the recipe's documents, split them by document, and build the held-out SOP and NSP pairs.

    `seed` is the training seed; the split uses `seed + data_seed_offset`, the held-out pairs one more.
    """
    documents = read_documents(data_args.corpus, data_args.text_column, data_args.corpus_split_seed)
    if data_args.max_documents is not None:
        documents = documents[: data_args.max_documents]
    data_seed = seed + data_args.data_seed_offset
    train_docs, eval_docs = split_documents(documents, data_args.eval_documents, data_seed)
    eval_pairs = {
        objective: build_pairs(eval_docs, tokenizer, objective, seed=data_seed + 1, **_pair_args(data_args))
        for objective in SENTENCE_OBJECTIVES
    }
    return PretrainingSplit(train_docs, eval_docs, eval_pairs, data_seed)


def _pair_args(data_args: PretrainDataArguments) -> dict[str, Any]:
    return dict(
        max_length=data_args.max_length,
        unit=data_args.segment_unit,
        skip_short_documents=data_args.skip_short_documents,
    )


class PretrainingTrainer(LossComponentsLogging, Trainer):
    """A `Trainer` that also logs each objective's loss (`mlm_loss`, `sentence_loss`) next to the total, in training
    and evaluation logs (`eval_mlm_loss`, ...), through the `LossComponentsLogging` mixin.

    The total is `mlm_weight * mlm_loss + sentence_loss` (the model's own sum when `mlm_weight` is 1).
    """

    def __init__(self, *args, mlm_weight: float = 1.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.mlm_weight = mlm_weight
        # the model's losses are means over each micro-batch (it takes **kwargs, so the Trainer would take it for a
        # model that divides by `num_items_in_batch`): let the Trainer divide them by the accumulation steps
        self.model_accepts_loss_kwargs = False
        if self.args.label_names is None:
            # the collator's targets: the Trainer would also wait for ALBERT's `sentence_order_label`, which never
            # comes, and so evaluate no loss at all
            self.label_names = ["labels", "sentence_label"]

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        inputs = {**inputs, "logits_at_targets_only": True}  # the MLM head only where there is a loss
        loss, outputs = super().compute_loss(model, inputs, return_outputs=True, num_items_in_batch=num_items_in_batch)
        objectives = {key: getattr(outputs, key, None) for key in OBJECTIVE_LOSSES}
        self.record_loss_components({k: v for k, v in objectives.items() if v is not None}, model, inputs)
        if self.mlm_weight != 1.0 and objectives["mlm_loss"] is not None and objectives["sentence_loss"] is not None:
            loss = self.mlm_weight * objectives["mlm_loss"] + objectives["sentence_loss"]
        return (loss, outputs) if return_outputs else loss


@torch.inference_mode()
def evaluate_pretraining(
    model, tokenizer, pairs: Dataset, batch_size: int = 64, seed: int = 0, masking: str = "token"
):
    """Sentence-head accuracy on `pairs` and masked-LM accuracy/loss on their (seeded) masked tokens."""
    model.eval()
    collator = MaskingCollator(tokenizer, masking=masking, seed=seed)
    device = next(model.parameters()).device
    correct_sentence = correct_tokens = tokens = 0
    mlm_loss_sum = 0.0
    for start in range(0, len(pairs), batch_size):
        batch = collator([pairs[i] for i in range(start, min(start + batch_size, len(pairs)))])
        batch = {k: v.to(device) for k, v in batch.items()}
        out = model(**batch, logits_at_targets_only=True)
        correct_sentence += int((out.sop_logits.argmax(-1) == batch["sentence_label"]).sum())
        labels = batch["labels"][batch["labels"] != -100]
        logits = out.prediction_logits.float()  # (num_targets, vocab)
        correct_tokens += int((logits.argmax(-1) == labels).sum())
        mlm_loss_sum += float(torch.nn.functional.cross_entropy(logits, labels, reduction="sum"))
        tokens += len(labels)
    return {
        "sentence_accuracy": correct_sentence / len(pairs),
        "mlm_accuracy": correct_tokens / tokens,
        "mlm_loss": mlm_loss_sum / tokens,
        "pairs": len(pairs),
        "masked_tokens": tokens,
    }


def token_log_prior(documents: list[str], tokenizer, vocab_size: int) -> torch.Tensor:
    """Log frequency of each token id in `documents` (special tokens not added), with add-one counts: `(vocab,)`."""
    counts = torch.ones(vocab_size, dtype=torch.float64)
    for ids in tokenizer(documents, add_special_tokens=False)["input_ids"]:
        counts += torch.bincount(torch.tensor(ids, dtype=torch.long), minlength=vocab_size).double()[:vocab_size]
    return (counts / counts.sum()).log().float()


@torch.no_grad()
def set_mlm_bias_prior(model: AlbertSopForPreTraining, documents: list[str], tokenizer) -> None:
    """Set the masked-LM head's output bias to the documents' token log prior (`mlm_bias_prior`), in place."""
    model.predictions.bias.copy_(token_log_prior(documents, tokenizer, model.config.vocab_size))


def _pretraining_config(model_args: PretrainModelArguments, start: Path | None, tokenizer) -> AlbertSopConfig:
    """A fresh model's config from the recipe's fields, or the `model` folder's (with the recipe's objective)."""
    if start is None:
        return AlbertSopConfig(
            vocab_size=len(tokenizer),
            pad_token_id=tokenizer.pad_token_id,
            bos_token_id=tokenizer.cls_token_id,
            eos_token_id=tokenizer.sep_token_id,
            **{k: v for k, v in asdict(model_args).items() if k not in RECIPE_ONLY_FIELDS},
        )
    config = read_config(start)
    if config.model_type != "albert_sop":
        raise ValueError(
            f"model {model_args.model} is a '{config.model_type}' model; pretraining continues from an Albert-SOP "
            "folder: convert a BERT first with `compactbert albert SOURCE --output DIR`, then give model: DIR"
        )
    if len(tokenizer) > config.vocab_size:
        raise ValueError(
            f"the tokenizer has {len(tokenizer)} tokens but model {model_args.model} has a vocabulary of "
            f"{config.vocab_size}; use the model's own tokenizer (leave tokenizer unset)"
        )
    config.sentence_objective = model_args.sentence_objective
    # e.g. a distilled classifier's folder: the sentence head is binary, its labels do not carry over
    if config.num_labels != 2:
        config.num_labels = 2
    return config


@leaves_no_empty_run_folder
def pretrain(model_args: PretrainModelArguments, data_args: PretrainDataArguments, training_args: PretrainArguments):
    """Run a pretraining recipe end to end; returns the metrics also written to `output_dir/model/metrics.json`.

    Evaluation reports, on held-out documents, the sentence head's accuracy on *both* SOP and NSP pairs (whatever it
    was trained on, as in the paper's Table 5) and masked-LM accuracy.
    """
    final_dir = start_run(training_args)  # seeded before the model is made: its random init follows the recipe's seed
    start = None if model_args.model is None else resolve_model_folder(model_args.model)
    tokenizer_name = model_args.tokenizer or (start if start is not None else "minilm")
    tokenizer_source = builtin_model_path(tokenizer_name) if tokenizer_name == "minilm" else tokenizer_name
    tokenizer = load_tokenizer(tokenizer_source)
    config = _pretraining_config(model_args, start, tokenizer)
    check_max_length(data_args.max_length, config, model_args.model or "the model being pretrained")
    split = pretraining_split(data_args, tokenizer, training_args.seed)
    train_docs, eval_pairs, data_seed = split.train_documents, split.eval_pairs, split.data_seed
    pair_args = _pair_args(data_args)
    if data_args.redraw_pairs_each_epoch:
        if training_args.dataloader_persistent_workers and training_args.dataloader_num_workers > 0:
            raise ValueError(
                "redraw_pairs_each_epoch draws each epoch's pairs in the main process, which persistent data loader "
                "workers never see; set dataloader_persistent_workers: false or redraw_pairs_each_epoch: false"
            )
        train_pairs = EpochPairs(train_docs, tokenizer, model_args.sentence_objective, seed=data_seed, **pair_args)
    else:
        train_pairs = build_pairs(train_docs, tokenizer, model_args.sentence_objective, seed=data_seed, **pair_args)

    if start is None:
        model = AlbertSopForPreTraining(config)
        fresh_mlm_head = True
    else:  # the encoder (and heads, when it has them) from the folder; missing heads start from random init
        model, loading = AlbertSopForPreTraining.from_pretrained(start, config=config, output_loading_info=True)
        fresh_mlm_head = any(key.startswith("predictions.") for key in loading["missing_keys"])
    if model_args.mlm_bias_prior and fresh_mlm_head:
        set_mlm_bias_prior(model, train_docs, tokenizer)
    elif model_args.mlm_bias_prior:
        warnings.warn(
            f"mlm_bias_prior: {start} already has a trained masked-LM head; its output bias is kept, not set to the "
            "token prior (the prior only starts a fresh head)",
            stacklevel=2,
        )
    collator = MaskingCollator(
        tokenizer, data_args.mlm_probability, data_args.masking, data_args.max_ngram, seed=data_seed
    )
    redraw = isinstance(train_pairs, EpochPairs)
    trainer = PretrainingTrainer(
        model=model,
        args=training_args,
        train_dataset=train_pairs if redraw else train_pairs.remove_columns(["document"]),
        eval_dataset=eval_pairs[model_args.sentence_objective].remove_columns(["document"]),
        data_collator=collator,
        processing_class=tokenizer,
        callbacks=[RedrawEachEpoch(train_pairs, collator)] if redraw else None,
        mlm_weight=model_args.mlm_weight,
    )
    train_output = trainer.train(resume_from_checkpoint=training_args.resume_from_checkpoint)
    final = trainer.model
    held_out = {
        objective: evaluate_pretraining(final, tokenizer, pairs, seed=split.eval_mask_seed, masking=data_args.masking)
        for objective, pairs in eval_pairs.items()
    }
    metrics = {
        "train": train_output.metrics | {"global_step": train_output.global_step},
        "held_out": held_out,
        "sop_accuracy": held_out["sop"]["sentence_accuracy"],
        "nsp_accuracy": held_out["nsp"]["sentence_accuracy"],
        "mlm_accuracy": held_out[model_args.sentence_objective]["mlm_accuracy"],
        "log_history": trainer.state.log_history,
        "documents": {"train": len(train_docs), "eval": len(split.eval_documents)},
        "pairs": {"train": len(train_pairs)} | {f"eval_{k}": len(v) for k, v in eval_pairs.items()},
        "num_parameters": final.num_parameters(),
        "recipe": {"model": asdict(model_args), "data": asdict(data_args)},
        "bf16": training_args.bf16,
        "seed": training_args.seed,
    }
    if trainer.is_world_process_zero():
        save_model(final, final_dir, tokenizer=tokenizer, overwrite=training_args.overwrite, metrics=metrics)
    return metrics
