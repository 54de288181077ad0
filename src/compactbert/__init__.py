"""compactbert: compact BERT-family models for the Hugging Face ecosystem.

`import compactbert` is light (it does not import torch): the names below are imported on first use. It also makes
transformers' Auto classes know compactbert's families, so `AutoModel.from_pretrained(<a ShrunkBert, TinyBert or
Albert-SOP folder>)` works after `import compactbert`, whichever of the two is imported first (the registration
waits until transformers' Auto module is imported: see `compactbert.models.auto_registration`).

The names are each family's classes and functions (from the `__all__` of its configuration and modeling files) and
the library's own functions below.
"""

from __future__ import annotations

import importlib
import importlib.util
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from .models import FAMILIES, list_families

try:
    __version__ = version("compactbert")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

# public name -> the module it is imported from on first use
_LAZY: dict[str, str] = {
    "STRATEGIES": f"{__name__}.shrinking",
    "PruneTarget": f"{__name__}.pruning",
    "albert_from_bert": f"{__name__}.conversion",
    "layer_contributions": f"{__name__}.shrinking",
    "prune": f"{__name__}.pruning",
    "save_model": f"{__name__}.io",
    "select_layers": f"{__name__}.shrinking",
    "shrink": f"{__name__}.shrinking",
}
for _family in FAMILIES.values():
    for _name in _family.public_names():
        if _name in _LAZY or _name in globals():
            raise ImportError(f"family '{_family.model_type}' exports {_name}, a name compactbert already has.")
        _LAZY[_name] = _family.package  # the family's package imports it (and registers the Auto classes)
del _family, _name

__all__ = ["list_families", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value  # imported once
        return value
    if not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:  # a submodule
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
