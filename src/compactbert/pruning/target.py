"""`PruneTarget`: the shape a pruned student takes, and the checks against its source (no torch needed)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

SIZE_FIELDS = ("num_hidden_layers", "hidden_size", "intermediate_size", "num_attention_heads")
IMPORTANCE_MEASURES = ("activation", "magnitude")  # see `compactbert.pruning.importance`


@dataclass(frozen=True)
class PruneTarget:
    r"""The shape of a pruned student: any size left `None` keeps the source's.

    Args:
        num_hidden_layers (`int`, *optional*): transformer layers kept (TinyBERT-4: 4).
        hidden_size (`int`, *optional*): hidden (embedding) channels kept (TinyBERT-4: 312).
        intermediate_size (`int`, *optional*): FFN neurons kept per layer (TinyBERT-4: 1200).
        num_attention_heads (`int`, *optional*): heads kept per layer (TinyBERT-4: 12); each head keeps
            `hidden_size / num_attention_heads` of its query/key and of its value dimensions.

    >>> PruneTarget(num_hidden_layers=4, hidden_size=312, intermediate_size=1200, num_attention_heads=12).head_dim
    26
    """

    num_hidden_layers: int | None = None
    hidden_size: int | None = None
    intermediate_size: int | None = None
    num_attention_heads: int | None = None

    def __post_init__(self):
        for name in SIZE_FIELDS:
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"{name} must be a positive integer or None (= the source's), got {value!r}")

    @classmethod
    def from_any(cls, target: Any) -> PruneTarget:
        """A `PruneTarget` from a `PruneTarget`, a `TinyBertConfig` (or any config with the four sizes) or a mapping.

        Only the four sizes are read from a config; the rest of the student's config comes from the source.
        """
        if isinstance(target, cls):
            return target
        if target is None:
            return cls()
        if isinstance(target, Mapping):
            unknown = sorted(set(target) - set(SIZE_FIELDS))
            if unknown:
                raise ValueError(f"unknown target sizes {unknown}; a target names some of: {', '.join(SIZE_FIELDS)}")
            return cls(**dict(target))
        if all(hasattr(target, name) for name in SIZE_FIELDS):  # a TinyBertConfig or another BERT-like config
            return cls(**{name: getattr(target, name) for name in SIZE_FIELDS})
        raise TypeError(
            f"target must be a PruneTarget, a TinyBertConfig or a dict of {', '.join(SIZE_FIELDS)}, "
            f"got {type(target).__name__}"
        )

    @property
    def head_dim(self) -> int | None:
        if self.hidden_size is None or self.num_attention_heads is None:
            return None
        return self.hidden_size // self.num_attention_heads

    def resolve(self, source_config: Any) -> PruneTarget:
        """The full target for a source (its sizes where this leaves `None`), checked against the source's limits.

        Raises:
            `ValueError` naming the limit: more layers, a wider hidden size or FFN, more heads, a larger head size than
            the source has, or a hidden size that does not split into the heads.
        """
        sizes = {name: getattr(self, name) or getattr(source_config, name) for name in SIZE_FIELDS}
        resolved = PruneTarget(**sizes)
        source = {name: getattr(source_config, name) for name in SIZE_FIELDS}
        what = {
            "num_hidden_layers": "layers",
            "hidden_size": "hidden channels",
            "intermediate_size": "FFN neurons (intermediate_size)",
            "num_attention_heads": "attention heads",
        }
        for name in SIZE_FIELDS:
            if sizes[name] > source[name]:
                raise ValueError(
                    f"the target has {name}={sizes[name]} but the source has only {source[name]} {what[name]}; "
                    f"pruning only removes: choose {name} <= {source[name]}"
                )
        if sizes["hidden_size"] % sizes["num_attention_heads"]:
            raise ValueError(
                f"hidden_size ({sizes['hidden_size']}) must be divisible by num_attention_heads "
                f"({sizes['num_attention_heads']}), so every head gets the same size; e.g. 312 with 12 heads of 26"
            )
        source_head_dim = source["hidden_size"] // source["num_attention_heads"]
        if resolved.head_dim > source_head_dim:
            raise ValueError(
                f"the target's heads would have {resolved.head_dim} dimensions (hidden_size {sizes['hidden_size']} / "
                f"{sizes['num_attention_heads']} heads) but the source's have {source_head_dim}; pruning cannot "
                f"widen a head: keep more heads or a smaller hidden_size (at most "
                f"{sizes['num_attention_heads'] * source_head_dim} for {sizes['num_attention_heads']} heads)"
            )
        return resolved

    def to_dict(self) -> dict[str, int | None]:
        return asdict(self)
