"""ALBERT's Table 5 at small scale: pretrain the same small ALBERT with SOP and with NSP, then compare them.

Two models of the same size (configs/albert-sop-bbc-small.yaml and its NSP twin: E=128, H=256, 4 layers all
shared) get the same budget on BBC News article bodies (paragraph pairs, 64 tokens, MLM + the sentence task). Each
is evaluated on held-out documents on *both* sentence tasks (SOP and NSP pairs) and on masked-LM accuracy, then
fine-tuned on `bbc-news` and `rotten-tomatoes` with `compactbert.finetune`, with seeds 42, 1 and 2.

    python scripts/albert_sop_study.py               # the committed study -> docs/results/albert_sop/ (about 45 minutes)
    python scripts/albert_sop_study.py --quick       # a few-minute smoke run into a temporary folder (one seed)
    python scripts/albert_sop_study.py --finetune-seeds 42,1,2,3,4   # resume the study with two more seeds

From a trained start instead of random init: convert MiniLM's bare encoder to an Albert-SOP, then continue
it with each objective (pairs and masks drawn afresh each epoch, as in every run):

    compactbert albert minilm --embedding-size 128 --sharing all --output runs/minilm-albert-e128
    python scripts/albert_sop_study.py --start runs/minilm-albert-e128 --pretrain-epochs 3 --learning-rate 1e-4 \
        --no-finetune --out docs/results/albert_sop_converted --workdir runs/albert_sop_converted

Each cell (pretrain / fine-tune) runs in its own process; `--parallel 2` runs the SOP and NSP chains side by side
(only useful with more cores than 2: on 2, the two chains fight over them).
results.json is written after every cell, so an interrupted study resumes where it stopped; each run of the command
is recorded as a session (its machine, wall time and the cells it ran), and the study's wall time is their sum.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from study_report import chance_interval_points, mean_and_deviation, sop_finetune_runs

from compactbert.hardware import machine_description
from compactbert.io import relative_path

ROOT = Path(__file__).resolve().parent.parent
RECIPES = {"sop": ROOT / "configs/albert-sop-bbc-small.yaml", "nsp": ROOT / "configs/albert-nsp-bbc-small.yaml"}
# 15 epochs of the pairs of the bbc-news training articles (5,865 pairs, redrawn each epoch: 2,760 steps of batch 32),
# so that both chains with their fine-tuning fit the hour on 2 cores
PRETRAIN = {"num_train_epochs": 15, "disable_tqdm": True}
# fine-tuning a small model pretrained from scratch: a higher rate than for MiniLM; Rotten Tomatoes subsampled
FINETUNE = {
    "bbc-news": {"learning_rate": 5e-4, "max_length": 128},
    "rotten-tomatoes": {"learning_rate": 5e-4, "max_length": 64, "max_train_samples": 4000},
}
FINETUNE_COMMON = {
    "num_train_epochs": 2,
    "per_device_train_batch_size": 32,
    "per_device_eval_batch_size": 128,
    "warmup_steps": 0.1,
    "weight_decay": 0.01,
    "eval_strategy": "no",
    "save_strategy": "no",
    "report_to": "none",
    "disable_tqdm": True,
    "logging_strategy": "no",
    "overwrite": True,
}
# fine-tuning seeds: three, so that a gap between the two pretrained models can be told from fine-tuning variance
FINETUNE_SEEDS = (42, 1, 2)
QUICK_PRETRAIN = {"max_documents": 120, "max_steps": 6, "logging_steps": 2}
QUICK_FINETUNE = {"max_train_samples": 64, "max_eval_samples": 64, "num_train_epochs": 1}


def pretrain_cell(objective: str, workdir: Path, quick: bool, budget: dict) -> dict:
    from compactbert.pretraining import parse_pretrain_recipe, pretrain

    overrides = PRETRAIN | {"output_dir": str(workdir / f"pretrain-{objective}")} | (QUICK_PRETRAIN if quick else {})
    if budget.get("pretrain_epochs"):
        overrides["num_train_epochs"] = budget["pretrain_epochs"]
    if budget.get("pretrain_steps"):
        overrides |= {"max_steps": budget["pretrain_steps"], "logging_steps": 5}
    if budget.get("start"):  # continue a saved Albert-SOP: its config is the architecture
        overrides["model"] = budget["start"]
    if budget.get("learning_rate"):
        overrides["learning_rate"] = budget["learning_rate"]
    if budget.get("mlm_bias_prior"):
        overrides["mlm_bias_prior"] = True
    if budget.get("mlm_weight") is not None:
        overrides["mlm_weight"] = budget["mlm_weight"]
    started = time.perf_counter()
    metrics = pretrain(*parse_pretrain_recipe(RECIPES[objective], overrides))
    metrics["wall_s"] = time.perf_counter() - started
    return metrics


def finetune_cell_name(objective: str, task: str, seed: int) -> str:
    """The results key of one fine-tuning run (`finetune/sop/bbc-news/seed1`)."""
    return f"finetune/{objective}/{task}/seed{seed}"


def finetune_cell(objective: str, task: str, seed: int, workdir: Path, quick: bool, budget: dict) -> dict:
    from compactbert.finetune import finetune, parse_recipe

    fields = {"model": str(workdir / f"pretrain-{objective}" / "model"), "task": task}
    folder = workdir / f"finetune-{objective}-{task}-seed{seed}"
    fields |= FINETUNE_COMMON | FINETUNE[task] | {"seed": seed, "output_dir": str(folder)}
    for key in ("max_train_samples", "max_eval_samples", "num_train_epochs"):
        if budget.get(key):
            fields[key] = budget[key]
    if quick:
        fields |= QUICK_FINETUNE
    started = time.perf_counter()
    metrics = finetune(*parse_recipe(None, fields))
    return {
        "seed": seed,
        "test_accuracy": metrics["test"]["accuracy"],
        "test_macro_f1": metrics["test"]["macro_f1"],
        "validation_accuracy": metrics["validation"]["accuracy"],
        "train_examples": fields.get("max_train_samples"),
        # the recipe as run, its folders relative to the repository (a committed result names no one's home)
        "fields": fields | {key: relative_path(fields[key], ROOT) for key in ("model", "output_dir")},
        "wall_s": time.perf_counter() - started,
    }


def run_cell(name: str, workdir: Path, quick: bool, budget: dict, out_file: Path) -> None:
    """Run one cell (`pretrain/sop`, `finetune/nsp/bbc-news/seed42`) in this process and write its result as JSON."""
    kind, objective, *rest = name.split("/")
    result = (
        pretrain_cell(objective, workdir, quick, budget)
        if kind == "pretrain"
        else finetune_cell(objective, rest[0], int(rest[1].removeprefix("seed")), workdir, quick, budget)
    )
    out_file.write_text(json.dumps(result, indent=2, default=str))


def chain(objective: str, results: dict, save, workdir: Path, quick: bool, budget: dict) -> None:
    """Pretrain with `objective`, then fine-tune on each task with each seed of the budget (unless it says
    `no_finetune`); cells already in `results` are skipped."""
    tasks = [] if budget.get("no_finetune") else list(FINETUNE)
    seeds = budget.get("finetune_seeds") or FINETUNE_SEEDS
    tuning = [finetune_cell_name(objective, task, seed) for task in tasks for seed in seeds]
    for name in [f"pretrain/{objective}", *tuning]:
        if name in results:
            continue
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
            out_file = Path(tmp.name)
        command = [sys.executable, __file__, "--cell", name, "--workdir", str(workdir), "--cell-out", str(out_file)]
        command += ["--quick"] if quick else []
        command += ["--budget", json.dumps(budget)]
        print(f"[{time.strftime('%H:%M:%S')}] {name} ...", flush=True)
        subprocess.run(command, check=True)
        results[name] = json.loads(out_file.read_text())
        out_file.unlink()
        save()
        print(f"[{time.strftime('%H:%M:%S')}] {name} done in {results[name]['wall_s']:.0f} s", flush=True)


# ALBERT (Lan et al. 2020) Table 5, ALBERT-base, 125k steps on BookCorpus + Wikipedia: held-out accuracy (%)
PAPER = {"nsp": {"nsp": 90.5, "sop": 52.0, "mlm": 54.5}, "sop": {"nsp": 78.9, "sop": 86.5, "mlm": 54.0}}


def pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}"


def short_name(model: str) -> str:
    """A model's name as a report shows it: a Hub id as is, a folder by its last two parts (a run's `model`
    folder by its run's)."""
    parts = Path(model).parts
    if parts and parts[-1] == "model":
        parts = parts[:-1]
    return "/".join(parts[-2:])


def model_description(budget: dict) -> tuple[str, str]:
    """(the model both objectives train, its start) as the report states them."""
    start = budget.get("start")
    if not start:
        return (
            "E=128, H=256, 4 layers all shared, 4 heads, FFN 1024; MiniLM's WordPiece vocabulary of 30,522",
            "random init",
        )
    config = json.loads((Path(start) / "config.json").read_text())
    model = (
        f"E={config['embedding_size']}, H={config['hidden_size']}, {config['num_hidden_layers']} layer applications, "
        f"sharing {config.get('sharing', 'all')}, {config['num_attention_heads']} heads, FFN {config['intermediate_size']}"
    )
    source = config.get("source_model") or "a saved model"
    how = f"converted from {short_name(source)} by `albert_from_bert`"
    if config.get("shared_init"):
        how += f" (shared layers from its {config['shared_init']})"
    metrics = Path(start) / "metrics.json"
    trained = json.loads(metrics.read_text()) if metrics.exists() else {}
    if trained.get("stage") == "general":  # albert_pretrain_probe's general distillation, on unlabeled text
        how += f", then {trained['steps']} steps of general distillation from {short_name(trained['teacher'])}"
    elif "teacher" in trained:
        how += f", then distilled from {short_name(trained['teacher'])} on `{trained.get('task')}`"
    return model, f"{how}, MLM and sentence heads fresh"


def _tuned(results: dict, objective: str, task: str) -> str:
    return mean_and_deviation([run["test_accuracy"] for run in sop_finetune_runs(results, objective, task)])


def _seed_score(run: dict | None) -> str:
    return "–" if run is None else f"{pct(run['test_accuracy'])} ({run['test_macro_f1']:.2f})"


def _seeds_words(seeds: list[int]) -> str:
    if len(seeds) < 2:
        return f"seed {seeds[0]}" if seeds else "no seed"
    return f"seeds {', '.join(map(str, seeds))}: mean ± standard deviation"


def write_report(
    results: dict,
    out: Path,
    command: str,
    wall_s: float | None,
    machine: str | None = None,
    budget: dict | None = None,
) -> None:
    """results.md (tables) and pretraining_curves.png from the cells."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = []
    for objective in RECIPES:
        pre = results[f"pretrain/{objective}"]
        rows.append(
            f"| {objective.upper()} | {pct(pre['sop_accuracy'])} | {pct(pre['nsp_accuracy'])} | "
            f"{pct(pre['mlm_accuracy'])} | {_tuned(results, objective, 'bbc-news')} | "
            f"{_tuned(results, objective, 'rotten-tomatoes')} | {pre['num_parameters'] / 1e6:.2f}M | "
            f"{pre['train']['global_step']} | {pre['train']['train_runtime'] / 60:.1f} |"
        )
    paper = [
        f"| {objective.upper()} (paper) | {PAPER[objective]['sop']} | {PAPER[objective]['nsp']} | "
        f"{PAPER[objective]['mlm']} | – | – | 12M | 125k | – |"
        for objective in RECIPES
    ]
    first = results[f"pretrain/{next(iter(RECIPES))}"]
    pairs, documents, steps = first["pairs"], first["documents"], first["train"]["global_step"]
    tuned = {task: runs[0]["fields"] for task in FINETUNE if (runs := sop_finetune_runs(results, "sop", task))}
    seeds = sorted({run["seed"] for task in FINETUNE for run in sop_finetune_runs(results, "sop", task)})
    per_seed = [
        f"| {objective.upper()} | `{task}` | "
        + " | ".join(_seed_score({run["seed"]: run for run in runs}.get(seed)) for seed in seeds)
        + " |"
        for objective in RECIPES
        for task in FINETUNE
        if (runs := sop_finetune_runs(results, objective, task))
    ]

    def described(task: str) -> str:
        if task not in tuned:
            return f"`{task}`: not run (–)"
        f = tuned[task]
        texts = (
            f"the first {f['max_train_samples']:,} training texts"
            if f.get("max_train_samples")
            else "all training texts"
        )
        evaluated = f", first {f['max_eval_samples']} test texts" if f.get("max_eval_samples") else ""
        return f"`{task}`: {texts}, {f['max_length']} tokens, {f['num_train_epochs']} epoch(s){evaluated}"

    cell_minutes = sum(cell["wall_s"] for cell in results.values()) / 60
    timing = f"cells took {cell_minutes:.0f} min in total" + (
        f", {wall_s / 60:.0f} min of wall time" if wall_s else ""
    )
    budget = budget or {}
    model, start = model_description(budget)
    rate = budget.get("learning_rate") or 1e-3
    prior = "; MLM output bias started at the corpus's token log prior" if budget.get("mlm_bias_prior") else ""
    if budget.get("mlm_weight") is not None:
        prior += f"; loss = {budget['mlm_weight']:g} x MLM + sentence"
    lines = [
        "# Albert-SOP: sentence-order vs next-sentence prediction at small scale",
        "",
        f"Command: `{command}` ({timing}; {machine or 'CPU'}; bf16 autocast where native).",
        "",
        f"Same model ({model}; start: {start}) "
        f"and budget ({steps} steps of batch 32, 64-token paragraph pairs, learning rate {rate:g}, 5% warmup then "
        f"linear decay{prior}) for both; pretrained on {documents['train']} BBC News article bodies ({pairs['train']} pairs), "
        f"evaluated on {documents['eval']} held-out articles ({pairs['eval_sop']} SOP pairs, {pairs['eval_nsp']} NSP "
        f"pairs; chance = 50%, 95% interval at chance ±{chance_interval_points(pairs['eval_sop']):.1f} points). MLM accuracy: top-1 on the 15% masked tokens of the held-out pairs of the model's own "
        f"objective. Fine-tuning (test-split accuracy, learning rate 5e-4, split seed 42, "
        f"{_seeds_words(seeds)}): {described('bbc-news')}; {described('rotten-tomatoes')}.",
        "",
        "| pretrained with | SOP acc % | NSP acc % | MLM acc % | bbc-news test acc % | rotten-tomatoes test acc % "
        "| params | steps | pretrain min |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
        *paper,
        "",
        *(
            [
                "Fine-tuned test accuracy % (macro-F1) per seed:",
                "",
                "| pretrained with | task | " + " | ".join(f"seed {seed}" for seed in seeds) + " |",
                "|---|---|" + "---:|" * len(seeds),
                *per_seed,
                "",
            ]
            if per_seed
            else []
        ),
        "![pretraining curves](pretraining_curves.png)",
        "",
    ]
    (out / "results.md").write_text("\n".join(lines) + "\n")

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for objective in RECIPES:
        history = [h for h in results[f"pretrain/{objective}"]["log_history"] if "mlm_loss" in h]
        steps = [h["step"] for h in history]
        axes[0].plot(steps, [h["mlm_loss"] for h in history], label=f"trained with {objective.upper()}")
        axes[1].plot(steps, [h["sentence_loss"] for h in history], label=f"{objective.upper()} loss")
    axes[0].set_title("masked-LM loss (training)")
    axes[1].set_title("sentence-task loss (training, own task)")
    axes[1].axhline(0.6931, color="grey", linestyle=":", label="chance (ln 2)")
    for ax in axes:
        ax.set_xlabel("step")
        ax.legend()
    fig.tight_layout()
    fig.savefig(out / "pretraining_curves.png", dpi=120)
    plt.close(fig)


def earlier_sessions(saved: dict) -> list[dict]:
    """The runs of the study that wrote `saved` (a results.json; {} for none), each with its command, machine and
    wall time; a file from before sessions were recorded counts as one."""
    if "sessions" in saved:
        return saved["sessions"]
    if "wall_s" in saved:
        return [{key: saved[key] for key in ("command", "machine", "wall_s")}]
    return []


def check_same_budget(saved: dict, budget: dict, results_file: Path) -> None:
    """Refuse to resume a study with another budget than the one its results were made with (other cells would join
    them, and the record would name the new budget); only more fine-tuning seeds may be added."""
    changed = [
        f"{key} {saved.get(key)!r} -> {value!r}"
        for key, value in budget.items()
        if key != "finetune_seeds" and saved.get(key) != value
    ]
    if changed:
        raise SystemExit(
            f"{results_file} holds a study made with another budget ({'; '.join(changed)}): resume it with its own "
            "options (more --finetune-seeds may be added), or give another --out and --workdir"
        )


def machine_words(sessions: list[dict]) -> str | None:
    """Where the study ran, as its report says it: the machine line of its one session, or each session's with its
    minutes and the number of cells it ran."""
    if len(sessions) < 2:
        return sessions[0]["machine"] if sessions else None
    each = [
        f"{s['machine']} ({s['wall_s'] / 60:.0f} min" + (f", {len(s['cells'])} cells)" if "cells" in s else ")")
        for s in sessions
    ]
    return f"in {len(sessions)} sessions: " + "; ".join(each)


def _seed_list(text: str) -> list[int]:
    try:
        seeds = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated whole numbers such as 42,1,2, got {text!r}"
        ) from None
    if len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"a seed is given twice in {text!r}")
    return seeds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(ROOT / "docs/results/albert_sop"))
    parser.add_argument("--workdir", default=str(ROOT / "runs/albert_sop_study"), help="model folders and logs")
    parser.add_argument("--parallel", type=int, default=1, choices=(1, 2), help="run the SOP and NSP chains at once")
    parser.add_argument("--quick", action="store_true", help="smoke run: 120 documents, 6 steps, into /tmp")
    parser.add_argument(
        "--pretrain-epochs", type=float, help=f"pretraining epochs (default {PRETRAIN['num_train_epochs']})"
    )
    parser.add_argument("--pretrain-steps", type=int, help="stop pretraining after N steps (overrides the epochs)")
    parser.add_argument("--finetune-train-samples", type=int, help="fine-tune on the first N training texts")
    parser.add_argument("--finetune-eval-samples", type=int, help="evaluate fine-tuning on the first N texts")
    parser.add_argument("--finetune-epochs", type=int, help="fine-tuning epochs (default 2)")
    parser.add_argument(
        "--finetune-seeds",
        type=_seed_list,
        help=f"comma-separated fine-tuning seeds (default {','.join(map(str, FINETUNE_SEEDS))})",
    )
    parser.add_argument("--start", help="a saved Albert-SOP folder to continue from (default: random init)")
    parser.add_argument("--learning-rate", type=float, help="pretraining learning rate (default: the recipe's, 1e-3)")
    parser.add_argument("--no-finetune", action="store_true", help="pretrain and evaluate only; no fine-tuning cells")
    parser.add_argument(
        "--mlm-bias-prior",
        action="store_true",
        help="start a fresh MLM head's output bias at the corpus's token log prior (the recipe's mlm_bias_prior)",
    )
    parser.add_argument(
        "--mlm-weight",
        type=float,
        help="weight of the MLM loss against the sentence loss (the recipe's mlm_weight; default 1, ALBERT's sum)",
    )
    parser.add_argument("--report-only", action="store_true", help="rewrite results.md and the plot from results.json")
    parser.add_argument("--budget", help=argparse.SUPPRESS)
    parser.add_argument("--cell", help=argparse.SUPPRESS)
    parser.add_argument("--cell-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.cell:
        run_cell(args.cell, Path(args.workdir), args.quick, json.loads(args.budget), Path(args.cell_out))
        return 0
    budget = {
        "pretrain_epochs": args.pretrain_epochs,
        "pretrain_steps": args.pretrain_steps,
        "max_train_samples": args.finetune_train_samples,
        "max_eval_samples": args.finetune_eval_samples,
        "num_train_epochs": args.finetune_epochs,
        # a smoke run fine-tunes with the first seed only, unless told otherwise
        "finetune_seeds": args.finetune_seeds or ([FINETUNE_SEEDS[0]] if args.quick else list(FINETUNE_SEEDS)),
        "start": None if args.start is None else str(Path(args.start).resolve()),
        "learning_rate": args.learning_rate,
        "no_finetune": args.no_finetune,
        "mlm_bias_prior": args.mlm_bias_prior,
        "mlm_weight": args.mlm_weight,
    }

    if args.quick:
        tmp = Path(tempfile.mkdtemp(prefix="albert-sop-quick-"))
        args.out, args.workdir = str(tmp / "results"), str(tmp / "runs")
    out, workdir = Path(args.out), Path(args.workdir)
    out.mkdir(parents=True, exist_ok=True)
    results_file = out / "results.json"
    previous = json.loads(results_file.read_text()) if results_file.exists() else {}
    results, sessions = previous.get("cells", {}), earlier_sessions(previous)
    done_before = set(results)
    if results and not args.report_only:
        check_same_budget(previous.get("budget") or {}, budget, results_file)
        seeds_before = previous["budget"].get("finetune_seeds") or list(FINETUNE_SEEDS)
        budget["finetune_seeds"] = list(dict.fromkeys([*seeds_before, *budget["finetune_seeds"]]))
    command = " ".join(["python scripts/albert_sop_study.py", *(argv if argv is not None else sys.argv[1:])])
    started = time.perf_counter()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    machine = f"{machine_description()}, load average at start {load}"

    def save() -> None:
        # a resumed study adds a session: its wall time is the sum of theirs (each one up to its last saved cell)
        this = {"command": command, "machine": machine, "wall_s": time.perf_counter() - started}
        this["cells"] = [name for name in results if name not in done_before]
        record = {"command": command, "quick": args.quick, "budget": budget, "machine": machine}
        record |= {"sessions": [*sessions, this], "wall_s": sum(s["wall_s"] for s in [*sessions, this])}
        results_file.write_text(json.dumps(record | {"cells": results}, indent=2, default=str))

    if args.report_only:
        saved = json.loads(results_file.read_text())
        write_report(
            saved["cells"],
            out,
            saved["command"],
            wall_s=saved.get("wall_s"),
            machine=machine_words(earlier_sessions(saved)),
            budget=saved.get("budget"),
        )
        return 0
    with ThreadPoolExecutor(args.parallel) as pool:
        for future in [
            pool.submit(chain, objective, results, save, workdir, args.quick, budget) for objective in RECIPES
        ]:
            future.result()
    if set(results) != done_before or not sessions:  # a session that ran nothing is not recorded
        save()
    saved = json.loads(results_file.read_text())
    write_report(
        results, out, command, wall_s=saved["wall_s"], machine=machine_words(saved["sessions"]), budget=budget
    )
    print(f"results: {out}/results.md")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.exit(main())
