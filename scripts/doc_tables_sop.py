"""The SOP vs NSP studies' generated tables (docs/albert-sop-study.md): the from-scratch study, the continued-pretraining
reruns from converted starts and the collapse probe (see doc_figures.py; the other tables are in doc_tables.py)."""

from __future__ import annotations

from doc_results import (
    BBC,
    RT,
    SOP,
    SOP_CONVERTED,
    SOP_DISTILLED,
    SOP_GENERAL_WEIGHTED,
    SOP_MINILM,
    SOP_MINILM_WEIGHTED,
    SOP_PRIOR,
    SOP_PROBE,
    SOP_WEIGHTED,
    Source,
    _source_line,
    pct,
    sop,
    sop_seeds,
    sop_tuned,
    table_start,
)

PAPER_SOP = {  # ALBERT (Lan et al. 2020), Table 5: base models after 125k steps; no fine-tuning on our tasks
    "SOP": {"sop": 86.5, "nsp": 78.9, "mlm": 54.0},
    "NSP": {"sop": 52.0, "nsp": 90.5, "mlm": 54.5},
}


def table_sop_study(page: str) -> list[str]:
    seeds = len(sop_seeds())
    machines = list(dict.fromkeys(session["machine"] for session in SOP.data["sessions"]))
    lines = table_start(
        page,
        SOP,
        f"; {' / '.join(machines)}; one pretraining seed, fine-tuned with {seeds} seeds (mean ± standard deviation)",
        [
            "pretrained with",
            "SOP acc %",
            "NSP acc %",
            "MLM acc %",
            "bbc-news test acc %",
            "rotten-tomatoes test acc %",
        ],
        "lrrrrr",
    )
    for objective in ("sop", "nsp"):
        cell = f"pretrain/{objective}"
        steps = SOP.data["cells"][cell]["train"]["global_step"]
        own = {"sop": "sop_accuracy", "nsp": "nsp_accuracy"}
        scores = {k: pct(sop(cell, v)) for k, v in own.items()}
        scores[objective] = f"**{scores[objective]}**"
        lines.append(
            f"| {objective.upper()} (ours, {steps:,} steps) | {scores['sop']} | {scores['nsp']} | "
            f"{pct(sop(cell, 'mlm_accuracy'))} | {sop_tuned(objective, BBC)} | {sop_tuned(objective, RT)} |"
        )
    for objective, paper in PAPER_SOP.items():
        lines.append(
            f"| {objective} (paper, 125k steps) | {paper['sop']:.1f} | {paper['nsp']:.1f} | {paper['mlm']:.1f} | – | – |"
        )
    return lines


def table_sop_converted(page: str) -> list[str]:
    """The SOP / NSP rerun from a converted start: held-out accuracy on both sentence tasks and MLM, per objective."""
    return _table_sop_continued(page, SOP_CONVERTED)


def table_sop_distilled(page: str) -> list[str]:
    """The SOP / NSP rerun from a converted start distilled first (the conversion study's bbc-news student)."""
    return _table_sop_continued(page, SOP_DISTILLED)


def table_sop_prior(page: str) -> list[str]:
    """The SOP / NSP rerun from the converted start, its MLM head's output bias started at the token prior."""
    return _table_sop_continued(page, SOP_PRIOR)


def table_sop_weight(page: str) -> list[str]:
    """SOP vs NSP from converted starts (E 128 all-shared, plain or general-distilled; E 384 nothing shared, i.e.
    MiniLM itself), the MLM loss weighted 1 (ALBERT's sum) or 0.1 against the sentence loss; the paper's rows below."""
    runs = [  # (start, source); the weight is the file's
        ("E 128, all shared", SOP_PRIOR),
        ("E 128, all shared", SOP_WEIGHTED),
        ("E 128, all shared, general-distilled", SOP_GENERAL_WEIGHTED),
        ("E 384, none shared (MiniLM)", SOP_MINILM),
        ("E 384, none shared (MiniLM)", SOP_MINILM_WEIGHTED),
    ]
    lines = [_source_line(page, source, f"; {source.data['machine']}") for _, source in runs]
    budgets = {
        (
            source.data["budget"]["pretrain_epochs"],
            source.data["cells"][f"pretrain/{objective}"]["train"]["global_step"],
            source.data["budget"]["learning_rate"],
            source.data["budget"]["mlm_bias_prior"],
        )
        for _, source in runs
        for objective in ("sop", "nsp")
    }
    if len(budgets) != 1:
        raise ValueError(f"the sop-weight runs should share one budget, found {sorted(budgets)}")
    ((epochs, steps, rate, prior),) = budgets
    lines += [
        "",
        f"One seed each; {epochs:g} epochs ({steps} steps of batch 32) at {rate:g}"
        + (", MLM output bias at the token prior." if prior else "."),
        "",
    ]
    columns = ["start", "MLM weight", "trained with", "SOP acc %", "NSP acc %", "MLM acc %", "minutes"]
    lines += ["| " + " | ".join(columns) + " |", "|---|---:|---|---:|---:|---:|---:|"]
    for start, source in runs:
        data = source.data
        weight = data["budget"].get("mlm_weight")
        for objective in ("sop", "nsp"):
            cell = data["cells"][f"pretrain/{objective}"]
            scores = {k: pct(cell[f"{k}_accuracy"]) for k in ("sop", "nsp")}
            scores[objective] = f"**{scores[objective]}**"  # the task it was trained on
            lines.append(
                f"| {start} | {1 if weight is None else weight:g} | {objective.upper()} | {scores['sop']} | "
                f"{scores['nsp']} | {pct(cell['mlm_accuracy'])} | {cell['wall_s'] / 60:.1f} |"
            )
    for objective, paper in PAPER_SOP.items():
        lines.append(
            f"| ALBERT base (paper, 125k steps from scratch) | 1 | {objective} | {paper['sop']:.1f} | "
            f"{paper['nsp']:.1f} | {paper['mlm']:.1f} | – |"
        )
    return lines


def _table_sop_continued(page: str, source: Source) -> list[str]:
    data = source.data
    lines = table_start(
        page,
        source,
        f"; {data['machine']}; one seed",
        ["continued with", "SOP acc %", "NSP acc %", "MLM acc %", "steps", "learning rate", "minutes"],
        "lrrrrrr",
    )
    for objective in ("sop", "nsp"):
        cell = data["cells"][f"pretrain/{objective}"]
        lines.append(
            f"| {objective.upper()} | {pct(cell['sop_accuracy'])} | {pct(cell['nsp_accuracy'])} | "
            f"{pct(cell['mlm_accuracy'])} | {cell['train']['global_step']:,} | {data['budget']['learning_rate']:g} | "
            f"{cell['wall_s'] / 60:.1f} |"
        )
    return lines


def table_sop_probe(page: str) -> list[str]:
    """The collapse probe: per start, held-out accuracies after a short MLM + SOP run and the last layer's spread."""
    data = SOP_PROBE.data
    budget = data["budget"]
    lines = table_start(
        page,
        SOP_PROBE,
        f"; {data['machine']}; one seed; {budget['steps']} MLM + SOP steps at {budget['learning_rate']:g}",
        ["start", "SVD error", "SOP acc %", "NSP acc %", "MLM acc %", "spread converted", "after general",
         "after MLM + SOP", "minutes"],
        "lrrrrrrrr",
    )  # fmt: skip
    for name, cell in data["cells"].items():
        general = f"{cell['spread_general'][-1]:.3f}" if "spread_general" in cell else "–"
        lines.append(
            f"| {name} | {cell['embedding_reconstruction_error']:.2f} | {pct(cell['sop_accuracy'])} | "
            f"{pct(cell['nsp_accuracy'])} | {pct(cell['mlm_accuracy'])} | {cell['spread_converted'][-1]:.3f} | "
            f"{general} | {cell['spread_pretrained'][-1]:.3f} | {cell['minutes']:.1f} |"
        )
    lines.append(
        f"| constant MLM head (most frequent token) | – | – | – | {pct(data['majority_token_share'])} | – | – | – | – |"
    )
    return lines
