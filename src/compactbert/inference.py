"""One place that loads a model for inference and times it: used by the demo, the cards and the benchmark.

`load_for_inference` returns the model in eval mode with SDPA attention, in bf16 where the CPU (or GPU) has native
bf16 matrix units and fp32 elsewhere, with the thread count set to the cores this process may use.
`time_side_by_side` times several callables interleaved (A B A B ..., after warm-up): a speed claim is a ratio of
things timed side by side in one run (docs/speed.md says how the project measures).
"""

from __future__ import annotations

import math
import os
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .export.formats import BACKENDS
from .fields import as_texts
from .hardware import available_cores, native_bf16

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}
TASKS = ("sequence-classification", "base")
QUANTIZE = (None, "int8")


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
    calls_per_sample: int = 1  # each sample is the mean of this many back-to-back calls

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
            "calls_per_sample": self.calls_per_sample,
        }


def time_side_by_side(
    fns: dict[str, Callable[[], Any]],
    repeats: int = 10,
    warmup: int = 2,
    progress: bool | str = False,
    min_sample_ms: float = 0.0,
) -> dict[str, Timing]:
    """Time each callable `repeats` times, interleaved, after `warmup` untimed rounds.

    Rounds alternate the order (A B C, then C B A, ...) so no callable always runs right after the same other one
    (caches, frequency changes). Returns one `Timing` per name. `progress` shows a bar over the rounds (a string
    is its label).

    `min_sample_ms` > 0 makes each sample last at least about that long: a callable that took t ms in its last
    untimed call runs ceil(min_sample_ms / t) times back to back per sample, and the sample is the mean time of one
    call (`Timing.calls_per_sample` says how many). A 5 ms call timed once is mostly scheduler noise on a busy
    machine; averaged over 40 calls it is not. With `warmup=0` one untimed call per callable calibrates this.
    """
    if not fns:
        raise ValueError("nothing to time: pass at least one callable")
    if repeats < 1 or warmup < 0:
        raise ValueError(f"repeats must be >= 1 and warmup >= 0, got repeats={repeats}, warmup={warmup}")
    if min_sample_ms < 0:
        raise ValueError(f"min_sample_ms must be >= 0, got {min_sample_ms}")
    names = list(fns)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        label = progress if isinstance(progress, str) else "timing"
        bar = tqdm(total=warmup + repeats, desc=label, unit="round", leave=False)
    last_ms = {}
    for _ in range(max(warmup, 1 if min_sample_ms > 0 else 0)):
        for name in names:
            start = time.perf_counter()
            fns[name]()
            last_ms[name] = (time.perf_counter() - start) * 1000.0
        if bar is not None and warmup:
            bar.update()
    calls = {
        name: max(1, math.ceil(min_sample_ms / max(last_ms[name], 1e-3))) if min_sample_ms > 0 else 1 for name in names
    }
    timings = {name: Timing(calls_per_sample=calls[name]) for name in names}
    for round_index in range(repeats):
        order = names if round_index % 2 == 0 else names[::-1]
        for name in order:
            fn, n = fns[name], calls[name]
            start = time.perf_counter()
            for _ in range(n):
                fn()
            timings[name].samples_ms.append((time.perf_counter() - start) * 1000.0 / n)
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.close()
    return timings


def time_models(
    models: dict[str, Any],
    texts: Sequence[str],
    batches: Sequence[int],
    max_length: int = 128,
    text_pairs: Sequence[str] | None = None,
    repeats: int = 7,
    warmup: int = 1,
    min_sample_ms: float = 100.0,
    progress: bool = False,
) -> list[dict[str, Timing]]:
    """Time loaded models (`InferenceModel`s, by name) side by side on real texts: for each batch size, one forward
    pass each on the first `batch` of `texts` (taken again from the start when there are fewer), tokenized once,
    interleaved over `repeats` rounds (`time_side_by_side`). One `{name: Timing}` per batch size, in order."""
    if not texts or any(b < 1 for b in batches) or not batches:
        raise ValueError(
            f"timing needs texts and batch sizes >= 1, got {len(texts)} texts and batches {list(batches)}"
        )
    timed = []
    for batch in batches:
        chosen = [i % len(texts) for i in range(batch)]
        pairs = None if text_pairs is None else [text_pairs[i] for i in chosen]
        fns = {name: m.runner([texts[i] for i in chosen], max_length, pairs) for name, m in models.items()}
        label = f"timing batch {batch}" if progress else False
        timed.append(
            time_side_by_side(fns, repeats=repeats, warmup=warmup, progress=label, min_sample_ms=min_sample_ms)
        )
    return timed


class InferenceModel:
    """A model and its tokenizer, ready for inference: eval mode, inference mode, a chosen dtype.

    `backend` says what runs it: `"torch"` here; `"openvino"` / `"onnxruntime"` for the exported models of
    `compactbert.export.backends.RuntimeInferenceModel`, which has this class's interface. `backend_choice` is how
    `load_for_inference(..., backend="auto")` chose (None when the backend was named).
    """

    backend = "torch"

    quantized: str | None = None  # "int8": int8 weights (torch's dynamic quantization, or OpenVINO's int8 graph)

    def __init__(self, model, tokenizer, dtype: torch.dtype, name: str):
        self.model = model
        self.tokenizer = tokenizer
        self.dtype = dtype
        self.name = name
        self.backend_choice = None

    @property
    def config(self):
        return self.model.config

    @property
    def has_classifier(self) -> bool:
        return hasattr(self.model, "classifier")

    @property
    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def label_names(self) -> list[str]:
        id2label = getattr(self.config, "id2label", None) or {}
        return [id2label.get(i, id2label.get(str(i), f"LABEL_{i}")) for i in range(len(id2label))]

    def encode(self, texts: Sequence[str], max_length: int = 128, text_pairs: Sequence[str] | None = None):
        _check_max_length(max_length)
        return self.tokenizer(
            as_texts(texts, "texts"),
            None if text_pairs is None else as_texts(text_pairs, "text_pairs"),
            truncation=True,
            max_length=max_length,
            padding=True,
            return_tensors="pt",
        ).to(self.device)

    def forward(self, encoded):
        with torch.inference_mode():
            return self.model(**encoded)

    def predict_proba(
        self,
        texts: Sequence[str],
        max_length: int = 128,
        batch_size: int = 64,
        sort_by_length: bool = True,
        text_pairs: Sequence[str] | None = None,
    ) -> np.ndarray:
        """Label probabilities, shape [len(texts), num_labels], float32, in the order of `texts` (with `text_pairs`,
        each text read with its pair, as a pair task was trained): a softmax over the labels, or each label's own
        sigmoid for a multi-label head (`problem_type="multi_label_classification"`), as transformers' pipeline
        scores them. A regression head (one output, or `problem_type="regression"`) has no probabilities: its
        scores are `forward(encode(texts)).logits`, and this raises a `ValueError` saying so.

        With `sort_by_length` (the default) texts are batched by token count, so a batch pads to about its own
        length rather than to the longest text that happens to share it: on short, varied texts most of the work
        padding would cost is skipped. Padding is masked out either way, so the results are the same up to float
        rounding.
        """
        texts = as_texts(texts, "texts")
        _check_max_length(max_length)
        if not self.has_classifier:
            raise ValueError(f"{self.name} has no classification head; load it with task='sequence-classification'")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        multi_label = self._multi_label()
        probabilities = np.zeros((len(texts), len(self.label_names)), dtype=np.float32)
        if not len(texts):
            return probabilities
        if text_pairs is not None and len(text_pairs) != len(texts):
            raise ValueError(f"text_pairs has {len(text_pairs)} texts; expected one per text ({len(texts)})")
        pairs = None if text_pairs is None else as_texts(text_pairs, "text_pairs")
        encoded = self.tokenizer(texts, pairs, truncation=True, max_length=max_length)
        order = list(range(len(texts)))
        if sort_by_length:
            order.sort(key=lambda i: len(encoded["input_ids"][i]))
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            batch = self.tokenizer.pad(
                {key: [values[i] for i in chunk] for key, values in encoded.items()}, return_tensors="pt"
            )
            logits = self.forward(batch.to(self.device)).logits
            scores = logits.float()
            probabilities[chunk] = (scores.sigmoid() if multi_label else scores.softmax(-1)).cpu().numpy()
        return probabilities

    def _multi_label(self) -> bool:
        """Whether the head scores each label on its own (sigmoid) rather than one label of all (softmax); a
        `ValueError` for a regression head, which scores no labels."""
        problem = getattr(self.config, "problem_type", None)
        if problem == "regression" or (problem is None and len(self.label_names) == 1):
            raise ValueError(
                f"{self.name} has a regression head (one output): it predicts a score, not label probabilities; "
                "read it from forward(encode(texts)).logits"
            )
        return problem == "multi_label_classification"

    def predict(self, texts: Sequence[str], max_length: int = 128) -> list[dict[str, Any]]:
        """One `{"label": ..., "probabilities": {label: p}}` per text: the most probable label. A multi-label head
        adds `"labels"`, every label whose own probability is at least 0.5 (most probable first)."""
        names, multi_label = self.label_names, self._multi_label()
        predictions = []
        for row in self.predict_proba(texts, max_length):
            prediction = {
                "label": names[int(row.argmax())],
                "probabilities": dict(zip(names, map(float, row), strict=True)),
            }
            if multi_label:
                prediction["labels"] = [names[i] for i in np.argsort(-row, kind="stable") if row[i] >= 0.5]
            predictions.append(prediction)
        return predictions

    def runner(
        self, texts: Sequence[str], max_length: int = 128, text_pairs: Sequence[str] | None = None
    ) -> Callable[[], Any]:
        """A zero-argument callable running one forward pass on `texts`, tokenized once beforehand (for timing)."""
        encoded = self.encode(texts, max_length, text_pairs)
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
    quantize: str | None = None,
    backend: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    measure: Callable[[dict[str, Callable[[], Any]]], dict[str, float]] | None = None,
) -> InferenceModel:
    """Load `source` (a model folder, a built-in name such as `minilm`, a Hub id, or a loaded model) for inference.

    `task` picks the head: `"sequence-classification"` (the model's classifier) or `"base"` (the encoder only, for
    speed measurements). `dtype="auto"` is bf16 where the hardware has native bf16 units, else fp32.
    `quantize="int8"` (CPU, opt-in) stores the Linear layers' weights in int8 with fp32 activations (torch dynamic
    quantization): for CPUs without native bf16, where `"auto"` means fp32. It runs in fp32, so `dtype` must be
    `"auto"` or `"fp32"`. See docs/results/bench/inference.md for what it costs and gains against bf16.

    `backend` picks what runs the model: `"torch"` (eager PyTorch; the default, None, is torch for a model and the
    folder's own runtime for a folder `compactbert export` wrote), `"openvino"` or `"onnxruntime"` (the
    model exported on the fly into `cache_dir`, by default `~/.cache/compactbert/exports`, and reused; OpenVINO runs
    at `dtype`, ONNX Runtime in fp32; `backend="openvino", quantize="int8"` quantizes the exported graph with NNCF,
    calibrated on the train split of the task the folder's metrics.json names, its other operations at `dtype`;
    `backend="onnxruntime", quantize="int8"` stores the graph's linear-layer weights in int8, the int8 that pays on
    CPUs without VNNI), or
    `"auto"`: the fastest installed one whose predictions match PyTorch's on
    sample texts, timed here by `measure` (see `compactbert.export.backends`); the model's `backend_choice` says what
    was chosen and why. A folder written by `compactbert export` loads with its runtime (the default), or
    `backend="auto"` (which loads its PyTorch source instead when its verification failed), at the precision its
    export.json records unless `dtype` names one. The returned model has this function's interface
    either way (`predict`, `predict_proba`, `runner`, ...).
    """
    from transformers import AutoModel, AutoModelForSequenceClassification, PreTrainedModel

    from .checkpoints import check_tokenizer_fits, load_tokenizer, resolve_model_folder

    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; expected one of {TASKS}")
    _check_device(device)
    if backend is not None and backend not in BACKENDS:
        raise ValueError(
            f"unknown backend {backend!r}; expected one of {BACKENDS} (or None: torch, or an export's own runtime)"
        )
    from .export.backends import exported_folder

    if backend not in (None, "torch") or exported_folder(source) is not None:
        from .export.backends import load_with_backend

        return load_with_backend(
            source,
            backend,
            tokenizer,
            task,
            dtype,
            threads,
            revision,
            allow_pickle,
            device,
            quantize,
            cache_dir,
            measure,
        )
    if quantize not in QUANTIZE:
        raise ValueError(f"unknown quantize {quantize!r}; expected None or one of {QUANTIZE[1:]}")
    if quantize is not None:
        if dtype not in ("auto", "fp32", torch.float32):
            raise ValueError(
                f"quantize={quantize!r} runs fp32 activations; pass dtype='fp32' or 'auto', not {dtype!r}"
            )
        if device is not None and torch.device(device).type != "cpu":
            raise ValueError(f"quantize={quantize!r} is a CPU path; got device={device!r}")
        dtype = "fp32"
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
            tokenizer = load_tokenizer(name)
    else:
        folder = resolve_model_folder(source, revision=revision, allow_pickle=allow_pickle)
        if task == "sequence-classification":
            _check_classifier(folder, source)
        auto = AutoModelForSequenceClassification if task == "sequence-classification" else AutoModel
        model = auto.from_pretrained(folder, attn_implementation="sdpa", use_safetensors=not allow_pickle or None)
        if tokenizer is None:
            tokenizer = load_tokenizer(folder, source)
        name = os.fspath(source)
    check_tokenizer_fits(tokenizer, model.config, name)
    if device is not None:
        model.to(device)
    prepare_for_inference(model, torch_dtype)
    if quantize == "int8":
        model = quantize_int8(model)
    loaded = InferenceModel(model, tokenizer, torch_dtype, name)
    loaded.quantized = quantize
    return loaded


def _check_max_length(max_length: int | None) -> None:
    if max_length is not None and max_length < 1:
        raise ValueError(f"max_length (tokens a text is cut to) must be >= 1, got {max_length}")


def _check_device(device) -> None:
    """Refuse, before anything loads, a device torch does not take, or an accelerator (CUDA, MPS, XPU) this machine's
    torch has none of, or fewer than the index asks for."""
    if device is None:
        return
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(
            f"device {device!r}: torch does not take it ({err}); expected 'cpu', 'cuda', 'cuda:0', ..."
        ) from None
    backend = {"cuda": torch.cuda, "mps": torch.backends.mps, "xpu": getattr(torch, "xpu", None)}.get(parsed.type)
    if backend is not None and not backend.is_available():
        raise ValueError(f"device {device!r}: this machine's torch has no {parsed.type} device; use 'cpu'")
    count = getattr(backend, "device_count", None)
    if parsed.index is not None and callable(count) and parsed.index >= count():
        raise ValueError(f"device {device!r}: torch sees {count()} {parsed.type} device(s), numbered from 0")


def _check_classifier(folder, source) -> None:
    """Refuse a folder whose config names a model without a sequence classification head: loaded as a classifier it
    would get a randomly initialised one, and predict noise."""
    from .checkpoints import read_config_json

    architectures = read_config_json(folder).get("architectures") or []
    if architectures and not any(str(a).endswith("ForSequenceClassification") for a in architectures):
        raise ValueError(
            f"{source} holds no trained classification head (its config names {', '.join(architectures)}): as a "
            "classifier it would get a random one; fine-tune it on a task first (`compactbert finetune`), or load "
            "its encoder with task='base'"
        )


def quantize_int8(model):
    """Dynamic int8 quantization of the Linear layers (int8 weights, activations quantized on the fly), in place.

    torch marks the `torch.ao.quantization` eager API for migration to torchao; it still ships and works, so its
    deprecation warning is silenced here rather than adding torchao as a dependency.
    """
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)


def prepare_for_inference(model, dtype: str | torch.dtype = "auto"):
    """Put a loaded model in the inference setting: SDPA attention, eval mode, `dtype` weights; in place.

    Returns the model; the cast to bf16 keeps no fp32 copy. An architecture without SDPA keeps its own attention.
    `load_for_inference` and the benchmark both go through here, so what the benchmark times is what the demo runs.
    """
    torch_dtype = resolve_dtype(dtype)
    if model.config._attn_implementation != "sdpa":
        try:
            model.set_attn_implementation("sdpa")
        except (ValueError, ImportError):
            pass
    return model.to(torch_dtype).eval()
