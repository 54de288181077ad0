"""int8 for OpenVINO: post-training quantization of an exported graph with NNCF, calibrated on real texts.

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


def require_quantizer() -> None:
    """Raise a `MissingRuntimeError` naming the extra when NNCF (or OpenVINO) is not installed."""
    require(FORMATS["openvino"], QUANTIZE_NEEDS, doing="quantizing to int8 for")


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
