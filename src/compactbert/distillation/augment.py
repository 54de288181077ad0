"""TinyBERT's data augmentation (Jiao et al. 2020, arXiv 1909.10351, Algorithm 1) for task-specific distillation.

Each word of a text is, with probability `p` (the paper's p_t = 0.4), replaced by a word that fits it:

- a word that is a single word piece: by one of the `k` (K = 15) best predictions of a masked language model with
  that word masked (the rest of the text as it was);
- a word of several pieces: by one of its `k` nearest neighbours by cosine of word vectors: a GloVe-format text file
  when given (as in the paper), else the MLM's own input-embedding table (the word is represented by the mean of its
  pieces' embeddings and its neighbours are whole-word vocabulary entries: a weak stand-in for GloVe, the one that
  exists offline).

The candidates of each word are found once per text (one MLM pass per single-piece word, in batches), then `n`
(N = 20) copies are sampled from them; the original is kept. Only alphabetic words are replaced (numbers and
punctuation stay); a candidate is never the word itself, so a "replaced" word always changes. Sampling is seeded
per example (`seed`, example index), so the output does not depend on batch sizes. Words beyond `max_length` tokens
are left as they are.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import datasets
import numpy as np
import torch

from .word_vectors import WordVectors, whole_word

AUGMENT_VERSION = 1  # part of the cache key: bump it when the procedure changes
STATS_FILE = "augment.json"


@dataclass(frozen=True)
class AugmentSettings:
    """What an augmentation run does; every field is part of the cache key.

    Args:
        n: augmented copies per example (the paper's N_a = 20); the original is kept besides them.
        p: probability of replacing each word (the paper's p_t = 0.4).
        k: candidates per word: the K best MLM predictions or the K nearest word vectors (the paper's K = 15).
        seed: seed of the sampling; the same seed gives the same copies.
        max_length: tokens of a text that the MLM sees (at most its position table); words past it are kept unchanged.
        bf16: run the MLM under bfloat16 autocast (several times faster on CPUs with AMX and on GPUs; the top-K
            can differ from fp32's where two predictions nearly tie).
    """

    n: int = 20
    p: float = 0.4
    k: int = 15
    seed: int = 42
    max_length: int = 128
    bf16: bool = False

    def __post_init__(self):
        if not isinstance(self.n, int) or self.n < 1:
            raise ValueError(f"n (augmented copies per example) must be an integer >= 1, got {self.n!r}")
        if not 0.0 <= self.p <= 1.0:
            raise ValueError(f"p (probability of replacing a word) must lie in [0, 1], got {self.p!r}")
        if not isinstance(self.k, int) or self.k < 1:
            raise ValueError(f"k (candidates per word) must be an integer >= 1, got {self.k!r}")
        if not isinstance(self.max_length, int) or self.max_length < 3:
            raise ValueError(f"max_length must be an integer >= 3 (room for one word), got {self.max_length!r}")


def _match_case(original: str, replacement: str) -> str:
    if original.isupper() and len(original) > 1:
        return replacement.upper()
    if original[:1].isupper():
        return replacement[:1].upper() + replacement[1:]
    return replacement


@dataclass
class _Word:
    start: int  # character span in the text
    end: int
    text: str
    pieces: list[int]  # token positions
    candidates: list[str] | None = None


class Augmenter:
    """Finds each word's candidates with an MLM and word vectors, then samples augmented copies.

    Args:
        mlm: a masked language model (`*ForMaskedLM`, or any model with an MLM output layer).
        tokenizer: its (fast) tokenizer.
        vectors: word vectors for multi-piece words; default: the MLM's input-embedding table.
        settings: `AugmentSettings`.
        device: where the MLM runs (default: CUDA when available, else CPU).
        mlm_batch_size: masked sequences per MLM forward pass.
    """

    def __init__(
        self,
        mlm,
        tokenizer,
        vectors: WordVectors | None = None,
        settings: AugmentSettings | None = None,
        device: str | torch.device | None = None,
        mlm_batch_size: int = 64,
    ):
        check_mlm_head(mlm, getattr(mlm.config, "_name_or_path", "") or type(mlm).__name__)
        if not getattr(tokenizer, "is_fast", False):
            raise ValueError("augmentation needs a fast tokenizer (word offsets); load it with AutoTokenizer")
        if tokenizer.mask_token_id is None:
            raise ValueError("the tokenizer has no mask token; augmentation needs the MLM's own tokenizer")
        self.settings = settings or AugmentSettings()
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.mlm = mlm.eval().to(self.device)
        self.tokenizer = tokenizer
        self.vectors = vectors or WordVectors.from_embeddings(mlm, tokenizer)
        self.query_by_pieces = vectors is None  # a multi-piece word has no row of its own in the embedding table
        self.mlm_batch_size = mlm_batch_size
        # the MLM cannot read past its position table (nor the tokenizer's limit)
        limits = [self.settings.max_length, getattr(mlm.config, "max_position_embeddings", None)]
        self.max_length = min(n for n in limits + [tokenizer.model_max_length] if isinstance(n, int))
        vocab_size = mlm.get_output_embeddings().weight.shape[0]
        allowed = torch.zeros(vocab_size, dtype=torch.bool)
        special = set(tokenizer.all_special_ids)
        for token, i in tokenizer.get_vocab().items():
            if i < vocab_size and i not in special and whole_word(token):
                allowed[i] = True
        self.allowed = allowed.to(self.device)  # MLM predictions that may replace a word
        self.id_to_token = {i: t for t, i in tokenizer.get_vocab().items()}
        self.masked_sequences = 0  # MLM inputs run so far (one per single-piece word): what the time goes into

    def fingerprint(self) -> str:
        """Hash of everything that decides the output: settings, MLM weights, vocabulary, word vectors."""
        h = hashlib.sha256(json.dumps([AUGMENT_VERSION, asdict(self.settings)]).encode())
        for name, tensor in sorted(self.mlm.state_dict().items()):
            h.update(name.encode())
            h.update(tensor.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
        h.update(json.dumps(sorted(self.tokenizer.get_vocab().items())).encode())
        h.update(self.vectors.fingerprint.encode())
        return h.hexdigest()[:32]

    def _words(self, text: str, encoding) -> list[_Word]:
        words: dict[int, _Word] = {}
        for position, (word_id, (start, end)) in enumerate(zip(encoding.word_ids, encoding.offsets, strict=True)):
            if word_id is None:
                continue
            if word_id in words:
                words[word_id].pieces.append(position)
                words[word_id].end = end
            else:
                words[word_id] = _Word(start, end, "", [position])
        out = []
        for word in words.values():
            word.text = text[word.start : word.end]
            if word.text.isalpha():
                out.append(word)
        return out

    @torch.inference_mode()
    def _mlm_candidates(self, requests: list[tuple[list[int], int, int]]) -> list[list[str]]:
        """Top-k whole-word predictions for each (input ids, masked position, original id), in request order."""
        results: list[list[str]] = [[] for _ in requests]
        self.masked_sequences += len(requests)
        order = sorted(range(len(requests)), key=lambda i: len(requests[i][0]))  # similar lengths pad less
        k = self.settings.k
        for chunk_start in range(0, len(order), self.mlm_batch_size):
            chunk = order[chunk_start : chunk_start + self.mlm_batch_size]
            width = max(len(requests[i][0]) for i in chunk)
            ids = torch.full((len(chunk), width), self.tokenizer.pad_token_id or 0, dtype=torch.long)
            mask = torch.zeros((len(chunk), width), dtype=torch.long)
            for row, i in enumerate(chunk):
                seq, pos, _ = requests[i]
                ids[row, : len(seq)] = torch.tensor(seq)
                ids[row, pos] = self.tokenizer.mask_token_id
                mask[row, : len(seq)] = 1
            positions = torch.tensor([requests[i][1] for i in chunk])
            logits = self._masked_logits(ids.to(self.device), mask.to(self.device), positions.to(self.device))
            allowed = self.allowed.expand(len(chunk), -1).clone()
            allowed[torch.arange(len(chunk)), torch.tensor([requests[i][2] for i in chunk])] = False
            logits = logits.float().masked_fill(~allowed, float("-inf"))  # (chunk, vocab)
            top = torch.topk(logits, min(k, int(self.allowed.sum()) - 1), dim=-1)
            for row, i in enumerate(chunk):
                picked = top.indices[row][torch.isfinite(top.values[row])].tolist()
                results[i] = [self.id_to_token[t] for t in sorted(picked)]  # sorted: order-independent sampling
        return results

    def _masked_logits(self, ids: torch.Tensor, mask: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        rows = torch.arange(ids.shape[0], device=ids.device)
        head = getattr(self.mlm, "cls", None)
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.settings.bf16):
            if head is not None and hasattr(self.mlm, "bert"):  # BERT family: the vocabulary head at the masks only
                hidden = self.mlm.bert(input_ids=ids, attention_mask=mask).last_hidden_state  # (batch, seq, hidden)
                return head(hidden[rows, positions])  # (batch, vocab)
            return self.mlm(input_ids=ids, attention_mask=mask).logits[rows, positions]  # (batch, vocab)

    def plan(self, texts: Sequence[str], where: Sequence[str] | None = None) -> list[list[_Word]]:
        """Each text's alphabetic words with their candidate replacements (empty when a word has none).

        `where` names each text in error messages (default: its position in `texts`).
        """
        for i, text in enumerate(texts):
            if not isinstance(text, str) or not text.strip():
                name = where[i] if where is not None else f"text {i}"
                raise ValueError(
                    f"{name} is empty or not a string ({text!r}); augmentation needs a non-empty text per example: "
                    "drop or fill such rows first"
                )
        encodings = self.tokenizer(list(texts), truncation=True, max_length=self.max_length)
        plans, requests, owners = [], [], []
        for t, text in enumerate(texts):
            encoding = encodings.encodings[t]  # the tokenizers Encoding: ids, word_ids, offsets
            words = self._words(text, encoding)
            for word in words:
                if len(word.pieces) == 1:
                    position = word.pieces[0]
                    requests.append((encoding.ids, position, encoding.ids[position]))
                    owners.append(word)
                else:
                    query = None
                    if self.query_by_pieces:  # the mean of the word's piece embeddings
                        pieces = torch.tensor([encoding.ids[p] for p in word.pieces], device=self.device)
                        query = self.mlm.get_input_embeddings().weight[pieces].mean(0).detach().cpu()
                    word.candidates = self.vectors.neighbours(word.text, query, self.settings.k)
            plans.append(words)
        for word, found in zip(owners, self._mlm_candidates(requests), strict=True):
            word.candidates = found
        return plans

    def sample(self, text: str, words: list[_Word], rng: np.random.Generator) -> str:
        """One augmented copy: each word with candidates is replaced with probability p by a random candidate."""
        pieces, cursor = [], 0
        for word in words:
            if word.candidates and rng.random() < self.settings.p:
                choice = word.candidates[int(rng.integers(len(word.candidates)))]
                pieces += [text[cursor : word.start], _match_case(word.text, choice)]
                cursor = word.end
        return "".join(pieces) + text[cursor:]

    def augment_batch(self, batch: dict[str, list], indices: list[int], text_columns: Sequence[str]) -> dict:
        """`datasets.map` function: each example, then its `n` copies (other columns copied, `augmented` flag)."""
        plans = {
            column: self.plan(batch[column], [f"example {i} (column '{column}')" for i in indices])
            for column in text_columns
        }
        out: dict[str, list] = {name: [] for name in batch} | {"augmented": [], "source_index": []}
        for row, index in enumerate(indices):
            rng = np.random.default_rng([self.settings.seed, index])
            for copy in range(self.settings.n + 1):
                for name in batch:
                    value = batch[name][row]
                    if copy and name in plans:
                        value = self.sample(value, plans[name][row], rng)
                    out[name].append(value)
                out["augmented"].append(copy > 0)
                out["source_index"].append(index)
        return out

    def augment(
        self,
        dataset: datasets.Dataset,
        text_columns: Sequence[str] = ("text",),
        batch_size: int = 32,
        cache_dir: str | os.PathLike | None = None,
    ) -> datasets.Dataset:
        """Each example followed by its `n` augmented copies, as a new dataset (cached on disk, with a progress bar).

        The result has the input's columns plus `augmented` (`False` for the originals) and `source_index` (the
        row of the original). It is cached under `cache_dir` (default: the `datasets` cache) by a key made of the
        dataset's fingerprint, the settings, the MLM's weights, the vocabulary and the word vectors, so running the
        same augmentation again reads the file instead of running the MLM.
        """
        missing = [c for c in text_columns if c not in dataset.column_names]
        if missing:
            raise ValueError(f"text column(s) {missing} not in the dataset; it has {dataset.column_names}")
        if len(dataset) == 0:
            raise ValueError("the dataset has no rows to augment")
        for name in ("augmented", "source_index"):
            if name in dataset.column_names:
                raise ValueError(f"the dataset already has a column '{name}': was it augmented already?")
        key = hashlib.sha256(
            f"{dataset._fingerprint}|{list(text_columns)}|{self.fingerprint()}".encode()  # datasets' content hash
        ).hexdigest()[:32]
        folder = Path(cache_dir) if cache_dir else Path(datasets.config.HF_DATASETS_CACHE) / "compactbert_augment"
        folder.mkdir(parents=True, exist_ok=True)
        s = self.settings
        return dataset.map(
            self.augment_batch,
            fn_kwargs={"text_columns": list(text_columns)},
            with_indices=True,
            batched=True,
            batch_size=batch_size,
            cache_file_name=str(folder / f"augment-{key}.arrow"),
            new_fingerprint=key,
            load_from_cache_file=True,
            desc=f"augmenting (N={s.n}, p={s.p}, K={s.k})",
        )


def check_mlm_head(model, name: str) -> None:
    """Raise `ValueError` unless `model` has a masked-LM output layer."""
    if model.get_output_embeddings() is None:
        raise ValueError(
            f"{name} ({type(model).__name__}) has no masked-LM head; augmentation needs a masked language model "
            "(a *ForMaskedLM / *ForPreTraining checkpoint trained with its MLM head, e.g. bert-base-uncased)"
        )


def load_mlm(source: str | os.PathLike, allow_pickle: bool = False):
    """Load a masked LM and its tokenizer from a built-in name, folder or Hub id; refuse a checkpoint without a head.

    A checkpoint whose weights hold only the encoder (all-MiniLM-L6-v2, the built-in `minilm`, is one) would load
    with a *randomly initialised* MLM head, whose predictions are noise: that is refused with a clear error.
    """
    from transformers import AutoModelForMaskedLM

    from ..checkpoints import load_report_off, load_tokenizer, resolve_model_folder

    folder = resolve_model_folder(source, allow_pickle=allow_pickle)
    try:
        with load_report_off():  # a missing head is reported below, in one clear message
            model, info = AutoModelForMaskedLM.from_pretrained(
                folder, output_loading_info=True, use_safetensors=None if allow_pickle else True
            )
    except ValueError as err:
        raise ValueError(f"{source} cannot be loaded as a masked language model: {err}") from err
    base = model.base_model_prefix
    head_missing = sorted(k for k in info["missing_keys"] if not k.startswith(f"{base}."))
    if head_missing:
        raise ValueError(
            f"{source} ({folder}) has no masked-LM head: its weights lack {', '.join(head_missing[:3])}"
            f"{' ...' if len(head_missing) > 3 else ''}, so its predictions would come from a random layer. "
            "Augmentation needs a model trained with its MLM head (a *ForMaskedLM / *ForPreTraining checkpoint, "
            "e.g. bert-base-uncased); give its folder or Hub id with --mlm"
        )
    check_mlm_head(model, str(source))
    return model, load_tokenizer(folder, source)


HELD_OUT_SPLITS = ("validation", "test")  # what scores are computed on: never augmented


def augment_task(
    task,
    mlm: str | os.PathLike,
    output: str | os.PathLike,
    *,
    glove: str | os.PathLike | None = None,
    settings: AugmentSettings | None = None,
    split: str = "train",
    max_examples: int | None = None,
    batch_size: int = 32,
    cache_dir: str | os.PathLike | None = None,
    overwrite: bool = False,
    text_column: str | None = None,
    label_column: str | None = None,
) -> Path:
    """Augment one split of a task and write the task, with that split augmented, as Parquet files to `output`.

    `task` is anything `compactbert.data.load_task` takes (a built-in name, a data file, a Hub id). The folder gets
    `train.parquet`, `validation.parquet` and `test.parquet` (only `split` augmented; the others as they were) and
    `augment.json` (settings and counts), all at once or not at all; `load_task(output)` reads it back.
    """
    from ..data import first_rows, load_task
    from ..io import DATA_FOLDER, check_replaceable, write_folder_atomically

    settings = settings or AugmentSettings()
    if split in HELD_OUT_SPLITS:
        raise ValueError(
            f"the {split} split is held out: augmenting it would put synthetic texts among the ones every score on "
            f"the written task is computed on; TinyBERT augments the training data (--split train, the default)"
        )
    if max_examples is not None and max_examples < 1:
        raise ValueError(f"max_examples must be >= 1, got {max_examples}")
    output = Path(output)
    if output.exists() and not overwrite:
        raise FileExistsError(f"output folder {output} already exists; choose another or pass --overwrite")
    # the local folders it reads, which a replaced output must not hold
    sources = [Path(p) for p in (mlm, task) if isinstance(p, (str, os.PathLike)) and Path(p).exists()]
    if output.exists():
        check_replaceable(output, DATA_FOLDER, sources)
    model, tokenizer = load_mlm(mlm)  # the cheap checks first: a model without a head fails before any data work
    vectors = WordVectors.from_glove(glove) if glove else None
    dataset, label_names = load_task(task, text_column=text_column, label_column=label_column)
    if split not in dataset:
        raise ValueError(f"unknown split '{split}'; the task has: {', '.join(dataset)}")
    part = first_rows(dataset[split], max_examples)
    augmenter = Augmenter(model, tokenizer, vectors, settings)
    columns = [c for c in ("text", "text_pair") if c in part.column_names]
    augmented = augmenter.augment(part, columns, batch_size=batch_size, cache_dir=cache_dir)
    stats = {
        "task": str(task),
        "split": split,
        "mlm": str(mlm),
        "word_vectors": augmenter.vectors.source,
        "settings": asdict(settings),
        "examples": len(part),
        "rows": len(augmented),
        "label_names": label_names,
    }

    def write(folder: Path) -> None:
        for name, data in dataset.items():
            (augmented if name == split else data).to_parquet(str(folder / f"{name}.parquet"))
        (folder / STATS_FILE).write_text(json.dumps(stats, indent=2) + "\n")

    return write_folder_atomically(output, write, overwrite=overwrite, kind=DATA_FOLDER, sources=sources)


__all__ = [
    "AugmentSettings",
    "Augmenter",
    "WordVectors",
    "augment_task",
    "check_mlm_head",
    "load_mlm",
]
