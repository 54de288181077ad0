"""The speed tables of the pages (benchmark, runtimes, inference paths, training cost), written from their result files
by `python scripts/doc_figures.py --write` (through doc_tables.TABLES). Each starts with the machine it was measured on
and a link to its file."""

from __future__ import annotations

from doc_results import (
    BENCH,
    BENCH_BACKENDS,
    BENCH_BACKENDS_AVX2,
    INFERENCE,
    TRAINING_COST,
    Source,
    _source_line,
    bench_row,
    inference_speedup,
    paired,
    pct,
    runtime_speedup,
)

from compactbert.export.formats import INT8_RUNTIME, RUNTIME_EXPORTS, runtime_title

BENCH_ROWS = ["teacher", "shrunk-top2", "shrunk-top4", "shrunk-top6", "distil-6", "tinybert-4", "albert-sop-base"]


def bench_peak(dtype: str, batch: int, source: Source = BENCH) -> float:
    return source.data["peak"][f"{dtype}/batch{batch}"]["gflops_median"]


def table_bench(page: str) -> list[str]:
    lines = [_source_line(page, BENCH, f" ({BENCH.data['machine']['cpu']}, {BENCH.data['date']}); batch 32, bf16"), ""]
    lines += [
        "| model | class | params | GFLOP/seq | median ms (min–max) | speedup vs teacher | time vs its transformers twin "
        "| % of matmul rate |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for model in BENCH_ROWS:
        row = bench_row(model, "bf16", 32)
        twin = f"{row['time_vs_baseline']:.3f} ({row['baseline']})" if row["baseline"] else ""
        lines.append(
            f"| {model} | {row['class']} | {row['parameters'] / 1e6:.3g}M | {row['flops_per_sequence'] / 1e9:.3g} | "
            f"{row['median_ms']:.0f} ({row['min_ms']:.0f}–{row['max_ms']:.0f}) | {row['speedup_vs_teacher']:.2f}x | "
            f"{twin} | {row['peak_fraction'] * 100:.0f}% |"
        )
    return lines


RUNTIME_ROWS = ["teacher", "shrunk-top6", "bert-6", "tinybert-4", "albert-sop-base"]  # every row the command timed


def table_runtimes(page: str) -> list[str]:
    """`compactbert bench --backend torch,openvino,openvino-int8,onnxruntime`: each row's time on PyTorch and on each
    runtime (paired speedup over PyTorch at the same batch and precision; OpenVINO int8's other operations at that
    precision), and TinyBert-4's speedup over the teacher per backend."""
    data = BENCH_BACKENDS.data
    lines = [_source_line(page, BENCH_BACKENDS, f" ({data['machine']['cpu']}, {data['date']}); sequence 128"), ""]
    lines += [
        "| model | batch | PyTorch bf16 | OpenVINO bf16 | OpenVINO int8 + bf16 | PyTorch fp32 | OpenVINO fp32 | "
        "OpenVINO int8 + fp32 | ONNX Runtime fp32 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def runtime(model: str, dtype: str, batch: int, name: str) -> str:
        row = runtime_speedup(model, dtype, batch, name)
        return f"{row['runtime_ms']:.1f} ms ({row['speedup']:.2f}x)"

    for model in RUNTIME_ROWS:
        for batch in (1, 32):
            lines.append(
                f"| {model} | {batch} | {bench_row(model, 'bf16', batch, BENCH_BACKENDS)['median_ms']:.1f} ms | "
                f"{runtime(model, 'bf16', batch, 'openvino')} | {runtime(model, 'bf16', batch, 'openvino-int8')} | "
                f"{bench_row(model, 'fp32', batch, BENCH_BACKENDS)['median_ms']:.1f} ms | "
                f"{runtime(model, 'fp32', batch, 'openvino')} | {runtime(model, 'fp32', batch, 'openvino-int8')} | "
                f"{runtime(model, 'fp32', batch, 'onnxruntime')} |"
            )
    lines += [
        "",
        "| bf16, both models on | TinyBert-4 vs the teacher, batch 1 (target 9.4x) | batch 32 | the teacher at batch 1: "
        "share of the bf16 matmul rate (target 50%) |",
        "|---|---:|---:|---:|",
    ]
    for backend in ("torch", "openvino", INT8_RUNTIME):
        name = runtime_title(backend) + (" int8" if backend == INT8_RUNTIME else "")
        speedups = [tinybert_speedup(backend, batch) for batch in (1, 32)]
        teacher = next(
            r
            for r in data["results"]
            if (r["model"], r["dtype"], r["batch"], r.get("backend", "torch")) == ("teacher", "bf16", 1, backend)
        )
        lines.append(f"| {name} | {speedups[0]:.2f}x | {speedups[1]:.2f}x | {teacher['peak_fraction'] * 100:.0f}% |")
    return lines


def runtime_rows(batch: int, backend: str, dtype: str = "bf16", source: Source = BENCH_BACKENDS) -> list[dict]:
    """Every bench row of a `--backend` report run by `backend` against PyTorch at `dtype` and `batch` (the rows
    the tables show, RUNTIME_ROWS, and the ranges quoted in prose and in the headline)."""
    return [
        r for r in source.data["runtime_speedups"] if (r["backend"], r["dtype"], r["batch"]) == (backend, dtype, batch)
    ]


def runtime_speedups(
    batch: int, backend: str = "openvino", dtype: str = "bf16", source: Source = BENCH_BACKENDS
) -> list[float]:
    """A runtime's paired speedups over PyTorch at `dtype` and `batch`, every bench row."""
    return [r["speedup"] for r in runtime_rows(batch, backend, dtype, source)]


def span(values: list[float]) -> str:
    return f"{min(values):.2f}–{max(values):.2f}x"


def tinybert_speedup(backend: str, batch: int = 1) -> float:
    return next(
        c["value"]
        for c in BENCH_BACKENDS.data["checks"]
        if c["target"].startswith("TinyBert-4")
        and (c["batch"], c["dtype"], c.get("backend", "torch")) == (batch, "bf16", backend)
    )


def table_runtimes_avx2(page: str) -> list[str]:
    """The `--backend` report of an AVX2-only CPU (fp32 only): each row's PyTorch time and each runtime's, with its
    paired speedup and whether it meets the runtime target for such a CPU (1.4x at batch 1, 1.2x at batch 32)."""
    data = BENCH_BACKENDS_AVX2.data
    runtimes = [b for b in data["settings"]["backends"] if b != "torch"]
    titles = [runtime_title(b) + (" int8 + fp32" if RUNTIME_EXPORTS[b][1] == "int8" else " fp32") for b in runtimes]
    lines = _source_line(page, BENCH_BACKENDS_AVX2, f" ({data['machine']['cpu']}, {data['date']}); sequence 128")
    lines = [lines, "", "| model | batch | PyTorch fp32 | " + " | ".join(titles) + " |"]
    lines.append("|---|---:|" + "---:|" * (1 + len(runtimes)))
    for model in RUNTIME_ROWS:
        for batch in (1, 32):
            cells = []
            for backend in runtimes:
                row = runtime_speedup(model, "fp32", batch, backend, BENCH_BACKENDS_AVX2)
                mark = {"met": "", "missed": ", missed"}.get(row["status"], "")
                cells.append(f"{row['runtime_ms']:.1f} ms ({row['speedup']:.2f}x{mark})")
            torch_ms = bench_row(model, "fp32", batch, BENCH_BACKENDS_AVX2)["median_ms"]
            lines.append(f"| {model} | {batch} | {torch_ms:.1f} ms | " + " | ".join(cells) + " |")
    return lines


def table_inference(page: str) -> list[str]:
    lines = [_source_line(page, INFERENCE, f" ({INFERENCE.data['machine']['cpu']}, {INFERENCE.data['date']})"), ""]
    lines += [
        "| variant | predictions equal to fp32 | test accuracy | speedup vs fp32, batch 32 | batch 1 |",
        "|---|---:|---:|---:|---:|",
    ]
    for variant in INFERENCE.data["variants"]:
        name = variant["variant"]
        label = f"**{name}** (the default here)" if name == "bf16" else name
        lines.append(
            f"| {label}: {variant['description']} | {pct(variant['agreement_with_fp32'])}% | {pct(variant['accuracy'])}% | "
            f"{inference_speedup(name, 32):.2f}x | {inference_speedup(name, 1):.2f}x |"
        )
    return lines


def cost_ratio(numerator: list[float], denominator: list[float]) -> str:
    return f"{paired(numerator, denominator):.2f}x"


def table_training_cost(page: str) -> list[str]:
    step = TRAINING_COST.data["step"]
    epoch = TRAINING_COST.data["epoch"]["seconds"]
    targets = {t["what"]: t for t in TRAINING_COST.data["targets"]}
    lines = [
        _source_line(page, TRAINING_COST, f" ({TRAINING_COST.data['setup']['machine']['cpu']}), bf16 autocast"),
        "",
    ]
    lines += ["| what | measured (paired) | medians | target |", "|---|---:|---:|---:|"]
    for losses, what in (
        ("soft targets + labels", "one distillation step / (plain step + teacher forward), soft targets + labels"),
        (
            "TinyBERT intermediate (embeddings + hidden + attention scores)",
            "the same, TinyBERT intermediate losses (embeddings + hidden + attention scores)",
        ),
    ):
        timings = step[losses]["timings_ms"]
        target = targets[f"distillation step / (plain step + teacher forward), {losses}"]
        limit = f"≤ {target['target']:.2f}" if target["checked"] else "(reported)"
        lines.append(
            f"| {what} | {cost_ratio(timings['distillation']['samples_ms'], timings['plain + teacher forward']['samples_ms'])} "
            f"| {timings['distillation']['median_ms']:.0f} vs {timings['plain + teacher forward']['median_ms']:.0f} ms | {limit} |"
        )
    plain = epoch["plain"]
    for run, what, target in (
        (
            "distillation, cached",
            "one epoch with cached teacher outputs / one plain fine-tuning epoch",
            "cached distillation epoch / plain epoch, soft targets + labels",
        ),
        ("distillation, uncached", "one epoch without the cache / plain", None),
    ):
        limit = f"≤ {targets[target]['target']:.2f}" if target else "–"
        lines.append(
            f"| {what} | {cost_ratio(epoch[run]['samples_s'], plain['samples_s'])} | "
            f"{epoch[run]['median_s']:.1f} vs {plain['median_s']:.1f} s | {limit} |"
        )
    return lines
