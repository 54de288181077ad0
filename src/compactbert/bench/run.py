"""`compactbert bench`: latency and throughput of the zoo's families next to transformers' own models of their shape.

Rows come from a registry (`BENCH_MODELS`, `compactbert.bench.rows`) of model specs: a BERT-base-shaped
teacher (random weights: weights do not change the time), ShrunkBert top-drop K = 2, 4, 6 from it
(`compactbert.shrink`), a DistilBERT-style 6-layer student, TinyBert-4 and AlbertSop base, each next to the
transformers model a user would otherwise run (BertModel with the same number of layers, DistilBertModel,
AlbertModel). A row whose compactbert family is not installed is left out and listed as missing: never stood in for
by another class under its name. Ratios and targets are scored by `compactbert.bench.scoring`, the tables and files
written by `compactbert.bench.reports`.

All rows of one (batch, dtype) setting are timed side by side in one process, interleaved, after warm-up
(`compactbert.inference.time_side_by_side`), together with a large square matmul that gives this machine's matmul
rate under the same conditions (the "peak" each row's achieved GFLOP/s is a fraction of).

FLOPs per sequence are the matmul FLOPs of one forward pass over `seq` tokens, counted by torch's
`FlopCounterMode` with eager attention (its count of SDPA's CPU kernel is zero). For a BERT encoder with L layers,
hidden H, FFN I and s tokens that is

    2·s·L·(4H² + 2HI)    linear layers: 2 × (non-embedding weights applied per token) × tokens
  + 4·L·s²·H             attention matmuls: QKᵀ and the weighted sum of V
  + 2·H²                 the pooler, on [CLS] only

and a shared (ALBERT) layer counts once per use; ALBERT adds its embedding projection 2·s·E·H.
"""

from __future__ import annotations

import contextlib
import os
import platform
import warnings
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Any

import torch

from ..export.formats import RUNTIME_EXPORTS
from ..hardware import native_bf16
from ..inference import DTYPES, Timing, configure_threads, prepare_for_inference, time_side_by_side
from .defaults import (
    CALIBRATION_SEQUENCES,
    DEFAULT_BATCHES,
    DEFAULT_MIN_SAMPLE_MS,
    DEFAULT_REPEATS,
    DEFAULT_SEQ,
    DEFAULT_WARMUP,
    INT8_CALIBRATION,
)
from .rows import BASE, QUICK, BuildContext, resolve_models
from .scoring import score_report

PEAK = "matmul peak"  # the name the machine's matmul is timed under, next to the rows


# -------------------------------------------------------------------------------------------------------- measuring


def count_flops(model, seq_len: int) -> int:
    """Matmul FLOPs of one forward pass of `model` over one sequence of `seq_len` tokens (see the module docstring).

    Counted with eager attention because FlopCounterMode does not count SDPA's CPU kernel; the attention
    implementation is restored afterwards.
    """
    from torch.utils.flop_counter import FlopCounterMode

    ids = torch.ones(1, seq_len, dtype=torch.long, device=next(model.parameters()).device)
    previous = model.config._attn_implementation
    model.set_attn_implementation("eager")
    try:
        with FlopCounterMode(display=False) as counter, torch.inference_mode():
            model(input_ids=ids)
    finally:
        model.set_attn_implementation(previous)
    return int(counter.get_total_flops())


def _matmul_runner(size: int, dtype: torch.dtype) -> tuple[Callable[[], Any], int]:
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(size, size, generator=generator).to(dtype)
    b = torch.randn(size, size, generator=generator).to(dtype)
    return (lambda: torch.mm(a, b)), 2 * size**3


def machine_info(threads: int) -> dict[str, Any]:
    """What the figures were measured on: CPU model and bf16 units, cores, threads, versions, load."""
    import transformers

    from ..hardware import BF16_UNITS, available_cores, cpu_has_native_bf16, cpu_model_and_flags, read_cpuinfo

    model, flags = cpu_model_and_flags(read_cpuinfo())
    return {
        "cpu": model or platform.processor() or platform.machine(),
        "bf16_units": [flag for flag, _ in BF16_UNITS if flag in flags],
        "native_bf16": cpu_has_native_bf16(),
        "cores_available": available_cores(),
        "threads": threads,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "python": platform.python_version(),
        "load_average_at_start": load_average(),
    }


def load_average() -> list[float] | None:
    """The 1, 5 and 15-minute load averages: a busy machine shows here (None where the OS has none)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def run_benchmark(
    models: Sequence[str] | None = None,
    batches: Sequence[int] = DEFAULT_BATCHES,
    seq_len: int = DEFAULT_SEQ,
    dtypes: Sequence[str] | None = None,
    repeats: int = DEFAULT_REPEATS,
    warmup: int = DEFAULT_WARMUP,
    threads: int | None = None,
    quick: bool = False,
    min_sample_ms: float | None = None,
    timer: Callable[..., dict[str, Timing]] | None = None,
    progress: bool = True,
    backends: Sequence[str] = ("torch",),
) -> dict[str, Any]:
    """Build the rows, time them side by side at every (batch, dtype) and return everything as a JSON-ready dict.

    `backends` runs every row on each of them: `"torch"` (eager PyTorch), `"openvino"` and `"onnxruntime"` (each row
    exported with `compactbert.export`, ONNX Runtime in fp32 only). A row's result records its `backend`; all
    backends of one (batch, dtype) are timed interleaved in the same rounds, and ratios and targets are scored within
    one backend. A runtime that is not installed is listed under the missing rows.

    `quick` builds every row at tiny sizes (hidden 32): the code path of the real benchmark in seconds, for tests;
    its times say nothing. `timer` defaults to `time_side_by_side` (tests inject timings through it).
    `dtypes` defaults to `default_dtypes()`: bf16 only where the hardware has native bf16 units. Each timed sample
    lasts at least `min_sample_ms` (default 100 ms; 0 with `quick`): a batch-1 forward of a small model runs several
    times back to back and the sample is the mean of one run, so a few milliseconds are not timed one at a time.
    """
    if dtypes is None:
        dtypes = default_dtypes()
    if min_sample_ms is None:
        min_sample_ms = 0.0 if quick else DEFAULT_MIN_SAMPLE_MS
    if not batches or any(b < 1 for b in batches):
        raise ValueError(f"batch sizes must be >= 1, got {list(batches)}")
    unknown = [d for d in dtypes if d not in DTYPES]
    if not dtypes or unknown:
        raise ValueError(f"unknown dtype(s) {unknown or dtypes}; expected a list of {sorted(DTYPES)}")
    shapes = QUICK if quick else BASE
    if not 1 <= seq_len <= shapes.max_position_embeddings:
        raise ValueError(f"seq must be between 1 and {shapes.max_position_embeddings} tokens, got {seq_len}")
    timer = timer or time_side_by_side
    backends = list(dict.fromkeys(backends))
    unknown_backends = [b for b in backends if b not in BENCH_BACKENDS]
    if not backends or unknown_backends:
        raise ValueError(
            f"unknown backend(s) {unknown_backends or backends}; expected a list of {list(BENCH_BACKENDS)}"
        )
    if "bf16" in dtypes and not native_bf16():
        warnings.warn(
            "bf16 was asked for, but this machine has no native bf16 matrix units (AVX512-BF16 / AMX / a CUDA GPU): "
            "bf16 runs emulated here, many times slower than fp32, and its figures say nothing about bf16 hardware",
            stacklevel=2,
        )
    threads = configure_threads(threads)
    info = machine_info(threads)
    specs = resolve_models(models)
    missing = [{"model": s.name, "why": why} for s in specs if (why := s.missing_reason()) is not None]
    specs = [s for s in specs if s.missing_reason() is None]

    ctx = BuildContext(shapes)
    built, rows_info = {}, {}
    for spec in _bar(specs, "building", progress):
        with _quiet_loading():
            model = prepare_for_inference(spec.build(ctx), "fp32")
        built[spec.name] = model
        rows_info[spec.name] = {
            "model": spec.name,
            "description": spec.description,
            "class": type(model).__name__,
            "ours": spec.ours,
            "baseline": spec.baseline if spec.baseline in {s.name for s in specs} else None,
            "parameters": model.num_parameters(),
            "non_embedding_parameters": model.num_parameters(exclude_embeddings=True),
            "layers": _num_layers(model.config),
            "flops_per_sequence": count_flops(model, seq_len),
        }

    exported, backends = _export_rows(built, backends, missing, progress, seq_len)  # from the fp32 weights
    try:
        vocab = min(m.config.vocab_size for m in built.values())
        generator = torch.Generator().manual_seed(0)
        results, peaks = [], {}
        # fp32 first: the bf16 cast is in place and not undone
        for dtype in sorted(dtypes, key=lambda d: d != "fp32"):
            for model in built.values():
                prepare_for_inference(model, dtype)
            sessions = _open_sessions(exported, dtype, threads, missing)
            matmul, matmul_flops = _matmul_runner(shapes.matmul_size, DTYPES[dtype])
            for batch in batches:
                ids = torch.randint(1, vocab, (batch, seq_len), generator=generator)
                mask = torch.ones_like(ids)
                fns = (
                    {name: _forward(model, ids, mask) for name, model in built.items()} if "torch" in backends else {}
                )
                for (name, backend), session in sessions.items():
                    feed = {"input_ids": ids.numpy(), "attention_mask": mask.numpy()}
                    fns[_timed_name(name, backend)] = lambda session=session, feed=feed: session.run(feed)
                fns[PEAK] = matmul
                label = f"batch {batch}, {dtype}"
                timings = timer(
                    fns,
                    repeats=repeats,
                    warmup=warmup,
                    progress=label if progress else False,
                    min_sample_ms=min_sample_ms,
                )
                peak = timings.pop(PEAK)
                peak_gflops = matmul_flops / peak.median_ms / 1e6
                peaks[f"{dtype}/batch{batch}"] = {
                    "dtype": dtype,
                    "batch": batch,
                    "matmul_size": shapes.matmul_size,
                    "gflops_median": peak_gflops,
                    "gflops_best": matmul_flops / peak.min_ms / 1e6,
                    **peak.as_dict(),
                }
                for timed, timing in timings.items():
                    name, _, backend = timed.partition(BACKEND_SEPARATOR)
                    row = rows_info[name]
                    gflops = row["flops_per_sequence"] * batch / timing.median_ms / 1e6
                    results.append(
                        row
                        | {"batch": batch, "seq": seq_len, "dtype": dtype, "backend": backend or "torch"}
                        | timing.as_dict()
                        | {"gflops": gflops, "peak_fraction": gflops / peak_gflops}
                    )
    finally:  # the exports are scratch, whatever happened while timing
        for scratch in exported.values():
            scratch.remove()
    info["load_average_at_end"] = load_average()
    return score_report(
        {
            "settings": {
                "models": [s.name for s in specs],
                "batches": list(batches),
                "seq": seq_len,
                "dtypes": list(dtypes),
                "backends": backends,
                "repeats": repeats,
                "warmup": warmup,
                "min_sample_ms": min_sample_ms,
                "quick": quick,
                "shapes": "quick (tiny sizes; times say nothing)" if quick else "base",
            },
            "machine": info,
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "peak": peaks,
            "results": results,
            "missing": missing,
        }
    )


BENCH_BACKENDS = ("torch", *RUNTIME_EXPORTS)  # a runtime's export format and graph precision: RUNTIME_EXPORTS
BACKEND_SEPARATOR = " @ "  # a runtime row's name while it is timed: "tinybert-4 @ openvino"


def _timed_name(name: str, backend: str) -> str:
    return name if backend == "torch" else f"{name}{BACKEND_SEPARATOR}{backend}"


def _export_rows(
    built: dict, backends: list[str], missing: list[dict], progress: bool, seq_len: int = 128
) -> tuple[dict, list[str]]:
    """Export every row (fp32, random token ids as the example) for each runtime backend into a temporary folder;
    for "openvino-int8", quantize it with NNCF on random-token sequences of `seq_len` tokens; for "onnxruntime-int8",
    its linear layers' weights.

    Returns `({(row, backend): ScratchFolder}, the backends that can run)`; a runtime that is not installed, or a row
    that does not export, is added to `missing` with why."""
    from ..export.exporter import write_export
    from ..export.formats import FORMATS, kind_needs, missing_modules
    from ..export.quantize import quantize_onnx, quantize_openvino
    from ..io import ScratchFolder

    exported, usable = {}, []
    for backend in backends:
        if backend == "torch":
            usable.append(backend)
            continue
        fmt, graph_dtype = FORMATS[RUNTIME_EXPORTS[backend][0]], RUNTIME_EXPORTS[backend][1]
        absent = missing_modules(kind_needs(fmt.name, graph_dtype))
        if absent:
            missing.append({"model": f"every row on {backend}", "why": f"not installed: {fmt.install_hint}"})
            continue
        usable.append(backend)
        for name, model in _bar(list(built.items()), f"exporting to {backend}", progress):
            scratch = ScratchFolder(f"compactbert-bench-{backend}-")
            try:
                info = write_export(model, None, scratch.path, fmt.name, graph_dtype, "base", name)
                if graph_dtype == "int8" and fmt.name == "onnx":  # its weights: nothing to calibrate
                    quantize_onnx(scratch.path)
                elif graph_dtype == "int8":
                    quantize_openvino(scratch.path, _random_feeds(info["inputs"], model.config.vocab_size, seq_len),
                                      INT8_CALIBRATION)  # fmt: skip
                exported[(name, backend)] = scratch
            except Exception as err:  # a row that does not export is reported, not fatal
                scratch.remove()
                why = f"{type(err).__name__}: {str(err).splitlines()[0][:200] if str(err) else ''}"
                missing.append({"model": f"{name} on {backend}", "why": f"export failed: {why}"})
            except BaseException:  # Ctrl-C while exporting: this export and those before it are scratch too
                for made in (scratch, *exported.values()):
                    made.remove()
                raise
    return exported, usable


def _random_feeds(inputs: list[str], vocab_size: int, seq_len: int) -> list[dict]:
    """`CALIBRATION_SEQUENCES` feeds of one random-token sequence each (no padding): what an int8 row is calibrated on
    (its speed does not depend on the ranges)."""
    generator = torch.Generator().manual_seed(1)
    feeds = []
    for _ in range(CALIBRATION_SEQUENCES):
        ids = torch.randint(1, vocab_size, (1, seq_len), generator=generator)
        fill = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
        feeds.append({name: fill.get(name, torch.zeros_like(ids)).numpy() for name in inputs})
    return feeds


def _open_sessions(exported: dict, dtype: str, threads: int, missing: list[dict]) -> dict:
    """The exported rows' runtime sessions at `dtype` (OpenVINO's precision hint; an int8 graph's other operations);
    ONNX Runtime runs fp32 only."""
    from ..export.formats import FORMATS
    from ..export.runtime import open_session

    sessions, said = {}, set()
    for (name, backend), scratch in exported.items():
        if dtype not in FORMATS[RUNTIME_EXPORTS[backend][0]].dtypes:
            if backend not in said:
                missing.append({"model": f"every row on {backend}, {dtype}", "why": f"{backend} runs fp32 only"})
                said.add(backend)
            continue
        sessions[(name, backend)] = open_session(scratch.path, dtype=dtype, threads=threads)
    return sessions


def default_dtypes() -> list[str]:
    """fp32, plus bf16 where the hardware has native bf16 units (elsewhere bf16 is emulated and says nothing)."""
    return ["fp32", "bf16"] if native_bf16() else ["fp32"]


def _forward(model, ids: torch.Tensor, mask: torch.Tensor) -> Callable[[], Any]:
    def run():
        with torch.inference_mode():
            return model(input_ids=ids, attention_mask=mask)

    return run


def _num_layers(config) -> int | None:
    return getattr(config, "num_hidden_layers", None) or getattr(config, "n_layers", None)


@contextlib.contextmanager
def _quiet_loading():
    """No 'Loading weights' bar from transformers for each row `shrink()` builds (one bar for the rows instead)."""
    from transformers.utils import logging as hf_logging

    enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if enabled:
            hf_logging.enable_progress_bar()


def _bar(items, description: str, progress: bool):
    if not progress:
        return items
    from tqdm.auto import tqdm

    return tqdm(items, desc=description, leave=False)
