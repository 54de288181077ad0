"""What the pages say in sentences, held to the result files (see doc_figures.py):

CLAIMS: per page, the text it must contain, rendered from a result file. The statements in words, the figures
that are outputs of the code and the figures no result file holds are in doc_findings.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from doc_results import (
    AUGMENT,
    BBC,
    BBC_TEST_ARTICLES,
    BBC_TRAIN,
    BENCH,
    BENCH_AVX2,
    BENCH_AVX2_PAIR,
    BENCH_BACKENDS,
    DEMO_BUILD,
    DISTILL,
    DISTILL_REDUCED,
    INFERENCE,
    LAYER_DROP,
    PRUNING,
    RT,
    RT_TRAIN,
    SOP,
    TRAINING_COST,
    ZOO_ALBERT,
    ZOO_TINYBERT,
    ZOO_TOP3,
    Source,
    augment_row,
    bench_row,
    cost_step,
    dist,
    dist_points,
    inference_speedup,
    inference_variant,
    ld_delta,
    ld_frozen,
    ld_minutes,
    ld_relative,
    ld_wall,
    paired,
    pct,
    sop,
    study_cells,
    zoo_speedup,
)
from doc_tables_speed import bench_peak

# ------------------------------------------------------------------------------------------------------- claims


@dataclass(frozen=True)
class Claim:
    """Text a page must contain, rendered from a result file (`text` is called with nothing: it reads the file)."""

    page: str
    source: Source
    text: Callable[[], str]


def claims(page: str, source: Source, *texts: Callable[[], str]) -> list[Claim]:
    return [Claim(page, source, t) for t in texts]


README, SHRINKING, RECIPES, TINYBERT = "README.md", "docs/shrinking.md", "docs/recipes.md", "docs/tinybert.md"
PRUNING_PAGE = "docs/pruning.md"

CLAIMS: list[Claim] = [
    *claims(
        SHRINKING,
        LAYER_DROP,
        lambda: f"K = 2 on `rotten-tomatoes`** ({ld_delta('rotten-tomatoes', 'bottom', 2)} points; every seed below",
        lambda: f"single-seed run is also the lowest at K = 2 ({ld_delta('bbc-news', 'bottom', 2)})",
        lambda: (
            f"second on `rotten-tomatoes` ({ld_delta('rotten-tomatoes', 'top', 2)}) behind even-alternate"
            f" ({ld_delta('rotten-tomatoes', 'even-alternate', 2)})"
        ),
        lambda: (
            f"lowest there ({ld_delta('rotten-tomatoes', 'top', 3)}, level with bottom's "
            f"{ld_delta('rotten-tomatoes', 'bottom', 3)}  and odd-alternate's {ld_delta('rotten-tomatoes', 'odd-alternate', 3)}"
        ),
        lambda: (
            f"even-alternate ({ld_delta('rotten-tomatoes', 'even-alternate', 3)}) and "
            f"symmetric ({ld_delta('rotten-tomatoes', 'symmetric', 3)}) keep the most"
        ),
        lambda: (
            f"({pct(min(ld_frozen('bbc-news', 'top', k) for k in (2, 3, 4)))}–"
            f"{pct(max(ld_frozen('bbc-news', 'top', k) for k in (2, 3, 4)))}% on 5-topic `bbc-news`, "
            f"{pct(ld_frozen('rotten-tomatoes', 'top', 2))}% on `rotten-tomatoes`, where each seed's model predicts a single class"
        ),
        lambda: f"4 of 6 layers take {ld_relative(4)} of the time, 3 take {ld_relative(3)}, 2 take {ld_relative(2)}.",
        lambda: f"**The whole study took {LAYER_DROP.data['timing']['wall_clock']}** of wall time",
        lambda: (
            f"took {min(ld_wall('rotten-tomatoes')):.0f}–{max(ld_wall('rotten-tomatoes')):.0f} s with them "
            f"({min(ld_wall('rotten-tomatoes', what='train_seconds')):.0f}–"
            f"{max(ld_wall('rotten-tomatoes', what='train_seconds')):.0f} s of training)"
        ),
        lambda: (
            f"the {sum(isinstance(r, dict) for r in LAYER_DROP.data['runs'].values())} runs sum to {ld_minutes()} "
            f"minutes (`rotten-tomatoes` {ld_minutes('rotten-tomatoes')}, `bbc-news` {ld_minutes('bbc-news')})"
        ),
    ),
]

DISTILLATION = "docs/distillation.md"


def _ms(row: str) -> str:
    return f"{DISTILL.data['speed'][row]['median_ms']:.0f} ms"


def _bbc_articles(cell: str, other: str) -> str:
    return f"{abs(dist(BBC, cell) - dist(BBC, other)) * BBC_TEST_ARTICLES:.0f} articles"


CLAIMS += [
    *claims(
        DISTILLATION,
        DISTILL,
        lambda: f"{sum(r['wall_seconds'] for r in DISTILL.data['runs'].values()) / 60:.1f} minutes of cells in all",
        lambda: (
            f"(medians: teacher {_ms('teacher')}, 3-layer students {_ms('3-layer student')}, TinyBert-4 "
            f"{_ms('TinyBert-4')})"
        ),
        lambda: (
            f"{dist_points(RT, 'top3-kd', 'top3-finetune')} points on `rotten-tomatoes` ({pct(dist(RT, 'top3-kd'))} "
            f"vs {pct(dist(RT, 'top3-finetune'))}) and {dist_points(BBC, 'top3-kd', 'top3-finetune')} on `bbc-news` "
            f"({pct(dist(BBC, 'top3-kd'))} vs {pct(dist(BBC, 'top3-finetune'))}, {_bbc_articles('top3-kd', 'top3-finetune')})"
        ),
        lambda: (
            f"match the teacher on `bbc-news` ({pct(dist(BBC, 'distil3-kd'))}%) and are "
            f"{(dist(RT, 'teacher') - dist(RT, 'distil3-kd')) * 100:.1f} points below it on `rotten-tomatoes`"
        ),
        lambda: f"the same start gets {pct(dist(BBC, 'distil3-labels'))}% / {pct(dist(RT, 'distil3-labels'))}%",
        lambda: (
            f"the soft targets add {dist_points(BBC, 'distil3-kd', 'distil3-labels')} / "
            f"{dist_points(RT, 'distil3-kd', 'distil3-labels')} points on top"
        ),
        lambda: (
            f"({pct(dist(RT, 'tinybert4'))}%, retention {dist(RT, 'tinybert4') / dist(RT, 'teacher'):.3f}) with "
            f"{dist(RT, 'tinybert4', 'num_parameters') / 1e6:.1f}M parameters**, "
            f"{(dist(RT, 'tinybert4') - max(dist(RT, 'top3-kd'), dist(RT, 'top3-finetune'))) * 100:.1f}–"
            f"{(dist(RT, 'tinybert4') - min(dist(RT, 'top3-kd'), dist(RT, 'top3-finetune'))) * 100:.1f} points above the "
            f"top-3 ShrunkBerts ({dist(RT, 'top3-kd', 'num_parameters') / 1e6:.1f}M;"
        ),
        lambda: (
            f"general stage it reached {pct(dist(RT, 'tinybert4-nogeneral'))}% "
            f"({(dist(RT, 'tinybert4') - dist(RT, 'tinybert4-nogeneral')) * 100:.1f} points below"
        ),
        lambda: f"stayed near chance** ({pct(dist(BBC, 'tinybert4'))}% / {pct(dist(BBC, 'tinybert4-nogeneral'))}%;",
        lambda: (
            f"on `rotten-tomatoes`, {dist_points(RT, 'tinybert4', 'tinybert4-nogeneral')} points (inside the noise)"
        ),
    ),
    *claims(
        DISTILLATION,
        ZOO_TINYBERT,
        lambda: f"reached {pct(ZOO_TINYBERT.data['metrics']['test']['accuracy'])}%: at this corpus size",
    ),
    *claims(
        DISTILLATION,
        DISTILL_REDUCED,
        lambda: (
            f"predicted the majority class ({pct(DISTILL_REDUCED.data['runs'][f'{RT}/tinybert4']['test_accuracy'])}%) "
            "after 50 steps"
        ),
    ),
]

AUGMENTING = "docs/augment.md"


def _augment_hours(task: str, examples: int) -> str:
    return f"{augment_row(task, 'bert-base-shaped (12x768)', 'bf16 autocast')['seconds_per_example'] * examples / 3600:.0f}"


CLAIMS += claims(
    AUGMENTING,
    AUGMENT,
    lambda: (
        f"load average {min(AUGMENT.data['meta']['load_average_at_end']):.0f}–"
        f"{max(AUGMENT.data['meta']['load_average_at_end']):.0f} at the end"
    ),
    lambda: (
        f"a review needed {augment_row(RT, 'bert-base-shaped (12x768)', 'fp32')['masked_sequences'] / 100:.0f} passes "
        f"on average, a news article {augment_row(BBC, 'bert-base-shaped (12x768)', 'bf16 autocast')['masked_sequences'] / 10:.0f} passes"
    ),
    lambda: (
        f"with a BERT-base MLM in bf16 takes about {_augment_hours(RT, RT_TRAIN)} hours here, BBC News' 1,784 articles about "
        f"{_augment_hours(BBC, BBC_TRAIN)} hours"
    ),
)

ALBERT_SOP = "docs/albert-sop.md"


def _sentence_loss(objective: str) -> str:
    logged = [e for e in SOP.data["cells"][f"pretrain/{objective}"]["log_history"] if "sentence_loss" in e]
    return f"{logged[-1]['sentence_loss']:.2f}"


def _sop_range(task: str) -> str:
    values = sorted(sop(f"finetune/{o}/{task}", "test_accuracy") for o in ("sop", "nsp"))
    return f"{pct(values[0])}–{pct(values[1])}%"


CLAIMS += claims(
    ALBERT_SOP,
    SOP,
    lambda: f"4 layers all shared: {sop('pretrain/sop', 'num_parameters') / 1e6:.1f}M parameters",
    lambda: f"The whole study took **{int(SOP.data['wall_s'] // 60)} min {SOP.data['wall_s'] % 60:.0f} s**",
    lambda: f"could not do SOP ({pct(sop('pretrain/nsp', 'sop_accuracy'))}%, chance)",
    lambda: f"did not solve NSP ({pct(sop('pretrain/sop', 'nsp_accuracy'))}%, chance;",
    lambda: f"sentence loss fell to {_sentence_loss('sop')} / {_sentence_loss('nsp')}",
    lambda: f"({_sop_range(BBC)} on 5-topic `bbc-news`",
    lambda: f"{_sop_range(RT)} on `rotten-tomatoes`",
    lambda: f"a from-scratch {sop('pretrain/sop', 'num_parameters') / 1e6:.1f}M model",
)

SPEED = "docs/speed.md"
OURS_BERT_BASE = ["teacher", "shrunk-top2", "shrunk-top4", "shrunk-top6", "distil-6"]


def _speedup(model: str, dtype: str, batch: int, source: Source = BENCH) -> float:
    return bench_row(model, dtype, batch, source)["speedup_vs_teacher"]


def _range(values: list[float], fmt: str = ".2f", unit: str = "") -> str:
    return f"{min(values):{fmt}}–{max(values):{fmt}}{unit}"


def _runtime_speedups(batch: int) -> list[float]:
    """OpenVINO's paired speedups over PyTorch in bf16 at `batch`, every bench row of the `--backend` report."""
    return [
        r["speedup"]
        for r in BENCH_BACKENDS.data["runtime_speedups"]
        if (r["backend"], r["dtype"], r["batch"]) == ("openvino", "bf16", batch)
    ]


def _teacher_peak(backend: str) -> str:
    row = next(
        r
        for r in BENCH_BACKENDS.data["results"]
        if (r["model"], r["dtype"], r["batch"], r.get("backend", "torch")) == ("teacher", "bf16", 1, backend)
    )
    return f"{row['peak_fraction'] * 100:.0f}"


def _parity_checks(source: Source) -> list[dict]:
    return [c for c in source.data["checks"] if " = " in c["target"]]  # "shrunk-top2 = bert-10": time parity


def _parity_misses(source: Source) -> list[dict]:
    return [c for c in _parity_checks(source) if c["status"] != "met"]


def _per_round(model: str, baseline: str, dtype: str, batch: int, source: Source) -> list[float]:
    mine, theirs = bench_row(model, dtype, batch, source), bench_row(baseline, dtype, batch, source)
    return [a / b for a, b in zip(mine["samples_ms"], theirs["samples_ms"], strict=True)]


def _peak_fractions(dtype: str, source: Source = BENCH) -> str:
    return _range([bench_row(m, dtype, 32, source)["peak_fraction"] * 100 for m in OURS_BERT_BASE], ".0f", "%")


def _step_seconds() -> str:
    timings = cost_step("soft targets + labels")["timings_ms"]
    samples = [v for t in timings.values() for v in t["samples_ms"]]
    return f"{min(samples) / 1000:.1f}–{max(samples) / 1000:.1f} s"


def _epoch_ratios(run: str) -> list[float]:
    seconds = TRAINING_COST.data["epoch"]["seconds"]
    return [a / b for a, b in zip(seconds[run]["samples_s"], seconds["plain"]["samples_s"], strict=True)]


def _batching(texts: str) -> dict:
    return INFERENCE.data["batching"][texts]


def _threads() -> str:
    threads = INFERENCE.data["threads"]
    ratios = [
        paired(threads[f"{dtype}, 1 thread(s)"]["samples_ms"], threads[f"{dtype}, 2 thread(s)"]["samples_ms"])
        for dtype in ("fp32", "bf16")
    ]
    return _range(ratios, ".1f", "x")


CLAIMS += [
    *claims(
        SPEED,
        BENCH,
        lambda: f"({bench_peak('bf16', 32):.0f} GFLOP/s matmul rate measured alongside)",
        lambda: (
            f"({_range([_speedup('shrunk-top6', d, b) for d in ('fp32', 'bf16') for b in (1, 32)], unit='x')} on the "
            "AVX512-BF16 machine,"
        ),
        lambda: (
            f"**TinyBert-4 is {_speedup('tinybert-4', 'bf16', 32):.1f}x faster at batch 32 in bf16**, "
            f"{_speedup('tinybert-4', 'fp32', 32):.1f}x in fp32"
        ),
        lambda: f"but **{_speedup('tinybert-4', 'bf16', 1):.2f}x at batch 1 in bf16**",
        lambda: (
            f"({_speedup('bert-4-312', 'bf16', 1):.2f}x; TinyBert-4 / it: "
            f"{bench_row('tinybert-4', 'bf16', 1)['time_vs_baseline']:.3f})"
        ),
        lambda: (
            f"the bench times it at {bench_row('tinybert-4', 'fp32', 1)['median_ms']:.1f} ms on the AVX512-BF16 machine"
        ),
        lambda: (
            f"{sum(c['status'] == 'met' for c in _parity_checks(BENCH))} of the\n  {len(_parity_checks(BENCH))} pairs"
        ),
        lambda: (
            "the two misses are shrunk-top2 vs bert-10 at batch 1 ("
            + ", ".join(f"{c['value']:.3f} {c['dtype']}" for c in _parity_misses(BENCH) if c["batch"] == 1)
            + ")"
        ),
        lambda: (
            f"despite {bench_row('teacher', 'bf16', 32)['parameters'] / bench_row('albert-sop-base', 'bf16', 32)['parameters']:.0f}x "
            "fewer parameters"
        ),
        lambda: (
            f"{_peak_fractions('bf16')} in bf16 and {_peak_fractions('fp32')} in\n  fp32 on the AVX512-BF16 machine"
        ),
    ),
    *claims(
        SPEED,
        BENCH_AVX2,
        lambda: (
            f"{_speedup('shrunk-top6', 'fp32', 1, BENCH_AVX2):.2f}x / {_speedup('shrunk-top6', 'fp32', 32, BENCH_AVX2):.2f}x "
            "at batch 1 / 32 on the AVX2 one"
        ),
        lambda: (
            f"({_range([_speedup('tinybert-4', 'fp32', b, BENCH_AVX2) for b in (1, 32)], '.1f', 'x')} on the AVX2 machine)"
        ),
        lambda: (
            f"{sum(c['status'] == 'met' for c in _parity_checks(BENCH_AVX2))} of {len(_parity_checks(BENCH_AVX2))} fp32 pairs "
            f"(shrunk-top2 vs bert-10 at batch 32: {bench_row('shrunk-top2', 'fp32', 32, BENCH_AVX2)['time_vs_baseline']:.3f}, "
            f"per-round ratios {_range(_per_round('shrunk-top2', 'bert-10', 'fp32', 32, BENCH_AVX2))})"
        ),
        lambda: f"{_peak_fractions('fp32', BENCH_AVX2)} in fp32 on the AVX2 machine",
    ),
    *claims(
        SPEED,
        BENCH_AVX2_PAIR,
        lambda: (
            f"it is {bench_row('shrunk-top2', 'fp32', 32, BENCH_AVX2_PAIR)['time_vs_baseline']:.3f}, per-round "
            f"{_range(_per_round('shrunk-top2', 'bert-10', 'fp32', 32, BENCH_AVX2_PAIR), '.3f')}: met"
        ),
    ),
    *claims(
        SPEED,
        BENCH_BACKENDS,
        lambda: f"at batch 1 in bf16 OpenVINO runs {_range(_runtime_speedups(1), '.2f', 'x')} as fast as\n  PyTorch",
        lambda: f"at batch 32 in bf16 it gains {_range(_runtime_speedups(32), '.2f', 'x')}",
        lambda: (
            f"reaches {_teacher_peak('openvino')}% of this machine's bf16 matmul rate on OpenVINO, "
            f"{_teacher_peak('torch')}% on PyTorch"
        ),
    ),
    *claims(
        SPEED,
        INFERENCE,
        lambda: (
            f"(`configs/bench-bbc-news-minilm.yaml`, one epoch: {pct(inference_variant('fp32')['accuracy'])}% test accuracy)"
        ),
        lambda: (
            f"bf16 weights keep every prediction (the target: at least 99%) and are {inference_speedup('bf16', 32):.2f}x "
            "faster than fp32 at batch 32"
        ),
        lambda: f"gives {INFERENCE.data['timings']['batch 32']['bf16']['speedup_vs_fp32']:.2f}x)",
        lambda: (
            f"`torch.compile` in bf16 gains {(inference_speedup('compile-bf16', 32) / inference_speedup('bf16', 32) - 1) * 100:.0f}% "
            f"more at\nbatch 32 and at batch 1 ({inference_speedup('compile-bf16', 1):.2f}x against {inference_speedup('bf16', 1):.2f}x)"
        ),
        lambda: (
            f"(`compile-bf16-frozen`: {inference_speedup('compile-bf16-frozen', 32):.2f}x at batch 32, "
            f"{inference_speedup('compile-bf16-frozen', 1):.2f}x at batch 1)"
        ),
        lambda: (
            f"OpenVINO in bf16 is the fastest variant at batch 32 ({inference_speedup('openvino-bf16', 32):.2f}x fp32's "
            f"speed, against bf16's {inference_speedup('bf16', 32):.2f}x) with "
            f"{pct(inference_variant('openvino-bf16')['agreement_with_fp32'])}% of predictions kept, and level with bf16 "
            f"at batch 1 ({inference_speedup('openvino-bf16', 1):.2f}x against {inference_speedup('bf16', 1):.2f}x)"
        ),
        lambda: (
            f"faster than bf16 at batch 32 ({inference_speedup('onnxruntime-int8', 32):.2f}x) but slower at batch 1 "
            f"({inference_speedup('onnxruntime-int8', 1):.2f}x)"
        ),
        lambda: (
            f'(`quantize="int8"`, {inference_speedup("int8-dynamic", 32):.1f}x, '
            f"{pct(inference_variant('int8-dynamic')['agreement_with_fp32'])}% of predictions kept)"
        ),
        lambda: (
            f"made {_batching('rotten-tomatoes test (first 512)')['texts']} Rotten Tomatoes reviews "
            f"({_batching('rotten-tomatoes test (first 512)')['mean_tokens']:.0f} tokens\non average) "
            f"{paired(_batching('rotten-tomatoes test (first 512)')['unsorted']['samples_ms'], _batching('rotten-tomatoes test (first 512)')['sorted']['samples_ms']):.2f}x faster"
        ),
        lambda: (
            f"so it cannot help there ({paired(_batching('bbc-news test')['unsorted']['samples_ms'], _batching('bbc-news test')['sorted']['samples_ms']):.2f}x)"
        ),
        lambda: f"Two threads are {_threads()} faster than one",
    ),
    *claims(
        SPEED,
        TRAINING_COST,
        lambda: (
            f"({_range([cost_step('soft targets + labels')['ratio_vs_plain_plus_teacher'][k] for k in ('min', 'max')])} "
            f"for the soft-target step: single {_step_seconds()} steps"
        ),
        lambda: (
            f"the epoch ratios are tight ({_range(_epoch_ratios('distillation, cached'))} over "
            f"{len(_epoch_ratios('distillation, cached'))} rounds)"
        ),
        lambda: f"past the first epoch ({TRAINING_COST.data['epoch']['cache_filling_epoch_seconds']:.1f} s here",
        lambda: (
            f"{TRAINING_COST.data['cache_size']['soft targets + labels']['bytes_per_example']:.0f} bytes per example for soft targets"
        ),
        lambda: f"{_intermediate_bytes():,} bytes ({_intermediate_bytes() / 2**20:.1f} MiB) for the intermediate",
        lambda: f"(10,000 such examples: {_intermediate_bytes() * 10_000 / 2**30:.1f} GiB)",
    ),
]


def _intermediate_bytes() -> int:
    return int(
        TRAINING_COST.data["cache_size"]["TinyBERT intermediate (embeddings + hidden + attention scores)"][
            "bytes_per_example"
        ]
    )


PUBLISHING = "docs/publishing.md"


def _zoo_scores(source: Source) -> str:
    test, base = source.data["metrics"]["test"], source.data["comparison"]["source"]
    return f"{test['accuracy']:.4f} (macro-F1 {test['macro_f1']:.4f}) against {base['accuracy']:.4f} ({base['macro_f1']:.4f})"


def _zoo_ranges(source: Source) -> str:
    latency = source.data["comparison"]["latency"]
    return " vs ".join(f"{latency[w]['min_ms']:.1f}–{latency[w]['max_ms']:.1f} ms" for w in ("model", "source"))


CLAIMS += [
    *claims(
        PUBLISHING,
        ZOO_TOP3,
        lambda: f"reached test accuracy {_zoo_scores(ZOO_TOP3)} for the\n  unshrunk MiniLM",
        lambda: (
            f"and ran {zoo_speedup(ZOO_TOP3):.2f}x faster (paired over "
            f"{ZOO_TOP3.data['comparison']['latency']['repeats']} interleaved rounds, batch "
            f"{ZOO_TOP3.data['comparison']['latency']['batch_size']} x {ZOO_TOP3.data['comparison']['latency']['max_length']} tokens"
        ),
    ),
    *claims(
        PUBLISHING,
        ZOO_TINYBERT,
        lambda: f"a TinyBERT-4 student ({ZOO_TINYBERT.data['metrics']['num_parameters'] / 1e6:.1f}M parameters)",
        lambda: f"reached test accuracy {_zoo_scores(ZOO_TINYBERT)} for its teacher",
        lambda: (
            f"{zoo_speedup(ZOO_TINYBERT):.2f}x faster (batch 8 x 128 tokens, bf16, 10 interleaved rounds, paired; ranges "
            f"{_zoo_ranges(ZOO_TINYBERT)})"
        ),
    ),
    *claims(
        PUBLISHING,
        ZOO_ALBERT,
        lambda: (
            f"({ZOO_ALBERT.data['metrics']['num_parameters'] / 1e6:.1f}M parameters, "
            f"{ZOO_ALBERT.data['metrics']['num_parameters'] / ZOO_ALBERT.data['comparison']['source']['num_parameters']:.0%} of the teacher's)"
        ),
        lambda: (
            f"reached test accuracy {_zoo_scores(ZOO_ALBERT)} for its teacher "
            f"({ZOO_ALBERT.data['metrics']['test']['accuracy'] / ZOO_ALBERT.data['comparison']['source']['accuracy']:.1%} of it)"
        ),
        lambda: f"and ran at {zoo_speedup(ZOO_ALBERT):.2f}x its speed",
        lambda: (
            f"check_quality({ZOO_ALBERT.data['metrics']['test']['accuracy']:.4f}, "
            f"{ZOO_ALBERT.data['metrics']['test']['majority_accuracy']:.4f}, min_retention=0.98, "
            f"reference_accuracy={ZOO_ALBERT.data['comparison']['source']['accuracy']:.4f})"
        ),
    ),
    *claims(
        ALBERT_SOP,
        ZOO_ALBERT,
        lambda: (
            f"reached {pct(ZOO_ALBERT.data['metrics']['test']['accuracy'])}% test accuracy against its teacher's "
            f"{pct(ZOO_ALBERT.data['comparison']['source']['accuracy'])}% "
            f"({ZOO_ALBERT.data['metrics']['test']['accuracy'] / ZOO_ALBERT.data['comparison']['source']['accuracy']:.1%} of it) "
            f"with {ZOO_ALBERT.data['metrics']['num_parameters'] / 1e6:.1f}M parameters, "
            f"{ZOO_ALBERT.data['metrics']['num_parameters'] / ZOO_ALBERT.data['comparison']['source']['num_parameters']:.0%} of the teacher's"
        ),
    ),
    *claims(
        PRUNING_PAGE,
        PRUNING,
        lambda: (
            f"({pct(PRUNING.data['runs']['rotten-tomatoes/teacher']['test_accuracy'])}%, then "
            f"{pct(PRUNING.data['runs']['rotten-tomatoes/teacher@run2']['test_accuracy'])}% on 2026-12-04"
        ),
        lambda: (
            "(the default's three seeds span "
            f"{pct(min(r['test_accuracy'] for r in study_cells(PRUNING, RT)['pruned-labels']))}–"
            f"{pct(max(r['test_accuracy'] for r in study_cells(PRUNING, RT)['pruned-labels']))})"
        ),
    ),
    *claims(
        PRUNING_PAGE,
        AUGMENT,
        lambda: (
            f"training texts would take about {_augment_rt_hours():.0f} hours at the measured "
            f"{augment_row(RT, 'minilm-shaped (6x384)', 'fp32')['seconds_per_example']:.2f} s per text"
        ),
    ),
]


def _augment_rt_hours() -> float:
    return augment_row(RT, "minilm-shaped (6x384)", "fp32")["seconds_per_example"] * RT_TRAIN / 3600


DEMO = "docs/demo.md"


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)} min {round(seconds % 60):.0f} s"


def _family_seconds() -> float:
    trained = DEMO_BUILD.data["build"]["trained_seconds"]
    return sum(trained[name] for name in ("tinybert-4-pruned", "distilled-3", "albert-sop-e128-share-all"))


def _demo_acc(name: str) -> str:
    return f"{DEMO_BUILD.data['test_accuracy'][name] * 100:.1f}%"


CLAIMS += claims(
    DEMO,
    DEMO_BUILD,
    lambda: f"**The first build took {_minutes(DEMO_BUILD.data['build']['seconds'])}** of wall time",
    lambda: (
        f"({DEMO_BUILD.data['build']['seconds']:.0f} s, {len(DEMO_BUILD.data['test_accuracy'])} models, on a "
        f"{DEMO_BUILD.data['build']['machine'].replace(' (', ' with ').rstrip(')')}, nothing"
    ),
    lambda: f"students of other families ({_family_seconds():.0f} s of it)",
    lambda: f"teacher {_demo_acc('teacher')};",
    lambda: (
        "K = 3 students: "
        + ", ".join(
            f"{s} {_demo_acc(f'shrunk-{s}-3')}"
            for s in ("top", "bottom", "even-alternate", "odd-alternate", "symmetric", "contribution")
        )
        + ";"
    ),
    lambda: (
        f"TinyBert-4 pruned {_demo_acc('tinybert-4-pruned')}, distilled 3-layer {_demo_acc('distilled-3')}, "
        f"Albert-SOP {_demo_acc('albert-sop-e128-share-all')}."
    ),
)


CLAIMS += claims(
    PRUNING_PAGE,
    PRUNING,
    lambda: (
        f"(seed 2, {pct(PRUNING.data['runs']['rotten-tomatoes/random-stages/s2']['test_accuracy'])}%: every review"
    ),
)
