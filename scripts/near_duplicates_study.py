"""How many held-out texts of the built-in tasks nearly repeat a training text, and what they do to a zoo's scores.

The splits keep exact repeats together (`data.dedup_key`: equal after collapsing whitespace and case), but not an
article whose body a training article repeats under another headline, or with a few words edited. This script finds
those (`data.near_duplicates`: 8-word runs, Jaccard >= 0.5) in the validation and test splits of `bbc-news` and
`rotten-tomatoes`, then scores every model of a demo zoo on the `bbc-news` test split with and without them, so that
the share each student keeps of its teacher can be read on texts that no model saw.

    python scripts/near_duplicates_study.py --zoo ~/.cache/compactbert/demo/zoo-minilm-bbc-news-<key> \\
        --out docs/results/near_duplicates

Each model is scored in fp32 with PyTorch, at its run's recorded `max_length`; `recorded` is the test accuracy its
`metrics.json` keeps (its run's own scoring), for comparison with `all`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from compactbert.data import load_task, near_duplicates
from compactbert.demo.manifest import load_zoo
from compactbert.hardware import machine_description
from compactbert.inference import load_for_inference
from compactbert.io import write_json_atomically
from compactbert.records import read_metrics

TASKS = ("bbc-news", "rotten-tomatoes")
THRESHOLD, RUN_WORDS = 0.5, 8


def repeats_of(task: str, seed: int = 42) -> dict:
    """Per held-out split: how many texts, and the indices of those that nearly repeat a training text."""
    dataset = load_task(task, seed=seed).dataset
    train = dataset["train"]["text"]
    found = {}
    for split in ("validation", "test"):
        flags = near_duplicates(dataset[split]["text"], train, threshold=THRESHOLD, n=RUN_WORDS)
        found[split] = {"texts": len(flags), "near_duplicates": [i for i, f in enumerate(flags) if f]}
    return found


def accuracy(predicted: np.ndarray, labels: np.ndarray, keep: np.ndarray) -> float:
    return round(float((predicted[keep] == labels[keep]).mean()), 4)


def score_zoo(zoo_dir: Path, test, label_names: list[str], repeated: list[int]) -> dict:
    """Each model's test accuracy on all texts, on the near-duplicates only and without them."""
    zoo = load_zoo(zoo_dir)
    labels = np.array(test["label"])
    keep = np.ones(len(labels), bool)
    keep[repeated] = False
    rows = {}
    for entry in tqdm([zoo.teacher, *zoo.entries], desc="scoring the zoo", unit="model"):
        folder = Path(zoo.resolve(entry))
        max_length = ((read_metrics(folder).get("recipe") or {}).get("data") or {}).get("max_length", 128)
        model = load_for_inference(folder, backend="torch", dtype="fp32")
        names = model.label_names
        probabilities = model.predict_proba(list(test["text"]), max_length=max_length)
        predicted = np.array([label_names.index(names[j]) for j in probabilities.argmax(-1)])
        rows[entry.name] = {
            "recorded": (read_metrics(folder).get("test") or {}).get("accuracy"),
            "all": accuracy(predicted, labels, np.ones(len(labels), bool)),
            "near_duplicates": accuracy(predicted, labels, ~keep),
            "without": accuracy(predicted, labels, keep),
            "max_length": max_length,
        }
    teacher = rows[zoo.teacher.name]
    for row in rows.values():
        row["kept_all"] = round(row["all"] / teacher["all"], 4)
        row["kept_without"] = round(row["without"] / teacher["without"], 4)
    return {"zoo": zoo_dir.name, "teacher": zoo.teacher.name, "models": rows}


def report(results: dict) -> str:
    lines = [
        "# Held-out texts that nearly repeat a training text",
        "",
        f"Command: `{results['command']}`, on {results['date']} on a {results['machine']}, {results['seconds']:.0f} s.",
        "",
        f"Near-duplicate: a held-out text whose {RUN_WORDS}-word runs and a training text's have a Jaccard similarity "
        f">= {THRESHOLD} (`compactbert.data.near_duplicates`); split seed 42.",
        "",
        "| task | validation | test |",
        "|---|---:|---:|",
    ]
    for task, splits in results["tasks"].items():
        cells = [f"{len(s['near_duplicates'])} of {s['texts']}" for s in splits.values()]
        lines.append(f"| `{task}` | {' | '.join(cells)} |")
    zoo = results.get("zoo")
    if zoo:
        n = len(results["tasks"]["bbc-news"]["test"]["near_duplicates"])
        lines += [
            "",
            f"The zoo `{zoo['zoo']}` on the `bbc-news` test split, fp32 PyTorch: accuracy on all texts, on the {n} "
            "near-duplicates, and without them; the share of the teacher's accuracy each keeps.",
            "",
            "| model | recorded | all | near-duplicates | without | kept (all) | kept (without) |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for name, row in zoo["models"].items():
            recorded = f"{row['recorded']:.2%}" if isinstance(row["recorded"], float) else "–"
            lines.append(
                f"| {name} | {recorded} | {row['all']:.2%} | {row['near_duplicates']:.2%} | {row['without']:.2%} | "
                f"{row['kept_all']:.1%} | {row['kept_without']:.1%} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--zoo", type=Path, help="a built demo zoo (its folder, holding zoo.json) to score")
    parser.add_argument("--out", type=Path, required=True, help="folder for results.json and results.md")
    args = parser.parse_args(argv)
    if args.zoo is not None and not (args.zoo / "zoo.json").is_file():
        parser.error(f"--zoo {args.zoo}: no zoo.json there; give the folder of a built demo zoo")
    if args.out.exists() and not args.out.is_dir():
        parser.error(f"--out {args.out} is a file; give a folder")
    started = time.perf_counter()
    results = {
        "command": "python scripts/near_duplicates_study.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d"),
        "machine": machine_description(),
        "threshold": THRESHOLD,
        "run_words": RUN_WORDS,
        "tasks": {task: repeats_of(task) for task in TASKS},
    }
    if args.zoo is not None:
        task = load_task("bbc-news", seed=42)
        repeated = results["tasks"]["bbc-news"]["test"]["near_duplicates"]
        results["zoo"] = score_zoo(args.zoo, task.dataset["test"], list(task.label_names), repeated)
    results["seconds"] = round(time.perf_counter() - started, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    write_json_atomically(args.out / "results.json", results)
    (args.out / "results.md").write_text(report(results), encoding="utf-8")
    print(report(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
