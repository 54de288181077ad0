"""How `compactbert bench` scores what it timed: ratios paired per round, and the targets it promises.

Two rows timed in the same interleaved round share the machine's state then, so every ratio here is `paired_ratio`:
the median over rounds of the within-round ratio. `score_report` fills a report's ratios and checks from its rows'
per-round samples; it needs neither torch nor the models, so a saved report is re-scored anywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..timing import paired_ratio
from .rows import TEACHER


@dataclass(frozen=True)
class Target:
    """A ratio the benchmark promises at every (batch, dtype) setting it measures.

    `kind="speedup"`: the teacher's time / `model`'s is at least `threshold`. `kind="parity"`: `model`'s time /
    `reference`'s is within 1 ± `threshold` (ShrunkBert adds nothing to the BertModel it is). Both ratios are
    paired: the median over rounds of the ratio within a round (`paired_ratio`).
    """

    name: str
    kind: str
    model: str
    threshold: float
    reference: str = TEACHER

    def evaluate(self, samples: dict[str, Sequence[float]]) -> dict[str, Any]:
        """`samples`: each row's per-round times (one value each is fine); the ratio is `paired_ratio`'s."""
        if self.model not in samples or self.reference not in samples:
            missing = [n for n in (self.model, self.reference) if n not in samples]
            return {"status": "not measured", "value": None, "why": f"no row for {', '.join(missing)}"}
        if self.kind == "speedup":
            value = paired_ratio(samples[self.reference], samples[self.model])
            ok = value >= self.threshold
        else:
            value = paired_ratio(samples[self.model], samples[self.reference])
            ok = abs(value - 1.0) <= self.threshold + 1e-12  # 1.03 - 1 is 0.030000000000000027
        return {"status": "met" if ok else "missed", "value": value}

    @property
    def rule(self) -> str:
        if self.kind == "speedup":
            return f"{self.model} >= {self.threshold:g}x faster than {self.reference}"
        return f"{self.model} time within {self.threshold:.0%} of {self.reference}"


TARGETS = [
    *(Target(f"shrunk-top{k} = bert-{12 - k}", "parity", f"shrunk-top{k}", 0.03, f"bert-{12 - k}") for k in (2, 4, 6)),
    Target("top-6 speedup (paper: 50% less time)", "speedup", "shrunk-top6", 1.85),
    Target("TinyBert-4 speedup (paper: 9.4x)", "speedup", "tinybert-4", 9.4),
]


def _samples(row: dict[str, Any]) -> Sequence[float]:
    """A row's per-round times; a row saved without them counts as its median alone."""
    return row.get("samples_ms") or [row["median_ms"]]


def evaluate_targets(results: Sequence[dict[str, Any]], targets: Sequence[Target] = TARGETS) -> list[dict[str, Any]]:
    """Check every target at every (batch, dtype, backend) setting of `results` (rows as `run_benchmark` returns them;
    a row without `samples_ms` is taken as its `median_ms` alone). A check on a runtime backend names it."""
    settings: dict[tuple[int, str, str], dict[str, Sequence[float]]] = {}
    for row in results:
        settings.setdefault(setting_of(row), {})[row["model"]] = _samples(row)
    checks = []
    for (batch, dtype, backend), samples in settings.items():
        for target in targets:
            checks.append(
                {
                    "target": target.name,
                    "rule": target.rule,
                    "batch": batch,
                    "dtype": dtype,
                    "threshold": target.threshold,
                }
                | ({} if backend == "torch" else {"backend": backend})
                | target.evaluate(samples)
            )
    return checks


def setting_of(row: dict[str, Any]) -> tuple[int, str, str]:
    """The (batch, dtype, backend) a row was timed at; a row saved before backends existed ran on torch."""
    return row["batch"], row["dtype"], row.get("backend", "torch")


@dataclass(frozen=True)
class RuntimeTarget:
    """How much faster a runtime backend should run a row than PyTorch at the same batch and precision.

    `bf16_units`: the target applies on machines with native bf16 units (`True`), on AVX2-only machines (`False`), or
    on both (`None`). `batch`: the batch sizes it applies to (`min_batch` and up when `batch` is None).
    """

    dtype: str
    threshold: float
    bf16_units: bool | None
    batch: int | None = None
    min_batch: int = 1

    def applies(self, batch: int, dtype: str, has_bf16_units: bool) -> bool:
        if dtype != self.dtype or (self.bf16_units is not None and self.bf16_units != has_bf16_units):
            return False
        return batch == self.batch if self.batch is not None else batch >= self.min_batch


RUNTIME_TARGETS = [
    RuntimeTarget("bf16", 2.0, True, batch=1),  # against today's bf16 path, on CPUs with bf16 units
    RuntimeTarget("bf16", 1.2, True, min_batch=2),
    RuntimeTarget("fp32", 1.4, False, batch=1),  # against today's fp32 path, on AVX2-only CPUs
    RuntimeTarget("fp32", 1.2, False, min_batch=2),
]


def runtime_speedups(
    results: Sequence[dict[str, Any]], has_bf16_units: bool, targets: Sequence[RuntimeTarget] = RUNTIME_TARGETS
) -> list[dict[str, Any]]:
    """Each row run by a runtime backend against the same row on torch at the same batch and precision (timed in the
    same interleaved rounds): `speedup` is the paired ratio torch time / runtime time, with the target that applies
    on this kind of machine (`None` where none does: e.g. fp32 on a CPU with bf16 units, where bf16 is the path).
    """
    torch_rows = {(r["model"], r["batch"], r["dtype"]): r for r in results if setting_of(r)[2] == "torch"}
    out = []
    for row in results:
        batch, dtype, backend = setting_of(row)
        reference = torch_rows.get((row["model"], batch, dtype))
        if backend == "torch" or reference is None:
            continue
        speedup = paired_ratio(_samples(reference), _samples(row))
        target = next((t for t in targets if t.applies(batch, dtype, has_bf16_units)), None)
        out.append(
            {
                "model": row["model"],
                "batch": batch,
                "dtype": dtype,
                "backend": backend,
                "torch_ms": reference["median_ms"],
                "runtime_ms": row["median_ms"],
                "speedup": speedup,
                "threshold": None if target is None else target.threshold,
                "status": "reported" if target is None else ("met" if speedup >= target.threshold else "missed"),
            }
        )
    return out


def score_report(report: dict[str, Any]) -> dict[str, Any]:
    """Fill every row's `speedup_vs_teacher` and `time_vs_baseline` and the report's `checks` from the rows'
    per-round samples (`paired_ratio`), in place; returns `report`.

    `run_benchmark` scores what it timed with it, and `compactbert bench --from-json` re-scores a saved report, so a
    report written before a change of statistic is read with the current one (its samples are what was measured).
    """
    settings: dict[tuple[int, str, str], dict[str, dict[str, Any]]] = {}
    for row in report["results"]:
        settings.setdefault(setting_of(row), {})[row["model"]] = row
    for rows in settings.values():
        teacher = rows.get(TEACHER)
        for row in rows.values():
            row["speedup_vs_teacher"] = paired_ratio(_samples(teacher), _samples(row)) if teacher else None
            baseline = rows.get(row.get("baseline") or "")
            row["time_vs_baseline"] = paired_ratio(_samples(row), _samples(baseline)) if baseline else None
    report["checks"] = evaluate_targets(report["results"])
    has_bf16_units = bool(report.get("machine", {}).get("bf16_units"))
    report["runtime_speedups"] = runtime_speedups(report["results"], has_bf16_units)
    return report
