"""The committed result files under docs/results/ as the documentation pages quote them: each file with the machine
kind it records, and what the pages read from it (accuracies, paired speed ratios, ...).

Used by doc_tables.py and doc_claims.py (see doc_figures.py). Reads JSON only.
"""

from __future__ import annotations

import functools
import json
import os
import re
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from study_report import mean_and_deviation, sop_finetune_runs, teacher_reference

ROOT = Path(__file__).resolve().parents[1]
RT, BBC = "rotten-tomatoes", "bbc-news"
# the splits' sizes (split seed 42) that some figures are computed with; the documentation tests check them
BBC_TEST_ARTICLES, BBC_TRAIN, RT_TRAIN = 221, 1_784, 10_200


# ------------------------------------------------------------------------------------------------ result files


@functools.cache
def load(path: str) -> dict:
    """A committed result file, by its path from the repository root."""
    return json.loads((ROOT / path).read_text(encoding="utf-8"))


def paired(numerator: list[float], denominator: list[float]) -> float:
    """The median over rounds of numerator[i] / denominator[i]: the speed ratio of two rows timed in the same
    interleaved rounds (the bench's statistic; a round slow for both cancels out)."""
    if len(numerator) != len(denominator) or not numerator:
        raise ValueError(
            f"paired rounds need equal, non-empty sample lists; got {len(numerator)} and {len(denominator)}"
        )
    return statistics.median(a / b for a, b in zip(numerator, denominator, strict=True))


def pct(value: float) -> str:
    """An accuracy (0..1) as a percentage with one decimal, as the pages write it."""
    return f"{value * 100:.1f}"


def cpu_kind(machine: dict, note: str = "") -> str:
    """The machine kind a result file's `machine` record names: its bf16 units, or AVX2 when it has none."""
    units = machine.get("bf16_units") or []
    if "amx_bf16" in units:
        return "AMX"
    if "avx512_bf16" in units:
        return "AVX512-BF16"
    if machine.get("native_bf16") is False:
        return "AVX2" if "AVX2" in note else "no native bf16"
    raise ValueError(f"the machine record {machine} names no bf16 units and no native_bf16 flag")


@dataclass(frozen=True)
class Source:
    """A committed result file and the machine kind it records, as a page must name it near its figures."""

    path: str
    machine: Callable[[dict], str]

    @property
    def data(self) -> dict:
        return load(self.path)

    @property
    def kind(self) -> str:
        return self.machine(self.data)


def _bf16_flag(on: bool | None) -> str:
    if on is None:
        raise ValueError("the result file records no bf16 setting")
    return "native bf16 units" if on else "no bf16 units"


LAYER_DROP = Source("docs/results/layer_drop_study/results.json", lambda d: _bf16_flag(d["setup"].get("bf16")))
DISTILL = Source(
    "docs/results/distillation/full-budget/results.json", lambda d: _bf16_flag(d["setup"]["bf16_autocast"])
)
DISTILL_REDUCED = Source("docs/results/distillation/results.json", lambda d: "machine not recorded")


def _named_cpu_kind(data: dict) -> str:
    """The CPU kind a study script's `machine` line names in brackets, first in them: `compactbert.hardware.
    machine_description`'s "(AMX-BF16, ...)", "(AVX512-BF16)", "(AVX2, no bf16 units)", or the older "(AMX)" and
    "(AVX2 only)" of files written before it; as pages name it ("AMX", "AVX512-BF16", "AVX2"). A study resumed in
    several sessions (`sessions`) names one kind only when every session ran on it."""
    kinds = set()
    for session in data.get("sessions") or [data]:
        found = re.search(r"\((AMX(?:-BF16)?|AVX512-BF16|AVX2)[ ,)]", session["machine"])
        if found is None:
            raise ValueError(
                f"the machine line {session['machine']!r} names no CPU kind (AMX, AVX512-BF16 or AVX2) in brackets"
            )
        kinds.add({"AMX-BF16": "AMX"}.get(found.group(1), found.group(1)))
    if len(kinds) > 1:
        raise ValueError(f"the study's sessions ran on different kinds of CPU ({', '.join(sorted(kinds))})")
    return kinds.pop()


SOP = Source("docs/results/albert_sop/results.json", _named_cpu_kind)
# the SOP / NSP rerun from MiniLM converted to an Albert-SOP (scripts/albert_sop_study.py --start): its results file
# names cores and load only; the run's machine, checked in /proc/cpuinfo, is in the study's note and the page
SOP_CONVERTED = Source("docs/results/albert_sop_converted/results.json", lambda d: "AVX512-BF16 (AMD EPYC)")
# the same comparison continued from a converted start that was distilled first: its file names the CPU's bf16 units
SOP_DISTILLED = Source("docs/results/albert_sop_distilled/results.json", _named_cpu_kind)
# the SOP / NSP rerun from the converted start with the MLM head's bias at the token prior (--mlm-bias-prior)
SOP_PRIOR = Source("docs/results/albert_sop_prior/results.json", _named_cpu_kind)
# the same comparison from MiniLM converted exactly (E 384, nothing shared), and from it and the E 128 starts (plain, and
# general-distilled by albert_pretrain_probe) with the MLM loss weighted 0.1 against the sentence loss (--mlm-weight 0.1)
SOP_MINILM = Source("docs/results/albert_sop_minilm/results.json", _named_cpu_kind)
SOP_WEIGHTED = Source("docs/results/albert_sop_weighted/results.json", _named_cpu_kind)
SOP_MINILM_WEIGHTED = Source("docs/results/albert_sop_minilm_weighted/results.json", _named_cpu_kind)
SOP_GENERAL_WEIGHTED = Source("docs/results/albert_sop_general_weighted/results.json", _named_cpu_kind)
# the probe of that collapse (scripts/albert_pretrain_probe.py): per start, a short MLM + SOP continuation
SOP_PROBE = Source("docs/results/albert_pretrain_probe/results.json", _named_cpu_kind)
BENCH = Source("docs/results/bench/bench.json", lambda d: cpu_kind(d["machine"], d.get("note", "")))
BENCH_AVX2 = Source("docs/results/bench/avx2/bench.json", lambda d: cpu_kind(d["machine"], d.get("note", "")))
BENCH_AVX2_PAIR = Source(
    "docs/results/bench/avx2-top2-batch32/bench.json", lambda d: cpu_kind(d["machine"], d.get("note", ""))
)
BENCH_BACKENDS = Source("docs/results/bench/backends/bench.json", lambda d: cpu_kind(d["machine"], d.get("note", "")))
# the same rows on an AVX2-only CPU (no AVX512, no bf16 units): fp32 on every backend
BENCH_BACKENDS_AVX2 = Source(
    "docs/results/bench/backends-avx2/bench.json", lambda d: cpu_kind(d["machine"], d.get("note", ""))
)
# every row on OpenVINO (`compactbert bench --backend openvino --check`), and its two batch-1 bf16 parity pairs re-timed
BENCH_OPENVINO = Source("docs/results/bench/openvino/bench.json", lambda d: cpu_kind(d["machine"], d.get("note", "")))
BENCH_OPENVINO_PARITY = Source(
    "docs/results/bench/openvino-parity-bf16/bench.json", lambda d: cpu_kind(d["machine"], d.get("note", ""))
)
# int8 on rotten-tomatoes: each OpenVINO export's export.json, verified on the 1,276 test reviews
INT8_RT = Source("docs/results/int8_rotten_tomatoes/results.json", _named_cpu_kind)
# the ONNX Runtime and OpenVINO int8 exports of a bbc-news fine-tune on an AVX2-only CPU (no VNNI)
INT8_AVX2 = Source("docs/results/int8_avx2/results.json", _named_cpu_kind)
# int8 with the attention quantized or not, and bf16, on two fine-tuned classifiers (scripts/int8_attention_study.py)
INT8_ATTENTION = Source("docs/results/int8_attention/results.json", _named_cpu_kind)
INFERENCE = Source("docs/results/bench/inference.json", lambda d: cpu_kind(d["machine"], d.get("note", "")))
TRAINING_COST = Source("docs/results/training_cost/results.json", lambda d: cpu_kind(d["setup"]["machine"]))
PRUNING = Source(
    "docs/results/pruning/results.json",
    lambda d: d["setup"]["machine"].rsplit("(", 1)[1].rstrip(")"),  # "2-core AMD EPYC (AVX512-BF16)"
)
ALBERT_CONVERSION = Source(
    "docs/results/albert_conversion/results.json", lambda d: d["setup"]["machine"].rsplit("(", 1)[1].rstrip(")")
)
AUGMENT = Source("docs/results/augment_timing/results.json", lambda d: "CPU flags not recorded")
AUGMENT_MLM = Source("docs/results/augment_mlm/results.json", lambda d: d["machine"].rsplit("(", 1)[1].rstrip(")"))
DEMO_BUILD = Source(
    "docs/results/demo_build/results.json", lambda d: d["build"]["machine"].rsplit("(", 1)[1].rstrip(")")
)
# the same build trained in fp32 where the CPU has bf16 units (scripts/demo_build_time.py --fp32)
DEMO_BUILD_FP32 = Source(
    "docs/results/demo_build_fp32/results.json", lambda d: d["build"]["machine"].rsplit("(", 1)[1].rstrip(")")
)
DEMO_ALBERT = Source(
    "docs/results/demo_albert/results.json", lambda d: d["setup"]["machine"].rsplit("(", 1)[1].rstrip(")")
)
# held-out texts that nearly repeat a training text, and the demo zoo scored without them
# (scripts/near_duplicates_study.py)
NEAR_DUPLICATES = Source("docs/results/near_duplicates/results.json", _named_cpu_kind)
# what the demo's screenshot shows in figures, and how soon the app was ready (scripts/demo_screenshot.py)
DEMO_SCREENSHOT = Source(
    "docs/results/demo_screenshot/results.json", lambda d: d["machine"].rsplit("(", 1)[1].rstrip(")")
)


ZOO_NAMES = ("minilm-top3-bbc-news", "minilm-tinybert4-bbc-news", "albert-sop-small-bbc-news")


def _zoo(name: str) -> Source:
    """A zoo build's results (scripts/zoo_report.py): its build record names the CPU, e.g. '2-core AMD EPYC (AVX512-BF16)'."""
    return Source(
        f"docs/results/zoo/{name}/results.json", lambda d: _named_cpu_kind({"machine": d["build"]["machine"]})
    )


def _zoo_int8(name: str) -> Source:
    """The int8 export of a zoo build (`compactbert export ... --dtype int8`, its export.json): the rest of the graph
    ran in bf16, which OpenVINO picks only on a CPU with bf16 units."""
    return Source(
        f"docs/results/zoo/{name}/openvino-int8-export.json",
        lambda d: _bf16_flag(d["verification"]["rest_precision"] == "bf16"),
    )


ZOO_TOP3, ZOO_TINYBERT, ZOO_ALBERT = (_zoo(n) for n in ZOO_NAMES)
ZOO_INT8 = {n: _zoo_int8(n) for n in ZOO_NAMES}


# ----------------------------------------------------------------------------------- what the result files say


def ld_accuracies(task: str, strategy: str, k: int) -> list[float]:
    """Layer-drop study: the test accuracies over seeds of one (task, strategy, K); K = 0 is the full model."""
    runs = LAYER_DROP.data["runs"].values()
    values = [
        r["test_accuracy"]
        for r in runs
        if isinstance(r, dict) and (r["task"], r["strategy"], r["k"]) == (task, strategy, k)
    ]
    if not values:
        raise KeyError(f"no layer-drop run for {task} / {strategy} / K={k}")
    return values


def ld_mean(task: str, strategy: str, k: int) -> float:
    return statistics.fmean(ld_accuracies(task, strategy, k))


def ld_delta(task: str, strategy: str, k: int) -> str:
    """Points from the full model, signed, as the table's "Δ full" column."""
    return f"{(ld_mean(task, strategy, k) - ld_mean(task, 'full', 0)) * 100:+.1f}"


def ld_frozen_values(task: str, strategy: str, k: int) -> list[float]:
    """The no-retraining accuracies (each seed's fine-tuned full model with the layers removed, as it is)."""
    values = [
        r["test_accuracy_no_retraining"]
        for name, rows in LAYER_DROP.data["runs"].items()
        if name.endswith("/no-retraining")
        for r in rows
        if (r["task"], r["strategy"], r["k"]) == (task, strategy, k)
    ]
    if not values:
        raise KeyError(f"no no-retraining run for {task} / {strategy} / K={k}")
    return values


def ld_frozen(task: str, strategy: str, k: int) -> float:
    return statistics.fmean(ld_frozen_values(task, strategy, k))


def ld_relative(layers: int) -> str:
    return f"{LAYER_DROP.data['latency'][str(layers)]['relative']:.2f}"


def ld_wall(task: str, strategy: str = "full", k: int = 0, what: str = "wall_seconds") -> list[float]:
    runs = LAYER_DROP.data["runs"].values()
    return [r[what] for r in runs if isinstance(r, dict) and (r["task"], r["strategy"], r["k"]) == (task, strategy, k)]


def ld_minutes(task: str | None = None) -> str:
    runs = [r for r in LAYER_DROP.data["runs"].values() if isinstance(r, dict) and task in (None, r["task"])]
    return f"{sum(r['wall_seconds'] for r in runs) / 60:.0f}"


def dist(task: str, cell: str, what: str = "test_accuracy") -> float:
    """Distillation study (full budget): one cell's field."""
    return DISTILL.data["runs"][f"{task}/{cell}"][what]


def dist_points(task: str, cell: str, other: str) -> str:
    """Points between two cells' test accuracies, signed."""
    return f"{(dist(task, cell) - dist(task, other)) * 100:+.1f}"


def dist_speed(student: str) -> float:
    """The teacher's forward time / the student's, paired over the interleaved rounds."""
    speed = DISTILL.data["speed"]
    return paired(speed["teacher"]["samples_ms"], speed[student]["samples_ms"])


def bench_row(model: str, dtype: str, batch: int, source: Source = BENCH) -> dict:
    for row in source.data["results"]:
        if (row["model"], row["dtype"], row["batch"]) == (model, dtype, batch):
            return row
    raise KeyError(f"{source.path} has no row {model} / {dtype} / batch {batch}")


def runtime_speedup(model: str, dtype: str, batch: int, runtime: str, source: Source = BENCH_BACKENDS) -> dict:
    """A runtime backend against PyTorch on the same bench row (`runtime_speedups` of a `--backend` report)."""
    for row in source.data["runtime_speedups"]:
        if (row["model"], row["dtype"], row["batch"], row["backend"]) == (model, dtype, batch, runtime):
            return row
    raise KeyError(f"{source.path} has no runtime row {model} / {dtype} / batch {batch} / {runtime}")


def inference_speedup(variant: str, batch: int) -> float:
    """Paired speedup of an inference variant over fp32 (the rounds are interleaved)."""
    timings = INFERENCE.data["timings"][f"batch {batch}"]
    return paired(timings["fp32"]["samples_ms"], timings[variant]["samples_ms"])


def inference_variant(variant: str) -> dict:
    return next(v for v in INFERENCE.data["variants"] if v["variant"] == variant)


def zoo_speedup(source: Source) -> float:
    latency = source.data["comparison"]["latency"]
    return paired(latency["source"]["samples_ms"], latency["model"]["samples_ms"])


def sop(cell: str, what: str) -> float:
    return SOP.data["cells"][cell][what]


def sop_runs(objective: str, task: str) -> list[dict]:
    """The from-scratch SOP study's fine-tuning runs of one pretrained model on one task, in seed order."""
    return sop_finetune_runs(SOP.data["cells"], objective, task)


def sop_seeds() -> list[int]:
    """The seeds the from-scratch SOP study fine-tuned with, in the order its runs were made (from its cells)."""
    return list(dict.fromkeys(c["seed"] for name, c in SOP.data["cells"].items() if name.startswith("finetune/")))


def sop_tuned(objective: str, task: str) -> str:
    """Its test accuracy over the seeds, mean ± standard deviation in points (as the study's report writes it)."""
    return mean_and_deviation([run["test_accuracy"] for run in sop_runs(objective, task)])


def cost_step(what: str) -> dict:
    return TRAINING_COST.data["step"][what]


def augment_row(task: str, mlm: str, dtype: str) -> dict:
    return next(r for r in AUGMENT.data["rows"] if (r["task"], r["mlm"], r["dtype"]) == (task, mlm, dtype))


def study_cells(source: Source, task: str) -> dict[str, list[dict]]:
    """A seeded study (pruning, Albert conversion): the runs of `task` grouped by cell (the teacher, each cell's seeds)."""
    cells: dict[str, list[dict]] = {}
    for run in source.data["runs"].values():
        if run["task"] == task:
            cells.setdefault(run["cell"], []).append(run)
    return cells


def study_mean(source: Source, task: str, cell: str) -> float:
    """A seeded study: a cell's mean test accuracy over its seeds."""
    return statistics.fmean(r["test_accuracy"] for r in study_cells(source, task)[cell])


def study_teacher(source: Source, task: str, cell: str) -> float:
    """A seeded study: the mean accuracy of the teachers a cell's runs were trained from (their `teacher_accuracy`;
    runs made before it was recorded: the task's first teacher run); for the teacher itself, the mean of its runs."""
    cells = study_cells(source, task)
    return teacher_reference(cells[cell], cells.get("teacher", []))


def study_retention(source: Source, task: str, cell: str) -> float:
    """A seeded study: a cell's mean test accuracy / the mean accuracy of the teachers its runs came from."""
    return study_mean(source, task, cell) / study_teacher(source, task, cell)


def run_retention(source: Source, run: dict) -> float:
    """One run's test accuracy / its teacher's."""
    return run["test_accuracy"] / teacher_reference([run], study_cells(source, run["task"]).get("teacher", []))


# ----------------------------------------------------------------------------------- what a generated table starts with


def _link(page: str, target: str) -> str:
    """`target` (a path from the repository root) relative to the folder of `page`."""
    return os.path.relpath(ROOT / target, (ROOT / page).parent).replace(os.sep, "/")


def _source_line(page: str, source: Source, extra: str = "") -> str:
    return f"*Measured on: {source.kind}{extra}. Source: [{Path(source.path).name}]({_link(page, source.path)}).*"


def table_start(page: str, source: Source, extra: str, columns: list[str], align: str) -> list[str]:
    """A generated table's first lines: where its figures were measured (`_source_line`), a blank line, the header,
    and the alignment row (`align`: one letter per column, `l` left or `r` right)."""
    if len(align) != len(columns) or set(align) - {"l", "r"}:
        raise ValueError(f"align {align!r} needs one of l / r per column ({len(columns)} columns)")
    rule = "|" + "".join("---:|" if a == "r" else "---|" for a in align)
    return [_source_line(page, source, extra), "", "| " + " | ".join(columns) + " |", rule]


def int8_avx2(export: str) -> dict:
    """The verification record of one of the exports of int8_avx2/results.json ("onnx int8", "openvino int8")."""
    return INT8_AVX2.data["exports"][export]["export"]["verification"]


def int8_rt(export: str) -> dict:
    """The verification record of one of the rotten-tomatoes exports (int8_rotten_tomatoes/results.json)."""
    return INT8_RT.data["exports"][export]["export"]["verification"]


def int8_attention(model: str, export: str) -> dict:
    """The verification record of one export of `model` (a folder the study ran) in int8_attention/results.json."""
    return INT8_ATTENTION.data["models"][model]["exports"][export]["verification"]


def int8_attention_speedups() -> list[float]:
    """How much faster the attention-quantized int8 graph ran than the export's own, every model and batch size."""
    return [
        t["attention_quantized_speedup"] for m in INT8_ATTENTION.data["models"].values() for t in m["timing"].values()
    ]
