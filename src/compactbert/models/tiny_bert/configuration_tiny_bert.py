"""TinyBert configuration: a narrow, shallow BERT student and the projections it was distilled through.

This file imports only transformers (and huggingface_hub, which transformers depends on) so that it can be
copied next to saved weights and loaded with ``trust_remote_code=True`` where compactbert is not installed.
"""

from difflib import get_close_matches

from huggingface_hub.dataclasses import strict
from transformers import BertConfig, PreTrainedConfig

FIT_PROJECTIONS = ("shared", "per-layer", "none")


@strict(accept_kwargs=True)
class TinyBertConfig(BertConfig):
    r"""
    Configuration of a TinyBert student (TinyBERT, Jiao et al. 2020, arXiv 1909.10351). It is a [`BertConfig`] whose
    defaults are the paper's TinyBERT-4 (4 layers, hidden 312, FFN 1200, 12 heads, BERT's 30,522-token vocabulary:
    14.35M parameters in the encoder with its pooler, 14.59M with the shared projection to a 768-wide teacher), plus
    the learned projections that map the student's hidden states to the teacher's width for the hidden-state and
    embedding losses (the paper's W_h and W_e).

    Args:
        fit_size (`int`, *optional*, defaults to 768):
            Hidden size of the teacher: the projections map `hidden_size -> fit_size`.
        fit_projection (`str`, *optional*, defaults to `"shared"`):
            `"shared"`: one Linear for the embedding output and every layer's output (as TinyBERT's released code);
            `"per-layer"`: one Linear per hidden state (`num_hidden_layers + 1` of them);
            `"none"`: no projection, the student is as wide as its teacher (`fit_size` must equal `hidden_size`).
        teacher_model (`str`, *optional*):
            Hub id or local path of the teacher this student was (or is to be) distilled from; provenance only.
        pruned_from (`str`, *optional*):
            Hub id or local path of the model whose weights this student was cut out of (`compactbert.prune`);
            provenance only. `None` for a student that started from random weights.
        pruning (`dict`, *optional*):
            How it was cut, when `pruned_from` is set: `kept_layers` (0-based indices into the source's layers),
            `layer_strategy`, `kept_heads` (per kept layer, the source heads kept), the source and kept sizes
            (`source_hidden_size` / `hidden_size`, `source_num_attention_heads` / `num_attention_heads`,
            `source_head_dim` / `head_dim`, `source_intermediate_size` / `intermediate_size`,
            `source_num_hidden_layers`), `importance` and `calibration_size`. Provenance only.

    Example:

    ```python
    >>> from compactbert import TinyBertConfig
    >>> config = TinyBertConfig()
    >>> config.num_hidden_layers, config.hidden_size, config.intermediate_size, config.fit_size
    (4, 312, 1200, 768)
    ```
    """

    model_type = "tiny_bert"

    # The paper's TinyBERT-4 (BERT's own defaults are kept for everything else: vocabulary, positions, ...).
    hidden_size: int = 312
    num_hidden_layers: int = 4
    num_attention_heads: int = 12
    intermediate_size: int = 1200

    fit_size: int = 768
    fit_projection: str = "shared"
    teacher_model: str | None = None
    pruned_from: str | None = None
    pruning: dict | None = None

    def __post_init__(self, **kwargs):
        # a BERT's config.json read into this class (loading a BERT checkpoint as the student) carries model_type
        # "bert": the loaded model is a tiny_bert, and says so
        kwargs.pop("model_type", None)
        self.check_student()
        super().__post_init__(**kwargs)

    def check_student(self) -> None:
        """Raise `ValueError` when the sizes or the projection choice cannot make a model."""
        for name in ("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "fit_size"):
            value = getattr(self, name)
            if value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value}.")
        if self.hidden_size % self.num_attention_heads:
            raise ValueError(
                f"hidden_size ({self.hidden_size}) must be divisible by num_attention_heads "
                f"({self.num_attention_heads}); e.g. TinyBERT-4 uses hidden 312 with 12 heads of 26."
            )
        if self.fit_projection not in FIT_PROJECTIONS:
            raise ValueError(
                f"unknown fit_projection '{self.fit_projection}'; choose one of: {', '.join(FIT_PROJECTIONS)}."
            )
        if self.fit_projection == "none" and self.fit_size != self.hidden_size:
            raise ValueError(
                f"fit_projection='none' needs fit_size == hidden_size (a student as wide as its teacher), got "
                f"fit_size={self.fit_size} and hidden_size={self.hidden_size}; use 'shared' or 'per-layer'."
            )

    def validate_student(self):
        """Part of the strict-dataclass validation run on save."""
        self.check_student()

    @property
    def num_fit_projections(self) -> int:
        """How many Linear projections the model holds: 1 (shared), `num_hidden_layers + 1` (per-layer) or 0."""
        return {"shared": 1, "per-layer": self.num_hidden_layers + 1, "none": 0}[self.fit_projection]


def tiny_bert_config_for(teacher_config: PreTrainedConfig, **overrides) -> TinyBertConfig:
    """A TinyBert config that fits `teacher_config`: same vocabulary, positions, token types and padding id, and
    `fit_size` = the teacher's hidden size, so the student reads the teacher's tokens and projects to its width.

    The student's own sizes are TinyBERT-4's unless given in `overrides` (any `TinyBertConfig` field, e.g.
    `num_hidden_layers=6, hidden_size=768`). The teacher's `_name_or_path` is recorded as `teacher_model`.

    >>> from transformers import BertConfig
    >>> config = tiny_bert_config_for(BertConfig(hidden_size=384, vocab_size=1000), num_hidden_layers=2)
    >>> config.vocab_size, config.fit_size, config.num_hidden_layers, config.hidden_size
    (1000, 384, 2, 312)
    """
    if not isinstance(teacher_config, PreTrainedConfig):
        raise TypeError(
            f"tiny_bert_config_for takes the teacher's config (AutoConfig.from_pretrained(folder)), got "
            f"{type(teacher_config).__name__}"
        )
    default = TinyBertConfig()
    known = [*default.to_dict(), "num_labels"]
    typos = {  # a key no config has that is one letter or two from a field
        key: close[0]
        for key in overrides
        if not hasattr(default, key) and (close := get_close_matches(key, known, n=1, cutoff=0.85))
    }
    if typos:  # a config keeps any keyword as an attribute: `num_lables=5` would be kept, and the default used
        hints = ", ".join(f"{key} -> {field}" for key, field in typos.items())
        what = "is not a TinyBertConfig field" if len(typos) == 1 else "are not TinyBertConfig fields"
        raise ValueError(f"{', '.join(typos)} {what} (did you mean: {hints}?)")
    fields = dict(
        vocab_size=teacher_config.vocab_size,
        max_position_embeddings=teacher_config.max_position_embeddings,
        type_vocab_size=getattr(teacher_config, "type_vocab_size", 2),
        pad_token_id=getattr(teacher_config, "pad_token_id", 0),
        fit_size=teacher_config.hidden_size,
        teacher_model=getattr(teacher_config, "_name_or_path", None) or None,
    )
    return TinyBertConfig(**(fields | overrides))


__all__ = ["FIT_PROJECTIONS", "TinyBertConfig", "tiny_bert_config_for"]
