"""`DistillationTrainingArguments`: `TrainingArguments` plus the distillation fields (weights, temperature, stage)."""

from __future__ import annotations

from dataclasses import dataclass, field

from transformers import TrainingArguments

from ..fields import parse_int_list
from .layer_map import LAYER_MAPS
from .losses import SOFT_CE_FORMS

# Which loss components each stage may use (a component is active when its alpha is also > 0).
# general: pre-training-time distillation on unlabeled text (TinyBERT's general stage; DistilBERT's ce + mlm + cos);
# intermediate / prediction: TinyBERT's two task-specific steps; all: every component, in one run.
COMPONENTS = ("ce", "label", "mlm", "cos", "embed", "hidden", "attn")
STAGES = {
    "general": ("ce", "mlm", "cos", "embed", "hidden", "attn"),
    "intermediate": ("cos", "embed", "hidden", "attn"),
    "prediction": ("ce", "label"),
    "all": COMPONENTS,
}


@dataclass
class DistillationTrainingArguments(TrainingArguments):
    """The fields a distillation run adds to `TrainingArguments`. The loss is `sum(alpha_k * L_k)` over the
    components the `stage` allows whose alpha is > 0."""

    temperature: float = field(default=2.0, metadata={"help": "Softmax temperature T of the soft-target loss."})
    soft_loss_form: str = field(
        default="kl",
        metadata={"help": f"Soft-target loss: one of {', '.join(SOFT_CE_FORMS)} (kl = KL * T^2, DistilBERT)."},
    )
    alpha_ce: float = field(default=1.0, metadata={"help": "Weight of the soft-target loss on the logits."})
    alpha_label: float = field(default=0.0, metadata={"help": "Weight of the student's own loss on task labels."})
    alpha_mlm: float = field(default=0.0, metadata={"help": "Weight of the student's own masked-LM loss."})
    alpha_cos: float = field(
        default=0.0, metadata={"help": "Weight of the cosine loss between last hidden states (real tokens only)."}
    )
    alpha_hidden: float = field(default=1.0, metadata={"help": "Weight of the hidden-state MSE (TinyBERT)."})
    alpha_attn: float = field(default=1.0, metadata={"help": "Weight of the pre-softmax attention-score MSE."})
    alpha_embed: float = field(default=1.0, metadata={"help": "Weight of the embedding-output MSE (TinyBERT)."})
    layer_map: list[int] | str | None = field(  # (in this order, so HfArgumentParser reads it as text)
        default=None,
        metadata={
            "help": f"Teacher layer per student layer: {', '.join(LAYER_MAPS)} or a list of 0-based teacher layers "
            "(also as '1,3,5'); default: uniform (with a warning where a student cut from the teacher would rather "
            "take kept)."
        },
    )
    stage: str = field(
        default="prediction",
        metadata={"help": f"Which components may be used: one of {', '.join(STAGES)}."},
    )
    projection_shared: bool = field(
        default=True,
        metadata={"help": "When the trainer adds its own width projection W: one W for all states (else one per)."},
    )
    cache_teacher_outputs: bool = field(
        default=False,
        metadata={
            "help": "Keep the teacher's outputs per example in memory, so later epochs skip the teacher. Only for a "
            "fixed dataset (no random masking or augmentation in the collator): the key is the example's tokens."
        },
    )

    def __post_init__(self):
        if self.temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {self.temperature}")
        if self.soft_loss_form not in SOFT_CE_FORMS:
            raise ValueError(
                f"unknown soft_loss_form '{self.soft_loss_form}'; choose one of: {', '.join(SOFT_CE_FORMS)}"
            )
        if self.stage not in STAGES:
            raise ValueError(f"unknown stage '{self.stage}'; choose one of: {', '.join(STAGES)}")
        for name in COMPONENTS:
            if getattr(self, f"alpha_{name}") < 0:
                raise ValueError(f"alpha_{name} must be >= 0, got {getattr(self, f'alpha_{name}')}")
        if self.layer_map is not None:  # None: the default, uniform (the trainer tells when kept would fit better)
            self.layer_map = _parse_layer_map(self.layer_map)
        if not self.active_components:
            raise ValueError(
                f"stage '{self.stage}' uses {', '.join(f'alpha_{c}' for c in STAGES[self.stage])}, and all are 0: "
                "nothing to train; set at least one of them > 0"
            )
        check_checkpointing(self.active_components, self.gradient_checkpointing, CHECKPOINTING_ON)
        super().__post_init__()

    @property
    def active_components(self) -> tuple[str, ...]:
        """The loss components this run computes: allowed by `stage` and weighted > 0."""
        return self.components_of(self.stage)

    def components_of(self, stage: str) -> tuple[str, ...]:
        """The loss components a run of `stage` with these weights computes."""
        return tuple(c for c in STAGES[stage] if getattr(self, f"alpha_{c}") > 0)


CHECKPOINTING_ON = "gradient_checkpointing is true"


def check_checkpointing(active: tuple[str, ...], checkpointing: bool, where: str) -> None:
    """Refuse the attention-score loss with gradient checkpointing: the backward pass recomputes each checkpointed
    layer with the model's own attention, which records no scores, so the loss would fail ("a different number of
    tensors was saved") or, with reentrant checkpointing, train nothing."""
    if "attn" in active and checkpointing:
        raise ValueError(
            f"{where}, but the attention-score loss (alpha_attn) cannot train under gradient checkpointing: the "
            "backward pass recomputes each layer without recording its scores. Turn gradient checkpointing off, or "
            "set alpha_attn to 0 (the hidden-state and logit losses train with it)"
        )


def _parse_layer_map(value) -> str | list[int]:
    if isinstance(value, str) and value in LAYER_MAPS:
        return value
    if isinstance(value, str):
        try:
            return parse_int_list(value)
        except ValueError:
            raise ValueError(
                f"unknown layer_map '{value}'; choose one of: {', '.join(LAYER_MAPS)}, or 0-based teacher layers "
                "like [1, 3, 5]"
            ) from None
    if isinstance(value, (list, tuple)) and all(isinstance(i, int) and i >= 0 for i in value) and value:
        return list(value)
    raise ValueError(f"layer_map must be one of {', '.join(LAYER_MAPS)} or a list of 0-based layers, got {value!r}")
