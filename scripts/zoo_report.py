"""Copy a zoo build's results into docs/results/zoo/<name>/: results.json, results.md (a table), the plot, the card.

    compactbert build configs/minilm-top3-bbc-news.yaml
    python scripts/zoo_report.py runs/zoo/minilm-top3-bbc-news/model docs/results/zoo/minilm-top3-bbc-news \
        --command "compactbert build configs/minilm-top3-bbc-news.yaml"
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from compactbert.export.formats import runtime_title


def report(folder: Path, out: Path, command: str, machine: str | None = None) -> Path:
    """`machine`: the CPU the build ran on, for builds whose build.json names only the architecture (before
    compactbert.hub.compare named the CPU model and its bf16 units); default: what build.json says."""
    info = json.loads((folder / "build.json").read_text())
    recipe, metrics, comparison = info["recipe"], info["metrics"], info["comparison"]
    source, latency = comparison["source"], comparison["latency"]
    if machine:
        latency = latency | {"device": machine}
        comparison["latency"] = latency
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(info | {"command": command}, indent=2))
    shutil.copy2(folder / comparison["plot"], out / comparison["plot"])
    shutil.copy2(folder / "README.md", out / "model_card.md")

    def acc(m):
        return "not measured" if m is None else f"{m:.4f}"

    model, src = latency["model"], latency["source"]
    lines = [
        f"# Zoo build: {recipe['name']}",
        "",
        f"Command: `{command}` (recipe `configs/{recipe['name']}.yaml`).",
        f"Task `{recipe['task']}`, split seed {metrics['split_seed']}, training seed {metrics['seed']}, "
        f"{metrics['train'].get('epoch')} epoch(s); test split of the fixed seeded split.",
        *(
            [
                f"Built on {info['build']['date']} on a {info['build']['machine']} in {info['build']['wall_seconds']:.0f} s."
            ]
            if "build" in info
            else []
        ),
        "",
        f"| | {recipe['name']} | source ({source['name']}) |",
        "|---|---|---|",
        f"| layers | {metrics['num_hidden_layers']} | {source.get('num_hidden_layers')} |",
        f"| parameters | {metrics['num_parameters']:,} | {source.get('num_parameters') or 0:,} |",
        f"| test accuracy | {acc(metrics['test']['accuracy'])} | {acc(source.get('accuracy'))} |",
        f"| test macro-F1 | {acc(metrics['test']['macro_f1'])} | {acc(source.get('macro_f1'))} |",
        f"| latency median (min–max), ms | {model['median_ms']:.1f} ({model['min_ms']:.1f}–{model['max_ms']:.1f}) "
        f"| {src['median_ms']:.1f} ({src['min_ms']:.1f}–{src['max_ms']:.1f}) |",
        "",
        f"Latency: one forward pass on a batch of {latency['batch_size']} test texts (up to {latency['max_length']} "
        f"tokens), {latency['dtype']}, {latency['threads']} threads on {latency['device']}, the two models "
        f"interleaved after {latency['warmup']} warm-up rounds, {latency['repeats']} timed rounds each. "
        f"Median ratio source / model: {src['median_ms'] / model['median_ms']:.2f}x.",
        "",
        f"![accuracy and latency]({comparison['plot']})",
        "",
        *_export_lines(comparison.get("exports") or []),
    ]
    (out / "results.md").write_text("\n".join(lines))
    return out


def _export_lines(exports: list[dict]) -> list[str]:
    """The build's exported runtimes and their verification against PyTorch fp32, as the card shows them."""
    if not exports:
        return []

    def share(v):
        return "–" if v is None else f"{100 * v:.1f}%"

    def diff(v):
        return "–" if v is None else f"{v:.2g}"

    lines = [
        "Exported with the model (the recipe's `exports`), each verified against PyTorch fp32 on the texts named:",
        "",
        "| folder | runtime, dtype | verified on | predictions unchanged | largest logit difference |",
        "|---|---|---|---:|---:|",
    ]
    for export in exports:
        v = export["verification"]
        lines.append(
            f"| `{export['folder']}/` | {runtime_title(export['format'])}, {export['dtype']} | {v.get('on')} | "
            f"{share(v.get('predictions_unchanged'))} | {diff(v.get('max_abs_logit_diff'))} |"
        )
    return [*lines, ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="the build's model folder (<output_dir>/model)")
    parser.add_argument("out", type=Path, help="where to write the report, e.g. docs/results/zoo/<name>")
    parser.add_argument("--command", required=True, help="the command that produced the build")
    parser.add_argument(
        "--machine", help="the CPU the build ran on, e.g. 'a 2-core AMD EPYC (AVX512-BF16)' (default: from build.json)"
    )
    args = parser.parse_args()
    print(report(args.folder, args.out, args.command, args.machine))


if __name__ == "__main__":
    main()
