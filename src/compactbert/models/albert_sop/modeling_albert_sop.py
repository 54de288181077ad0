"""Albert-SOP models: transformers' ALBERT with a selectable cross-layer sharing mode and SOP / NSP pretraining.

ALBERT's building blocks (`AlbertEmbeddings`, `AlbertAttention`, `AlbertLayer`, `AlbertMLMHead`, `AlbertSOPHead`)
and heads are used as they are. What differs is the encoder: `AlbertSopTransformer` holds one layer per *distinct*
set of parameters and lets a layer borrow the shared attention or feed-forward block from the first layer, so
every parameter is stored once (no tied copies in the checkpoint). Its key layout is transformers':
`encoder.albert_layer_groups.{g}.albert_layers.0.*`, so a transformers `albert` checkpoint (one group) loads into
`sharing="all"` unchanged, with identical outputs.

This file imports only torch, transformers and files in its own folder.
"""

import os
from dataclasses import dataclass

import torch
from torch import nn
from transformers.modeling_outputs import BaseModelOutput
from transformers.models.albert.modeling_albert import (
    AlbertForMaskedLM,
    AlbertForMultipleChoice,
    AlbertForPreTraining,
    AlbertForPreTrainingOutput,
    AlbertForQuestionAnswering,
    AlbertForSequenceClassification,
    AlbertForTokenClassification,
    AlbertLayer,
    AlbertLayerGroup,
    AlbertModel,
    AlbertPreTrainedModel,
    AlbertTransformer,
)
from transformers.pytorch_utils import apply_chunking_to_forward
from transformers.utils.generic import can_return_tuple

from .configuration_albert_sop import AlbertSopConfig


class AlbertSopLayer(AlbertLayer):
    """An [`AlbertLayer`] that may hold only its attention block or only its feed-forward block.

    A layer that does not own a block borrows it from `donor` (the encoder's first layer, which owns both) at
    forward time, so shared parameters exist once in the module tree and in the checkpoint.

    Args:
        own_attention (`bool`): keep the self-attention block (`attention.*`).
        own_ffn (`bool`): keep the feed-forward block (`ffn`, `ffn_output`, `full_layer_layer_norm`).
    """

    def __init__(self, config: AlbertSopConfig, own_attention: bool = True, own_ffn: bool = True):
        super().__init__(config)
        self.own_attention, self.own_ffn = own_attention, own_ffn
        if not own_attention:
            del self.attention
        if not own_ffn:
            del self.ffn, self.ffn_output, self.full_layer_layer_norm

    def forward(self, hidden_states, attention_mask=None, donor: "AlbertSopLayer | None" = None, **kwargs):
        # AlbertLayer.forward with the attention and feed-forward blocks looked up on their owner
        attention = self.attention if self.own_attention else donor.attention
        ffn_owner = self if self.own_ffn else donor
        attention_output, _ = attention(hidden_states, attention_mask, **kwargs)  # (batch, seq, hidden)
        ffn_output = apply_chunking_to_forward(
            ffn_owner.ff_chunk, self.chunk_size_feed_forward, self.seq_len_dim, attention_output
        )
        return ffn_owner.full_layer_layer_norm(ffn_output + attention_output)


class AlbertSopLayerGroup(AlbertLayerGroup):
    """One group holding one layer: keeps transformers' `albert_layer_groups.{g}.albert_layers.0` key layout."""

    def __init__(self, layer: AlbertSopLayer):
        nn.Module.__init__(self)  # AlbertLayerGroup.__init__ would build `inner_group_num` full layers
        self.albert_layers = nn.ModuleList([layer])


class AlbertSopTransformer(AlbertTransformer):
    """ALBERT's encoder (E -> H projection, then `num_hidden_layers` layers) with `config.sharing` deciding which
    layers own which parameters.

    Layer 0 owns everything. With `"all"` it is the only layer and runs `num_hidden_layers` times; otherwise there is
    one layer per position, owning its feed-forward block (`"attention"`), its attention block (`"ffn"`) or both
    (`"none"`), and borrowing the rest from layer 0.
    """

    def __init__(self, config: AlbertSopConfig):
        super().__init__(config)  # the projection and one full layer group (num_hidden_groups is 1)
        groups = [AlbertSopLayerGroup(AlbertSopLayer(config))]
        if config.sharing != "all":
            own_attention, own_ffn = config.sharing in ("ffn", "none"), config.sharing in ("attention", "none")
            groups += [
                AlbertSopLayerGroup(AlbertSopLayer(config, own_attention=own_attention, own_ffn=own_ffn))
                for _ in range(1, config.num_hidden_layers)
            ]
        self.albert_layer_groups = nn.ModuleList(groups)

    def forward(self, hidden_states, attention_mask=None, **kwargs) -> BaseModelOutput:
        hidden_states = self.embedding_hidden_mapping_in(hidden_states)  # (batch, seq, embedding) -> (..., hidden)
        donor = self.albert_layer_groups[0].albert_layers[0]
        shared_all = len(self.albert_layer_groups) == 1
        for i in range(self.config.num_hidden_layers):
            layer = donor if shared_all else self.albert_layer_groups[i].albert_layers[0]
            hidden_states = layer(hidden_states, attention_mask, donor=donor, **kwargs)
        return BaseModelOutput(last_hidden_state=hidden_states)


class AlbertSopPreTrainedModel(AlbertPreTrainedModel):
    """Base class: binds ALBERT to [`AlbertSopConfig`] and saves remote code with the weights."""

    config: AlbertSopConfig
    config_class = AlbertSopConfig
    base_model_prefix = "albert"

    def __init__(self, config: AlbertSopConfig, *args, **kwargs):
        config.check_sop_fields()  # `from_pretrained(folder, field=value)` sets fields after the config checked itself
        super().__init__(config, *args, **kwargs)

    def save_pretrained(self, save_directory: str | os.PathLike, *args, **kwargs):
        """Save like [`~PreTrainedModel.save_pretrained`], with this folder's code and a complete `auto_map`.

        Every class here is registered with `register_for_auto_class`, so transformers copies
        `modeling_albert_sop.py` and `configuration_albert_sop.py` next to the weights; the `auto_map` lists every
        head so any `AutoModel*` class resolves with `trust_remote_code=True` whichever head was saved.
        """
        self.config.auto_map = dict(AUTO_MAP)
        return super().save_pretrained(save_directory, *args, **kwargs)

    def _use_sop_encoder(self) -> None:
        """Swap the transformers `AlbertModel` a head built for an [`AlbertSopModel`] (same keys), then re-init."""
        self.albert = AlbertSopModel(self.config, add_pooling_layer=self.albert.pooler is not None)
        self.post_init()


class AlbertSopModel(AlbertSopPreTrainedModel, AlbertModel):
    """The bare Albert-SOP encoder: [`AlbertModel`] with the sharing-aware [`AlbertSopTransformer`]."""

    def __init__(self, config: AlbertSopConfig, add_pooling_layer: bool = True):
        super().__init__(config, add_pooling_layer=add_pooling_layer)
        self.encoder = AlbertSopTransformer(config)
        self.post_init()


@dataclass
class AlbertSopForPreTrainingOutput(AlbertForPreTrainingOutput):
    r"""
    Output of [`AlbertSopForPreTraining`]: ALBERT's pretraining output with each objective's loss.

    Args:
        loss (`torch.Tensor` of shape `()`, *optional*):
            `mlm_loss + sentence_loss` when both labels are given, else the one that was computed.
        mlm_loss (`torch.Tensor` of shape `()`, *optional*): masked language modeling cross-entropy.
        sentence_loss (`torch.Tensor` of shape `()`, *optional*):
            cross-entropy of the sentence head (`sop_logits`): sentence order (SOP) or next sentence (NSP), as
            `config.sentence_objective` says.
    """

    mlm_loss: torch.Tensor | None = None
    sentence_loss: torch.Tensor | None = None


class AlbertSopForPreTraining(AlbertSopPreTrainedModel, AlbertForPreTraining):
    """Albert-SOP with ALBERT's masked-LM head and binary sentence head (SOP or NSP, per `config.sentence_objective`).

    Example:

    ```python
    >>> import torch
    >>> from compactbert import AlbertSopConfig, AlbertSopForPreTraining
    >>> config = AlbertSopConfig(vocab_size=100, embedding_size=16, hidden_size=32, num_hidden_layers=2,
    ...                          num_attention_heads=2, intermediate_size=37, sharing="none")
    >>> model = AlbertSopForPreTraining(config)
    >>> ids = torch.randint(5, 100, (2, 8))
    >>> out = model(ids, labels=ids, sentence_label=torch.tensor([0, 1]))
    >>> bool(torch.isclose(out.loss, out.mlm_loss + out.sentence_loss))
    True
    ```
    """

    def __init__(self, config: AlbertSopConfig):
        if config.num_labels != 2:  # transformers' sentence head has config.num_labels outputs; ours are binary
            raise ValueError(
                f"the sentence head (SOP or NSP) is binary, but the config has num_labels={config.num_labels} (a "
                "classifier's config?); load it with num_labels=2, e.g. AlbertSopForPreTraining.from_pretrained(path, "
                "num_labels=2)"
            )
        super().__init__(config)
        self._use_sop_encoder()

    @can_return_tuple  # return_dict=False: the output's tuple (loss first), as transformers' heads give it
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.LongTensor | None = None,
        position_ids: torch.LongTensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        labels: torch.LongTensor | None = None,
        sentence_label: torch.LongTensor | None = None,
        sentence_order_label: torch.LongTensor | None = None,
        logits_at_targets_only: bool = False,
        **kwargs,
    ) -> AlbertSopForPreTrainingOutput:
        r"""
        labels (`torch.LongTensor` of shape `(batch, seq)`, *optional*):
            Masked-LM targets; `-100` where no loss is taken.
        sentence_label (`torch.LongTensor` of shape `(batch,)`, *optional*):
            Sentence-head targets: for SOP 0 = in order, 1 = swapped; for NSP 0 = B follows A, 1 = B is random.
        sentence_order_label (`torch.LongTensor` of shape `(batch,)`, *optional*):
            transformers' ALBERT name for `sentence_label`, accepted so its data collators work unchanged.
        logits_at_targets_only (`bool`, *optional*, defaults to `False`):
            With `labels`, run the MLM head only where `labels != -100`: `prediction_logits` is then
            `(num_targets, vocab)` in row-major order of the targets. The head's vocabulary projection is most of a
            small model's compute, and only ~15% of positions are targets, so pretraining uses this.
        """
        if sentence_label is None:
            sentence_label = sentence_order_label
        outputs = self.albert(
            input_ids,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
            position_ids=position_ids,
            inputs_embeds=inputs_embeds,
            return_dict=True,
            **kwargs,
        )
        sequence_output, pooled_output = outputs[:2]  # (batch, seq, hidden), (batch, hidden)
        targets = None
        if logits_at_targets_only and labels is not None:
            targets = labels != -100
            sequence_output, labels = sequence_output[targets], labels[targets]  # (num_targets, hidden)
        prediction_logits = self.predictions(sequence_output)
        sop_logits = self.sop_classifier(pooled_output)  # (batch, 2)

        cross_entropy = nn.CrossEntropyLoss()
        mlm_loss = sentence_loss = None
        if labels is not None:
            mlm_loss = cross_entropy(prediction_logits.view(-1, self.config.vocab_size), labels.reshape(-1))
        if sentence_label is not None:
            sentence_loss = cross_entropy(sop_logits.view(-1, 2), sentence_label.view(-1))
        losses = [loss for loss in (mlm_loss, sentence_loss) if loss is not None]
        return AlbertSopForPreTrainingOutput(
            loss=sum(losses) if losses else None,
            prediction_logits=prediction_logits,
            sop_logits=sop_logits,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
            mlm_loss=mlm_loss,
            sentence_loss=sentence_loss,
        )


class AlbertSopForMaskedLM(AlbertSopPreTrainedModel, AlbertForMaskedLM):
    """Albert-SOP with a masked language modeling head (tied to the input embeddings)."""

    def __init__(self, config: AlbertSopConfig):
        super().__init__(config)
        self._use_sop_encoder()


class AlbertSopForSequenceClassification(AlbertSopPreTrainedModel, AlbertForSequenceClassification):
    """Albert-SOP with a sequence classification / regression head on the pooled output."""

    def __init__(self, config: AlbertSopConfig):
        super().__init__(config)
        self._use_sop_encoder()


class AlbertSopForTokenClassification(AlbertSopPreTrainedModel, AlbertForTokenClassification):
    """Albert-SOP with a token classification head."""

    def __init__(self, config: AlbertSopConfig):
        super().__init__(config)
        self._use_sop_encoder()


class AlbertSopForQuestionAnswering(AlbertSopPreTrainedModel, AlbertForQuestionAnswering):
    """Albert-SOP with a span-extraction (start/end logits) head."""

    def __init__(self, config: AlbertSopConfig):
        super().__init__(config)
        self._use_sop_encoder()


class AlbertSopForMultipleChoice(AlbertSopPreTrainedModel, AlbertForMultipleChoice):
    """Albert-SOP with a multiple-choice head."""

    def __init__(self, config: AlbertSopConfig):
        super().__init__(config)
        self._use_sop_encoder()


# Auto class name -> model class: read by the registry, and written (as "module.Class") into config.json on save.
AUTO_CLASSES = {
    "AutoModel": AlbertSopModel,
    "AutoModelForPreTraining": AlbertSopForPreTraining,
    "AutoModelForMaskedLM": AlbertSopForMaskedLM,
    "AutoModelForSequenceClassification": AlbertSopForSequenceClassification,
    "AutoModelForTokenClassification": AlbertSopForTokenClassification,
    "AutoModelForQuestionAnswering": AlbertSopForQuestionAnswering,
    "AutoModelForMultipleChoice": AlbertSopForMultipleChoice,
}
AUTO_MAP = {"AutoConfig": "configuration_albert_sop.AlbertSopConfig"} | {
    auto_name: f"modeling_albert_sop.{cls.__name__}" for auto_name, cls in AUTO_CLASSES.items()
}

AlbertSopConfig.register_for_auto_class()
for _auto_name, _cls in AUTO_CLASSES.items():
    _cls.register_for_auto_class(_auto_name)

__all__ = [
    "AUTO_CLASSES",
    "AUTO_MAP",
    "AlbertSopForMaskedLM",
    "AlbertSopForMultipleChoice",
    "AlbertSopForPreTraining",
    "AlbertSopForPreTrainingOutput",
    "AlbertSopForQuestionAnswering",
    "AlbertSopForSequenceClassification",
    "AlbertSopForTokenClassification",
    "AlbertSopLayer",
    "AlbertSopModel",
    "AlbertSopPreTrainedModel",
    "AlbertSopTransformer",
]
