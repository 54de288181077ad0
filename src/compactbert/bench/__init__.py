"""`compactbert bench`: the zoo's families timed next to transformers' own models of their shape, and the study of
the ways to run one classifier (the inference path).

One module per concern:

- `rows`: the registry of rows timed (`BENCH_MODELS`, `register_bench_model`, `list_bench_models`) and their sizes;
- `run`: building the rows and timing them side by side (`run_benchmark`), FLOPs, the machine they ran on;
- `scoring`: ratios paired per round and the speed targets (`paired_ratio`, `TARGETS`, `score_report`), and each
  runtime backend against PyTorch (`runtime_speedups`, `RUNTIME_TARGETS`);
- `reports`: the tables, plots and files of both reports, and reading a saved one back (`load_report`);
- `inference_options`: the inference-path study (`compare_variants`, `compare_batching`, `compare_threads`);
- `defaults`: the settings a run takes when none are given.

Importing this package loads no torch: the rows are listed, a saved report re-scored and rendered without it. The
names that measure (`run` and `inference_options`) are loaded, with torch, the first time one of them is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_names
from .defaults import DEFAULT_BATCHES, DEFAULT_MIN_SAMPLE_MS, DEFAULT_REPEATS, DEFAULT_SEQ, DEFAULT_WARMUP
from .reports import (
    inference_markdown_report,
    inference_plot_report,
    load_report,
    markdown_report,
    plot_report,
    write_inference_report,
    write_report,
)
from .rows import (
    BASE,
    BENCH_MODELS,
    QUICK,
    TEACHER,
    BenchModel,
    BuildContext,
    Shapes,
    list_bench_models,
    register_bench_model,
    resolve_models,
)
from .scoring import (
    RUNTIME_TARGETS,
    TARGETS,
    RuntimeTarget,
    Target,
    evaluate_targets,
    paired_ratio,
    runtime_speedups,
    score_report,
)

if TYPE_CHECKING:
    from .inference_options import (
        EMULATED_BF16,
        VARIANTS,
        Variant,
        compare_batching,
        compare_threads,
        compare_variants,
    )
    from .run import PEAK, count_flops, default_dtypes, load_average, machine_info, run_benchmark

# names whose module imports torch: loaded the first time one of them is asked for (PEP 562)
_LAZY = {
    "run": ("PEAK", "count_flops", "default_dtypes", "load_average", "machine_info", "run_benchmark"),
    "inference_options": (
        "EMULATED_BF16",
        "VARIANTS",
        "Variant",
        "compare_batching",
        "compare_threads",
        "compare_variants",
    ),
}

__all__ = [
    # rows
    "BASE",
    "BENCH_MODELS",
    "QUICK",
    "TEACHER",
    "BenchModel",
    "BuildContext",
    "Shapes",
    "list_bench_models",
    "register_bench_model",
    "resolve_models",
    # defaults
    "DEFAULT_BATCHES",
    "DEFAULT_MIN_SAMPLE_MS",
    "DEFAULT_REPEATS",
    "DEFAULT_SEQ",
    "DEFAULT_WARMUP",
    # run (loads torch)
    "PEAK",
    "count_flops",
    "default_dtypes",
    "load_average",
    "machine_info",
    "run_benchmark",
    # scoring
    "RUNTIME_TARGETS",
    "RuntimeTarget",
    "TARGETS",
    "Target",
    "evaluate_targets",
    "paired_ratio",
    "runtime_speedups",
    "score_report",
    # reports
    "inference_markdown_report",
    "inference_plot_report",
    "load_report",
    "markdown_report",
    "plot_report",
    "write_inference_report",
    "write_report",
    # inference_options (loads torch)
    "EMULATED_BF16",
    "VARIANTS",
    "Variant",
    "compare_batching",
    "compare_threads",
    "compare_variants",
]


__getattr__, __dir__ = lazy_names(__name__, {n: f".{m}" for m, names in _LAZY.items() for n in names})
