"""Ways to run one fine-tuned classifier, compared on a test split: predictions kept, accuracy, and speed.

The inference path (`compactbert.inference`) runs bf16 weights where the CPU has native bf16 units. This module
measures that choice against fp32 and the alternatives people reach for: bf16 autocast, `torch.compile`, dynamic
int8 quantization, ONNX Runtime and OpenVINO (when installed: the `onnx` / `openvino` extras; exported by
`compactbert.export`), length-sorted batching and thread counts.
Every variant predicts the same test split (agreement with fp32, accuracy) and is timed side by side with the
others, interleaved, after warm-up (`time_side_by_side`). This module measures; the tables and the plot are
`compactbert.bench.reports` (`inference_markdown_report`, `write_inference_report`). `scripts/benchmark.py` runs it
on MiniLM fine-tuned on `bbc-news` and writes `docs/results/bench/inference.{json,md,png}`.
"""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..hardware import native_bf16
from ..inference import InferenceModel, quantize_int8, time_side_by_side

EMULATED_BF16 = (
    "this machine has no native bf16 units (AVX512-BF16, AMX or a CUDA GPU): bf16 runs emulated here, far slower "
    "than fp32, and its time says nothing about bf16 hardware (emulated_bf16=True / --emulated-bf16 times it anyway)"
)

Logits = Callable[[dict[str, torch.Tensor]], torch.Tensor]


@dataclass(frozen=True)
class Variant:
    """One way to run the model: `build(fp32 model) -> (batch -> fp32 logits)`, timed from the second call on."""

    name: str
    description: str
    build: Callable[[InferenceModel], Logits]
    needs: str | None = None  # an importable module the variant needs (e.g. onnxruntime)
    bf16: bool = False  # computes in bf16: built only where the hardware has native bf16 units, unless asked

    def missing_reason(self, emulated_bf16: bool = False) -> str | None:
        if self.bf16 and not (emulated_bf16 or native_bf16()):
            return EMULATED_BF16
        if self.needs is None:
            return None
        import importlib.util

        return (
            None
            if importlib.util.find_spec(self.needs)
            else f"{self.needs} is not installed (pip install {self.needs})"
        )


def _eager(model, autocast: bool = False) -> Logits:
    def run(batch):
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            return model(**batch).logits.float()

    return run


def _fp32(loaded: InferenceModel) -> Logits:
    return _eager(loaded.model)


def _bf16(loaded: InferenceModel) -> Logits:
    return _eager(copy.deepcopy(loaded.model).to(torch.bfloat16))


def _bf16_autocast(loaded: InferenceModel) -> Logits:
    return _eager(loaded.model, autocast=True)


def _int8_dynamic(loaded: InferenceModel) -> Logits:
    return _eager(quantize_int8(copy.deepcopy(loaded.model)))  # = load_for_inference(..., quantize="int8")


def _compiled(dtype: torch.dtype, freezing: bool = False) -> Callable[[InferenceModel], Logits]:
    """torch.compile with inductor, static shapes; `freezing` folds the weights into the graph as constants, which
    lets inductor prepack them for oneDNN (inference only)."""

    def build(loaded: InferenceModel) -> Logits:
        model = copy.deepcopy(loaded.model).to(dtype)
        return _eager(torch.compile(model, dynamic=False, options={"freezing": True} if freezing else None))

    return build


def _runtime(fmt: str, dtype: str = "fp32", quantize: bool = False) -> Callable[[InferenceModel], Logits]:
    """The model exported by `compactbert.export` (the path `compactbert export` and the runtime backends take) and
    run by its runtime; ONNX Runtime optionally with dynamic int8 weights; `dtype="int8"`: OpenVINO's graph quantized
    by NNCF as `compactbert export --dtype int8` does (calibrated on the train split of the task the model folder's
    metrics.json names), its other operations in OpenVINO's default precision."""

    def build(loaded: InferenceModel) -> Logits:
        from pathlib import Path

        from ..export.exporter import quantize_export, write_export
        from ..export.runtime import OnnxRuntimeSession, open_session
        from ..io import ScratchFolder

        scratch = ScratchFolder(f"compactbert-{fmt}-")
        folder = os.fspath(scratch.path)
        try:
            model = copy.deepcopy(loaded.model).float()
            info = write_export(model, loaded.tokenizer, folder, fmt, dtype, "sequence-classification", loaded.name)
            if dtype == "int8":
                source = Path(loaded.name) if os.path.isdir(loaded.name) else None
                quantize_export(Path(folder), info, model, loaded.tokenizer, source)
            threads = torch.get_num_threads()
            if quantize:
                from onnxruntime.quantization import QuantType, quantize_dynamic

                quantized = os.path.join(folder, "model.int8.onnx")
                quantize_dynamic(os.path.join(folder, "model.onnx"), quantized, weight_type=QuantType.QInt8)
                session = OnnxRuntimeSession(quantized, threads)
            else:
                session = open_session(folder, dtype=dtype, threads=threads)

        except BaseException:
            scratch.remove()
            raise

        def run(batch):
            return torch.from_numpy(
                session.run({name: value.cpu().numpy() for name, value in batch.items()})["logits"]
            )

        run.scratch = scratch  # the export goes when the variant's runner does
        return run

    return build


VARIANTS = {
    v.name: v
    for v in (
        Variant("fp32", "fp32 weights, eager PyTorch with SDPA attention (the reference)", _fp32),
        Variant("bf16", "bf16 weights (compactbert's default where the CPU has native bf16)", _bf16, bf16=True),
        Variant("bf16-autocast", "fp32 weights under torch.autocast(bf16)", _bf16_autocast, bf16=True),
        Variant(
            "int8-dynamic", "torch dynamic int8 quantization of the Linear layers, fp32 activations", _int8_dynamic
        ),
        Variant("compile-fp32", "torch.compile (inductor, static shapes), fp32", _compiled(torch.float32)),
        Variant(
            "compile-bf16",
            "torch.compile (inductor, static shapes), bf16 weights",
            _compiled(torch.bfloat16),
            bf16=True,
        ),
        Variant(
            "compile-bf16-frozen",
            "torch.compile (inductor, static shapes, weights frozen and prepacked), bf16 weights",
            _compiled(torch.bfloat16, freezing=True),
            bf16=True,
        ),
        Variant("onnxruntime-fp32", "ONNX export, ONNX Runtime CPU, fp32", _runtime("onnx"), needs="onnxruntime"),
        Variant(
            "onnxruntime-int8",
            "ONNX Runtime with dynamic int8 weights",
            _runtime("onnx", quantize=True),
            needs="onnxruntime",
        ),
        Variant("openvino-fp32", "OpenVINO export, OpenVINO CPU, fp32", _runtime("openvino"), needs="openvino"),
        Variant(
            "openvino-bf16",
            "OpenVINO export, OpenVINO CPU with the bf16 inference precision",
            _runtime("openvino", "bf16"),
            needs="openvino",
            bf16=True,
        ),
        Variant(
            "openvino-int8",
            "OpenVINO export quantized to int8 by NNCF (compactbert export --dtype int8: calibrated on 300 train "
            "texts), the rest in OpenVINO's default precision (bf16 where the CPU has bf16 units)",
            _runtime("openvino", "int8"),
            needs="nncf",
        ),
    )
}


def _batches(loaded: InferenceModel, texts: Sequence[str], batch_size: int, max_length: int) -> list[dict]:
    """Fixed batches of the texts, each padded to `max_length` (one static shape: fair to compiled variants)."""
    return [
        dict(
            loaded.tokenizer(
                list(texts[i : i + batch_size]),
                truncation=True,
                max_length=max_length,
                padding="max_length",
                return_tensors="pt",
            )
        )
        for i in range(0, len(texts), batch_size)
    ]


def compare_variants(
    loaded: InferenceModel,
    texts: Sequence[str],
    labels: Sequence[int],
    variants: Sequence[str] | None = None,
    batch_size: int = 32,
    max_length: int = 128,
    repeats: int = 7,
    warmup: int = 1,
    progress: bool = True,
    emulated_bf16: bool = False,
) -> dict[str, Any]:
    """Each variant's predictions on `texts` (agreement with fp32, accuracy) and its forward time, interleaved.

    `loaded` is the fp32 model (`load_for_inference(..., dtype="fp32")`). Times are of one forward pass on the first
    `batch_size` texts and on the first text alone (batch 1), both padded to `max_length`. The bf16 variants are
    left out (and listed as missing, with why) where the hardware has no native bf16, unless `emulated_bf16`.
    """
    if loaded.dtype != torch.float32:
        raise ValueError(f"compare_variants needs the fp32 model to build every variant from, got {loaded.dtype}")
    if len(texts) != len(labels) or not texts:
        raise ValueError(f"need as many labels as texts (and at least one), got {len(texts)} and {len(labels)}")
    names = list(VARIANTS) if variants is None else list(variants)
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        raise ValueError(f"unknown variant(s) {', '.join(unknown)}; choose from: {', '.join(VARIANTS)}")
    if "fp32" not in names:
        names.insert(0, "fp32")
    batches = _batches(loaded, texts, batch_size, max_length)
    single = _batches(loaded, texts[:1], 1, max_length)[0]
    labels = np.asarray(labels)

    runners, rows, missing = {}, {}, []
    for name in names:
        variant = VARIANTS[name]
        why = variant.missing_reason(emulated_bf16)
        if why is None:
            start = time.perf_counter()
            try:
                run = variant.build(loaded)
                first = run(batches[0])  # compiles / warms up: counted in the setup time, not in the timings
            except Exception as err:  # a variant that does not work here is reported, not fatal
                why = f"failed here: {type(err).__name__}: {str(err).splitlines()[0][:200] if str(err) else ''}"
        if why is not None:
            missing.append({"variant": name, "why": why})
            continue
        setup_s = time.perf_counter() - start
        logits = torch.cat([first] + [run(b) for b in batches[1:]])
        runners[name] = run
        rows[name] = {
            "variant": name,
            "description": variant.description,
            "setup_s": setup_s,
            "predictions": logits.argmax(-1).numpy(),
            "logits": logits,
        }
    reference_predictions, reference_logits = rows["fp32"]["predictions"], rows["fp32"]["logits"]
    for row in rows.values():
        row["agreement_with_fp32"] = float((row["predictions"] == reference_predictions).mean())
        row["accuracy"] = float((row["predictions"] == labels).mean())
        row["max_abs_logit_diff"] = float((row.pop("logits") - reference_logits).abs().max())
        row["predictions"] = row["predictions"].tolist()

    timed = {}
    for label, batch in ((f"batch {len(batches[0]['input_ids'])}", batches[0]), ("batch 1", single)):
        fns = {name: (lambda run=run, batch=batch: run(batch)) for name, run in runners.items()}
        timings = time_side_by_side(fns, repeats=repeats, warmup=warmup, progress=label if progress else False)
        timed[label] = {
            name: t.as_dict() | {"speedup_vs_fp32": timings["fp32"].median_ms / t.median_ms}
            for name, t in timings.items()
        }
    return {"variants": list(rows.values()), "timings": timed, "missing": missing}


def compare_batching(
    loaded: InferenceModel,
    text_sets: dict[str, Sequence[str]],
    batch_size: int = 32,
    repeats: int = 5,
    warmup: int = 1,
) -> dict[str, Any]:
    """End-to-end `predict_proba` (tokenizing included) with and without length-sorted batches, per text set."""
    out = {}
    for set_name, texts in text_sets.items():
        lengths = [len(ids) for ids in loaded.tokenizer(list(texts), truncation=True, max_length=128)["input_ids"]]
        fns = {
            "sorted": lambda texts=texts: loaded.predict_proba(texts, batch_size=batch_size, sort_by_length=True),
            "unsorted": lambda texts=texts: loaded.predict_proba(texts, batch_size=batch_size, sort_by_length=False),
        }
        same = float((fns["sorted"]().argmax(-1) == fns["unsorted"]().argmax(-1)).mean())
        timings = time_side_by_side(fns, repeats=repeats, warmup=warmup)
        out[set_name] = {
            "texts": len(texts),
            "mean_tokens": float(np.mean(lengths)),
            "same_predictions": same,  # fraction: in bf16 the padding length changes the rounding
            "speedup_sorted": timings["unsorted"].median_ms / timings["sorted"].median_ms,
        } | {name: t.as_dict() for name, t in timings.items()}
    return out


def compare_threads(
    loaded: InferenceModel,
    texts: Sequence[str],
    thread_counts: Sequence[int],
    batch_size: int = 32,
    max_length: int = 128,
    repeats: int = 5,
    emulated_bf16: bool = False,
) -> dict[str, Any]:
    """The fp32 and bf16 forward at each thread count, interleaved (the count is set inside each timed call); bf16
    only where the hardware has native bf16 units, unless `emulated_bf16`."""
    batch = _batches(loaded, texts[:batch_size], batch_size, max_length)[0]
    runs = {"fp32": _fp32(loaded)}
    if emulated_bf16 or native_bf16():
        runs["bf16"] = _bf16(loaded)
    before = torch.get_num_threads()

    def at(threads: int, run: Logits):
        def call():
            torch.set_num_threads(threads)
            return run(batch)

        return call

    try:
        fns = {f"{dtype}, {n} thread(s)": at(n, run) for dtype, run in runs.items() for n in thread_counts}
        timings = time_side_by_side(fns, repeats=repeats, warmup=1)
    finally:
        torch.set_num_threads(before)
    return {name: t.as_dict() for name, t in timings.items()}
