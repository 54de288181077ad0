"""`export_model`: a model folder -> a folder holding its ONNX or OpenVINO graph, config, tokenizer and export.json,
checked against the PyTorch model on the same texts.

The folder loads with no PyTorch: ONNX Runtime reads `model.onnx`, OpenVINO `openvino_model.xml` (+ `.bin`), and both
names are the ones optimum's `ORTModelFor...` / optimum-intel's `OVModelFor...` look for next to `config.json`; the
tokenizer files load with `tokenizers` or `AutoTokenizer`. `export.json` records the format, the precision, the
source, the runtime's version (and the ONNX opset), the input and output names and the verification: the largest
absolute difference of each output from PyTorch's, and the share of predictions left unchanged, on the test split of
the task the folder's metrics.json names (else on built-in sample texts).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..io import save_tokenizer
from ..records import read_metrics, task_record
from .formats import (
    DEFAULT_VERIFY_SAMPLES,
    EXPORT_TASKS,
    FORMATS,
    ExportFormat,
    get_format,
    get_task,
    require,
    task_of,
)
from .graph import WRITERS, output_names
from .quantize import (
    DEFAULT_CALIBRATION_SAMPLES,
    FLOAT_OPERATIONS,
    encode_calibration,
    quantize_onnx,
    quantize_openvino,
    require_quantizer,
)
from .runtime import EXPORT_INFO, open_session, read_export_info
from .texts import DataNotLoadedWarning, TaskTexts, task_texts

AGREEMENT_THRESHOLD = 0.995  # share of predictions that must stay unchanged (the bar on bbc-news)
COSINE_THRESHOLD = 0.99  # a bare encoder has no predictions: each text's outputs must point the same way


@dataclass
class ExportResult:
    """What `export_model` wrote: the folder and its export.json record."""

    folder: Path
    info: dict[str, Any]

    @property
    def verification(self) -> dict[str, Any] | None:
        return self.info.get("verification")

    @property
    def passed(self) -> bool | None:
        """Whether the exported model kept the predictions (None when it was not verified)."""
        return None if self.verification is None else self.verification["passed"]


def default_output(source: str | os.PathLike, format: str, dtype: str = "fp32") -> Path:
    """Where `compactbert export SOURCE` writes by default: next to a local folder (`runs/model-openvino`), else in the
    current folder (`minilm-onnx` for a built-in name, `name-onnx` for a Hub id `owner/name`); an int8 export gets its
    own folder (`runs/model-openvino-int8`), so it never replaces the fp32 one."""
    text = os.fspath(source).rstrip("/")
    path = Path(text).expanduser()
    suffix = f"{format}-int8" if dtype == "int8" else format
    if path.is_dir():
        if path.name in ("", ".."):  # `.` or `..`: named by the folder it is
            path = path.resolve()
        return path.with_name(f"{path.name}-{suffix}")
    return Path(f"{text.rsplit('/', 1)[-1]}-{suffix}")


def load_for_export(source, task: str = "auto", revision: str | None = None, allow_pickle: bool = False):
    """The fp32 PyTorch model (eval mode) of `source` as `task`, its tokenizer and folder.

    `task="auto"` exports the head the folder's config names (`architectures`), or the encoder for other heads.
    Returns `(model, tokenizer, folder, task)`.
    """
    from ..checkpoints import load_tokenizer, read_config, resolve_model_folder, weight_files

    folder = resolve_model_folder(source, revision=revision, allow_pickle=allow_pickle)
    exported = read_export_info(folder)
    if exported is not None:
        raise ValueError(
            f"{folder} is already an exported {exported['format']} model ({EXPORT_INFO}); export the PyTorch model "
            "folder it was made from"
        )
    config = read_config(folder)
    weight_files(folder, allow_pickle)  # a clear error for a folder without weights
    trained = task_of(config)
    task = trained if task == "auto" else get_task(task).name
    architecture = (getattr(config, "architectures", None) or ["no head"])[0]
    if task not in ("base", trained):  # its head would be made up on load, and verified against itself
        raise ValueError(
            f"{folder} holds a {architecture}, not a {task} head: exported as {task}, its head would be randomly "
            f"initialised (and the check would compare it with itself); export it as it is (--task auto: {trained}) "
            f"or its encoder (--task base), or fine-tune a {task} head first"
        )
    import transformers

    auto = getattr(transformers, EXPORT_TASKS[task].auto_class)
    model, loading = auto.from_pretrained(
        folder, dtype=torch.float32, use_safetensors=not allow_pickle or None, output_loading_info=True
    )
    missing = [key for key in loading.get("missing_keys") or [] if task != "base"]
    if missing:
        raise ValueError(
            f"{folder}'s weights lack {', '.join(sorted(missing)[:4])}{' ...' if len(missing) > 4 else ''}: its "
            f"{task} head would be randomly initialised; export the folder a training run wrote"
        )
    return model.eval(), load_tokenizer(folder), folder, task


def write_export(model, tokenizer, folder: str | os.PathLike, format: str, dtype: str, task: str, source: str) -> dict:
    """Write the graph of `model` (fp32) as `task` in `format`, its config and tokenizer (when given) into `folder`
    (which must exist), and export.json without a verification; returns the export.json record."""
    fmt = get_format(format)
    check_dtype(fmt, dtype)
    folder = Path(folder)
    if next(model.parameters()).dtype != torch.float32:
        raise ValueError(f"export an fp32 model (got {next(model.parameters()).dtype}): the graph stores its weights")
    graph = WRITERS[fmt.name](model, tokenizer, get_task(task).name, folder)
    model.config.save_pretrained(folder)
    if tokenizer is not None:  # None: a model without one (the bench's random-weight rows)
        save_tokenizer(tokenizer, folder)
    import transformers

    from .. import __version__

    info = {
        "format": fmt.name,
        "runtime": fmt.runtime,
        "dtype": dtype,
        "task": task,
        "source": source,
        "model_type": model.config.model_type,
        "architecture": type(model).__name__,
        "parameters": model.num_parameters(),
        "files": list(fmt.files),
        "inputs": graph.pop("inputs"),
        "outputs": graph.pop("outputs"),
        "dynamic_axes": {"batch": 0, "sequence": 1},
        "max_sequence_length": getattr(model.config, "max_position_embeddings", None),
        **graph,  # opset + onnx version, or the openvino version
        "versions": {"compactbert": __version__, "torch": torch.__version__, "transformers": transformers.__version__},
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "verification": None,
    }
    write_info(folder, info)
    return info


def write_info(folder: Path, info: dict) -> None:
    (Path(folder) / EXPORT_INFO).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")


def check_dtype(fmt: ExportFormat, dtype: str) -> None:
    if dtype not in fmt.dtypes:
        raise ValueError(
            f"{fmt.name} models run in {', '.join(fmt.dtypes)}, not {dtype!r}"
            + (
                f"; dtype={dtype!r} is an OpenVINO precision (format='openvino')"
                if fmt.name == "onnx" and dtype in FORMATS["openvino"].dtypes
                else ""
            )
        )


# ----------------------------------------------------------------------------------------------------- verification


def torch_outputs(model, task: str, batch: dict[str, torch.Tensor]) -> dict[str, np.ndarray]:
    """The named outputs of the PyTorch model on one batch, as float32 numpy arrays."""
    names = output_names(model, task)
    with torch.inference_mode():
        result = model(**batch, return_dict=True)
    return {name: result[name].float().numpy() for name in names}


def predictions(outputs: dict[str, np.ndarray], mask: np.ndarray, task: str) -> np.ndarray | None:
    """What a head predicts, flattened: a label per text, a label per real token, or a start and an end position per
    text; None for a bare encoder."""
    if task == "sequence-classification":
        return outputs["logits"].argmax(-1)
    if task == "token-classification":
        return outputs["logits"].argmax(-1)[mask.astype(bool)]
    if task == "question-answering":
        masked = [np.where(mask.astype(bool), outputs[n], -np.inf) for n in ("start_logits", "end_logits")]
        return np.concatenate([m.argmax(-1) for m in masked])
    return None


def cosines(reference: np.ndarray, candidate: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Per text, the cosine similarity of the two `(batch, seq, hidden)` outputs over its real tokens."""
    keep = mask.astype(bool)[..., None]
    a, b = (np.where(keep, x, 0.0).reshape(len(x), -1) for x in (reference, candidate))
    return (a * b).sum(-1) / np.maximum(np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1), 1e-12)


class Comparison:
    """Running comparison of a candidate's outputs with the reference's, batch by batch."""

    def __init__(self, task: str):
        self.task = task
        self.max_abs_diff: dict[str, float] = {}
        self.same = self.total = 0
        self.min_cosine: float | None = None

    def add(self, reference: dict[str, np.ndarray], candidate: dict[str, np.ndarray], mask: np.ndarray) -> None:
        for name, value in reference.items():
            got = candidate[name]
            if got.shape != value.shape:
                raise ValueError(f"output {name} has shape {got.shape}, PyTorch's {value.shape}")
            diff = float(np.abs(got.astype(np.float32) - value).max()) if value.size else 0.0
            self.max_abs_diff[name] = max(self.max_abs_diff.get(name, 0.0), diff)
        expected = predictions(reference, mask, self.task)
        if expected is not None:
            self.same += int((predictions(candidate, mask, self.task) == expected).sum())
            self.total += int(expected.size)
        elif "last_hidden_state" in reference:
            low = float(cosines(reference["last_hidden_state"], candidate["last_hidden_state"], mask).min())
            self.min_cosine = low if self.min_cosine is None else min(self.min_cosine, low)

    @property
    def agreement(self) -> float | None:
        return self.same / self.total if self.total else None

    def result(self) -> dict[str, Any]:
        agreement = self.agreement
        if agreement is not None:
            passed = agreement >= AGREEMENT_THRESHOLD
        else:
            passed = self.min_cosine is not None and self.min_cosine >= COSINE_THRESHOLD
        return {
            "max_abs_diff": dict(self.max_abs_diff),
            "max_abs_logit_diff": max(self.max_abs_diff.values()) if self.max_abs_diff else None,
            "predictions_unchanged": agreement,
            "predictions_compared": self.total,
            "min_cosine_similarity": self.min_cosine,
            "passed": bool(passed),
            "rule": (
                f"predictions unchanged on >= {AGREEMENT_THRESHOLD:.1%}"
                if agreement is not None
                else f"each text's encoder output has cosine similarity >= {COSINE_THRESHOLD} with PyTorch's"
            ),
        }


def verification_texts(folder: Path, n: int, data: str | os.PathLike | None = None) -> TaskTexts:
    """Up to `n` texts to verify on: the test split of the task `data` names, else of the one the folder's
    metrics.json records (with its split seed and columns), else the built-in sample texts (`texts.task_texts`)."""
    return task_texts(folder, n, "test", data)


def calibration_texts(folder: Path, n: int, data: str | os.PathLike | None = None) -> TaskTexts:
    """Up to `n` texts to calibrate an int8 quantization on: the train split of that task (never the test split the
    verification uses), else a fixed built-in sample of BBC News articles."""
    return task_texts(folder, n, "train", data)


# what a failed int8 verification means for the user, wherever it is reported
INT8_DOES_NOT_HOLD = "int8 does not hold for every model (docs/speed.md#int8-on-openvino)"


def what_moved(check: dict[str, Any]) -> str:
    """A failed verification record in words: "changed 1.1% of the predictions (an export keeps at least 99.5% of
    them)", or for a bare encoder the lowest cosine similarity against the rule's."""
    if check.get("predictions_unchanged") is not None:
        return (
            f"changed {1 - check['predictions_unchanged']:.1%} of the predictions (an export keeps at least "
            f"{AGREEMENT_THRESHOLD:.1%} of them)"
        )
    return (
        f"moved the token states to a cosine similarity of {check.get('min_cosine_similarity')} (an export keeps "
        f"each text's at least {COSINE_THRESHOLD})"
    )


def text_length(model, max_length: int = 128) -> int:
    """The tokens a text is cut to for verification and calibration: `max_length`, or fewer if the model has fewer
    positions."""
    return min(max_length, int(getattr(model.config, "max_position_embeddings", max_length)))


def verify_export(
    model,
    tokenizer,
    folder: str | os.PathLike,
    task: str,
    texts: list[str],
    text_pairs: list[str] | None = None,
    dtype: str | None = None,
    batch_size: int = 32,
    max_length: int = 128,
    threads: int | None = None,
) -> dict[str, Any]:
    """Run the PyTorch model and the exported one in `folder` on `texts` (padded batches of `batch_size`, so every
    batch has its own shape) and compare them: the largest absolute difference of each output, the share of
    predictions left unchanged (or, for a bare encoder, the lowest cosine similarity of a text's outputs)."""
    if not texts:
        raise ValueError("verification needs at least one text")
    session = open_session(folder, dtype=dtype, threads=threads)
    max_length = text_length(model, max_length)
    comparison = Comparison(task)
    for start in range(0, len(texts), batch_size):
        pairs = None if text_pairs is None else text_pairs[start : start + batch_size]
        batch = tokenizer(
            texts[start : start + batch_size],
            pairs,
            padding=True,
            truncation=True,
            max_length=max_length,
            return_tensors="pt",
        )
        batch = {name: batch[name] for name in session.input_names if name in batch}
        reference = torch_outputs(model, task, batch)
        candidate = session.run({name: value.numpy() for name, value in batch.items()})
        comparison.add(reference, candidate, batch["attention_mask"].numpy())
    return {
        "texts": len(texts),
        "max_length": max_length,
        "batch_size": batch_size,
        "dtype": session.dtype,
        # an int8 graph: what its other operations computed in (OpenVINO's choice for this CPU unless asked)
        **({"rest_precision": session.precision} if session.dtype == "int8" else {}),
        "reference": "PyTorch fp32",
    } | comparison.result()


# ------------------------------------------------------------------------------------------------------- the export


# what export.json says of an export that failed its verification (the folder is kept, to inspect)
FAILED_NOTE = (
    "kept to inspect, not to deploy: the verification failed (see verification); load_for_inference warns when it "
    "loads this folder, and backend='auto' does not choose it"
)

# how to name the data, in the Python API's form (the command line gives its own, `--data`)
DATA_ADVICE = (
    "to use them, name the data: export_model(..., data='PATH'), the task or data file (its column names and split "
    "seed still come from metrics.json)"
)


def quantize_export(
    folder: Path,
    info: dict,
    model,
    tokenizer,
    source_folder: Path | None,
    samples: int = DEFAULT_CALIBRATION_SAMPLES,
    not_quantized: tuple[str, ...] = FLOAT_OPERATIONS,
    data: str | os.PathLike | None = None,
) -> None:
    """Quantize the graph `write_export` wrote into `folder` to int8 and record how in `info` and export.json. An ONNX
    graph: its linear layers' weights (`quantize_onnx`: nothing to calibrate). An OpenVINO graph: all but the operation
    types `not_quantized`, calibrated on up to `samples` texts of the train split of the task `data` names, else of
    the one `source_folder`'s metrics.json records (else built-in BBC News articles, with a `DataNotLoadedWarning`
    when that task could not be loaded)."""
    if info["format"] == "onnx":
        info["quantization"] = quantize_onnx(folder)
        write_info(folder, info)
        return
    found = calibration_texts(source_folder or Path(os.devnull), samples, data)
    feeds = encode_calibration(tokenizer, found.texts, found.pairs, info["inputs"], text_length(model))
    info["quantization"] = quantize_openvino(folder, feeds, found.where, not_quantized)
    if found.not_loaded:
        info["quantization"]["calibration"]["task_not_loaded"] = found.not_loaded
        warn_not_loaded("int8 calibration", found)
    write_info(folder, info)


def warn_not_loaded(what: str, found: TaskTexts) -> None:
    """A `DataNotLoadedWarning`: `what` ran on built-in texts because the model's task could not be loaded (the
    command line prints its own line instead, naming `--data`)."""
    import warnings

    message = f"{what} on {found.where}: not the model's own texts; {DATA_ADVICE}"
    warnings.warn(message, DataNotLoadedWarning, stacklevel=3)


def export_model(
    source: str | os.PathLike,
    output: str | os.PathLike | None = None,
    format: str = "openvino",
    dtype: str = "fp32",
    task: str = "auto",
    verify: bool = True,
    verify_samples: int = DEFAULT_VERIFY_SAMPLES,
    overwrite: bool = False,
    revision: str | None = None,
    allow_pickle: bool = False,
    calibration_samples: int = DEFAULT_CALIBRATION_SAMPLES,
    data: str | os.PathLike | None = None,
) -> ExportResult:
    """Export a model folder (a built-in name or a Hub id) to ONNX or OpenVINO, verified against PyTorch.

    Args:
        source (`str` or `os.PathLike`):
            A saved model folder, a built-in name (`"minilm"`) or a Hub id.
        output (`str` or `os.PathLike`, *optional*):
            The folder to write (all or nothing: a temporary sibling renamed at the end); by default
            `default_output(source, format, dtype)`.
        format (`str`, *optional*, defaults to `"openvino"`):
            `"openvino"` (openvino_model.xml + .bin) or `"onnx"` (model.onnx).
        dtype (`str`, *optional*, defaults to `"fp32"`):
            The precision the exported model runs in: `"fp32"`; `"bf16"` (OpenVINO only: an inference precision
            hint, recorded in export.json; the weights are stored in fp32 either way); or `"int8"` (OpenVINO only,
            needs NNCF: the graph is quantized after the export, calibrated on `calibration_samples` texts of the
            task's train split, see `compactbert.export.quantize`).
        task (`str`, *optional*, defaults to `"auto"`):
            The head: `"sequence-classification"`, `"token-classification"`, `"question-answering"`, `"base"` (the
            encoder), or `"auto"`: the one the folder's config names.
        verify (`bool`, *optional*, defaults to `True`):
            Run the PyTorch model and the exported one on the same texts and record how far apart they are.
        verify_samples (`int`, *optional*, defaults to 256):
            At most this many texts of the task's test split (or of the built-in sample texts).
        calibration_samples (`int`, *optional*, defaults to 300):
            With `dtype="int8"`: at most this many texts of the task's train split (or built-in BBC News articles)
            to calibrate the quantization on.
        data (`str` or `os.PathLike`, *optional*):
            The task or data file to verify (and calibrate) on, instead of the one the folder's metrics.json records;
            its column names and split seed still come from metrics.json. For a recorded task that cannot be loaded
            from here (a relative path, a Hub set offline), which otherwise falls back to built-in texts with a
            `DataNotLoadedWarning`. A `data` that cannot be loaded raises.

    Returns:
        [`ExportResult`]: the folder and its export.json record (`result.passed`: whether the predictions held). A
        folder whose verification failed is written all the same, to inspect, with a `FailedExportWarning`: its
        export.json says `passed: false` and why (`note`), `load_for_inference` warns when it loads it and
        `backend="auto"` does not choose it. One written with `verify=False` warns when it is loaded
        (`UnverifiedExportWarning`).

    Raises:
        `ValueError`: an unknown format, task or dtype, or a source that is already exported.
        `ImportError`: the runtime the format needs is not installed (the message names the extra to install).
        `FileNotFoundError`: the source is no model folder (no config.json or no weights).
    """
    from ..checkpoints import check_source
    from ..io import EXPORT_FOLDER, check_replaceable, refuse_existing, write_folder_atomically

    check_source(source)
    fmt = get_format(format)
    check_dtype(fmt, dtype)
    require(fmt)
    if dtype == "int8":
        require_quantizer(fmt.name)
        if calibration_samples < 1:
            raise ValueError(f"calibration_samples must be >= 1, got {calibration_samples}")
    if verify_samples < 1:
        raise ValueError(f"verify_samples must be >= 1, got {verify_samples}")
    output = refuse_existing(default_output(source, fmt.name, dtype) if output is None else output, overwrite)
    model, tokenizer, folder, task = load_for_export(source, task, revision=revision, allow_pickle=allow_pickle)
    if output.is_dir() and folder.is_dir() and output.resolve() == folder.resolve():
        raise FileExistsError(
            f"{output} is the model folder the export is made from: replacing it would lose its weights; choose "
            f"another output folder (by default: {default_output(source, fmt.name, dtype)})"
        )
    if output.exists():  # (with overwrite): what replacing it would lose, before the work
        check_replaceable(output, EXPORT_FOLDER, [folder])
    result: dict[str, Any] = {}

    def write(tmp: Path) -> None:
        info = write_export(model, tokenizer, tmp, fmt.name, dtype, task, os.fspath(source))
        # where the source is, whatever it was named as (a failed export points at it): relative to the export,
        # so that no path of this machine is recorded and a folder moved with its export is still found
        if folder.is_dir():
            info["source_folder"] = os.path.relpath(folder.resolve(), output.resolve())
            recorded = task_record(read_metrics(folder))  # what it was scored on: evaluate reads it from a copy
            if recorded:
                info["source_record"] = recorded
        if dtype == "int8":
            quantize_export(tmp, info, model, tokenizer, folder, calibration_samples, data=data)
        if verify:
            found = verification_texts(folder, verify_samples, data)
            check = verify_export(model, tokenizer, tmp, task, found.texts, found.pairs, dtype)
            info["verification"] = {"on": found.where} | check
            if found.not_loaded:
                info["verification"]["task_not_loaded"] = found.not_loaded
                warn_not_loaded("verification", found)
            info["passed"] = check["passed"]
            if not check["passed"]:
                info["note"] = FAILED_NOTE
        write_info(tmp, info)
        result.update(info)

    written = write_folder_atomically(output, write, overwrite=overwrite, kind=EXPORT_FOLDER, sources=[folder])
    if result.get("passed") is False:
        from .verdict import warn_written  # (it imports this module)

        warn_written(written, result)
    return ExportResult(written, result)
