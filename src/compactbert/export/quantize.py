"""int8 for OpenVINO (post-training quantization with NNCF, calibrated on real texts) and for ONNX Runtime (its
dynamic quantization of the linear layers' weights).

`compactbert export MODEL --format openvino --dtype int8` writes the fp32 graph, then `quantize_openvino` replaces it
with an int8 one: NNCF's post-training quantization (`nncf.quantize`, transformer model type: SmoothQuant, int8
weights and activations of the linear layers' matrix multiplications, symmetric weights and asymmetric activations
(the "mixed" preset), fast bias correction). The attention (`FLOAT_OPERATIONS`) is left out: on rotten-tomatoes
that kept about a quarter of a point more of the test predictions (scripts/int8_attention_study.py). The activation ranges come from calibration texts: the train split of the task the folder's
metrics.json names (never the test split, which the verification then uses), else a fixed built-in sample of BBC
News articles. The rest of the graph (attention, softmax, layer norm, GELU) runs in OpenVINO's default precision:
bf16 on CPUs with bf16 units, fp32 elsewhere.

The int8 units this uses (AVX512-VNNI, AMX-INT8, AVX-VNNI) do twice the multiply-adds of bf16 per instruction, which
is where int8 wins on a CPU whose bf16 path already runs near its matmul peak (docs/speed.md).

`--format onnx --dtype int8` is the int8 for CPUs without those units (AVX2 only), where OpenVINO's int8 graph runs no
faster than its fp32 one: `quantize_onnx` stores the weights of the linear layers' matrix multiplications in int8 and
ONNX Runtime quantizes their inputs as each batch runs (`onnxruntime.quantization.quantize_dynamic`), so there is
nothing to calibrate. The attention's matrix multiplications (two activations) stay in fp32, as above.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from .formats import FORMATS, QUANTIZE_NEEDS, require

DEFAULT_CALIBRATION_SAMPLES = 300
# OpenVINO operations left out of the quantization: the attention (QK^T, softmax, times V). Over four rotten-tomatoes
# fine-tunes, leaving them out moved the share of test predictions kept by -0.08 to +0.31 points (three of four up),
# for at most a few percent of int8's speed (docs/speed.md#int8-on-openvino)
FLOAT_OPERATIONS = ("ScaledDotProductAttention",)


def require_quantizer(fmt: str = "openvino") -> None:
    """Raise a `MissingRuntimeError` naming the extra when what quantizes `fmt`'s graphs is not installed (NNCF and
    OpenVINO; ONNX Runtime and onnx)."""
    require(FORMATS[fmt], QUANTIZE_NEEDS[fmt], doing="quantizing to int8 for")


def encode_calibration(tokenizer, texts: list[str], pairs: list[str] | None, input_names, max_length: int = 128):
    """One unpadded feed per text (the lengths real inputs have), int64, with every input the graph takes."""
    feeds = []
    for i, text in enumerate(texts):
        encoded = tokenizer(text, None if pairs is None else pairs[i], truncation=True, max_length=max_length,
                            return_tensors="np")  # fmt: skip
        ids = encoded["input_ids"].astype(np.int64)
        feeds.append({n: encoded[n].astype(np.int64) if n in encoded else np.zeros_like(ids) for n in input_names})
    return feeds


def graph_inputs(folder: str | os.PathLike) -> list[str]:
    """The input names of the OpenVINO graph in `folder`."""
    import openvino

    model = openvino.Core().read_model(str(Path(folder) / FORMATS["openvino"].files[0]))
    return [port.get_any_name() for port in model.inputs]


@contextlib.contextmanager
def quiet_nncf():
    """Without NNCF's INFO lines ("INFO:nncf:...") and progress bars ("Statistics collection", "Applying Smooth
    Quant", ...) while NNCF runs; its warnings still show, and its log level is restored afterwards. Left as they are
    where NNCF's logger (`logging.getLogger("nncf")`) is set below INFO: the way to see them (at DEBUG, NNCF also
    writes graphs of its quantizer placement to ./nncf_debug).

    NNCF (3.4 here) logs to the "nncf" logger (its own stdout handler, not propagated) and draws its bars with
    `nncf.common.logging.track_progress.track`, a rich `Progress` on rich's global console, with no option or
    environment variable to turn them off; the console's public `quiet` switch does. While a bar is live on a
    terminal, rich routes sys.stdout/sys.stderr through that console, so a Python warning or print issued inside
    NNCF's loops is hidden with it (NNCF's own warnings go to the logger's handler, and still show)."""
    nncf_logger = logging.getLogger("nncf")
    if nncf_logger.getEffectiveLevel() < logging.INFO:
        yield
        return
    import rich

    console = rich.get_console()
    level, was_quiet = nncf_logger.level, console.quiet
    nncf_logger.setLevel(max(level, logging.WARNING))
    console.quiet = True
    try:
        yield
    finally:
        console.quiet = was_quiet
        nncf_logger.setLevel(level)


def quantize_openvino(
    folder: str | os.PathLike,
    feeds: list[dict[str, np.ndarray]],
    on: str,
    not_quantized: tuple[str, ...] = FLOAT_OPERATIONS,
) -> dict[str, Any]:
    """Replace the fp32 OpenVINO graph in `folder` by its int8 quantization, calibrated on `feeds` (what `on` says
    they are), leaving the operation types `not_quantized` in the rest's precision (`()`: quantize every matrix
    multiplication NNCF finds, as scripts/int8_attention_study.py compares); returns what export.json records under
    `quantization`."""
    require_quantizer()
    if not feeds:
        raise ValueError("int8 quantization needs at least one calibration text")
    import nncf
    import openvino

    folder = Path(folder)
    xml = folder / FORMATS["openvino"].files[0]
    started = time.perf_counter()
    model = openvino.Core().read_model(str(xml))
    with quiet_nncf():
        quantized = nncf.quantize(
            model,
            nncf.Dataset(feeds),
            preset=nncf.QuantizationPreset.MIXED,
            model_type=nncf.ModelType.TRANSFORMER,
            subset_size=len(feeds),
            # the attention itself (scores and their weighted sum) stays in the rest's precision (FLOAT_OPERATIONS)
            ignored_scope=nncf.IgnoredScope(types=list(not_quantized), validate=False),
        )
    staged = folder / "int8_model.xml"
    openvino.save_model(quantized, str(staged), compress_to_fp16=False)
    del model, quantized
    os.replace(staged, xml)
    os.replace(staged.with_suffix(".bin"), xml.with_suffix(".bin"))
    return {
        "method": "NNCF post-training quantization (nncf.quantize): int8 weights and activations of the matrix "
        "multiplications, transformer model type (SmoothQuant), mixed preset, fast bias correction",
        "not_quantized": list(not_quantized),
        "calibration": {"on": on, "texts": len(feeds)},
        "nncf": nncf.__version__,
        "seconds": round(time.perf_counter() - started, 1),
    }


class _PreprocessingAdvice(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Please consider to run pre-processing before quantization")


@contextlib.contextmanager
def without_preprocessing_advice():
    """Without the line ONNX Runtime's quantizer logs on the root logger for every graph not run through its
    pre-processing (shape inference and an optimization pass), which points at an image-classification example: the
    exported graph quantizes without it, and the export is verified after."""
    advice = _PreprocessingAdvice()
    logging.getLogger().addFilter(advice)
    try:
        yield
    finally:
        logging.getLogger().removeFilter(advice)


def quantize_onnx(folder: str | os.PathLike) -> dict[str, Any]:
    """Replace the fp32 ONNX graph in `folder` by one whose linear layers' matrix multiplications take int8 weights
    (per output channel) and quantize their inputs at run time, with ONNX Runtime's dynamic quantization; the
    attention's matrix multiplications of two activations stay in fp32. Returns what export.json records under
    `quantization`."""
    require_quantizer("onnx")
    import onnxruntime
    from onnxruntime.quantization import QuantType, quantize_dynamic

    folder = Path(folder)
    path = folder / FORMATS["onnx"].files[0]
    staged = folder / "int8_model.onnx"
    started = time.perf_counter()
    with without_preprocessing_advice():
        quantize_dynamic(
            path,
            staged,
            op_types_to_quantize=["MatMul"],
            per_channel=True,
            weight_type=QuantType.QInt8,
            extra_options={"MatMulConstBOnly": True},  # weights only: the attention's products stay in fp32
        )
    os.replace(staged, path)
    return {
        "method": "ONNX Runtime dynamic quantization (quantize_dynamic): int8 weights of the linear layers' matrix "
        "multiplications, per output channel; their inputs quantized as each batch runs",
        "not_quantized": ["MatMul of two activations (the attention)"],
        "onnxruntime": onnxruntime.__version__,
        "seconds": round(time.perf_counter() - started, 1),
    }
