"""The tables the pages show between `<!-- figures: NAME -->` and `<!-- /figures -->`, written from the result files
(`python scripts/doc_figures.py --write`). Each starts with the machine it was measured on and a link to its file.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Callable
from pathlib import Path

from doc_results import (
    ALBERT_CONVERSION,
    AUGMENT,
    BBC,
    BENCH,
    BENCH_BACKENDS,
    DISTILL,
    INFERENCE,
    LAYER_DROP,
    PRUNING,
    ROOT,
    RT,
    SOP,
    SOP_CONVERTED,
    TRAINING_COST,
    Source,
    bench_row,
    dist,
    dist_speed,
    inference_speedup,
    inference_variant,
    ld_accuracies,
    ld_delta,
    ld_frozen,
    ld_mean,
    ld_relative,
    paired,
    pct,
    runtime_speedup,
    sop,
    study_cells,
    study_mean,
)
from study_report import spread as study_spread

# ------------------------------------------------------------------------------------------------ generated tables


def _link(page: str, target: str) -> str:
    """`target` (a path from the repository root) relative to the folder of `page`."""
    return os.path.relpath(ROOT / target, (ROOT / page).parent).replace(os.sep, "/")


def _source_line(page: str, source: Source, extra: str = "") -> str:
    return f"*Measured on: {source.kind}{extra}. Source: [{Path(source.path).name}]({_link(page, source.path)}).*"


def table_layer_drop(page: str) -> list[str]:
    data = LAYER_DROP.data
    tasks = list(data["setup"]["tasks"])
    lines = [_source_line(page, LAYER_DROP, f" ({data['setup']['machine']})"), ""]
    header, rule = "| strategy | K | kept (0-based) | params | rel. time |", "|---|---:|---|---:|---:|"
    for task in tasks:
        header += f" {task} acc % | Δ full | {task} no retraining % |"
        rule += "---:|---:|---:|"
    lines += [header, rule]
    order = ["full", "top", "bottom", "even-alternate", "odd-alternate", "symmetric", "contribution"]
    cells = sorted(
        {(r["strategy"], r["k"]) for r in data["runs"].values() if isinstance(r, dict)},
        key=lambda sk: (order.index(sk[0]), sk[1]),
    )
    for strategy, k in cells:
        some = next(
            r for r in data["runs"].values() if isinstance(r, dict) and (r["strategy"], r["k"]) == (strategy, k)
        )
        kept = "per task" if strategy == "contribution" else ", ".join(map(str, some["kept_layers"]))
        line = f"| {strategy} | {k or '–'} | {kept} | {some['num_parameters'] / 1e6:.1f}M | {ld_relative(6 - k)} |"
        for task in tasks:
            accs = ld_accuracies(task, strategy, k)
            spread = study_spread(accs)
            frozen = "–" if strategy == "full" else pct(ld_frozen(task, strategy, k))
            line += f" {pct(statistics.fmean(accs))}{spread} | {ld_delta(task, strategy, k)} | {frozen} |"
        lines.append(line)
    return lines


DISTILL_ROWS = {  # cell: (model, training, the speed row timed for it)
    "teacher": ("teacher (MiniLM-L6 fine-tuned)", "labels", "teacher"),
    "top3-finetune": ("ShrunkBert top-3 (pre-trained layers 0-2), fine-tuned", "labels", "3-layer student"),
    "top3-kd": ("ShrunkBert top-3, distilled", "soft targets (KL, T = 2) + labels", "3-layer student"),
    "distil3-kd": (
        "DistilBERT-style (fine-tuned teacher's layers 0, 2, 4), distilled",
        "soft targets + labels",
        "3-layer student",
    ),
    "distil3-labels": ("the same DistilBERT-style start", "labels only", "3-layer student"),
    "tinybert4": ("TinyBert-4 (random init)", "general → intermediate → prediction", "TinyBert-4"),
    "tinybert4-nogeneral": ("TinyBert-4 (random init), no general stage", "intermediate → prediction", "TinyBert-4"),
}


def table_distillation(page: str) -> list[str]:
    tasks = list(DISTILL.data["setup"]["tasks"])
    lines = [_source_line(page, DISTILL, ", fp32; one seed"), ""]
    header = "| model | layers × width | params | training |" + "".join(f" {t} acc. | retention |" for t in tasks)
    lines += [header + " speed |", "|---|---|---:|---|" + "---:|---:|" * len(tasks) + "---:|"]
    for cell, (model, training, speed_row) in DISTILL_ROWS.items():
        run = DISTILL.data["runs"][f"{tasks[0]}/{cell}"]
        line = f"| {model} | {run['num_hidden_layers']} × {run['hidden_size']} | {run['num_parameters'] / 1e6:.1f}M | {training} |"
        for task in tasks:
            accuracy, teacher = dist(task, cell), dist(task, "teacher")
            line += f" {pct(accuracy)}% | {accuracy / teacher:.3f} |"
        speed = 1.0 if speed_row == "teacher" else dist_speed(speed_row)
        lines.append(line + f" {speed:.2f}x |")
    return lines


def table_augment_timing(page: str) -> list[str]:
    meta = AUGMENT.data["meta"]
    extra = f", {meta['cpu_count']} cores, {meta['torch_threads']} threads, load average at the end {meta['load_average_at_end'][0]:.1f}"
    lines = [_source_line(page, AUGMENT, extra), ""]
    lines += [
        "| data | MLM | dtype | masked sequences | seconds (median of 2, min–max) | per example |",
        "|---|---|---|---:|---|---:|",
    ]
    for row in AUGMENT.data["rows"]:
        unit = "articles" if row["task"] == BBC else "examples"
        per = row["seconds_per_example"]
        lines.append(
            f"| {row['task']}, {row['examples']} train {unit} | {row['mlm']} | {row['dtype']} | {row['masked_sequences']:,} | "
            f"{row['seconds_median']:.0f} ({row['seconds_min']:.0f}–{row['seconds_max']:.0f}) | {per:.1f} s |"
        )
    return lines


PAPER_SOP = {  # ALBERT (Lan et al. 2020), Table 5: base models after 125k steps; no fine-tuning on our tasks
    "SOP": {"sop": 86.5, "nsp": 78.9, "mlm": 54.0},
    "NSP": {"sop": 52.0, "nsp": 90.5, "mlm": 54.5},
}


def table_sop_study(page: str) -> list[str]:
    lines = [_source_line(page, SOP, f"; {SOP.data['machine']}; one seed"), ""]
    lines += [
        "| pretrained with | SOP acc % | NSP acc % | MLM acc % | bbc-news test acc % | rotten-tomatoes test acc % |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for objective in ("sop", "nsp"):
        cell = f"pretrain/{objective}"
        steps = SOP.data["cells"][cell]["train"]["global_step"]
        own = {"sop": "sop_accuracy", "nsp": "nsp_accuracy"}
        scores = {k: pct(sop(cell, v)) for k, v in own.items()}
        scores[objective] = f"**{scores[objective]}**"
        lines.append(
            f"| {objective.upper()} (ours, {steps:,} steps) | {scores['sop']} | {scores['nsp']} | "
            f"{pct(sop(cell, 'mlm_accuracy'))} | {pct(sop(f'finetune/{objective}/{BBC}', 'test_accuracy'))} | "
            f"{pct(sop(f'finetune/{objective}/{RT}', 'test_accuracy'))} |"
        )
    for objective, paper in PAPER_SOP.items():
        lines.append(
            f"| {objective} (paper, 125k steps) | {paper['sop']:.1f} | {paper['nsp']:.1f} | {paper['mlm']:.1f} | – | – |"
        )
    return lines


def table_sop_converted(page: str) -> list[str]:
    """The SOP / NSP rerun from a converted start: held-out accuracy on both sentence tasks and MLM, per objective."""
    data = SOP_CONVERTED.data
    lines = [_source_line(page, SOP_CONVERTED, f"; {data['machine']}; one seed"), ""]
    lines += [
        "| continued with | SOP acc % | NSP acc % | MLM acc % | steps | learning rate | minutes |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for objective in ("sop", "nsp"):
        cell = data["cells"][f"pretrain/{objective}"]
        lines.append(
            f"| {objective.upper()} | {pct(cell['sop_accuracy'])} | {pct(cell['nsp_accuracy'])} | "
            f"{pct(cell['mlm_accuracy'])} | {cell['train']['global_step']:,} | {data['budget']['learning_rate']:g} | "
            f"{cell['wall_s'] / 60:.1f} |"
        )
    return lines


PAPER_ALBERT_PARAMETERS = {  # millions; ALBERT (Lan et al. 2020), Tables 3 and 4: base models
    (128, "all"): 12, (128, "attention"): 64, (128, "ffn"): 38, (128, "none"): 89,
    (768, "all"): 31, (768, "attention"): 83, (768, "ffn"): 57, (768, "none"): 108,
}  # fmt: skip


def table_albert_parameters(page: str) -> list[str]:
    """Counted from the code (torch on the meta device: shapes only), not read from a result file."""
    import torch

    from compactbert import AlbertSopConfig, AlbertSopModel

    lines = ["| E | sharing | measured | paper | difference |", "|---:|---|---:|---:|---:|"]
    for (embedding_size, sharing), paper in PAPER_ALBERT_PARAMETERS.items():
        with torch.device("meta"):
            count = AlbertSopModel(AlbertSopConfig(embedding_size=embedding_size, sharing=sharing)).num_parameters()
        difference = (count - paper * 1e6) / (paper * 1e6) * 100
        lines.append(f"| {embedding_size} | {sharing} | {count / 1e6:.1f}M | {paper}M | {difference:+.1f}% |")
    return lines


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


RUNTIME_ROWS = ["teacher", "shrunk-top6", "tinybert-4", "albert-sop-base"]


def table_runtimes(page: str) -> list[str]:
    """`compactbert bench --backend torch,openvino,onnxruntime`: each row's time on PyTorch and on each runtime (paired
    speedup over PyTorch at the same batch and precision), and TinyBert-4's speedup over the teacher per backend."""
    data = BENCH_BACKENDS.data
    lines = [_source_line(page, BENCH_BACKENDS, f" ({data['machine']['cpu']}, {data['date']}); sequence 128"), ""]
    lines += [
        "| model | batch | PyTorch bf16 | OpenVINO bf16 | PyTorch fp32 | OpenVINO fp32 | ONNX Runtime fp32 |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]

    def runtime(model: str, dtype: str, batch: int, name: str) -> str:
        row = runtime_speedup(model, dtype, batch, name)
        return f"{row['runtime_ms']:.1f} ms ({row['speedup']:.2f}x)"

    for model in RUNTIME_ROWS:
        for batch in (1, 32):
            lines.append(
                f"| {model} | {batch} | {bench_row(model, 'bf16', batch, BENCH_BACKENDS)['median_ms']:.1f} ms | "
                f"{runtime(model, 'bf16', batch, 'openvino')} | "
                f"{bench_row(model, 'fp32', batch, BENCH_BACKENDS)['median_ms']:.1f} ms | "
                f"{runtime(model, 'fp32', batch, 'openvino')} | {runtime(model, 'fp32', batch, 'onnxruntime')} |"
            )
    lines += [
        "",
        "| bf16, both models on | TinyBert-4 vs the teacher, batch 1 (target 9.4x) | batch 32 | the teacher at batch 1: "
        "share of the bf16 matmul rate (target 50%) |",
        "|---|---:|---:|---:|",
    ]
    for backend, name in (("torch", "PyTorch"), ("openvino", "OpenVINO")):
        speedups = [_tinybert_speedup(backend, batch) for batch in (1, 32)]
        teacher = next(
            r
            for r in data["results"]
            if (r["model"], r["dtype"], r["batch"], r.get("backend", "torch")) == ("teacher", "bf16", 1, backend)
        )
        lines.append(f"| {name} | {speedups[0]:.2f}x | {speedups[1]:.2f}x | {teacher['peak_fraction'] * 100:.0f}% |")
    return lines


def _openvino_speedups(batch: int) -> list[float]:
    return [runtime_speedup(model, "bf16", batch, "openvino")["speedup"] for model in RUNTIME_ROWS]


def _span(values: list[float]) -> str:
    return f"{min(values):.2f}–{max(values):.2f}x"


def _tinybert_speedup(backend: str, batch: int = 1) -> float:
    return next(
        c["value"]
        for c in BENCH_BACKENDS.data["checks"]
        if c["target"].startswith("TinyBert-4")
        and (c["batch"], c["dtype"], c.get("backend", "torch")) == (batch, "bf16", backend)
    )


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


PRUNING_CELLS = {
    "teacher": ("MiniLM-L6 fine-tuned (the teacher)", "labels"),
    "random-stages": ("TinyBERT-4 shape, random init", "intermediate → prediction (lr 1e-3)"),
    "pruned-labels": ("TinyBERT-4 shape pruned from the teacher", "labels only"),
    "pruned-kd": ("the same pruned start", "soft targets only (logit distillation)"),
    "pruned-kd-labels": ("the same pruned start", "soft targets + labels"),
    "pruned-stages": ("the same pruned start", "intermediate → prediction"),
}


def table_pruning(page: str) -> list[str]:
    """The pruning study: every cell of both tasks, mean over its seeds, retention against the teacher."""
    data = PRUNING.data
    lines = [_source_line(page, PRUNING, f" ({data['setup']['machine']})"), ""]
    lines += [
        "| task | student | training | shape (layers × hidden × FFN) | parameters | test accuracy % (seeds) | "
        "retention | minutes |",
        "|---|---|---|---|---:|---:|---:|---:|",
    ]
    for task in data["setup"]["tasks"]:
        cells = study_cells(PRUNING, task)
        teacher = study_mean(PRUNING, task, "teacher")
        for cell, (student, training) in PRUNING_CELLS.items():
            if cell not in cells:
                continue
            runs, mean = cells[cell], study_mean(PRUNING, task, cell)
            accs = ", ".join(pct(r["test_accuracy"]) for r in sorted(runs, key=lambda r: r["seed"]))
            r = runs[0]
            lines.append(
                f"| {task} | {student} | {training} | {r['num_hidden_layers']} × {r['hidden_size']} × "
                f"{r['intermediate_size']} | {r['num_parameters'] / 1e6:.1f}M | {pct(mean)} ({accs}) | "
                f"{mean / teacher * 100:.1f}% | {statistics.fmean(x['wall_seconds'] for x in runs) / 60:.1f} |"
            )
    return lines


ALBERT_CELLS = {
    "teacher": "MiniLM-L6 fine-tuned (the teacher)",
    "e64-none": "E 64, nothing shared",
    "e128-none": "E 128, nothing shared",
    "e256-none": "E 256, nothing shared",
    "e128-attention": "E 128, one attention block shared",
    "e128-ffn": "E 128, one feed-forward block shared",
    "e128-all": "E 128, one layer shared (ALBERT)",
    "e128-all@ep2": "E 128, one layer shared, two epochs per stage",
}


def table_albert_conversion(page: str) -> list[str]:
    """The Albert conversion study: the main cells of both tasks, mean over the seeds, retention; variants listed."""
    data = ALBERT_CONVERSION.data
    lines = [_source_line(page, ALBERT_CONVERSION, f" ({data['setup']['machine']})"), ""]
    lines += [
        "| task | student | parameters | SVD error | test accuracy % (seeds) | retention | target | minutes |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    variants = []
    for task in data["setup"]["tasks"]:
        cells = study_cells(ALBERT_CONVERSION, task)
        teacher = study_mean(ALBERT_CONVERSION, task, "teacher")
        for cell, student in ALBERT_CELLS.items():
            if cell not in cells:
                continue
            runs, mean = cells[cell], study_mean(ALBERT_CONVERSION, task, cell)
            accs = ", ".join(pct(r["test_accuracy"]) for r in sorted(runs, key=lambda r: r["seed"]))
            error = runs[0].get("embedding_reconstruction_error")
            target = data["setup"].get("targets", {}).get(f"{task}/{cell.split('@')[0]}")  # a variant: its cell's
            verdict = (
                "-" if target is None else f"≥ {target * 100:g}%: {'met' if mean / teacher >= target else 'missed'}"
            )
            lines.append(
                f"| {task} | {student} | {runs[0]['num_parameters'] / 1e6:.1f}M | "
                f"{'-' if error is None else f'{error:.2f}'} | {pct(mean)} ({accs}) | {mean / teacher * 100:.1f}% | "
                f"{verdict} | {statistics.fmean(x['wall_seconds'] for x in runs) / 60:.1f} |"
            )
        variants += [
            f"`{task}` {cell}: {pct(study_mean(ALBERT_CONVERSION, task, cell))}% "
            f"({study_mean(ALBERT_CONVERSION, task, cell) / teacher * 100:.1f}%)"
            for cell in sorted(cells)
            if cell not in ALBERT_CELLS
        ]
    if variants:
        lines += ["", "Variants (seed 0): " + "; ".join(variants) + "."]
    return lines


def albert(cell: str, key: str, task: str = RT):
    """The Albert conversion study: a field of a cell's first run."""
    return study_cells(ALBERT_CONVERSION, task)[cell][0][key]


def table_headline(page: str) -> list[str]:
    """The README's results: one row per headline figure, each with its machine and the guide it comes from."""
    teacher_ms = bench_row("teacher", "bf16", 32)
    top6, tiny = bench_row("shrunk-top6", "bf16", 32), bench_row("tinybert-4", "bf16", 32)
    strategies = ("top", "bottom", "even-alternate", "odd-alternate", "symmetric", "contribution")
    best = max(strategies, key=lambda s: ld_mean(RT, s, 2))
    top3 = ld_mean(RT, "top", 3)
    sop_acc = {o: sop(f"pretrain/{o}", "sop_accuracy") for o in ("sop", "nsp")}
    rows = [
        (
            "ShrunkBert: a BERT-base-shaped model minus its top 6 of 12 layers, against the whole (batch 32 × 128 "
            "tokens, bf16)",
            f"{top6['speedup_vs_teacher']:.2f}x faster; {top6['time_vs_baseline']:.3f} of the time of transformers' "
            f"6-layer `BertModel`",
            BENCH,
            "speed.md#results-of-the-bench",
        ),
        (
            "TinyBert-4 against the same 12-layer teacher, bf16, batch 32 / batch 1",
            f"{tiny['speedup_vs_teacher']:.1f}x / {bench_row('tinybert-4', 'bf16', 1)['speedup_vs_teacher']:.2f}x faster "
            f"({teacher_ms['median_ms']:.0f} vs {tiny['median_ms']:.0f} ms at batch 32)",
            BENCH,
            "speed.md#results-of-the-bench",
        ),
        (
            f"Layer dropping: MiniLM-L6 minus 2 of its 6 layers, fine-tuned on `rotten-tomatoes` (3 seeds), the best "
            f"strategy ({best}) / top-3 dropped",
            f"{pct(ld_mean(RT, best, 2))}% / {pct(top3)}% against {pct(ld_mean(RT, 'full', 0))}% for the whole, "
            f"at {ld_relative(4)} / {ld_relative(3)} of its time",
            LAYER_DROP,
            "shrinking.md#the-layer-drop-study-poor-mans-bert-on-real-data",
        ),
        (
            "Distillation: a DistilBERT-style 3-layer student of the fine-tuned MiniLM-L6 (its layers 0, 2, 4), "
            "`bbc-news` / `rotten-tomatoes`",
            f"{pct(dist(BBC, 'distil3-kd'))}% / {pct(dist(RT, 'distil3-kd'))}% against the teacher's "
            f"{pct(dist(BBC, 'teacher'))}% / {pct(dist(RT, 'teacher'))}%, {dist_speed('3-layer student'):.2f}x faster",
            DISTILL,
            "distillation.md#results-distilling-the-fine-tuned-minilm-l6",
        ),
        (
            f"TinyBert-4 ({dist(RT, 'tinybert4', 'num_parameters') / 1e6:.1f}M parameters) distilled from it, "
            "`rotten-tomatoes`",
            f"{pct(dist(RT, 'tinybert4'))}% against the teacher's {pct(dist(RT, 'teacher'))}%, "
            f"{dist_speed('TinyBert-4'):.2f}x faster",
            DISTILL,
            "distillation.md#results-distilling-the-fine-tuned-minilm-l6",
        ),
        (
            "TinyBert-4 shape (14.5M parameters) pruned from the fine-tuned MiniLM-L6, then TinyBERT's two task "
            "stages (one epoch each), `rotten-tomatoes` / `bbc-news`",
            f"{pct(study_mean(PRUNING, RT, 'pruned-stages'))}% / {pct(study_mean(PRUNING, BBC, 'pruned-stages'))}% "
            f"against the teacher's {pct(study_mean(PRUNING, RT, 'teacher'))}% / "
            f"{pct(study_mean(PRUNING, BBC, 'teacher'))}% ({len(study_cells(PRUNING, RT)['pruned-stages'])} / "
            f"{len(study_cells(PRUNING, BBC)['pruned-stages'])} seeds)",
            PRUNING,
            "pruning.md#results-the-pruning-study",
        ),
        (
            "Inference in bf16 weights against fp32: fine-tuned MiniLM-L6 on the `bbc-news` test split, batch 32",
            f"{pct(inference_variant('bf16')['agreement_with_fp32'])}% of predictions unchanged, "
            f"{inference_speedup('bf16', 32):.2f}x faster",
            INFERENCE,
            "speed.md#the-inference-path",
        ),
        (
            "OpenVINO against PyTorch, the bench's rows (BERT-base teacher, top-6 ShrunkBert, TinyBert-4, Albert-SOP "
            "base), bf16, batch 1 / batch 32; TinyBert-4 against the teacher at batch 1, both on OpenVINO",
            f"{_span(_openvino_speedups(1))} / {_span(_openvino_speedups(32))} faster; "
            f"{_tinybert_speedup('openvino'):.1f}x (on PyTorch: {_tinybert_speedup('torch'):.1f}x)",
            BENCH_BACKENDS,
            "speed.md#openvino-and-onnx-runtime",
        ),
        (
            "Training cost of distillation: an epoch with the teacher's outputs cached, against plain fine-tuning",
            f"{paired(TRAINING_COST.data['epoch']['seconds']['distillation, cached']['samples_s'], TRAINING_COST.data['epoch']['seconds']['plain']['samples_s']):.2f}x "
            "the time",
            TRAINING_COST,
            "speed.md#training-cost",
        ),
        (
            "Albert-SOP converted from the fine-tuned MiniLM-L6 and distilled (two stages, one epoch each; two for "
            "the shared layer), `rotten-tomatoes`: E 256 / E 128 nothing shared / E 128 one shared layer "
            f"({albert('e128-all', 'num_parameters') / 1e6:.1f}M parameters)",
            f"{pct(study_mean(ALBERT_CONVERSION, RT, 'e256-none'))}% / "
            f"{pct(study_mean(ALBERT_CONVERSION, RT, 'e128-none'))}% / "
            f"{pct(study_mean(ALBERT_CONVERSION, RT, 'e128-all@ep2'))}% against the teacher's "
            f"{pct(study_mean(ALBERT_CONVERSION, RT, 'teacher'))}% ({len(study_cells(ALBERT_CONVERSION, RT)['e128-all'])} "
            "seeds each)",
            ALBERT_CONVERSION,
            "albert-sop.md#the-conversion-study",
        ),
        (
            f"Albert-SOP ({sop('pretrain/sop', 'num_parameters') / 1e6:.1f}M parameters) pretrained with SOP / with "
            "NSP, held-out sentence-order accuracy",
            f"{pct(sop_acc['sop'])}% / {pct(sop_acc['nsp'])}% (chance: 50%): small-scale, not a usable ALBERT",
            SOP,
            "albert-sop.md#the-sop-vs-nsp-study",
        ),
    ]
    lines = ["| result | figure | measured on | source |", "|---|---|---|---|"]
    for result, figure, source, guide in rows:
        name = Path(guide.split("#")[0]).stem
        lines.append(
            f"| {result} | {figure} | {source.kind} | [{name}]({_link(page, 'docs/' + guide.split('#')[0])}#{guide.split('#')[1]}), "
            f"[{Path(source.path).relative_to('docs/results')}]({_link(page, source.path)}) |"
        )
    return lines


TABLES: dict[str, Callable[[str], list[str]]] = {
    "headline": table_headline,
    "bench": table_bench,
    "inference": table_inference,
    "runtimes": table_runtimes,
    "training-cost": table_training_cost,
    "albert-parameters": table_albert_parameters,
    "sop-study": table_sop_study,
    "sop-converted": table_sop_converted,
    "augment-timing": table_augment_timing,
    "layer-drop": table_layer_drop,
    "distillation": table_distillation,
    "pruning": table_pruning,
    "albert-conversion": table_albert_conversion,
}
