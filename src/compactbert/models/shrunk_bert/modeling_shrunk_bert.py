"""ShrunkBert models: transformers' BERT classes bound to `ShrunkBertConfig`.

A ShrunkBert is architecturally a BERT with fewer layers; what differs is the configuration, which records which
layers of the source were kept. So every class here *subclasses* its transformers counterpart and overrides only
what is ShrunkBert-specific: the config class and saving (which also writes this folder's code and an `auto_map`,
so a saved model loads with `trust_remote_code=True` without compactbert installed).

This file imports only torch, transformers and files in its own folder.
"""

import os

from transformers import (
    BertForMaskedLM,
    BertForMultipleChoice,
    BertForPreTraining,
    BertForQuestionAnswering,
    BertForSequenceClassification,
    BertForTokenClassification,
    BertModel,
    BertPreTrainedModel,
)

from .configuration_shrunk_bert import ShrunkBertConfig


class ShrunkBertPreTrainedModel(BertPreTrainedModel):
    """Base class: binds the BERT implementation to [`ShrunkBertConfig`] and saves remote code with the weights."""

    config: ShrunkBertConfig
    config_class = ShrunkBertConfig
    base_model_prefix = "bert"

    def __init__(self, config: ShrunkBertConfig, *args, **kwargs):
        # `from_pretrained(folder, num_hidden_layers=N)` sets N on the config after it was checked: refuse it here,
        # before any weights load, or the model would hold the first N layers while its provenance names others
        try:
            config.check_provenance()
        except ValueError as err:
            raise ValueError(
                f"{err} To drop layers of a model, shrink it (`compactbert.shrink(model, num_drop=K)` or "
                "`compactbert shrink`) instead of setting num_hidden_layers, which would keep its first layers."
            ) from None
        super().__init__(config, *args, **kwargs)

    def save_pretrained(self, save_directory: str | os.PathLike, *args, **kwargs):
        """Save like [`~PreTrainedModel.save_pretrained`], with this folder's code and a complete `auto_map`.

        Every class here is registered with `register_for_auto_class`, so transformers itself copies
        `modeling_shrunk_bert.py` and `configuration_shrunk_bert.py` next to the weights (before any
        `push_to_hub` upload). The `auto_map` is set first to list every ShrunkBert head, so `AutoModel`,
        `AutoModelForSequenceClassification`, ... all resolve with `trust_remote_code=True` whichever head was saved.
        """
        self.config.auto_map = dict(AUTO_MAP)
        return super().save_pretrained(save_directory, *args, **kwargs)


class ShrunkBertModel(ShrunkBertPreTrainedModel, BertModel):
    """The bare ShrunkBert encoder (a [`BertModel`] holding the kept layers)."""


class ShrunkBertForPreTraining(ShrunkBertPreTrainedModel, BertForPreTraining):
    """ShrunkBert with BERT's masked-LM and next-sentence heads."""


class ShrunkBertForMaskedLM(ShrunkBertPreTrainedModel, BertForMaskedLM):
    """ShrunkBert with a masked language modeling head."""


class ShrunkBertForSequenceClassification(ShrunkBertPreTrainedModel, BertForSequenceClassification):
    """ShrunkBert with a sequence classification / regression head on the pooled output."""


class ShrunkBertForTokenClassification(ShrunkBertPreTrainedModel, BertForTokenClassification):
    """ShrunkBert with a token classification head."""


class ShrunkBertForQuestionAnswering(ShrunkBertPreTrainedModel, BertForQuestionAnswering):
    """ShrunkBert with a span-extraction (start/end logits) head."""


class ShrunkBertForMultipleChoice(ShrunkBertPreTrainedModel, BertForMultipleChoice):
    """ShrunkBert with a multiple-choice head."""


# Auto class name -> model class. The registry reads it to register the family with transformers, and saving
# writes it (as "module.Class" strings) into config.json so the remote-code path finds every head.
AUTO_CLASSES = {
    "AutoModel": ShrunkBertModel,
    "AutoModelForPreTraining": ShrunkBertForPreTraining,
    "AutoModelForMaskedLM": ShrunkBertForMaskedLM,
    "AutoModelForSequenceClassification": ShrunkBertForSequenceClassification,
    "AutoModelForTokenClassification": ShrunkBertForTokenClassification,
    "AutoModelForQuestionAnswering": ShrunkBertForQuestionAnswering,
    "AutoModelForMultipleChoice": ShrunkBertForMultipleChoice,
}
AUTO_MAP = {"AutoConfig": "configuration_shrunk_bert.ShrunkBertConfig"} | {
    auto_name: f"modeling_shrunk_bert.{cls.__name__}" for auto_name, cls in AUTO_CLASSES.items()
}

ShrunkBertConfig.register_for_auto_class()
for _auto_name, _cls in AUTO_CLASSES.items():
    _cls.register_for_auto_class(_auto_name)

# BERT class name -> the ShrunkBert class that takes over its weights when shrinking.
BERT_TO_SHRUNK = {
    base.__name__: cls
    for cls in AUTO_CLASSES.values()
    for base in cls.__bases__
    if base is not ShrunkBertPreTrainedModel
}

__all__ = [
    "AUTO_CLASSES",
    "AUTO_MAP",
    "BERT_TO_SHRUNK",
    "ShrunkBertForMaskedLM",
    "ShrunkBertForMultipleChoice",
    "ShrunkBertForPreTraining",
    "ShrunkBertForQuestionAnswering",
    "ShrunkBertForSequenceClassification",
    "ShrunkBertForTokenClassification",
    "ShrunkBertModel",
    "ShrunkBertPreTrainedModel",
]
