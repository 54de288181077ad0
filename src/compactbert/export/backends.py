"""The runtime backends of `compactbert.inference.load_for_inference`: an exported model behind `InferenceModel`'s
interface, and loading (the export cache is `compactbert.export.cache`; `backend="auto"`'s choice is
`compactbert.export.auto`).

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

import contextlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..inference import DTYPES, InferenceModel, load_for_inference, resolve_dtype
from .auto import BackendChoice, Measure, choose_backend, dtype_name
from .cache import CACHE_RECORD, cache_entry, prune, record_source, source_files
from .exporter import (
    DEFAULT_VERIFY_SAMPLES,
    INT8_DOES_NOT_HOLD,
    load_for_export,
    quantize_export,
    verification_texts,
    verify_export,
    what_moved,
    write_export,
    write_info,
)
from .formats import FORMATS, RUNTIMES, ExportFormat, MissingRuntimeError, kind_needs, missing_modules
from .runtime import EXPORT_INFO, Session, open_session, read_export_info
from .verdict import FailedExportWarning, failed, load_instead_of_failed, unverified, warn_failed, warn_unverified

RUNTIME_ORDER = ("openvino", "onnxruntime")  # the runtimes `auto` tries, in this order (ties go to the earlier)


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
        # an int8 graph (OpenVINO): `dtype` is what its other operations compute in, `quantized` says int8
        super().__init__(model, tokenizer, DTYPES[getattr(session, "precision", session.dtype)], name)
        self.quantized = "int8" if session.dtype == "int8" else None
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

    def runner(
        self, texts: Sequence[str], max_length: int = 128, text_pairs: Sequence[str] | None = None
    ) -> Callable[[], Any]:
        """A zero-argument callable running one forward pass on `texts`, tokenized (to numpy) once beforehand."""
        feed = self._numpy_feed(self.encode(texts, max_length, text_pairs))
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
        from transformers import AutoConfig

        from ..checkpoints import check_tokenizer_fits, load_tokenizer

        folder = Path(folder)
        info = read_export_info(folder)
        if info is None:
            raise FileNotFoundError(f"{folder} has no {EXPORT_INFO}; export the model with `compactbert export` first")
        session = open_session(folder, dtype=dtype, threads=threads)
        config = model.config if model is not None else AutoConfig.from_pretrained(folder)
        tokenizer = tokenizer if tokenizer is not None else load_tokenizer(folder)
        check_tokenizer_fits(tokenizer, config, name or folder)
        return cls(session, tokenizer, config, info["task"], name or os.fspath(folder), folder, info, model)


# ------------------------------------------------------------------------------------------------- the export cache


def export_to_cache(
    source,
    fmt: ExportFormat,
    task: str,
    cache_dir: str | os.PathLike | None = None,
    tokenizer=None,
    revision: str | None = None,
    allow_pickle: bool = False,
    quantize: str | None = None,
) -> tuple[Path, Any]:
    """Export `source` (a model folder, name or Hub id, or a loaded fp32 model) for `fmt`'s runtime, unverified: the
    caller checks what it needs. A folder's export lands in the cache and is reused; a loaded model's goes to a
    temporary folder. `quantize="int8"` quantizes the graph (OpenVINO: calibrated on the train split of the task
    the folder's metrics.json names, else on built-in BBC News articles; ONNX: its weights, nothing to calibrate)
    and verifies it as `compactbert export` does (the test split, else the built-in sample texts): a `UserWarning`
    says when its predictions did not hold, on every load. Returns `(folder, owner)`: keep `owner` alive while the
    folder is used (it deletes a temporary folder when collected; None for the cache)."""
    from transformers import PreTrainedModel

    from ..checkpoints import load_tokenizer, resolve_model_folder
    from ..io import ScratchFolder, write_folder_atomically

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
            tokenizer = load_tokenizer(name)
        owner = ScratchFolder(f"compactbert-{fmt.name}-")
        folder = owner.path
        info = write_export(model, tokenizer, folder, fmt.name, quantize or "fp32", task, type(source).__name__)
        if quantize is not None:
            name = getattr(source.config, "name_or_path", "")
            named = Path(name) if name and os.path.isdir(name) else None
            quantize_export(folder, info, model, tokenizer, named)
            _verify_quantized(folder, info, model, tokenizer, task, named)
            _warn_unless_held(folder, "the loaded model")
        return folder, owner
    source_folder = resolve_model_folder(source, revision=revision, allow_pickle=allow_pickle)
    files = source_files(source_folder)  # read once: the entry's name and its record agree
    target = cache_entry(cache_dir, source_folder, fmt, task, quantize, files)
    if read_export_info(target) is not None and not (target / CACHE_RECORD).is_file():
        with contextlib.suppress(OSError):  # an entry from before records: its key proves the source is unchanged
            record_source(target, source_folder, files)
    if read_export_info(target) is None:
        model, tokenizer, _, _ = load_for_export(source_folder, task, allow_pickle=allow_pickle)

        def write(tmp: Path) -> None:
            info = write_export(model, tokenizer, tmp, fmt.name, quantize or "fp32", task, os.fspath(source))
            if quantize is not None:
                quantize_export(tmp, info, model, tokenizer, source_folder)
                _verify_quantized(tmp, info, model, tokenizer, task, source_folder)
            record_source(tmp, source_folder, files)

        # a half-written or concurrent export of the same key is replaced by a whole one
        write_folder_atomically(target, write, overwrite=True, cache_entry=True)
        with contextlib.suppress(OSError):  # the entries no load can reach again (a gone or changed source's) go
            prune(target.parent, keep=target)
    if quantize is not None:
        _warn_unless_held(target, source)
    return target, None


def _verify_quantized(folder: Path, info: dict, model, tokenizer, task: str, source_folder: Path | None) -> None:
    """Verify a quantized cache entry against PyTorch as `compactbert export` does; export.json records it."""
    found = verification_texts(source_folder or Path(os.devnull), DEFAULT_VERIFY_SAMPLES)
    check = verify_export(model, tokenizer, folder, task, found.texts, found.pairs, info["dtype"])
    info["verification"] = {"on": found.where} | check
    write_info(folder, info)


def _warn_unless_held(folder: Path, source) -> None:
    """A `FailedExportWarning` when the verification export.json records in `folder` failed."""
    check = (read_export_info(folder) or {}).get("verification") or {}
    if check.get("passed") is False:
        import warnings

        warnings.warn(
            f"the {check.get('dtype')} graph of {source} {what_moved(check)} on {check.get('on')}: "
            f"{INT8_DOES_NOT_HOLD}; load it without quantize='int8' (bf16 or fp32)",
            FailedExportWarning,
            stacklevel=3,
        )


# --------------------------------------------------------------------------------------------------------- loading


def runtime_dtype(fmt: ExportFormat, dtype: str | torch.dtype, explicit: bool) -> str:
    """The precision a runtime runs in for `load_for_inference`'s `dtype`: OpenVINO follows it (`"auto"`: bf16 where
    the CPU has native bf16 units); ONNX Runtime runs fp32, and refuses an explicit bf16."""
    name = dtype_name(resolve_dtype(dtype))
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
            dtypes={fmt.runtime: dtype_name(loaded.dtype)},
        )
    return loaded


def load_with_backend(
    source,
    backend: str | None,
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
    from ..inference import QUANTIZE, configure_threads

    if quantize not in QUANTIZE:
        raise ValueError(f"unknown quantize {quantize!r}; expected None or one of {QUANTIZE[1:]}")
    folder = exported_folder(source)
    if folder is not None:
        info = read_export_info(folder) or {}
        if backend is None:  # load_for_inference's default: the folder's own runtime
            backend = FORMATS[info["format"]].runtime if info.get("format") in FORMATS else "auto"
        exported_dtype = info.get("dtype", "fp32")
        if quantize is not None and exported_dtype != quantize:
            raise ValueError(
                f"{folder} is an exported {exported_dtype} model; quantize={quantize!r} needs an {quantize} export: "
                f"`compactbert export SOURCE --format {info.get('format', 'openvino')} --dtype {quantize}`, or load "
                "the PyTorch folder"
            )
        if failed(info) and backend == "auto" and task == info.get("task"):
            options = (tokenizer, task, dtype, threads, revision, allow_pickle, device, quantize, cache_dir, measure)
            return load_instead_of_failed(folder, info, options)
        loaded = load_exported(folder, backend, task, dtype, configure_threads(threads), tokenizer)
        if failed(info):
            warn_failed(folder, info, backend)
        elif unverified(info):
            warn_unverified(folder, info)
            if loaded.backend_choice is not None:
                loaded.backend_choice.reason += " (never verified against PyTorch: exported with --no-verify)"
        return loaded
    if backend != "auto" and device is not None and torch.device(device).type != "cpu":
        raise ValueError(f"backend={backend!r} runs on the CPU; got device={device!r}")
    runtimes = [backend] if backend in RUNTIMES else list(RUNTIME_ORDER)
    rejected: dict[str, str] = {}
    if backend == "auto" and device is not None and torch.device(device).type != "cpu":
        rejected = {runtime: f"not compared: device={device!r} is a PyTorch setting" for runtime in runtimes}
        runtimes = []
    elif backend == "auto" and quantize is not None:  # a runtime's int8 is its own graph: asked for by name
        rejected = {
            runtime: f"not compared: quantize={quantize!r} with backend='auto' is PyTorch's dynamic int8 (for "
            f"{runtime}'s int8, pass backend={runtime!r})"
            for runtime in runtimes
        }
        runtimes = []
    exports: dict[str, tuple[Path, Any]] = {}
    for runtime in runtimes:
        fmt = RUNTIMES[runtime]
        if backend != "auto":
            runtime_dtype(fmt, dtype, explicit=True)  # refuse an impossible precision before exporting
        missing = missing_modules(kind_needs(fmt.name, "fp32" if quantize is None else quantize))
        if missing:
            if backend == runtime:
                raise MissingRuntimeError(
                    f"backend={runtime!r} needs {', '.join(missing)}, which {'is' if len(missing) == 1 else 'are'} "
                    f"not installed: {fmt.install_hint}"
                )
            rejected[runtime] = f"not installed: {fmt.install_hint}"
            continue
        try:
            exports[runtime] = export_to_cache(
                source,
                fmt,
                task,
                cache_dir,
                tokenizer,
                revision,
                allow_pickle,
                quantize if backend != "auto" else None,
            )
        except Exception as err:
            if backend == runtime:
                raise
            rejected[runtime] = (
                f"export failed: {type(err).__name__}: {str(err).splitlines()[0][:200] if str(err) else ''}"
            )
    # the PyTorch model (the reference `auto` compares with, and what needs PyTorch): a runtime's int8 is its own graph
    torch_quantize = None if backend in RUNTIMES else quantize
    loaded = load_for_inference(
        source, tokenizer, task, dtype, threads, revision, allow_pickle, device, torch_quantize, backend="torch"
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
