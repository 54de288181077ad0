"""TinyBert models: transformers' BERT classes bound to `TinyBertConfig`, plus the projections to the teacher's width.

A TinyBert student is architecturally a (narrow, shallow) BERT. What TinyBERT adds is a learned projection from the
student's width to the teacher's (the paper's W_h for hidden states and W_e for the embedding output), trained with
the student during distillation. The base model holds it as `fit_dense` and exposes `project_to_teacher`, the contract
the DistillationTrainer uses; every head reaches it through its base model. Only distillation uses the projection, so
it is frozen (`requires_grad=False`) unless a distiller turns it on with `set_projection_trainable()`: fine-tuning
then has no parameter without a gradient, which DDP would refuse unless `find_unused_parameters` is on.

Each class subclasses its transformers counterpart. transformers' heads build a plain `BertModel` in `__init__`, so
each head swaps in a `TinyBertModel` afterwards (the plain one is discarded; `from_pretrained` builds on the meta
device, so this costs nothing when loading). Saving also writes this folder's code and an `auto_map`, so a saved
model loads with `trust_remote_code=True` without compactbert installed.

This file imports only torch, transformers and files in its own folder.
"""

import os
import warnings

import torch
from torch import nn
from transformers import (
    BertForMaskedLM,
    BertForPreTraining,
    BertForSequenceClassification,
    BertModel,
    BertPreTrainedModel,
)
from transformers.utils.generic import can_return_tuple

from .configuration_tiny_bert import TinyBertConfig


class TinyBertPreTrainedModel(BertPreTrainedModel):
    """Base class: binds the BERT implementation to [`TinyBertConfig`] and saves remote code with the weights."""

    config: TinyBertConfig
    config_class = TinyBertConfig
    base_model_prefix = "bert"

    def __init__(self, config: TinyBertConfig, *args, **kwargs):
        config.check_student()  # `from_pretrained(folder, field=value)` sets fields after the config checked itself
        super().__init__(config, *args, **kwargs)

    def project_to_teacher(self, hidden_states: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        """Map the student's hidden states to the teacher's width; see [`TinyBertModel.project_to_teacher`]."""
        return self.base_model.project_to_teacher(hidden_states)

    def set_projection_trainable(self, trainable: bool = True) -> None:
        """Train the projection to the teacher's width, or freeze it; see [`TinyBertModel.set_projection_trainable`]."""
        self.base_model.set_projection_trainable(trainable)

    @classmethod
    def from_pretrained(cls, *args, **kwargs):
        """Load like [`~PreTrainedModel.from_pretrained`], with the projection frozen as in a new model (loading makes
        every floating-point weight trainable)."""
        loaded = super().from_pretrained(*args, **kwargs)
        model = loaded[0] if isinstance(loaded, tuple) else loaded  # (model, loading info) on request
        model.set_projection_trainable(False)
        return loaded

    def _use_tiny_bert_encoder(self) -> None:
        """Replace the `BertModel` that a transformers head built by a `TinyBertModel` (same pooling choice)."""
        if any(getattr(m, "gradient_checkpointing", False) for m in self.bert.modules()):
            # `config.gradient_checkpointing` turned it on for the discarded encoder, and was consumed doing so
            self.config.gradient_checkpointing = True
        self.bert = TinyBertModel(self.config, add_pooling_layer=self.bert.pooler is not None)
        self.post_init()  # re-collects tied weights (the MLM decoder shares the new word embeddings)

    def save_pretrained(self, save_directory: str | os.PathLike, *args, **kwargs):
        """Save like [`~PreTrainedModel.save_pretrained`], with this folder's code and a complete `auto_map`.

        Every class here is registered with `register_for_auto_class`, so transformers copies
        `modeling_tiny_bert.py` and `configuration_tiny_bert.py` next to the weights. The `auto_map` is set first to
        list every TinyBert head, so each Auto class resolves with `trust_remote_code=True` whichever head was saved.
        """
        self.config.auto_map = dict(AUTO_MAP)
        return super().save_pretrained(save_directory, *args, **kwargs)


class TinyBertModel(TinyBertPreTrainedModel, BertModel):
    r"""The bare TinyBert encoder: a [`BertModel`] plus the projection(s) `fit_dense` to the teacher's width.

    `fit_dense` is an `nn.Linear(hidden_size, fit_size)` when `config.fit_projection == "shared"`, an
    `nn.ModuleList` of `num_hidden_layers + 1` of them when `"per-layer"` (index 0 for the embedding output, index
    i for layer i), and absent when `"none"`. The forward pass does not use it: it is trained by the distillation
    losses through [`project_to_teacher`], and frozen until a distiller calls [`set_projection_trainable`].
    """

    def __init__(self, config: TinyBertConfig, add_pooling_layer: bool = True):
        super().__init__(config, add_pooling_layer=add_pooling_layer)
        if config.fit_projection == "shared":
            self.fit_dense = nn.Linear(config.hidden_size, config.fit_size)
        elif config.fit_projection == "per-layer":
            self.fit_dense = nn.ModuleList(
                nn.Linear(config.hidden_size, config.fit_size) for _ in range(config.num_fit_projections)
            )
        self.set_projection_trainable(False)
        self.post_init()  # initialises only the new projection(s); the BERT modules are already initialised

    def set_projection_trainable(self, trainable: bool = True) -> None:
        r"""Train the projection to the teacher's width (`fit_dense`) with the model, or freeze it.

        It is frozen in a new or loaded model: only the distillation losses use it, and a trainable parameter that gets
        no gradient makes DDP fail (unless `find_unused_parameters=True`, which costs a graph walk every step). A
        distiller whose losses go through [`project_to_teacher`] turns it on before the optimizer and DDP are set
        up. Without a projection (`fit_projection="none"`) there is nothing to do.

        Args:
            trainable (`bool`, *optional*, defaults to `True`): whether the projection gets gradients.
        """
        if hasattr(self, "fit_dense"):
            self.fit_dense.requires_grad_(trainable)

    def project_to_teacher(self, hidden_states: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        r"""Map the student's hidden states to the teacher's width (`fit_size`).

        Args:
            hidden_states (`tuple[torch.Tensor, ...]`):
                The embedding output followed by each layer's output, each `(batch, seq, hidden_size)`, as
                `output_hidden_states=True` returns them. With a shared projection any number of states is
                accepted; with per-layer projections there must be exactly `num_hidden_layers + 1`.

        Returns:
            `tuple[torch.Tensor, ...]`: one `(batch, seq, fit_size)` tensor per input state, in order.
        """
        states = tuple(hidden_states)
        projection = self.config.fit_projection
        if projection == "none":
            return states
        if self.training and torch.is_grad_enabled() and not any(p.requires_grad for p in self.fit_dense.parameters()):
            warnings.warn(
                "TinyBert's projection to the teacher's width is frozen, so this distillation does not train it; "
                "call `model.set_projection_trainable()` before training (before the optimizer is made).",
                stacklevel=2,
            )
        if projection == "shared":
            return tuple(self.fit_dense(h) for h in states)
        if len(states) != len(self.fit_dense):
            raise ValueError(
                f"per-layer projections need the embedding output and every layer's output ({len(self.fit_dense)} "
                f"tensors, as output_hidden_states=True gives them), got {len(states)}."
            )
        return tuple(fit(h) for fit, h in zip(self.fit_dense, states, strict=True))


class TinyBertForPreTraining(TinyBertPreTrainedModel, BertForPreTraining):
    """TinyBert with BERT's masked-LM and next-sentence heads, for general distillation on unlabeled text.

    Unlike [`BertForPreTraining`], a loss is also returned when only MLM `labels` are given (no sentence pairs, as in
    general distillation on single texts): then the loss is the masked-LM cross-entropy alone. Pass
    `output_hidden_states=True` to get the states that `project_to_teacher` maps.
    """

    def __init__(self, config: TinyBertConfig):
        super().__init__(config)
        self._use_tiny_bert_encoder()

    @can_return_tuple
    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        next_sentence_label: torch.Tensor | None = None,
        **kwargs,
    ):
        # The arguments are spelled out (not *args): the Trainer keeps only dataset columns named in this signature.
        kwargs["return_dict"] = True
        outputs = super().forward(
            input_ids,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
            position_ids=position_ids,
            inputs_embeds=inputs_embeds,
            labels=labels,
            next_sentence_label=next_sentence_label,
            **kwargs,
        )
        if labels is not None and next_sentence_label is None:
            logits = outputs.prediction_logits  # (batch, seq, vocab)
            loss = nn.functional.cross_entropy(logits.view(-1, logits.size(-1)), labels.view(-1))
            outputs = type(outputs)(loss=loss, **dict(outputs))  # rebuilt so that `loss` comes first in tuples
        return outputs


class TinyBertForMaskedLM(TinyBertPreTrainedModel, BertForMaskedLM):
    """TinyBert with a masked language modeling head."""

    def __init__(self, config: TinyBertConfig):
        super().__init__(config)
        self._use_tiny_bert_encoder()


class TinyBertForSequenceClassification(TinyBertPreTrainedModel, BertForSequenceClassification):
    """TinyBert with a sequence classification / regression head on the pooled output (task distillation)."""

    def __init__(self, config: TinyBertConfig):
        super().__init__(config)
        self._use_tiny_bert_encoder()


# Auto class name -> model class. The registry reads it to register the family with transformers, and saving
# writes it (as "module.Class" strings) into config.json so the remote-code path finds every head.
AUTO_CLASSES = {
    "AutoModel": TinyBertModel,
    "AutoModelForPreTraining": TinyBertForPreTraining,
    "AutoModelForMaskedLM": TinyBertForMaskedLM,
    "AutoModelForSequenceClassification": TinyBertForSequenceClassification,
}
AUTO_MAP = {"AutoConfig": "configuration_tiny_bert.TinyBertConfig"} | {
    auto_name: f"modeling_tiny_bert.{cls.__name__}" for auto_name, cls in AUTO_CLASSES.items()
}

TinyBertConfig.register_for_auto_class()
for _auto_name, _cls in AUTO_CLASSES.items():
    _cls.register_for_auto_class(_auto_name)

__all__ = [
    "AUTO_CLASSES",
    "AUTO_MAP",
    "TinyBertForMaskedLM",
    "TinyBertForPreTraining",
    "TinyBertForSequenceClassification",
    "TinyBertModel",
    "TinyBertPreTrainedModel",
]
