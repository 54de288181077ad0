"""The tables the pages show between `<!-- figures: NAME -->` and `<!-- /figures -->`, written from the result files
(`python scripts/doc_figures.py --write`). Each starts with the machine it was measured on and a link to its file.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from pathlib import Path

from doc_results import (
    ALBERT_CONVERSION,
    AUGMENT,
    BBC,
    BENCH,
    BENCH_BACKENDS,
    DEMO_ALBERT,
    DISTILL,
    INFERENCE,
    LAYER_DROP,
    PRUNING,
    RT,
    SOP,
    SOP_MINILM_WEIGHTED,
    TRAINING_COST,
    _link,
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
    sop,
    study_cells,
    study_mean,
    study_retention,
    study_teacher,
    table_start,
)
from doc_tables_pruning import FRONTIER_KINDS, table_pruning, table_pruning_frontier, table_pruning_layers
from doc_tables_sop import (
    table_sop_converted,
    table_sop_distilled,
    table_sop_prior,
    table_sop_probe,
    table_sop_study,
    table_sop_weight,
)
from doc_tables_speed import (
    runtime_speedups,
    span,
    table_bench,
    table_inference,
    table_runtimes,
    table_runtimes_avx2,
    table_training_cost,
    tinybert_speedup,
)
from study_report import seeds_summary
from study_report import spread as study_spread

# ------------------------------------------------------------------------------------------------ generated tables


def table_layer_drop(page: str) -> list[str]:
    data = LAYER_DROP.data
    tasks = list(data["setup"]["tasks"])
    columns = ["strategy", "K", "kept (0-based)", "params", "rel. time"]
    columns += [c for task in tasks for c in (f"{task} acc %", "Δ full", f"{task} no retraining %")]
    lines = table_start(page, LAYER_DROP, f" ({data['setup']['machine']})", columns, "lrlrr" + "rrr" * len(tasks))
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
    columns = [
        "model",
        "layers × width",
        "params",
        "training",
        *(c for t in tasks for c in (f"{t} acc.", "retention")),
    ]
    lines = table_start(page, DISTILL, ", fp32; one seed", [*columns, "speed"], "llrl" + "rr" * len(tasks) + "r")
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
    lines = table_start(
        page,
        AUGMENT,
        extra,
        ["data", "MLM", "dtype", "masked sequences", "seconds (median of 2, min–max)", "per example"],
        "lllrlr",
    )
    for row in AUGMENT.data["rows"]:
        unit = "articles" if row["task"] == BBC else "examples"
        per = row["seconds_per_example"]
        lines.append(
            f"| {row['task']}, {row['examples']} train {unit} | {row['mlm']} | {row['dtype']} | {row['masked_sequences']:,} | "
            f"{row['seconds_median']:.0f} ({row['seconds_min']:.0f}–{row['seconds_max']:.0f}) | {per:.1f} s |"
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


ALBERT_CELLS = {
    "teacher": "MiniLM-L6 fine-tuned (the teacher)",
    "e64-none": "E 64, nothing shared",
    "e128-none": "E 128, nothing shared",
    "e256-none": "E 256, nothing shared",
    "e128-attention": "E 128, one attention block shared",
    "e128-ffn": "E 128, one feed-forward block shared",
    "e128-all": "E 128, one layer shared (ALBERT)",
    "e128-all@ep2": "E 128, one layer shared, two epochs per stage",
    "e128-all@ep2@fp32": "E 128, one layer shared, two epochs per stage, fp32 (no bf16 autocast)",
    "e128-all@ep2@bs16": "E 128, one layer shared, two epochs per stage, batch 16",
    "e128-all@ep2@bs16@fp32": "E 128, one layer shared, two epochs per stage, batch 16, fp32 (no bf16 autocast)",
}


def table_albert_conversion(page: str) -> list[str]:
    """The Albert conversion study: the main cells of both tasks, mean over the seeds, retention; variants listed."""
    data = ALBERT_CONVERSION.data
    lines = table_start(
        page,
        ALBERT_CONVERSION,
        f" ({data['setup']['machine']})",
        ["task", "student", "parameters", "SVD error", "test accuracy % (seeds)", "retention", "target", "minutes"],
        "llrrrrrr",
    )
    variants = []
    for task in data["setup"]["tasks"]:
        cells = study_cells(ALBERT_CONVERSION, task)
        for cell, student in ALBERT_CELLS.items():
            if cell not in cells:
                continue
            runs, mean = cells[cell], study_mean(ALBERT_CONVERSION, task, cell)
            retention = study_retention(ALBERT_CONVERSION, task, cell)
            accs = ", ".join(pct(r["test_accuracy"]) for r in sorted(runs, key=lambda r: r["seed"]))
            error = runs[0].get("embedding_reconstruction_error")
            target = data["setup"].get("targets", {}).get(f"{task}/{cell.split('@')[0]}")  # a variant: its cell's
            target = None if cell.endswith("@fp32") else target  # one seed, for its minutes: not a verdict
            verdict = "-" if target is None else f"≥ {target * 100:g}%: {'met' if retention >= target else 'missed'}"
            lines.append(
                f"| {task} | {student} | {runs[0]['num_parameters'] / 1e6:.1f}M | "
                f"{'-' if error is None else f'{error:.2f}'} | {pct(mean)} ({accs}) | {retention * 100:.1f}% | "
                f"{verdict} | {statistics.fmean(x['wall_seconds'] for x in runs) / 60:.1f} |"
            )
        variants += [
            f"`{task}` {cell}: {pct(study_mean(ALBERT_CONVERSION, task, cell))}% "
            f"({study_retention(ALBERT_CONVERSION, task, cell) * 100:.1f}%)"
            for cell in sorted(cells)
            if cell not in ALBERT_CELLS
        ]
    if variants:
        lines += ["", "Variants (seed 0): " + "; ".join(variants) + "."]
    return lines


def albert(cell: str, key: str, task: str = RT):
    """The Albert conversion study: a field of a cell's first run."""
    return study_cells(ALBERT_CONVERSION, task)[cell][0][key]


def _frontier(shape: str) -> str:
    """A `--frontier` student of the pruning study: its accuracy and speed against the teacher."""
    (run,) = [
        r
        for r in PRUNING.data["runs"].values()
        if "@" in r["cell"]
        and r["cell"].split("@")[1].split("-")[0] in FRONTIER_KINDS
        and f"{r['num_hidden_layers']} × {r['hidden_size']} × {r['intermediate_size']}" == shape
    ]
    return f"{pct(run['test_accuracy'])}% at {PRUNING.data['speed']['speedup_vs_teacher'][shape]:.2f}x"


def table_headline(page: str) -> list[str]:
    """The README's results: one row per headline figure, each with its machine and the guide it comes from."""
    teacher_ms = bench_row("teacher", "bf16", 32)
    top6, tiny = bench_row("shrunk-top6", "bf16", 32), bench_row("tinybert-4", "bf16", 32)
    strategies = ("top", "bottom", "even-alternate", "odd-alternate", "symmetric", "contribution")
    best = max(strategies, key=lambda s: ld_mean(RT, s, 2))
    top3 = ld_mean(RT, "top", 3)
    sop_acc = {o: sop(f"pretrain/{o}", "sop_accuracy") for o in ("sop", "nsp")}
    sop_weighted = {o: SOP_MINILM_WEIGHTED.data["cells"][f"pretrain/{o}"] for o in ("sop", "nsp")}
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
            f"against the teacher's {pct(study_teacher(PRUNING, RT, 'pruned-stages'))}% / "
            f"{pct(study_teacher(PRUNING, BBC, 'pruned-stages'))}% ({len(study_cells(PRUNING, RT)['pruned-stages'])} / "
            f"{len(study_cells(PRUNING, BBC)['pruned-stages'])} seeds)",
            PRUNING,
            "pruning.md#results-the-pruning-study",
        ),
        (
            "Accuracy against latency, students cut out of the fine-tuned MiniLM-L6 (labels only, one epoch), "
            "`rotten-tomatoes`: 3 layers at full width / 4 × 312 (TinyBERT-4's shape) / 2 × 192",
            f"{_frontier('3 × 384 × 1536')} / {_frontier('4 × 312 × 1200')} / {_frontier('2 × 192 × 768')} "
            f"against the teacher's {pct(study_teacher(PRUNING, RT, 'pruned-labels@width-4x312'))}%",
            PRUNING,
            "pruning.md#accuracy-against-latency-the-best-student-at-each-speed",
        ),
        (
            "Inference in bf16 weights against fp32: fine-tuned MiniLM-L6 on the `bbc-news` test split, batch 32",
            f"{pct(inference_variant('bf16')['agreement_with_fp32'])}% of predictions unchanged, "
            f"{inference_speedup('bf16', 32):.2f}x faster",
            INFERENCE,
            "speed.md#the-inference-path",
        ),
        (
            "OpenVINO against PyTorch, every row of the bench (BERT-base teacher, top-6 ShrunkBert, the 6-layer "
            "`BertModel`, TinyBert-4, Albert-SOP base), bf16, batch 1 / batch 32; TinyBert-4 against the teacher at batch 1, both on OpenVINO",
            f"{span(runtime_speedups(1))} / {span(runtime_speedups(32))} faster; "
            f"{tinybert_speedup('openvino'):.1f}x (on PyTorch: {tinybert_speedup('torch'):.1f}x)",
            BENCH_BACKENDS,
            "speed.md#openvino-and-onnx-runtime",
        ),
        (
            "OpenVINO int8 (`compactbert export --dtype int8`, NNCF) against PyTorch bf16, every row of the bench, "
            "batch 1 / batch 32",
            f"{span(runtime_speedups(1, 'openvino-int8'))} / {span(runtime_speedups(32, 'openvino-int8'))} faster",
            BENCH_BACKENDS,
            "speed.md#int8-on-openvino",
        ),
        (
            "OpenVINO int8 against fp32: fine-tuned MiniLM-L6 on the `bbc-news` test split, batch 32",
            f"{pct(inference_variant('openvino-int8')['agreement_with_fp32'])}% of predictions unchanged, "
            f"{inference_speedup('openvino-int8', 32):.2f}x faster (bf16 weights: {inference_speedup('bf16', 32):.2f}x)",
            INFERENCE,
            "speed.md#the-inference-path",
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
            f"{pct(study_teacher(ALBERT_CONVERSION, RT, 'e128-all@ep2'))}% ({len(study_cells(ALBERT_CONVERSION, RT)['e128-all'])} "
            "seeds each)",
            ALBERT_CONVERSION,
            "albert-sop.md#the-conversion-study",
        ),
        (
            "The same one-shared-layer Albert-SOP on `bbc-news` (two epochs per stage at batch 16, the zoo's recipe)",
            f"{pct(study_mean(ALBERT_CONVERSION, BBC, 'e128-all@ep2@bs16'))}% against the teacher's "
            f"{pct(study_teacher(ALBERT_CONVERSION, BBC, 'e128-all@ep2@bs16'))}%, "
            f"{study_retention(ALBERT_CONVERSION, BBC, 'e128-all@ep2@bs16'):.1%} of it "
            f"({len(study_cells(ALBERT_CONVERSION, BBC)['e128-all@ep2@bs16'])} seeds)",
            ALBERT_CONVERSION,
            "albert-sop.md#the-conversion-study",
        ),
        (
            f"Albert-SOP ({sop('pretrain/sop', 'num_parameters') / 1e6:.1f}M parameters) pretrained with SOP / with "
            "NSP, held-out sentence-order accuracy",
            f"{pct(sop_acc['sop'])}% / {pct(sop_acc['nsp'])}% (chance: 50%): small-scale, not a usable ALBERT",
            SOP,
            "albert-sop-study.md#from-scratch",
        ),
        (
            "Albert-SOP converted exactly from MiniLM-L6 (E 384), 3 epochs of MLM + SOP with the MLM loss weighted 0.1: "
            "the SOP model's held-out SOP / NSP accuracy, and the NSP model's on SOP",
            f"{pct(sop_weighted['sop']['sop_accuracy'])}% / {pct(sop_weighted['sop']['nsp_accuracy'])}%, and "
            f"{pct(sop_weighted['nsp']['sop_accuracy'])}% (chance: 50%): the paper's asymmetry, weakly",
            SOP_MINILM_WEIGHTED,
            "albert-sop-study.md#weighting-the-mlm-loss-sentence-order-is-learned",
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


def table_demo_albert(page: str) -> list[str]:
    """The demo zoo's Albert-SOP trained other ways (scripts/demo_albert_study.py): per variant, the seeds' accuracy,
    the mean and the lowest retention of the zoo's teacher, and the median training time."""
    data = DEMO_ALBERT.data
    lines = table_start(
        page,
        DEMO_ALBERT,
        f" ({data['setup']['machine']}; the zoo's teacher: {pct(data['teacher_accuracy'])}%)",
        [
            "variant",
            "training texts",
            "batch",
            "loss",
            "test accuracy % (seeds)",
            "retention",
            "lowest seed's",
            "seconds",
        ],
        "lrrlrrrr",
    )
    for variant, runs in study_cells(DEMO_ALBERT, "bbc-news").items():
        summary = seeds_summary(runs)
        accs = ", ".join(pct(a) for a in summary["accuracies"])
        lines.append(
            f"| `{variant}` | {runs[0]['training_texts']:,} | {runs[0]['batch_size']} | {runs[0]['loss']} | "
            f"{pct(summary['mean'])} ({accs}) | {summary['retention'] * 100:.1f}% | "
            f"{summary['lowest_retention'] * 100:.1f}% | {summary['median_seconds']:.0f} |"
        )
    return lines


TABLES: dict[str, Callable[[str], list[str]]] = {
    "headline": table_headline,
    "bench": table_bench,
    "inference": table_inference,
    "runtimes": table_runtimes,
    "runtimes-avx2": table_runtimes_avx2,
    "training-cost": table_training_cost,
    "albert-parameters": table_albert_parameters,
    "sop-study": table_sop_study,
    "sop-converted": table_sop_converted,
    "sop-distilled": table_sop_distilled,
    "sop-probe": table_sop_probe,
    "sop-prior": table_sop_prior,
    "sop-weight": table_sop_weight,
    "augment-timing": table_augment_timing,
    "layer-drop": table_layer_drop,
    "distillation": table_distillation,
    "pruning": table_pruning,
    "pruning-frontier": table_pruning_frontier,
    "pruning-layers": table_pruning_layers,
    "albert-conversion": table_albert_conversion,
    "demo-albert": table_demo_albert,
}
