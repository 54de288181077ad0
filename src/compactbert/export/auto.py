"""`backend="auto"`: PyTorch and the runtime backends side by side on sample texts, the fastest that keeps PyTorch's
predictions chosen, and why.

Each runtime first predicts the built-in sample texts; one that changes a prediction (or, for an encoder, whose
outputs point elsewhere: cosine < 0.99), or fails, is left out with why. PyTorch and the rest then run a few
interleaved forward passes on a batch of 1 and of 8 sample texts, timed by a `measure` function (tests inject one to
force an outcome), and the lowest geometric-mean time relative to PyTorch wins; PyTorch wins a tie.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..inference import DTYPES, InferenceModel, time_side_by_side
from .exporter import Comparison
from .texts import SAMPLE_TEXTS

if TYPE_CHECKING:
    from .backends import RuntimeInferenceModel

AUTO_BATCHES = (1, 8)  # sample batch sizes `auto` times every backend on
Measure = Callable[[dict[str, Callable[[], Any]]], dict[str, float]]


def dtype_name(dtype) -> str:
    """`torch.float32` -> `"fp32"`, `torch.bfloat16` -> `"bf16"`."""
    return next(name for name, value in DTYPES.items() if value == dtype)


@dataclass
class BackendChoice:
    """How `backend="auto"` chose: the backend, why, and what it measured.

    Attributes:
        backend (`str`): the chosen backend (`"torch"`, `"openvino"` or `"onnxruntime"`).
        reason (`str`): one line for a person: the measured ratio, or why PyTorch was kept.
        relative_time (`dict[str, float]`): each timed backend's time / PyTorch's (geometric mean over the sample
            batches; below 1 is faster).
        times_ms (`dict[str, dict[str, float]]`): each timed backend's measured time per sample batch.
        dtypes (`dict[str, str]`): the precision each timed backend ran in.
        rejected (`dict[str, str]`): the runtimes left out, and why (not installed, failed, predictions changed).
    """

    backend: str
    reason: str
    relative_time: dict[str, float] = field(default_factory=dict)
    times_ms: dict[str, dict[str, float]] = field(default_factory=dict)
    dtypes: dict[str, str] = field(default_factory=dict)
    rejected: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "reason": self.reason,
            "relative_time": self.relative_time,
            "times_ms": self.times_ms,
            "dtypes": self.dtypes,
            "rejected": self.rejected,
        }


def default_measure(fns: dict[str, Callable[[], Any]]) -> dict[str, float]:
    """Median milliseconds of each callable over 5 interleaved rounds after a warm-up round (`time_side_by_side`)."""
    return {name: t.median_ms for name, t in time_side_by_side(fns, repeats=5, warmup=1).items()}


def _outputs(loaded: InferenceModel, encoded, names: Sequence[str]) -> dict[str, np.ndarray]:
    result = loaded.forward(encoded)
    return {name: result[name].float().cpu().numpy() for name in names}


def check_predictions(reference: InferenceModel, candidate: RuntimeInferenceModel, texts: Sequence[str]) -> str | None:
    """None when `candidate` predicts what `reference` (PyTorch) predicts on every one of `texts` (for an encoder:
    each text's output points the same way, cosine >= 0.99); else what differs."""
    encoded = reference.encode(list(texts))
    names = candidate.export_info["outputs"]
    comparison = Comparison(candidate.task)
    comparison.add(
        _outputs(reference, encoded, names),
        _outputs(candidate, encoded, names),
        encoded["attention_mask"].cpu().numpy(),
    )
    result = comparison.result()
    if result["predictions_unchanged"] is not None:
        if comparison.same < comparison.total:
            return (
                f"predictions differ from PyTorch's on {comparison.total - comparison.same} of {comparison.total} "
                f"sample predictions (largest output difference {result['max_abs_logit_diff']:.3g})"
            )
        return None
    if not result["passed"]:
        return f"outputs differ from PyTorch's (lowest cosine similarity {result['min_cosine_similarity']:.4f})"
    return None


def choose_backend(
    reference: InferenceModel,
    candidates: dict[str, RuntimeInferenceModel],
    rejected: dict[str, str] | None = None,
    measure: Measure | None = None,
    texts: Sequence[str] = SAMPLE_TEXTS,
    batches: Sequence[int] = AUTO_BATCHES,
) -> tuple[InferenceModel, BackendChoice]:
    """Pick the fastest of PyTorch (`reference`) and the runtime `candidates` whose predictions match PyTorch's.

    Each candidate predicts `texts` first (a candidate that changes a prediction, or fails, is rejected with why);
    then PyTorch and the rest run side by side on the first `b` texts for each `b` of `batches`, timed by `measure`
    (`{name: callable} -> {name: milliseconds}`; by default `default_measure`, a few interleaved passes). The score
    is the geometric mean over the batches of a backend's time / PyTorch's; the lowest wins, PyTorch on a tie.
    Returns the chosen model, with its `backend_choice` set, and the choice.
    """
    rejected = dict(rejected or {})
    measure = measure or default_measure
    usable: dict[str, InferenceModel] = {"torch": reference}
    for name, candidate in candidates.items():
        try:
            why = check_predictions(reference, candidate, texts)
        except Exception as err:  # a runtime that cannot run this model here is reported, not fatal
            why = f"failed: {type(err).__name__}: {str(err).splitlines()[0][:200] if str(err) else ''}"
        if why is None:
            usable[name] = candidate
        else:
            rejected[name] = why
    dtypes = {name: dtype_name(m.dtype) for name, m in usable.items()}
    if len(usable) == 1:
        reasons = "; ".join(f"{name}: {why}" for name, why in rejected.items()) or "no runtime was offered"
        choice = BackendChoice(
            "torch", f"torch: no runtime to compare with ({reasons})", dtypes=dtypes, rejected=rejected
        )
        reference.backend_choice = choice
        return reference, choice
    times: dict[str, dict[str, float]] = {name: {} for name in usable}
    for size in batches:
        sample = list(texts[:size])
        measured = measure({name: model.runner(sample) for name, model in usable.items()})
        for name in usable:
            times[name][f"batch {len(sample)}"] = float(measured[name])
    relative = {
        name: math.exp(statistics.fmean([math.log(times[name][b] / times["torch"][b]) for b in times["torch"]]))
        for name in usable
    }
    best = min(usable, key=lambda name: (relative[name], list(usable).index(name)))
    others = ", ".join(f"{name} {relative[name]:.2f}x" for name in usable if name != best)
    batches_text = " and ".join(times["torch"])
    if best == "torch":
        reason = f"torch: no runtime was faster on this CPU ({others} PyTorch's time; {batches_text} of sample texts)"
    else:
        reason = (
            f"{best} ({dtypes[best]}): {relative[best]:.2f}x PyTorch's time on this CPU ({batches_text} of sample "
            f"texts), predictions unchanged on {len(texts)} sample texts"
            + (
                f"; {', '.join(f'{n} {relative[n]:.2f}x' for n in usable if n not in (best, 'torch'))}"
                if len(usable) > 2
                else ""
            )
        )
    if rejected:
        reason += "; left out: " + "; ".join(f"{name} ({why})" for name, why in rejected.items())
    choice = BackendChoice(best, reason, relative, times, dtypes, rejected)
    chosen = usable[best]
    chosen.backend_choice = choice
    return chosen, choice
