"""Running an exported folder with its runtime (ONNX Runtime or OpenVINO): numpy tensors in, named outputs out.

A `Session` is what the verification and `compactbert.inference`'s runtime backends call. Nothing here imports torch:
this is what an exported folder needs at run time (besides its tokenizer).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import numpy as np

from .formats import FORMATS, require

EXPORT_INFO = "export.json"
# OpenVINO's names of the precisions; its CPU plugin computes in bf16 by default where the CPU has bf16 units, so an
# fp32 model asks for f32 explicitly
OPENVINO_PRECISION = {"fp32": "f32", "bf16": "bf16"}


def read_export_info(folder: str | Path) -> dict[str, Any] | None:
    """The folder's export.json (what `compactbert export` wrote), or None when the folder is no exported model."""
    path = Path(folder) / EXPORT_INFO
    if not path.is_file():
        return None
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON ({err}); re-export the model with `compactbert export`") from err
    if info.get("format") not in FORMATS:
        raise ValueError(f"{path} names format {info.get('format')!r}; expected one of: {', '.join(FORMATS)}")
    return info


class Session:
    """One exported graph, ready to run: `run({input name: int64 array}) -> {output name: float32 array}`.

    Inputs the graph takes but the feed lacks (`token_type_ids` of a single-text batch) are zeros; inputs the graph
    does not take are ignored.
    """

    runtime: str
    dtype: str
    input_names: list[str]
    output_names: list[str]

    def _feed(self, feed: dict[str, Any]) -> dict[str, np.ndarray]:
        ids = np.asarray(feed["input_ids"], dtype=np.int64)
        return {
            name: np.asarray(feed[name], dtype=np.int64) if name in feed else np.zeros_like(ids)
            for name in self.input_names
        }

    def run(self, feed: dict[str, Any]) -> dict[str, np.ndarray]:
        raise NotImplementedError


class OnnxRuntimeSession(Session):
    """An ONNX Runtime CPU session over `model.onnx`: fp32, or `int8` (a graph whose linear layers' weights are int8,
    the rest fp32: `precision` says what the rest computes in)."""

    runtime = "onnxruntime"
    precision = "fp32"

    def __init__(self, path: str | Path, threads: int | None = None, int8: bool = False):
        require(FORMATS["onnx"], ("onnxruntime",), doing="running")
        import onnxruntime

        options = onnxruntime.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.dtype = "int8" if int8 else "fp32"
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.output_names = [o.name for o in self.session.get_outputs()]

    def run(self, feed: dict[str, Any]) -> dict[str, np.ndarray]:
        values = self.session.run(self.output_names, self._feed(feed))
        return dict(zip(self.output_names, values, strict=True))


class OpenVinoSession(Session):
    """An OpenVINO model compiled for the CPU at `dtype`: "fp32" or "bf16" (the inference precision hint), or "int8"
    for a quantized graph (`rest`: the precision of its other operations, by default OpenVINO's: bf16 where the CPU
    has bf16 units).

    One infer request behind a lock: calls from several threads (the demo's workers) take turns.
    """

    runtime = "openvino"

    def __init__(self, path: str | Path, dtype: str = "fp32", threads: int | None = None, rest: str | None = None):
        require(FORMATS["openvino"], doing="running")
        import openvino

        if dtype not in (*OPENVINO_PRECISION, "int8"):
            raise ValueError(f"unknown dtype {dtype!r} for OpenVINO; expected one of {[*OPENVINO_PRECISION, 'int8']}")
        if rest is not None and (dtype != "int8" or rest not in OPENVINO_PRECISION):
            raise ValueError(f"rest={rest!r}: the precision of an int8 graph's other operations, fp32 or bf16")
        config: dict[str, Any] = {"PERFORMANCE_HINT": "LATENCY"}
        # an int8 graph: its quantized matmuls run in int8 whatever the hint; the hint (default: bf16 where the CPU
        # has bf16 units) sets the precision of everything else
        hint = OPENVINO_PRECISION.get(rest if dtype == "int8" else dtype)
        if hint is not None:
            config["INFERENCE_PRECISION_HINT"] = hint
        if threads:
            config["INFERENCE_NUM_THREADS"] = threads
        core = openvino.Core()
        self.config = config  # what it was compiled with
        self.compiled = core.compile_model(core.read_model(str(path)), "CPU", config)
        self.dtype = dtype
        # what the operations that are not quantized compute in (OpenVINO's choice where no hint was given)
        compiled_hint = str(self.compiled.get_property("INFERENCE_PRECISION_HINT")).lower()
        self.precision = "bf16" if "bf" in compiled_hint else "fp32"
        self.input_names = [port.get_any_name() for port in self.compiled.inputs]
        self.output_names = [port.get_any_name() for port in self.compiled.outputs]
        self._request = self.compiled.create_infer_request()
        self._lock = threading.Lock()

    def run(self, feed: dict[str, Any]) -> dict[str, np.ndarray]:
        feed = self._feed(feed)
        with self._lock:
            results = self._request.infer(feed)
            # copies: the request reuses its output buffers on the next call
            return {
                name: np.array(results[port])
                for name, port in zip(self.output_names, self.compiled.outputs, strict=True)
            }


def open_session(folder: str | Path, dtype: str | None = None, threads: int | None = None) -> Session:
    """Open the exported model in `folder` with the runtime of its format (export.json says which).

    `dtype` (OpenVINO only) overrides the precision export.json records; ONNX Runtime runs fp32. An int8 graph runs in
    int8 whatever `dtype` says: "fp32" or "bf16" (OpenVINO) there is the precision of its other operations.
    """
    folder = Path(folder)
    info = read_export_info(folder)
    if info is None:
        raise FileNotFoundError(
            f"{folder} has no {EXPORT_INFO}: it is not a folder `compactbert export` wrote; export the model first"
        )
    fmt = FORMATS[info["format"]]
    exported = info.get("dtype", "fp32")
    dtype = dtype or exported
    if dtype == "int8" and exported != "int8":
        raise ValueError(
            f"{folder} holds an {exported} graph; int8 needs a quantized one: "
            f"`compactbert export MODEL --format {fmt.name} --dtype int8`"
        )
    if dtype not in fmt.dtypes:
        raise ValueError(f"{fmt.runtime} runs {fmt.name} models in {', '.join(fmt.dtypes)}, not {dtype}")
    path = folder / fmt.files[0]
    if not path.is_file():
        raise FileNotFoundError(f"{folder} has {EXPORT_INFO} but no {fmt.files[0]}; re-export the model")
    if fmt.runtime == "openvino":
        if exported == "int8":
            return OpenVinoSession(path, "int8", threads, rest=None if dtype == "int8" else dtype)
        return OpenVinoSession(path, dtype, threads)
    return OnnxRuntimeSession(path, threads, int8=exported == "int8")
