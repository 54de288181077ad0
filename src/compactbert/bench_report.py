"""`compactbert bench`'s report: the markdown tables, the plot, and the files they are written to (each in one rename).

Split from `compactbert.bench` (which measures) so that reading a saved `bench.json` back into tables needs
neither torch nor the model registry.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any


def markdown_report(report: dict[str, Any], command: str | None = None) -> str:
    """The tables: one per (batch, dtype) setting, then the targets, the machine and the missing rows."""
    settings, machine = report["settings"], report["machine"]
    lines = ["# compactbert bench", ""]
    if report.get("note"):
        lines += [f"**{report['note']}**", ""]
    if command:
        lines += ["```bash", command, "```", ""]
    if report.get("rescored"):
        rescored = report["rescored"]
        lines += [
            f"Ratios and targets re-scored from the stored per-round samples on {rescored['date']} "
            f"(`{rescored['command']}`): the times are the run's own.",
            "",
        ]
    lines += [
        f"{report['date']} · {machine['cpu']} · {machine['threads']} threads on {machine['cores_available']} cores · "
        f"bf16 units: {', '.join(machine['bf16_units']) or 'none'} · torch {machine['torch']} · "
        f"transformers {machine['transformers']} · load average {machine['load_average_at_start']} at start, "
        f"{machine['load_average_at_end']} at end",
        "",
        f"Sequence length {settings['seq']}, random token ids, no padding. Each setting's rows (and a "
        f"{next(iter(report['peak'].values()))['matmul_size'] if report['peak'] else '?'}² matmul, the machine's "
        f"matmul rate) were timed interleaved in one process: {settings['warmup']} warm-up round(s), then "
        f"{settings['repeats']} timed rounds"
        + (
            f" (each sample repeats a forward until it lasts about {settings['min_sample_ms']:g} ms and keeps the mean "
            "of one)"
            if settings.get("min_sample_ms")
            else ""
        )
        + "; median (min–max). Speedup vs teacher and time vs baseline are paired: the median over rounds of the "
        "ratio of the two rows' times in the same round. GFLOP/seq counts the matmul FLOPs of one "
        "sequence (linear layers 2 × weights applied per token × tokens, attention 4·L·s²·H, pooler); "
        "% peak = achieved GFLOP/s at the median time / the matmul's GFLOP/s at its median time.",
        "",
    ]
    if settings["quick"]:
        lines += ["Quick run: tiny sizes, the times say nothing about the real models.", ""]
    by_setting: dict[tuple[int, str], list[dict]] = {}
    for row in report["results"]:
        by_setting.setdefault((row["batch"], row["dtype"]), []).append(row)
    for (batch, dtype), rows in by_setting.items():
        peak = report["peak"][f"{dtype}/batch{batch}"]
        lines += [
            f"## batch {batch}, {dtype} (matmul rate {peak['gflops_median']:.0f} GFLOP/s median, "
            f"{peak['gflops_best']:.0f} best)",
            "",
            "| model | class | params | GFLOP/seq | median ms (min–max) | speedup vs teacher | time vs baseline "
            "| GFLOP/s | % peak |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in rows:
            versus = f"{r['time_vs_baseline']:.3f} ({r['baseline']})" if r["time_vs_baseline"] else ""
            lines.append(
                f"| {r['model']} | {r['class']} | {r['parameters'] / 1e6:.3g}M | {r['flops_per_sequence'] / 1e9:.3g} "
                f"| {r['median_ms']:.1f} ({r['min_ms']:.1f}–{r['max_ms']:.1f}) | {r['speedup_vs_teacher']:.2f}x "
                f"| {versus} | {r['gflops']:.0f} | {100 * r['peak_fraction']:.0f}% |"
            )
        lines.append("")
    lines += ["## Targets (same precision, same batch)", "", "| target | rule | batch | dtype | value | status |"]
    lines.append("|---|---|---:|---|---:|---|")
    for c in report["checks"]:
        value = "" if c["value"] is None else f"{c['value']:.3f}"
        status = c["status"] + (f" ({c['why']})" if c.get("why") else "")
        lines.append(f"| {c['target']} | {c['rule']} | {c['batch']} | {c['dtype']} | {value} | {status} |")
    lines.append("")
    if report["missing"]:
        lines += ["## Rows left out", ""]
        lines += [f"- `{m['model']}`: {m['why']}" for m in report["missing"]]
        lines.append("")
    return "\n".join(lines)


def plot_report(report: dict[str, Any], path: str | os.PathLike) -> None:
    """Speedup vs the teacher per row, one panel per (batch, dtype); ours and transformers' rows in two colours."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_setting: dict[tuple[int, str], list[dict]] = {}
    for row in report["results"]:
        by_setting.setdefault((row["batch"], row["dtype"]), []).append(row)
    fig, axes = plt.subplots(
        1,
        len(by_setting),
        figsize=(4.2 * len(by_setting), 0.35 * len(report["results"]) / max(1, len(by_setting)) + 1.8),
        squeeze=False,
        sharey=True,
    )
    for ax, ((batch, dtype), rows) in zip(axes[0], by_setting.items(), strict=True):
        names = [r["model"] for r in rows][::-1]
        speedups = [r["speedup_vs_teacher"] for r in rows][::-1]
        colours = ["tab:blue" if r["ours"] else "tab:gray" for r in rows][::-1]
        ax.barh(names, speedups, color=colours)
        for y, value in enumerate(speedups):
            ax.text(value, y, f" {value:.2f}x", va="center", fontsize=7)
        ax.axvline(1.0, color="black", linewidth=0.6)
        ax.set_title(f"batch {batch}, {dtype}", fontsize=9)
        ax.set_xlabel("speedup vs teacher (median)")
        ax.set_xlim(0, max(speedups) * 1.25)
    fig.suptitle(
        "compactbert bench: blue = compactbert, grey = transformers"
        + (" (quick)" if report["settings"]["quick"] else ""),
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=120, format="png")
    plt.close(fig)


def write_file_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """`write(tmp)` then one rename onto `path`: a reader never sees half a file, a failure leaves none."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_report(report: dict[str, Any], out: str | os.PathLike, command: str | None = None) -> list[Path]:
    """Write `bench.json`, `bench.md` and `bench.png` into the folder `out` (each file replaced in one rename)."""
    out = Path(out)
    files = [out / "bench.json", out / "bench.md", out / "bench.png"]
    document = report | {"command": command}
    write_file_atomically(files[0], lambda p: p.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8"))
    write_file_atomically(files[1], lambda p: p.write_text(markdown_report(report, command), encoding="utf-8"))
    write_file_atomically(files[2], lambda p: plot_report(report, p))
    return files
