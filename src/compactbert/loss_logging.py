"""`LossComponentsLogging`: a `transformers.Trainer` mixin that logs the parts of a composite loss next to `loss`.

Shared by the `DistillationTrainer` (`loss_ce`, `loss_hidden`, ...) and the pre-training trainer (`mlm_loss`,
`sentence_loss`). The trainer's `compute_loss` hands each micro-batch's components to
`record_loss_components(values, model, inputs)`; the one `log()` override adds their means to the log entry:

- training: the mean over the micro-batches since the last log (every micro-batch of every gradient-accumulation
  step counts once, as in the Trainer's own `loss`), over all processes;
- evaluation: the mean over the evaluated examples (each batch weighted by its size, as the Trainer weighs
  `eval_loss`), over all processes, under the evaluation's prefix (`eval_loss_ce`, `validation_mlm_loss`, ...).
  With several processes, the few examples the distributed sampler repeats to even out the last batches count
  here (the Trainer drops them from `eval_loss`).

Only imports torch and transformers, so any trainer module can use it.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers.trainer_pt_utils import find_batch_size
from transformers.trainer_utils import EvalLoopOutput

__all__ = ["LossComponentsLogging"]


class _Window:
    """Weighted sums of each component since the window was last read."""

    def __init__(self):
        self.sums: dict[str, torch.Tensor] = {}
        self.weight = 0.0

    def add(self, values: dict[str, torch.Tensor], weight: float) -> None:
        for name, value in values.items():
            value = value.detach().float() * weight
            self.sums[name] = self.sums[name] + value if name in self.sums else value
        self.weight += weight

    def take(self, accelerator) -> dict[str, float]:
        """The weighted means (over every process), and a fresh window."""
        names = sorted(self.sums)
        if not names:
            return {}
        device = self.sums[names[0]].device
        totals = torch.stack([*(self.sums[n].reshape(()) for n in names), torch.tensor(self.weight, device=device)])
        totals = accelerator.reduce(totals, reduction="sum").tolist()
        self.sums.clear()
        self.weight = 0.0
        return {name: total / totals[-1] for name, total in zip(names, totals[:-1], strict=True)}


class LossComponentsLogging:
    """Mix into a `Trainer` subclass (before `Trainer`) to log the components of its loss, for training and
    evaluation alike; its `compute_loss` calls `record_loss_components`. See the module docstring for the means."""

    def _loss_windows(self) -> dict[str, _Window]:
        windows = self.__dict__.get("_component_windows")
        if windows is None:
            windows = self.__dict__["_component_windows"] = {"train": _Window(), "eval": _Window()}
        return windows

    def record_loss_components(self, values: dict[str, torch.Tensor], model: nn.Module, inputs: dict) -> None:
        """Add one micro-batch's loss components (`{log name: scalar tensor}`), computed by `model` on `inputs`,
        to the current training window (when `model.training`) or evaluation window (otherwise)."""
        if model.training:
            self._loss_windows()["train"].add(values, 1.0)
        else:
            self._loss_windows()["eval"].add(values, float(find_batch_size(inputs)))

    def evaluation_loop(
        self,
        dataloader,
        description: str,
        prediction_loss_only: bool | None = None,
        ignore_keys: list[str] | None = None,
        metric_key_prefix: str = "eval",
    ) -> EvalLoopOutput:
        """The Trainer's evaluation loop, in a fresh evaluation window (a `predict()`, which logs nothing, leaves
        none behind) named by the loop's metric prefix."""
        self._loss_windows()["eval"] = _Window()
        self._eval_prefix = metric_key_prefix
        return super().evaluation_loop(dataloader, description, prediction_loss_only, ignore_keys, metric_key_prefix)

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        """Add the component means to a training log (one with `loss`) or an evaluation log (one with
        `<prefix>_loss`), in place (so `evaluate()` returns them too), then log as the Trainer does."""
        windows = self._loss_windows()
        prefix = getattr(self, "_eval_prefix", None)
        if "loss" in logs:
            logs.update(windows["train"].take(self.accelerator))
        elif prefix is not None and f"{prefix}_loss" in logs:
            logs.update({f"{prefix}_{name}": v for name, v in windows["eval"].take(self.accelerator).items()})
            self._eval_prefix = None
        super().log(logs, start_time)
