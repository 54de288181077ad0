"""One place that loads a model for inference and times it: used by the demo, the cards and the benchmark.

`load_for_inference` returns the model in eval mode with SDPA attention, in bf16 where the CPU (or GPU) has native
bf16 matrix units and fp32 elsewhere, with the thread count set to the cores this process may use.
`time_side_by_side` times several callables interleaved (A B A B ..., after warm-up), as ../MEASURE rules ask:
a speed claim is a ratio of things timed in one run.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .hardware import native_bf16

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}
TASKS = ("sequence-classification", "base")


def resolve_dtype(dtype: str | torch.dtype = "auto") -> torch.dtype:
    """`"auto"` is bf16 where the hardware has native bf16 matrix units, else fp32; `"fp32"` / `"bf16"` as named."""
    if isinstance(dtype, torch.dtype):
        if dtype not in DTYPES.values():
            raise ValueError(f"dtype {dtype} is not supported; expected one of {sorted(DTYPES)} or 'auto'")
        return dtype
    if dtype == "auto":
        return torch.bfloat16 if native_bf16() else torch.float32
    if dtype not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; expected 'auto' or one of {sorted(DTYPES)}")
    return DTYPES[dtype]


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity), not the machine's total."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def configure_threads(threads: int | None = None) -> int:
    """Set torch's intra-op threads: `threads`, else OMP_NUM_THREADS when set, else the cores available."""
    if threads is None:
        env = os.environ.get("OMP_NUM_THREADS", "")
        threads = int(env) if env.isdigit() and int(env) > 0 else available_cores()
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    torch.set_num_threads(threads)
    return threads


@dataclass
class Timing:
    """Wall-clock samples of one callable, in milliseconds."""

    samples_ms: list[float] = field(default_factory=list)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def min_ms(self) -> float:
        return min(self.samples_ms)

    @property
    def max_ms(self) -> float:
        return max(self.samples_ms)

    def as_dict(self) -> dict[str, Any]:
        return {
            "median_ms": self.median_ms,
            "min_ms": self.min_ms,
            "max_ms": self.max_ms,
            "samples_ms": self.samples_ms,
        }


def time_side_by_side(fns: dict[str, Callable[[], Any]], repeats: int = 10, warmup: int = 2) -> dict[str, Timing]:
    """Time each callable `repeats` times, interleaved, after `warmup` untimed rounds.

    Rounds alternate the order (A B C, then C B A, ...) so no callable always runs right after the same other one
    (caches, frequency changes). Returns one `Timing` per name.
    """
    if not fns:
        raise ValueError("nothing to time: pass at least one callable")
    if repeats < 1 or warmup < 0:
        raise ValueError(f"repeats must be >= 1 and warmup >= 0, got repeats={repeats}, warmup={warmup}")
    names = list(fns)
    for _ in range(warmup):
        for name in names:
            fns[name]()
    timings = {name: Timing() for name in names}
    for round_index in range(repeats):
        order = names if round_index % 2 == 0 else names[::-1]
        for name in order:
            start = time.perf_counter()
            fns[name]()
            timings[name].samples_ms.append((time.perf_counter() - start) * 1000.0)
    return timings


class InferenceModel:
    """A model and its tokenizer, ready for inference: eval mode, inference mode, a chosen dtype."""

    def __init__(self, model, tokenizer, dtype: torch.dtype, name: str):
        self.model = model
        self.tokenizer = tokenizer
        self.dtype = dtype
        self.name = name

    @property
    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def label_names(self) -> list[str]:
        id2label = getattr(self.model.config, "id2label", None) or {}
        return [id2label.get(i, id2label.get(str(i), f"LABEL_{i}")) for i in range(len(id2label))]

    def encode(self, texts: Sequence[str], max_length: int = 128, text_pairs: Sequence[str] | None = None):
        if isinstance(texts, str):
            raise TypeError("texts must be a list of strings, not one string")
        return self.tokenizer(
            list(texts),
            None if text_pairs is None else list(text_pairs),
            truncation=True,
            max_length=max_length,
            padding=True,
            return_tensors="pt",
        ).to(self.device)

    def forward(self, encoded):
        with torch.inference_mode():
            return self.model(**encoded)

    def predict_proba(self, texts: Sequence[str], max_length: int = 128, batch_size: int = 64) -> np.ndarray:
        """Label probabilities, shape [len(texts), num_labels], float32."""
        if not hasattr(self.model, "classifier"):
            raise ValueError(f"{self.name} has no classification head; load it with task='sequence-classification'")
        chunks = []
        for start in range(0, len(texts), batch_size):
            logits = self.forward(self.encode(texts[start : start + batch_size], max_length)).logits
            chunks.append(logits.float().softmax(-1).cpu().numpy())
        if not chunks:
            return np.zeros((0, len(self.label_names)), dtype=np.float32)
        return np.concatenate(chunks)

    def predict(self, texts: Sequence[str], max_length: int = 128) -> list[dict[str, Any]]:
        """One `{"label": ..., "probabilities": {label: p}}` per text."""
        names = self.label_names
        return [
            {"label": names[int(row.argmax())], "probabilities": dict(zip(names, map(float, row), strict=True))}
            for row in self.predict_proba(texts, max_length)
        ]

    def runner(self, texts: Sequence[str], max_length: int = 128) -> Callable[[], Any]:
        """A zero-argument callable running one forward pass on `texts`, tokenized once beforehand (for timing)."""
        encoded = self.encode(texts, max_length)
        return lambda: self.forward(encoded)


def load_for_inference(
    source,
    tokenizer=None,
    task: str = "sequence-classification",
    dtype: str | torch.dtype = "auto",
    threads: int | None = None,
    revision: str | None = None,
    allow_pickle: bool = False,
    device: str | torch.device | None = None,
) -> InferenceModel:
    """Load `source` (a model folder, a built-in name such as `minilm`, a Hub id, or a loaded model) for inference.

    `task` picks the head: `"sequence-classification"` (the model's classifier) or `"base"` (the encoder only, for
    speed measurements). `dtype="auto"` is bf16 where the hardware has native bf16 units, else fp32.
    """
    from transformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer, PreTrainedModel

    from .checkpoints import resolve_model_folder

    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; expected one of {TASKS}")
    torch_dtype = resolve_dtype(dtype)
    configure_threads(threads)
    if isinstance(source, PreTrainedModel):
        model = source
        name = getattr(model.config, "name_or_path", "") or type(model).__name__
        if tokenizer is None:
            if not name or not os.path.isdir(name):
                raise ValueError(
                    "a loaded model needs `tokenizer=`: its config does not name a folder to read one from"
                )
            tokenizer = AutoTokenizer.from_pretrained(name)
    else:
        folder = resolve_model_folder(source, revision=revision, allow_pickle=allow_pickle)
        auto = AutoModelForSequenceClassification if task == "sequence-classification" else AutoModel
        model = auto.from_pretrained(folder, attn_implementation="sdpa", use_safetensors=not allow_pickle or None)
        if tokenizer is None:
            tokenizer = AutoTokenizer.from_pretrained(folder)
        name = os.fspath(source)
    if device is not None:
        model.to(device)
    model.to(torch_dtype).eval()
    return InferenceModel(model, tokenizer, torch_dtype, name)
