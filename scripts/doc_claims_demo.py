"""What docs/demo.md, and README.md of the demo zoo, say in sentences, held to the demo's build record and the study
of its Albert-SOP's recipe (the claims of the other pages are in doc_claims.py and doc_claims_speed.py; see
doc_figures.py)."""

from __future__ import annotations

from doc_claims import README, Claim, claims
from doc_results import DEMO_ALBERT, DEMO_BUILD, DEMO_BUILD_FP32, DEMO_SCREENSHOT, NEAR_DUPLICATES, study_cells
from study_report import seeds_summary

from compactbert.hub.gate import DEFAULT_MIN_RETENTION

DEMO_CLAIMS: list[Claim] = []

DEMO = "docs/demo.md"


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)} min {round(seconds % 60):.0f} s"


def _family_seconds() -> float:
    trained = DEMO_BUILD.data["build"]["trained_seconds"]
    return sum(trained[name] for name in ("tinybert-4-pruned", "distilled-3", "albert-sop-e128-share-all"))


def _demo_acc(name: str) -> str:
    return f"{DEMO_BUILD.data['test_accuracy'][name] * 100:.1f}%"


DEMO_CLAIMS += claims(
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


_WORDS = {1: "one", 2: "two", 3: "three"}
_SHOWN = {
    "albert-sop-e128-share-all": "the Albert-SOP",
    "tinybert-4-pruned": "TinyBert-4",
    "distilled-3": "the 3-layer",
}


def _fp32_differs() -> str:
    """The models whose test accuracy an fp32 build changed, with the fp32 figure; all the same: said so."""
    fp32, bf16 = DEMO_BUILD_FP32.data["test_accuracy"], DEMO_BUILD.data["test_accuracy"]
    moved = [n for n in fp32 if round(fp32[n], 4) != round(bf16[n], 4)]
    if not moved:
        return "every model scored what it scored in bf16"
    shown = ", ".join(f"{_SHOWN.get(n, n)}: {fp32[n] * 100:.1f}%" for n in moved)
    return f"every model but {_WORDS.get(len(moved), len(moved))} scored what it scored in bf16 ({shown})"


def _fp32_lowest() -> str:
    accuracy = DEMO_BUILD_FP32.data["test_accuracy"]
    kept = min(a / accuracy["teacher"] for n, a in accuracy.items() if n != "teacher")
    verdict = "so publish's floor lets them all through in fp32 too" if kept >= DEFAULT_MIN_RETENTION else "(rewrite)"
    return f"the lowest student keeps {kept:.1%} of the teacher, {verdict}"


DEMO_CLAIMS += claims(
    DEMO,
    DEMO_BUILD_FP32,
    lambda: f"`{DEMO_BUILD_FP32.data['command']}`",
    lambda: f"training_precision: {DEMO_BUILD_FP32.data['training_precision']}",
    lambda: f"the build took {_minutes(DEMO_BUILD_FP32.data['build']['seconds'])} and {_fp32_differs()}",
    _fp32_lowest,
)


def _shot() -> dict:
    return DEMO_SCREENSHOT.data


DEMO_CLAIMS += claims(
    DEMO,
    DEMO_SCREENSHOT,
    lambda: (
        f"in {_shot()['latency_ms']['teacher']:.1f} ms and {_shot()['latency_ms']['compact']:.1f} ms "
        f"({_shot()['speedup']:.2f}x, median of {_shot()['repeats']} interleaved runs, "
        f"{_shot()['runtime'].replace(', ', ' in ')}), on a"
    ),
    lambda: f"the app was **ready {_shot()['ready_seconds']:.1f} s**",
    lambda: f"`{_shot()['command']}`",
)


DEMO_CLAIMS += claims(
    README,
    DEMO_BUILD,
    lambda: _demo_lowest_retention(),
    # the quick start: how long the demo's first start fine-tunes its zoo
    lambda: (
        f"The first build took {_minutes(DEMO_BUILD.data['build']['seconds'])} on an idle "
        f"{DEMO_BUILD.data['build']['machine']}, longer on a busy machine"
    ),
)


def _demo_lowest_retention() -> str:
    """The default zoo's student that keeps the least of its teacher, and whether publish's floor lets it through."""
    accuracy = DEMO_BUILD.data["test_accuracy"]
    name = min((n for n in accuracy if n != "teacher"), key=lambda n: accuracy[n])
    kept = accuracy[name] / accuracy["teacher"]
    if kept < DEFAULT_MIN_RETENTION:  # the README's sentence says they all pass: it must be rewritten
        return f"({name} keeps {kept:.1%} of the teacher, under publish's floor: rewrite the README's sentence)"
    return (
        f"every student keeps at least {kept:.1%} of the teacher (the lowest, {name}: {_demo_acc(name)} against "
        f"{_demo_acc('teacher')}), so `publish default` publishes them all"
    )


def _demo_albert(variant: str) -> dict:
    """A variant of the demo's Albert-SOP study over its seeds (`study_report.seeds_summary`)."""
    return seeds_summary(study_cells(DEMO_ALBERT, "bbc-news")[variant])


DEMO_ALBERT_CHOSEN = "1024-b16-labels"  # the variant the default zoo trains (compactbert.demo.zoo.STUDENT_FAMILIES)


def _demo_albert_verdict() -> str:
    """What the page says of the other variants: true only while none beat the chosen one's mean."""
    chosen = _demo_albert(DEMO_ALBERT_CHOSEN)["mean"]
    others = set(study_cells(DEMO_ALBERT, "bbc-news")) - {DEMO_ALBERT_CHOSEN}
    return (
        "did no better" if all(_demo_albert(v)["mean"] <= chosen for v in others) else "did better (rewrite the page)"
    )


def _demo_albert_below_floor(variant: str) -> str:
    runs = study_cells(DEMO_ALBERT, "bbc-news")[variant]
    below = sum(r["test_accuracy"] / r["teacher_accuracy"] < DEFAULT_MIN_RETENTION for r in runs)
    seeds = f"{_WORDS.get(below, below)} seed{'' if below == 1 else 's'} of {_WORDS.get(len(runs), len(runs))}"
    return f"kept less than {DEFAULT_MIN_RETENTION:.0%} of its teacher on {seeds}"


DEMO_CLAIMS += claims(
    DEMO,
    DEMO_BUILD,
    lambda: (
        "Every student keeps at least "
        f"{DEFAULT_MIN_RETENTION:.0%} of the teacher, so `compactbert publish default` publishes them all"
        if min(a / DEMO_BUILD.data["test_accuracy"]["teacher"] for a in DEMO_BUILD.data["test_accuracy"].values())
        >= DEFAULT_MIN_RETENTION
        else "(a student of the build keeps less than publish's floor: rewrite the page)"
    ),
)


DEMO_CLAIMS += claims(
    DEMO,
    DEMO_ALBERT,
    lambda: f"At the zoo's batch 32 it {_demo_albert_below_floor('1024-b32-labels')}",
    lambda: (
        f"and kept at least {_demo_albert(DEMO_ALBERT_CHOSEN)['lowest_retention']:.1%} of the teacher on every seed"
    ),
    lambda: (
        f"Training on every text ({_demo_albert('all-b16-labels')['median_seconds'] / _demo_albert(DEMO_ALBERT_CHOSEN)['median_seconds']:.1f}"
        f" times as long) or on the teacher's soft targets as well as the labels {_demo_albert_verdict()}"
    ),
)


def _near(task: str, split: str) -> int:
    return len(NEAR_DUPLICATES.data["tasks"][task][split]["near_duplicates"])


def _most_lost() -> str:
    models = NEAR_DUPLICATES.data["zoo"]["models"].values()
    return f"{max(round((m['all'] - m['without']) * 100, 1) for m in models):g}"


def _top3_kept(which: str) -> str:
    return f"{NEAR_DUPLICATES.data['zoo']['models']['shrunk-top-3'][which]:.1%}"


DEMO_CLAIMS += claims(
    "docs/data.md",
    NEAR_DUPLICATES,
    lambda: (
        f"{_near('bbc-news', 'test')} of the {NEAR_DUPLICATES.data['tasks']['bbc-news']['test']['texts']} test "
        f"articles and {_near('bbc-news', 'validation')} of the "
        f"{NEAR_DUPLICATES.data['tasks']['bbc-news']['validation']['texts']} validation ones"
    ),
    lambda: (
        f"{_near('rotten-tomatoes', 'test')} test and {_near('rotten-tomatoes', 'validation')} validation review of "
        "`rotten-tomatoes`"
    ),
    lambda: f"lose at most\n{_most_lost()} points of test accuracy",
    lambda: f"keeps {_top3_kept('kept_without')} of its teacher instead of {_top3_kept('kept_all')}",
)
