"""ShrunkBert configuration: a BERT config that remembers which layers of its source it kept.

This file imports only transformers (and huggingface_hub, which transformers depends on) so that it can be
copied next to saved weights and loaded with ``trust_remote_code=True`` where compactbert is not installed.
"""

from huggingface_hub.dataclasses import strict
from transformers import BertConfig


@strict(accept_kwargs=True)
class ShrunkBertConfig(BertConfig):
    r"""
    Configuration of a ShrunkBert: a BERT from which whole transformer layers were dropped (Poor Man's BERT,
    Sajjad et al. 2020, arXiv 2004.03844). It is a [`BertConfig`] with the provenance of the drop.

    Args:
        kept_layers (`list[int]`, *optional*):
            0-based indices, into the *original* source model, of the layers this model holds, in order. Must be
            unique, increasing, in `range(source_num_hidden_layers)` and as many as `num_hidden_layers`.
            Defaults to `list(range(num_hidden_layers))` (nothing dropped).
        drop_strategy (`str`, *optional*):
            How the layers were chosen (`"top"`, `"bottom"`, `"contribution"`, `"explicit"`, ...). When a
            ShrunkBert is shrunk again the strategies are joined with `"+"` in order, e.g. `"top+bottom"`.
        source_num_hidden_layers (`int`, *optional*):
            Number of layers of the original source. Defaults to `num_hidden_layers`.
        source_model (`str`, *optional*):
            Hub id or local path of the original source model.
        layer_contributions (`list[float | None]`, *optional*):
            Per source layer, the mean cosine similarity between the layer's input and output at [CLS] over the
            calibration texts (high = the layer changes the representation little). One entry per source layer;
            `None` for layers that were not scored.

    Example:

    ```python
    >>> from compactbert import ShrunkBertConfig
    >>> config = ShrunkBertConfig(num_hidden_layers=2, kept_layers=[0, 3], source_num_hidden_layers=4)
    >>> config.dropped_layers
    [1, 2]
    ```
    """

    model_type = "shrunk_bert"

    kept_layers: list[int] | None = None
    drop_strategy: str | None = None
    source_num_hidden_layers: int | None = None
    source_model: str | None = None
    layer_contributions: list[float | None] | None = None

    def __post_init__(self, **kwargs):
        # a BERT's config.json read into this class (a BERT loaded as a ShrunkBert keeping every layer) carries
        # model_type "bert": the loaded model is a shrunk_bert, and says so
        kwargs.pop("model_type", None)
        if self.source_num_hidden_layers is None:
            self.source_num_hidden_layers = self.num_hidden_layers
        if self.kept_layers is None:
            self.kept_layers = list(range(self.num_hidden_layers))
        else:
            self.kept_layers = [int(i) for i in self.kept_layers]
        self.check_provenance()
        super().__post_init__(**kwargs)

    def check_provenance(self) -> None:
        """Raise `ValueError` when the provenance fields contradict each other or the architecture."""
        kept, total = self.kept_layers, self.source_num_hidden_layers
        if len(kept) != self.num_hidden_layers:
            raise ValueError(
                f"kept_layers has {len(kept)} entries but num_hidden_layers is {self.num_hidden_layers}; "
                "they must be equal (one kept source layer per layer of this model)."
            )
        if len(set(kept)) != len(kept):
            raise ValueError(f"kept_layers must be unique, got {kept}.")
        if any(b <= a for a, b in zip(kept, kept[1:], strict=False)):
            raise ValueError(f"kept_layers must be increasing (source order is preserved), got {kept}.")
        if kept and (kept[0] < 0 or kept[-1] >= total):
            raise ValueError(
                f"kept_layers must lie in [0, {total - 1}] (source_num_hidden_layers={total}), got {kept}."
            )
        if self.layer_contributions is not None and len(self.layer_contributions) != total:
            raise ValueError(
                f"layer_contributions must have one entry per source layer ({total}), "
                f"got {len(self.layer_contributions)}."
            )

    def validate_provenance(self):
        """Part of the strict-dataclass validation run on save."""
        self.check_provenance()

    @property
    def dropped_layers(self) -> list[int]:
        """0-based indices of the source layers this model does not hold."""
        kept = set(self.kept_layers)
        return [i for i in range(self.source_num_hidden_layers) if i not in kept]


__all__ = ["ShrunkBertConfig"]
