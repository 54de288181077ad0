"""Trainer test helpers: a subclass that keeps what `compute_loss` hands to the loss-logging mixin."""


class RecordingMixin:
    """Keeps (training?, batch size, {name: value}) for each `record_loss_components` call; put it before the trainer."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.recorded = []

    def record_loss_components(self, values, model, inputs):
        self.recorded.append(
            (model.training, len(inputs["input_ids"]), {k: float(v.detach()) for k, v in values.items()})
        )
        super().record_loss_components(values, model, inputs)
