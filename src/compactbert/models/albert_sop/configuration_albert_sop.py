"""Albert-SOP configuration: an ALBERT config with a selectable cross-layer sharing mode and sentence objective.

This file imports only transformers (and huggingface_hub, which transformers depends on) so that it can be
copied next to saved weights and loaded with ``trust_remote_code=True`` where compactbert is not installed.
"""

from huggingface_hub.dataclasses import strict
from transformers import AlbertConfig

SHARING_MODES = ("all", "attention", "ffn", "none")
SENTENCE_OBJECTIVES = ("sop", "nsp")


@strict(accept_kwargs=True)
class AlbertSopConfig(AlbertConfig):
    r"""
    Configuration of an Albert-SOP model (ALBERT, Lan et al. 2020, arXiv 1909.11942): factorized embeddings
    (`vocab_size` x `embedding_size`, then `embedding_size` x `hidden_size`), cross-layer parameter sharing chosen by
    `sharing`, and a sentence-level pretraining objective chosen by `sentence_objective`. It is an [`AlbertConfig`];
    `num_hidden_groups` and `inner_group_num` must stay 1 because `sharing` says what is shared.

    Args:
        sharing (`str`, *optional*, defaults to `"all"`):
            Which parameters the `num_hidden_layers` layers share (the paper's Table 4 ablation):
            `"all"`: one layer applied `num_hidden_layers` times (transformers' ALBERT with one group);
            `"attention"`: one self-attention block shared, a feed-forward block per layer;
            `"ffn"`: one feed-forward block shared, a self-attention block per layer;
            `"none"`: independent layers (a BERT with factorized embeddings).
        sentence_objective (`str`, *optional*, defaults to `"sop"`):
            The pretraining task of the sentence head: `"sop"` (sentence-order prediction: label 1 = the two segments
            were swapped) or `"nsp"` (BERT's next-sentence prediction: label 1 = the second segment comes from
            another document). Both use the same binary head; the objective is recorded so that data pipelines,
            cards and evaluation know what the head was trained for.
        source_model (`str`, *optional*):
            For a model converted from a trained BERT (`compactbert.albert_from_bert`): the Hub id or local path of
            that BERT. `None` for a model pre-trained from scratch; so are the three fields below.
        shared_init (`str`, *optional*):
            How a converted model's shared weights were initialised from the source's layers: `"mean"` (their
            elementwise mean), `"first"`, `"middle"`, `"last"` or a 0-based source layer index (as a string).
            `None` when nothing is shared (`sharing="none"`: layer i is source layer i).
        embedding_factorization (`str`, *optional*):
            How a converted model's `vocab_size` x `embedding_size` word embeddings were made from the source's
            `vocab_size` x `hidden_size` ones: `"svd"` (truncated SVD) or `"frequency_weighted_svd"` (truncated SVD
            with each row weighted by how often its token occurs in given texts).
        embedding_reconstruction_error (`float`, *optional*):
            For a converted model, `||W - W_E||_F / ||W||_F`: how much of the source's word embeddings `W` (each row
            less its mean, which the source's embedding LayerNorm removes anyway) the factorised ones `W_E` lose.
            0 when `embedding_size` equals `hidden_size`.

    Example:

    ```python
    >>> from compactbert import AlbertSopConfig
    >>> config = AlbertSopConfig(sharing="attention", sentence_objective="nsp")
    >>> config.model_type, config.embedding_size, config.hidden_size
    ('albert_sop', 128, 768)
    ```
    """

    model_type = "albert_sop"

    # BERT-base-sized defaults, as in the paper's ALBERT-base (transformers' AlbertConfig defaults to xxlarge)
    hidden_size: int = 768
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    sharing: str = "all"
    sentence_objective: str = "sop"
    # provenance of a model converted from a BERT (compactbert.albert_from_bert); None for one trained from scratch
    source_model: str | None = None
    shared_init: str | None = None
    embedding_factorization: str | None = None
    embedding_reconstruction_error: float | None = None

    def __post_init__(self, **kwargs):
        # a transformers `albert` config.json read into this class (loading an ALBERT checkpoint, whose weights fit
        # `sharing="all"` unchanged) carries model_type "albert"; the loaded model is an albert_sop
        loaded_type = kwargs.pop("model_type", None)
        if loaded_type not in (None, "albert", self.model_type):
            # a BERT's weights have other shapes (hidden-size word embeddings, a block per layer): loading them would
            # fail on the shapes, or with ignore_mismatched_sizes=True give an ALBERT of random weights
            convert = (
                "Convert a trained BERT (or ShrunkBert) with compactbert: compactbert.albert_from_bert(folder, "
                "embedding_size=128, sharing='all'), or on the command line `compactbert albert FOLDER --output DIR`"
                if loaded_type in ("bert", "shrunk_bert", "tiny_bert")
                else "An Albert-SOP loads ALBERT checkpoints (model_type albert or albert_sop)"
            )
            raise ValueError(
                f"a '{loaded_type}' model's config is not an ALBERT's: its weights do not fit an Albert-SOP. {convert}"
            )
        self.check_sop_fields()
        super().__post_init__(**kwargs)

    def check_sop_fields(self) -> None:
        """Raise `ValueError` for an unknown sharing mode or objective, grouping fields that contradict `sharing`, or
        a size that is not a whole number >= 1."""
        if self.sharing not in SHARING_MODES:
            raise ValueError(f"unknown sharing '{self.sharing}'; choose one of: {', '.join(SHARING_MODES)}")
        if self.sentence_objective not in SENTENCE_OBJECTIVES:
            raise ValueError(
                f"unknown sentence_objective '{self.sentence_objective}'; choose one of: {', '.join(SENTENCE_OBJECTIVES)}"
            )
        if self.num_hidden_groups != 1 or self.inner_group_num != 1:
            raise ValueError(
                f"num_hidden_groups={self.num_hidden_groups} and inner_group_num={self.inner_group_num}: Albert-SOP "
                "needs both to be 1; choose what the layers share with sharing= (all, attention, ffn, none) instead"
            )
        for name in ("num_hidden_layers", "num_attention_heads", "hidden_size", "intermediate_size", "embedding_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
        if self.hidden_size % self.num_attention_heads != 0:
            raise ValueError(
                f"hidden_size ({self.hidden_size}) must be a multiple of num_attention_heads ({self.num_attention_heads})"
            )

    def validate_sop_fields(self):
        """Part of the strict-dataclass validation run on save."""
        self.check_sop_fields()


__all__ = ["SENTENCE_OBJECTIVES", "SHARING_MODES", "AlbertSopConfig"]
