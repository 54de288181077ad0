"""The runtime backends of `compactbert.inference.load_for_inference`: an exported model behind `InferenceModel`'s
interface, the export cache, and `backend="auto"`'s choice.

`load_for_inference(source, backend="openvino" | "onnxruntime")` exports the model on the fly into a cache folder
(keyed by the source folder's files and the versions that made the graph, so it is exported once) or opens an already
exported folder, and returns a `RuntimeInferenceModel`: `predict`, `predict_proba`, `forward`, `runner`, `label_names`
work as they do on the PyTorch model, so the demo and the bench run it unchanged.

`backend="auto"` exports to every installed runtime, checks each one's predictions against PyTorch's on the built-in
sample texts, times them side by side with PyTorch on two sample batches (1 and 8 texts: a few interleaved forward
passes) and keeps the fastest whose predictions are unchanged; `backend_choice` records what it measured and why it
chose. No runtime installed, or none that works and keeps the predictions, means PyTorch, and the choice says so. The
timing is a function argument (`measure`), so tests force an outcome.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import math
import os
import shutil
import statistics
import tempfile
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..inference import DTYPES, InferenceModel, load_for_inference, resolve_dtype, time_side_by_side
from .exporter import SAMPLE_TEXTS, Comparison, load_for_export, write_export
from .formats import FORMATS, RUNTIMES, ExportFormat, MissingRuntimeError, missing_modules
from .runtime import EXPORT_INFO, Session, open_session, read_export_info

RUNTIME_ORDER = ("openvino", "onnxruntime")  # the runtimes `auto` tries, in this order (ties go to the earlier)
AUTO_BATCHES = (1, 8)  # sample batch sizes `auto` times every backend on
Measure = Callable[[dict[str, Callable[[], Any]]], dict[str, float]]


def default_cache_dir() -> Path:
    """Where on-the-fly exports are kept: `$COMPACTBERT_CACHE/exports`, else `~/.cache/compactbert/exports`."""
    root = os.environ.get("COMPACTBERT_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "compactbert"
    )
    return Path(root) / "exports"


def exported_folder(source) -> Path | None:
    """`source` as a folder when it is one `compactbert export` wrote (it holds export.json), else None."""
    if not isinstance(source, (str, os.PathLike)):
        return None
    path = Path(source).expanduser()
    return path if (path / EXPORT_INFO).is_file() else None


# ---------------------------------------------------------------------------------------------- the runtime model


class RuntimeInferenceModel(InferenceModel):
    """An exported model run by ONNX Runtime or OpenVINO, with `InferenceModel`'s interface.

    `model` is the PyTorch model it was exported from when that was loaded (for what needs PyTorch: shrinking,
    parameter lists), None when it was opened from an exported folder; `config` and `label_names` come from the
    exported folder's config either way. `forward` returns the transformers output of the head (torch tensors over the
    runtime's arrays), so code written for the PyTorch model reads it unchanged.
    """

    def __init__(
        self,
        session: Session,
        tokenizer,
        config,
        task: str,
        name: str,
        folder: Path,
        info: dict[str, Any],
        model=None,
    ):
        super().__init__(model, tokenizer, DTYPES[session.dtype], name)
        self.session = session
        self.backend = session.runtime
        self.task = task
        self.folder = Path(folder)
        self.export_info = info
        self._config = config

    @property
    def config(self):
        return self._config

    @property
    def has_classifier(self) -> bool:
        return self.task == "sequence-classification"

    @property
    def num_parameters(self) -> int:
        return self.export_info["parameters"] if self.model is None else super().num_parameters

    @property
    def device(self) -> torch.device:
        return torch.device("cpu")

    def _numpy_feed(self, encoded) -> dict[str, np.ndarray]:
        return {name: encoded[name].cpu().numpy() for name in self.session.input_names if name in encoded}

    def forward(self, encoded):
        from transformers.modeling_outputs import (
            BaseModelOutputWithPooling,
            QuestionAnsweringModelOutput,
            SequenceClassifierOutput,
            TokenClassifierOutput,
        )

        outputs = {
            name: torch.from_numpy(value) for name, value in self.session.run(self._numpy_feed(encoded)).items()
        }
        kind = {
            "sequence-classification": SequenceClassifierOutput,
            "token-classification": TokenClassifierOutput,
            "question-answering": QuestionAnsweringModelOutput,
            "base": BaseModelOutputWithPooling,
        }[self.task]
        return kind(**outputs)

    def runner(self, texts: Sequence[str], max_length: int = 128) -> Callable[[], Any]:
        """A zero-argument callable running one forward pass on `texts`, tokenized (to numpy) once beforehand."""
        feed = self._numpy_feed(self.encode(texts, max_length))
        return lambda: self.session.run(feed)

    @classmethod
    def open(
        cls,
        folder: str | os.PathLike,
        dtype: str | None = None,
        threads: int | None = None,
        tokenizer=None,
        model=None,
        name: str | None = None,
    ) -> RuntimeInferenceModel:
        """Open an exported folder with its runtime; `dtype` (OpenVINO) overrides the precision export.json records."""
        from transformers import AutoConfig, AutoTokenizer

        folder = Path(folder)
        info = read_export_info(folder)
        if info is None:
            raise FileNotFoundError(f"{folder} has no {EXPORT_INFO}; export the model with `compactbert export` first")
        session = open_session(folder, dtype=dtype, threads=threads)
        config = model.config if model is not None else AutoConfig.from_pretrained(folder)
        tokenizer = tokenizer if tokenizer is not None else AutoTokenizer.from_pretrained(folder)
        return cls(session, tokenizer, config, info["task"], name or os.fspath(folder), folder, info, model)


# ------------------------------------------------------------------------------------------------- the export cache


def _runtime_version(fmt: ExportFormat) -> str:
    try:
        return importlib.metadata.version(fmt.runtime)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def cache_key(folder: Path, fmt: ExportFormat, task: str) -> str:
    """What an on-the-fly export depends on: the source folder's files (path, size, time), the format and head, and
    the versions that made the graph. A changed weight file or an upgrade gives a new key, so a stale graph is never
    reused."""
    from .. import __version__

    parts = [str(folder.resolve()), fmt.name, task, __version__, torch.__version__, _runtime_version(fmt)]
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix in (".json", ".safetensors", ".bin", ".txt", ".model"):
            stat = path.stat()
            parts.append(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def export_to_cache(
    source,
    fmt: ExportFormat,
    task: str,
    cache_dir: str | os.PathLike | None = None,
    tokenizer=None,
    revision: str | None = None,
    allow_pickle: bool = False,
) -> tuple[Path, Any]:
    """Export `source` (a model folder, name or Hub id, or a loaded fp32 model) for `fmt`'s runtime, unverified: the
    caller checks what it needs. A folder's export lands in the cache and is reused; a loaded model's goes to a
    temporary folder. Returns `(folder, owner)`: keep `owner` alive while the folder is used (it deletes a temporary
    folder when collected; None for the cache)."""
    from transformers import PreTrainedModel

    from ..checkpoints import resolve_model_folder
    from ..io import write_folder_atomically

    if isinstance(source, PreTrainedModel):
        model = source
        if next(model.parameters()).dtype != torch.float32:
            import copy

            model = copy.deepcopy(model).float()
        if tokenizer is None:
            name = getattr(source.config, "name_or_path", "")
            if not name or not os.path.isdir(name):
                raise ValueError(
                    "exporting a loaded model needs `tokenizer=`: its config names no folder to read one from"
                )
            from transformers import AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(name)
        folder = Path(tempfile.mkdtemp(prefix=f"compactbert-{fmt.name}-"))
        owner = _TemporaryFolder(folder)
        write_export(model, tokenizer, folder, fmt.name, "fp32", task, type(source).__name__)
        return folder, owner
    source_folder = resolve_model_folder(source, revision=revision, allow_pickle=allow_pickle)
    target = Path(cache_dir or default_cache_dir()) / f"{source_folder.name}-{task}-{fmt.name}-"
    target = target.with_name(target.name + cache_key(source_folder, fmt, task))
    if read_export_info(target) is None:
        model, tokenizer, _, _ = load_for_export(source_folder, task, allow_pickle=allow_pickle)
        write_folder_atomically(
            target,
            lambda tmp: write_export(model, tokenizer, tmp, fmt.name, "fp32", task, os.fspath(source)),
            overwrite=True,  # a half-written or concurrent export of the same key is replaced by a whole one
        )
    return target, None


class _TemporaryFolder:
    def __init__(self, path: Path):
        self.path = path
        self._finalizer = weakref.finalize(self, shutil.rmtree, path, True)


# ------------------------------------------------------------------------------------------------------------ auto


@dataclass
class BackendChoice:
    """How `backend="auto"` chose: the backend, why, and what it measured.

    Attributes:
        backend (`str`): the chosen backend (`"torch"`, `"openvino"` or `"onnxruntime"`).
        reason (`str`): one line for a person: the measured ratio, or why PyTorch was kept.
        relative_time (`dict[str, float]`): each timed backend's time / PyTorch's (geometric mean over the sample
            batches; below 1 is faster).
        times_ms (`dict[str, dict[str, float]]`): each timed backend's measured time per sample batch.
        dtypes (`dict[str, str]`): the precision each timed backend ran in.
        rejected (`dict[str, str]`): the runtimes left out, and why (not installed, failed, predictions changed).
    """

    backend: str
    reason: str
    relative_time: dict[str, float] = field(default_factory=dict)
    times_ms: dict[str, dict[str, float]] = field(default_factory=dict)
    dtypes: dict[str, str] = field(default_factory=dict)
    rejected: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "reason": self.reason,
            "relative_time": self.relative_time,
            "times_ms": self.times_ms,
            "dtypes": self.dtypes,
            "rejected": self.rejected,
        }


def default_measure(fns: dict[str, Callable[[], Any]]) -> dict[str, float]:
    """Median milliseconds of each callable over 5 interleaved rounds after a warm-up round (`time_side_by_side`)."""
    return {name: t.median_ms for name, t in time_side_by_side(fns, repeats=5, warmup=1).items()}


def _dtype_name(dtype: torch.dtype) -> str:
    return next(name for name, value in DTYPES.items() if value == dtype)


def _outputs(loaded: InferenceModel, encoded, names: Sequence[str]) -> dict[str, np.ndarray]:
    result = loaded.forward(encoded)
    return {name: result[name].float().cpu().numpy() for name in names}


def check_predictions(reference: InferenceModel, candidate: RuntimeInferenceModel, texts: Sequence[str]) -> str | None:
    """None when `candidate` predicts what `reference` (PyTorch) predicts on every one of `texts` (for an encoder:
    each text's output points the same way, cosine >= 0.99); else what differs."""
    encoded = reference.encode(list(texts))
    names = candidate.export_info["outputs"]
    comparison = Comparison(candidate.task)
    comparison.add(
        _outputs(reference, encoded, names),
        _outputs(candidate, encoded, names),
        encoded["attention_mask"].cpu().numpy(),
    )
    result = comparison.result()
    if result["predictions_unchanged"] is not None:
        if comparison.same < comparison.total:
            return (
                f"predictions differ from PyTorch's on {comparison.total - comparison.same} of {comparison.total} "
                f"sample predictions (largest output difference {result['max_abs_logit_diff']:.3g})"
            )
        return None
    if not result["passed"]:
        return f"outputs differ from PyTorch's (lowest cosine similarity {result['min_cosine_similarity']:.4f})"
    return None


def choose_backend(
    reference: InferenceModel,
    candidates: dict[str, RuntimeInferenceModel],
    rejected: dict[str, str] | None = None,
    measure: Measure | None = None,
    texts: Sequence[str] = SAMPLE_TEXTS,
    batches: Sequence[int] = AUTO_BATCHES,
) -> tuple[InferenceModel, BackendChoice]:
    """Pick the fastest of PyTorch (`reference`) and the runtime `candidates` whose predictions match PyTorch's.

    Each candidate predicts `texts` first (a candidate that changes a prediction, or fails, is rejected with why);
    then PyTorch and the rest run side by side on the first `b` texts for each `b` of `batches`, timed by `measure`
    (`{name: callable} -> {name: milliseconds}`; by default `default_measure`, a few interleaved passes). The score
    is the geometric mean over the batches of a backend's time / PyTorch's; the lowest wins, PyTorch on a tie.
    Returns the chosen model, with its `backend_choice` set, and the choice.
    """
    rejected = dict(rejected or {})
    measure = measure or default_measure
    usable: dict[str, InferenceModel] = {"torch": reference}
    for name, candidate in candidates.items():
        try:
            why = check_predictions(reference, candidate, texts)
        except Exception as err:  # a runtime that cannot run this model here is reported, not fatal
            why = f"failed: {type(err).__name__}: {str(err).splitlines()[0][:200] if str(err) else ''}"
        if why is None:
            usable[name] = candidate
        else:
            rejected[name] = why
    dtypes = {name: _dtype_name(m.dtype) for name, m in usable.items()}
    if len(usable) == 1:
        reasons = "; ".join(f"{name}: {why}" for name, why in rejected.items()) or "no runtime was offered"
        choice = BackendChoice(
            "torch", f"torch: no runtime to compare with ({reasons})", dtypes=dtypes, rejected=rejected
        )
        reference.backend_choice = choice
        return reference, choice
    times: dict[str, dict[str, float]] = {name: {} for name in usable}
    for size in batches:
        sample = list(texts[:size])
        measured = measure({name: model.runner(sample) for name, model in usable.items()})
        for name in usable:
            times[name][f"batch {len(sample)}"] = float(measured[name])
    relative = {
        name: math.exp(statistics.fmean([math.log(times[name][b] / times["torch"][b]) for b in times["torch"]]))
        for name in usable
    }
    best = min(usable, key=lambda name: (relative[name], list(usable).index(name)))
    others = ", ".join(f"{name} {relative[name]:.2f}x" for name in usable if name != best)
    batches_text = " and ".join(times["torch"])
    if best == "torch":
        reason = f"torch: no runtime was faster on this CPU ({others} PyTorch's time; {batches_text} of sample texts)"
    else:
        reason = (
            f"{best} ({dtypes[best]}): {relative[best]:.2f}x PyTorch's time on this CPU ({batches_text} of sample "
            f"texts), predictions unchanged on {len(texts)} sample texts"
            + (
                f"; {', '.join(f'{n} {relative[n]:.2f}x' for n in usable if n not in (best, 'torch'))}"
                if len(usable) > 2
                else ""
            )
        )
    if rejected:
        reason += "; left out: " + "; ".join(f"{name} ({why})" for name, why in rejected.items())
    choice = BackendChoice(best, reason, relative, times, dtypes, rejected)
    chosen = usable[best]
    chosen.backend_choice = choice
    return chosen, choice


# --------------------------------------------------------------------------------------------------------- loading


def runtime_dtype(fmt: ExportFormat, dtype: str | torch.dtype, explicit: bool) -> str:
    """The precision a runtime runs in for `load_for_inference`'s `dtype`: OpenVINO follows it (`"auto"`: bf16 where
    the CPU has native bf16 units); ONNX Runtime runs fp32, and refuses an explicit bf16."""
    name = _dtype_name(resolve_dtype(dtype))
    if name in fmt.dtypes:
        return name
    if explicit and dtype not in ("auto",):
        raise ValueError(
            f"{fmt.runtime} runs fp32 only on the CPU; pass dtype='fp32' or 'auto' (or backend='openvino' for bf16)"
        )
    return "fp32"


def load_exported(folder: Path, backend: str, task: str, dtype: str | torch.dtype, threads: int, tokenizer=None):
    """Open a folder `compactbert export` wrote with its runtime (`backend` "auto" or that runtime), at the precision
    its export.json records unless `dtype` names one."""
    info = read_export_info(folder)
    fmt = FORMATS[info["format"]]
    if backend == "torch":
        raise ValueError(
            f"{folder} is an exported {fmt.name} model with no PyTorch weights; load it with backend='{fmt.runtime}' "
            "or backend='auto', or load the PyTorch folder it was exported from"
        )
    if backend not in ("auto", fmt.runtime):
        raise ValueError(
            f"{folder} is an exported {fmt.name} model: it runs with backend='{fmt.runtime}', not {backend!r}"
        )
    if task != info["task"]:
        raise ValueError(f"{folder} was exported as task {info['task']!r}; load it with task='{info['task']}'")
    missing = missing_modules((fmt.runtime,))
    if missing:
        raise MissingRuntimeError(f"running {folder} needs {fmt.runtime}, which is not installed: {fmt.install_hint}")
    # "auto": the precision the export recorded (and was verified in); a named dtype overrides it
    precision = info.get("dtype", "fp32") if dtype == "auto" else runtime_dtype(fmt, dtype, explicit=True)
    loaded = RuntimeInferenceModel.open(folder, precision, threads, tokenizer)
    if backend == "auto":
        loaded.backend_choice = BackendChoice(
            fmt.runtime,
            f"{fmt.runtime}: {folder} is an exported {fmt.name} model",
            dtypes={fmt.runtime: _dtype_name(loaded.dtype)},
        )
    return loaded


def load_with_backend(
    source,
    backend: str,
    tokenizer=None,
    task: str = "sequence-classification",
    dtype: str | torch.dtype = "auto",
    threads: int | None = None,
    revision: str | None = None,
    allow_pickle: bool = False,
    device=None,
    quantize: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    measure: Measure | None = None,
) -> InferenceModel:
    """`load_for_inference` with `backend` "openvino", "onnxruntime" or "auto" (see this module's docstring)."""
    from ..inference import configure_threads

    folder = exported_folder(source)
    if folder is not None:
        return load_exported(folder, backend, task, dtype, configure_threads(threads), tokenizer)
    if backend != "auto":
        if quantize is not None:
            raise ValueError(f"quantize={quantize!r} is a PyTorch path; backend={backend!r} runs the exported graph")
        if device is not None and torch.device(device).type != "cpu":
            raise ValueError(f"backend={backend!r} runs on the CPU; got device={device!r}")
    runtimes = [backend] if backend in RUNTIMES else list(RUNTIME_ORDER)
    rejected: dict[str, str] = {}
    if backend == "auto" and (quantize is not None or (device is not None and torch.device(device).type != "cpu")):
        setting = f"quantize={quantize!r}" if quantize is not None else f"device={device!r}"
        rejected = {runtime: f"not compared: {setting} is a PyTorch setting" for runtime in runtimes}
        runtimes = []
    exports: dict[str, tuple[Path, Any]] = {}
    for runtime in runtimes:
        fmt = RUNTIMES[runtime]
        if backend != "auto":
            runtime_dtype(fmt, dtype, explicit=True)  # refuse an impossible precision before exporting
        missing = missing_modules(fmt.export_needs)
        if missing:
            if backend == runtime:
                raise MissingRuntimeError(
                    f"backend={runtime!r} needs {', '.join(missing)}, which {'is' if len(missing) == 1 else 'are'} "
                    f"not installed: {fmt.install_hint}"
                )
            rejected[runtime] = f"not installed: {fmt.install_hint}"
            continue
        try:
            exports[runtime] = export_to_cache(source, fmt, task, cache_dir, tokenizer, revision, allow_pickle)
        except Exception as err:
            if backend == runtime:
                raise
            rejected[runtime] = (
                f"export failed: {type(err).__name__}: {str(err).splitlines()[0][:200] if str(err) else ''}"
            )
    loaded = load_for_inference(
        source, tokenizer, task, dtype, threads, revision, allow_pickle, device, quantize, backend="torch"
    )
    threads = torch.get_num_threads()
    candidates: dict[str, RuntimeInferenceModel] = {}
    for runtime, (folder, owner) in exports.items():
        fmt = RUNTIMES[runtime]
        try:
            candidate = RuntimeInferenceModel.open(
                folder, runtime_dtype(fmt, dtype, explicit=False), threads, loaded.tokenizer, loaded.model, loaded.name
            )
        except Exception as err:
            if backend == runtime:
                raise
            rejected[runtime] = (
                f"failed to load: {type(err).__name__}: {str(err).splitlines()[0][:200] if str(err) else ''}"
            )
            continue
        candidate._owner = owner  # keeps a temporary export folder alive as long as the model
        candidates[runtime] = candidate
    if backend != "auto":
        return candidates[backend]
    return choose_backend(loaded, candidates, rejected, measure)[0]
