"""The reports of `compactbert bench` and of the inference-path study: markdown tables, plots, and the files they are
written to (each in one rename, `compactbert.io`).

Rendering only: what the reports hold is measured by `compactbert.bench.run` and `compactbert.bench.inference_options`,
so reading a saved report back into tables needs no torch.

- the model benchmark: `markdown_report`, `plot_report`, `write_report` (bench.json / .md / .png), `load_report`;
- the inference-path study: `inference_markdown_report`, `inference_plot_report`, `write_inference_report`
  (inference.json / .md / .png).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..io import write_file_atomically, write_json_atomically, write_text_atomically
from .defaults import INT8_CALIBRATION
from .scoring import score_report, setting_of


def _on(dtype: str, backend: str) -> str:
    """`bf16`, or `bf16 on openvino` for a row run by a runtime backend (a report's torch rows read as before)."""
    return dtype if backend == "torch" else f"{dtype} on {backend}"


# ------------------------------------------------------------------------------------------------ the model benchmark


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
    by_setting: dict[tuple[int, str, str], list[dict]] = {}
    for row in report["results"]:
        by_setting.setdefault(setting_of(row), []).append(row)
    for (batch, dtype, backend), rows in by_setting.items():
        peak = report["peak"][f"{dtype}/batch{batch}"]
        lines += [
            f"## batch {batch}, {_on(dtype, backend)} (matmul rate {peak['gflops_median']:.0f} GFLOP/s median, "
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
        dtype = _on(c["dtype"], c.get("backend", "torch"))
        lines.append(f"| {c['target']} | {c['rule']} | {c['batch']} | {dtype} | {value} | {status} |")
    lines.append("")
    lines += runtime_speedup_lines(report)
    if report["missing"]:
        lines += ["## Rows left out", ""]
        lines += [f"- `{m['model']}`: {m['why']}" for m in report["missing"]]
        lines.append("")
    return "\n".join(lines)


def runtime_speedup_lines(report: dict[str, Any]) -> list[str]:
    """The table of each runtime against PyTorch on the same row, batch and precision (none when only torch ran)."""
    speedups = report.get("runtime_speedups") or []
    if not speedups:
        return []
    units = ", ".join(report["machine"].get("bf16_units") or []) or "none (AVX2-only targets)"
    lines = [
        "## Runtimes vs PyTorch (same row, batch and precision, timed in the same rounds)",
        "",
        f"Speedup = PyTorch's time / the runtime's, paired per round. Targets for this machine (bf16 units: {units}): "
        "batch 1 at least 2x in bf16 on CPUs with bf16 units, at least 1.4x in fp32 on AVX2-only CPUs; larger "
        "batches at least 1.2x; other settings are reported."
        + (
            " openvino-int8: each row's OpenVINO graph with its matrix multiplications quantized to int8 by NNCF, "
            f"{INT8_CALIBRATION}, its other operations at the setting's precision; against PyTorch at that precision."
            if any(r["backend"] == "openvino-int8" for r in speedups)
            else ""
        ),
        "",
        "| model | batch | dtype | runtime | PyTorch ms | runtime ms | speedup | target | status |",
        "|---|---:|---|---|---:|---:|---:|---:|---|",
    ]
    for r in speedups:
        target = "" if r["threshold"] is None else f">= {r['threshold']:g}x"
        lines.append(
            f"| {r['model']} | {r['batch']} | {r['dtype']} | {r['backend']} | {r['torch_ms']:.1f} | "
            f"{r['runtime_ms']:.1f} | {r['speedup']:.2f}x | {target} | {r['status']} |"
        )
    return [*lines, ""]


def plot_report(report: dict[str, Any], path: str | os.PathLike) -> None:
    """Speedup vs the teacher per row, one panel per (batch, dtype); ours and transformers' rows in two colours."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_setting: dict[tuple[int, str, str], list[dict]] = {}
    for row in report["results"]:
        by_setting.setdefault(setting_of(row), []).append(row)
    fig, axes = plt.subplots(
        1,
        len(by_setting),
        figsize=(4.2 * len(by_setting), 0.35 * len(report["results"]) / max(1, len(by_setting)) + 1.8),
        squeeze=False,
        sharey=True,
    )
    for ax, ((batch, dtype, backend), rows) in zip(axes[0], by_setting.items(), strict=True):
        names = [r["model"] for r in rows][::-1]
        speedups = [r["speedup_vs_teacher"] for r in rows][::-1]
        colours = ["tab:blue" if r["ours"] else "tab:gray" for r in rows][::-1]
        ax.barh(names, speedups, color=colours)
        for y, value in enumerate(speedups):
            ax.text(value, y, f" {value:.2f}x", va="center", fontsize=7)
        ax.axvline(1.0, color="black", linewidth=0.6)
        ax.set_title(f"batch {batch}, {_on(dtype, backend)}", fontsize=9)
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


def write_report(report: dict[str, Any], out: str | os.PathLike, command: str | None = None) -> list[Path]:
    """Write `bench.json`, `bench.md` and `bench.png` into the folder `out` (each file replaced in one rename)."""
    out = Path(out)
    files = [out / "bench.json", out / "bench.md", out / "bench.png"]
    write_json_atomically(files[0], report | {"command": command})
    write_text_atomically(files[1], markdown_report(report, command))
    write_file_atomically(files[2], lambda p: plot_report(report, p))
    return files


def load_report(path: str | os.PathLike) -> dict[str, Any]:
    """A saved `bench.json`, re-scored (`score_report`); a clear error for a file that is not one."""
    path = Path(path)
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file (expected a bench.json written by `compactbert bench`)") from None
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not JSON ({err}); expected a bench.json written by `compactbert bench`") from None
    needed = {"settings", "machine", "date", "peak", "results", "missing"}
    if not isinstance(report, dict) or not needed <= report.keys():
        have = sorted(report) if isinstance(report, dict) else type(report).__name__
        raise ValueError(f"{path}: not a compactbert bench report (expected the keys {sorted(needed)}, got {have})")
    return score_report(report)


# -------------------------------------------------------------------------------------------- the inference-path study


def inference_markdown_report(report: dict[str, Any], command: str | None = None) -> str:
    """Tables of the variants (quality and speed), the batching and the thread counts."""
    lines = ["# The inference path: what was tried", ""]
    if report.get("note"):
        lines += [f"**{report['note']}**", ""]
    if command:
        lines += ["```bash", command, "```", ""]
    machine = report["machine"]
    lines += [
        f"{report['date']} · {machine['cpu']} · {machine['threads']} threads on {machine['cores_available']} cores · "
        f"bf16 units: {', '.join(machine['bf16_units']) or 'none'} · torch {machine['torch']} · load average "
        f"{machine['load_average_at_start']} at start, {machine['load_average_at_end']} at end",
        "",
        f"Model: {report['model']}. Quality on {report['data']}. Speed: one forward pass on the first test texts, "
        "padded to 128 tokens, every variant timed interleaved after warm-up; median (min–max). Setup = building "
        "the variant plus its first batch (export, quantization, compilation).",
        "",
    ]
    timing_labels = list(report["timings"])
    header = "| variant | agreement with fp32 | accuracy | max abs logit diff | setup s |"
    header += "".join(f" {label} ms | speedup |" for label in timing_labels)
    lines += [header, "|---|---:|---:|---:|---:|" + "---:|---:|" * len(timing_labels)]
    for row in report["variants"]:
        cells = [
            row["variant"],
            f"{100 * row['agreement_with_fp32']:.1f}%",
            f"{100 * row['accuracy']:.1f}%",
            f"{row['max_abs_logit_diff']:.3f}",
            f"{row['setup_s']:.1f}",
        ]
        for label in timing_labels:
            t = report["timings"][label][row["variant"]]
            cells += [f"{t['median_ms']:.1f} ({t['min_ms']:.1f}–{t['max_ms']:.1f})", f"{t['speedup_vs_fp32']:.2f}x"]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines += [f"- `{row['variant']}`: {row['description']}" for row in report["variants"]]
    lines += [f"- `{m['variant']}`: not measured, {m['why']}" for m in report["missing"]]
    lines.append("")
    if report.get("batching"):
        lines += [
            "## Length-sorted batches (`predict_proba`, tokenizing included, batch 32, the default dtype)",
            "",
            "| texts | count | mean tokens | sorted ms | unsorted ms | speedup | same predictions |",
            "|---|---:|---:|---:|---:|---:|---|",
        ]
        for name, b in report["batching"].items():
            lines.append(
                f"| {name} | {b['texts']} | {b['mean_tokens']:.0f} | {b['sorted']['median_ms']:.0f} "
                f"| {b['unsorted']['median_ms']:.0f} | {b['speedup_sorted']:.2f}x | {100 * b['same_predictions']:.1f}% |"
            )
        lines.append("")
    if report.get("threads"):
        lines += ["## Threads (forward, batch 32)", "", "| setting | median ms (min–max) |", "|---|---:|"]
        for name, t in report["threads"].items():
            lines.append(f"| {name} | {t['median_ms']:.0f} ({t['min_ms']:.0f}–{t['max_ms']:.0f}) |")
        lines.append("")
    return "\n".join(lines)


def inference_plot_report(report: dict[str, Any], path: str | os.PathLike) -> None:
    """Speedup vs fp32 of each variant at each batch size, labelled with its agreement with fp32."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = list(report["timings"])
    names = [row["variant"] for row in report["variants"]]
    agreement = {row["variant"]: row["agreement_with_fp32"] for row in report["variants"]}
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(names) * len(labels) + 1.5))
    height = 0.8 / len(labels)
    for i, label in enumerate(labels):
        values = [report["timings"][label][n]["speedup_vs_fp32"] for n in names]
        ys = [y + i * height for y in range(len(names))]
        ax.barh(ys, values, height=height, label=label)
        for y, value, name in zip(ys, values, names, strict=True):
            ax.text(value, y, f" {value:.2f}x ({100 * agreement[name]:.1f}% same)", va="center", fontsize=7)
    ax.set_yticks([y + 0.4 - height / 2 for y in range(len(names))], names)
    ax.invert_yaxis()
    ax.axvline(1.0, color="black", linewidth=0.6)
    ax.set_xlabel("speedup vs fp32 (median, interleaved); label: predictions equal to fp32's")
    ax.set_xlim(0, max(t["speedup_vs_fp32"] for label in labels for t in report["timings"][label].values()) * 1.5)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120, format="png")
    plt.close(fig)


def write_inference_report(report: dict[str, Any], out: str | os.PathLike, command: str | None = None) -> list[Path]:
    """Write `inference.json`, `inference.md` and `inference.png` into the folder `out` (each file replaced in one
    rename)."""
    out = Path(out)
    files = [out / "inference.json", out / "inference.md", out / "inference.png"]
    write_json_atomically(files[0], report | {"command": command})
    write_text_atomically(files[1], inference_markdown_report(report, command))
    write_file_atomically(files[2], lambda p: inference_plot_report(report, p))
    return files
