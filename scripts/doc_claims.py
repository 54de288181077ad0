"""What the pages say in sentences, held to the result files (see doc_figures.py):

CLAIMS: per page, the text it must contain, rendered from a result file. The statements in words, the figures
that are outputs of the code and the figures no result file holds are in doc_findings.py.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass

from doc_results import (
    ALBERT_CONVERSION,
    AUGMENT,
    AUGMENT_MLM,
    BBC,
    BBC_TEST_ARTICLES,
    BBC_TRAIN,
    DISTILL,
    DISTILL_REDUCED,
    LAYER_DROP,
    PRUNING,
    RT,
    RT_TRAIN,
    SOP,
    SOP_GENERAL_WEIGHTED,
    SOP_MINILM,
    SOP_MINILM_WEIGHTED,
    SOP_WEIGHTED,
    ZOO_ALBERT,
    ZOO_INT8,
    ZOO_NAMES,
    ZOO_TINYBERT,
    ZOO_TOP3,
    Source,
    augment_row,
    dist,
    dist_points,
    ld_delta,
    ld_frozen,
    ld_minutes,
    ld_relative,
    ld_wall,
    pct,
    run_retention,
    sop,
    sop_runs,
    sop_seeds,
    sop_tuned,
    study_cells,
    zoo_speedup,
)
from study_report import chance_interval_points

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
SOP_STUDY = "docs/albert-sop-study.md"


def _sentence_loss(objective: str) -> str:
    """The training sentence loss over the last epoch (the mean of its logged steps: one logged step is noisy)."""
    logged = [e for e in SOP.data["cells"][f"pretrain/{objective}"]["log_history"] if "sentence_loss" in e]
    last = max(e["epoch"] for e in logged)
    return f"{statistics.fmean(e['sentence_loss'] for e in logged if e['epoch'] > last - 1):.2f}"


def _sop_seeds() -> list[int]:
    """The seeds the from-scratch study fine-tuned with, in the order its sessions ran them (from the cells, not the
    budget: a seed the page names has runs in the file); every model and task must have been tuned with each."""
    seeds = sop_seeds()
    for objective in ("sop", "nsp"):
        for task in (BBC, RT):
            ran = sorted(run["seed"] for run in sop_runs(objective, task))
            if ran != sorted(seeds):
                raise ValueError(f"the SOP study tuned {objective} on {task} with seeds {ran}, not all of {seeds}")
    return seeds


def _sop_sessions_words() -> str:
    count = len(SOP.data["sessions"])
    words = {1: "one", 2: "two", 3: "three", 4: "four"}
    return f"{words.get(count, count)} session{'s' if count > 1 else ''}"


def _sop_later_seeds() -> str:
    """The seeds that the study's last session with fine-tuning cells ran ("1 and 2")."""
    tuned = [
        [name for name in session.get("cells", []) if name.startswith("finetune/")] for session in SOP.data["sessions"]
    ]
    last = [names for names in tuned if names][-1]
    return " and ".join(map(str, dict.fromkeys(SOP.data["cells"][name]["seed"] for name in last)))


def _seed_extreme(objective: str, task: str, which) -> str:
    return pct(which(run["test_accuracy"] for run in sop_runs(objective, task)))


def _nsp_ahead_on_every_seed() -> str:
    """ "on every seed" while the NSP model's lowest seed beats the SOP model's best on both tasks."""
    ahead = all(
        min(r["test_accuracy"] for r in sop_runs("nsp", task)) > max(r["test_accuracy"] for r in sop_runs("sop", task))
        for task in (BBC, RT)
    )
    return "on every seed" if ahead else "on average (not on every seed)"


def _nsp_mlm_higher() -> str:
    higher = sop("pretrain/nsp", "mlm_accuracy") > sop("pretrain/sop", "mlm_accuracy")
    return "the higher one" if higher else "the lower one"


def _chance_interval() -> str:
    """The 95% interval of a coin around 50% on the study's held-out pairs, in points (as its report computes it)."""
    return f"{chance_interval_points(sop('pretrain/sop', 'pairs')['eval_sop']):.1f}"


CLAIMS += claims(
    SOP_STUDY,
    SOP,
    lambda: f"4 layers all shared: {sop('pretrain/sop', 'num_parameters') / 1e6:.1f}M parameters",
    lambda: f"pretrained on the bodies of {sop('pretrain/sop', 'documents')['train']:,} `bbc-news` training articles",
    lambda: f"({sop('pretrain/sop', 'train')['global_step']:,} steps of\nbatch 32 each",
    lambda: f"evaluated on {sop('pretrain/sop', 'documents')['eval']} held-out training articles",
    lambda: f"({sop('pretrain/sop', 'pairs')['eval_sop']} pairs per task; chance 50% ± {_chance_interval()} points)",
    lambda: f"The whole study took **{int(SOP.data['wall_s'] // 60)} min {SOP.data['wall_s'] % 60:.0f} s**",
    lambda: f"(SOP {pct(sop('pretrain/sop', 'sop_accuracy'))}%, NSP {pct(sop('pretrain/nsp', 'nsp_accuracy'))}%)",
    lambda: f"did sentence order above chance ({pct(sop('pretrain/nsp', 'sop_accuracy'))}%;",
    lambda: f"did not solve NSP ({pct(sop('pretrain/sop', 'nsp_accuracy'))}%, chance;",
    lambda: f"sentence loss over the last epoch averaged {_sentence_loss('sop')} / {_sentence_loss('nsp')}",
    lambda: (
        f"accuracy reached {pct(sop('pretrain/sop', 'mlm_accuracy'))}% / {pct(sop('pretrain/nsp', 'mlm_accuracy'))}%"
    ),
    lambda: f"2 epochs, with **{len(_sop_seeds())} seeds** ({', '.join(map(str, _sop_seeds()))})",
    lambda: f"in {_sop_sessions_words()}: pretraining and the seed-42",
    lambda: f"then fine-tuning seeds {_sop_later_seeds()}, with",
    lambda: f"the NSP-pretrained model did better on both tasks, {_nsp_ahead_on_every_seed()}",
    lambda: f"{sop_tuned('nsp', BBC)}% on 5-topic `bbc-news`",
    lambda: (
        f"its lowest seed {_seed_extreme('nsp', BBC, min)}%) against the SOP-pretrained model's {sop_tuned('sop', BBC)}%"
    ),
    lambda: f"(its best {_seed_extreme('sop', BBC, max)}%)",
    lambda: f"{sop_tuned('nsp', RT)}% on `rotten-tomatoes`",
    lambda: f"lowest seed {_seed_extreme('nsp', RT, min)}%) against {sop_tuned('sop', RT)}%",
    lambda: f"(best {_seed_extreme('sop', RT, max)}%; on average no better than",
    lambda: f"(the NSP run's masked-token accuracy was also {_nsp_mlm_higher()})",
    lambda: f"a from-scratch {sop('pretrain/sop', 'num_parameters') / 1e6:.1f}M model",
)

CLAIMS += claims(
    SOP_STUDY,
    ALBERT_CONVERSION,
    lambda: (
        "seed 1), which keeps "
        f"{run_retention(ALBERT_CONVERSION, ALBERT_CONVERSION.data['runs']['bbc-news/e128-all@ep2/s1']):.1%} of\nits"
    ),
)


def _continued(source: Source, trained: str, scored: str) -> str:
    """A continued-pretraining run's held-out accuracy (albert_sop_study --start): `scored` of the `trained` model."""
    return pct(source.data["cells"][f"pretrain/{trained}"][f"{scored}_accuracy"])


CLAIMS += [
    *claims(
        SOP_STUDY,
        SOP_MINILM,
        lambda: f"NSP is learned from both ({_continued(SOP_MINILM, 'nsp', 'nsp')}% from MiniLM)",
    ),
    *claims(
        SOP_STUDY,
        SOP_MINILM_WEIGHTED,
        lambda: f"its SOP model reaches {_continued(SOP_MINILM_WEIGHTED, 'sop', 'sop')}% on held-out SOP pairs",
        lambda: f"the SOP model is above chance on NSP ({_continued(SOP_MINILM_WEIGHTED, 'sop', 'nsp')}%",
        lambda: f"the NSP model is at chance on SOP ({_continued(SOP_MINILM_WEIGHTED, 'nsp', 'sop')}%)",
    ),
    *claims(
        SOP_STUDY,
        SOP_MINILM,
        lambda: (
            f"its MLM accuracy a few points lower ({_continued(SOP_MINILM_WEIGHTED, 'sop', 'mlm')}% against "
            f"{_continued(SOP_MINILM, 'sop', 'mlm')}% at weight 1)"
        ),
    ),
    *claims(SOP_STUDY, SOP_WEIGHTED, lambda: f"SOP stays at chance ({_continued(SOP_WEIGHTED, 'sop', 'sop')}%)"),
    *claims(
        SOP_STUDY,
        SOP_GENERAL_WEIGHTED,
        lambda: (
            f"does no better on SOP ({_continued(SOP_GENERAL_WEIGHTED, 'sop', 'sop')}%), though its MLM accuracy is "
            f"higher ({_continued(SOP_GENERAL_WEIGHTED, 'sop', 'mlm')}%)"
        ),
    ),
]

PUBLISHING = "docs/publishing.md"


def _zoo_scores(source: Source) -> str:
    test, base = source.data["metrics"]["test"], source.data["comparison"]["source"]
    return f"{test['accuracy']:.4f} (macro-F1 {test['macro_f1']:.4f}) against {base['accuracy']:.4f} ({base['macro_f1']:.4f})"


def _zoo_ranges(source: Source) -> str:
    latency = source.data["comparison"]["latency"]
    return " vs ".join(f"{latency[w]['min_ms']:.1f}–{latency[w]['max_ms']:.1f} ms" for w in ("model", "source"))


def _zoo_kept(source: Source) -> str:
    """The entry's test accuracy as a share of its source's (its teacher's), as the pages write it."""
    return f"{source.data['metrics']['test']['accuracy'] / source.data['comparison']['source']['accuracy']:.1%} of it"


def _zoo_wall(source: Source) -> float:
    return source.data["build"]["wall_seconds"]


def _int8_kept(name: str) -> str:
    return f"{pct(ZOO_INT8[name].data['verification']['predictions_unchanged'])}%"


CLAIMS += [
    *claims(
        PUBLISHING,
        ZOO_TOP3,
        lambda: f"reached test accuracy {_zoo_scores(ZOO_TOP3)} for the\n  unshrunk MiniLM",
        lambda: f"unshrunk MiniLM fine-tuned with the same recipe ({_zoo_kept(ZOO_TOP3)})",
        lambda: (
            f"and ran {zoo_speedup(ZOO_TOP3):.2f}x faster (paired over "
            f"{ZOO_TOP3.data['comparison']['latency']['repeats']} interleaved rounds, batch "
            f"{ZOO_TOP3.data['comparison']['latency']['batch_size']} x {ZOO_TOP3.data['comparison']['latency']['max_length']} tokens"
        ),
        lambda: f"in {_zoo_wall(ZOO_TOP3):.0f} s by the build's own clock",
    ),
    *claims(
        PUBLISHING,
        ZOO_TINYBERT,
        lambda: f"a TinyBERT-4 student ({ZOO_TINYBERT.data['metrics']['num_parameters'] / 1e6:.1f}M parameters)",
        lambda: f"reached test accuracy {_zoo_scores(ZOO_TINYBERT)} for its teacher",
        lambda: f"the same recipe ({_zoo_kept(ZOO_TINYBERT)}), and ran {zoo_speedup(ZOO_TINYBERT):.2f}x faster",
        lambda: (
            "(batch 8 x 128 tokens, bf16, 10 interleaved rounds, paired;\n  ranges "
            f"{_zoo_ranges(ZOO_TINYBERT)}), in {_zoo_wall(ZOO_TINYBERT):.0f} s."
        ),
    ),
    *claims(
        PUBLISHING,
        ZOO_ALBERT,
        lambda: (
            f"({ZOO_ALBERT.data['metrics']['num_parameters'] / 1e6:.1f}M parameters, "
            f"{ZOO_ALBERT.data['metrics']['num_parameters'] / ZOO_ALBERT.data['comparison']['source']['num_parameters']:.0%} of the teacher's)"
        ),
        lambda: f"reached test accuracy {_zoo_scores(ZOO_ALBERT)} for its teacher ({_zoo_kept(ZOO_ALBERT)})",
        lambda: f"and ran at {zoo_speedup(ZOO_ALBERT):.2f}x its speed",
        lambda: (
            f"in {_zoo_wall(ZOO_ALBERT):.0f} s ({int(_zoo_wall(ZOO_ALBERT) // 60)} "
            f"min {_zoo_wall(ZOO_ALBERT) % 60:.0f} s) by the build's own clock"
        ),
        lambda: f"rebuilt with their current recipes on {ZOO_ALBERT.data['build']['date']}",
        lambda: (
            f"check_quality({ZOO_ALBERT.data['metrics']['test']['accuracy']:.4f}, "
            f"{ZOO_ALBERT.data['metrics']['test']['majority_accuracy']:.4f}, min_retention=0.97, "
            f"reference_accuracy={ZOO_ALBERT.data['comparison']['source']['accuracy']:.4f})"
        ),
    ),
    *claims(
        PUBLISHING,
        ZOO_INT8[ZOO_NAMES[-1]],
        lambda: (
            f"kept {', '.join(_int8_kept(n) for n in ZOO_NAMES[:-1])} and {_int8_kept(ZOO_NAMES[-1])} of the test "
            "predictions"
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
        AUGMENT_MLM,
        lambda: (
            f"predicts a masked token first in {pct(_mlm_accuracy('trained', 'top1'))}% of cases and among its top 15 in "
            f"{pct(_mlm_accuracy('trained', 'top15'))}% (the random head: {pct(_mlm_accuracy('untrained_head', 'top15'))}%)"
        ),
    ),
    *claims(PRUNING_PAGE, PRUNING, lambda: _augmenting_took("review")),
    *claims(AUGMENTING, PRUNING, lambda: _augmenting_took("review")),
]


def _mlm_accuracy(which: str, k: str) -> float:
    return AUGMENT_MLM.data["validation_masked_accuracy"][which][k]


def _augmenting_took(unit: str) -> str:
    """How long the pruning study's augmentation of the rotten-tomatoes training split took."""
    done = PRUNING.data["setup"]["augmentation"][RT]
    return (
        f"took {done['seconds'] / 60:.0f} minutes ({done['seconds'] / done['examples']:.2f} s per {unit}; "
        f"{done['rows']:,} rows)"
    )


CLAIMS += claims(
    PRUNING_PAGE,
    PRUNING,
    lambda: (
        f"(seed 2, {pct(PRUNING.data['runs']['rotten-tomatoes/random-stages/s2']['test_accuracy'])}%: every review"
    ),
)
