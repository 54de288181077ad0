"""Layer dropping: strategies (pure functions), contribution scores and `shrink()`.

The strategies load without torch (the command line's help lists them); `shrink` and `layer_contributions`, which
need torch, load the first time they are asked for (PEP 562).
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

from ..lazy import lazy_names
from .strategies import STRATEGIES, Strategy, explicit_layers, get_strategy, register_strategy, select_layers

if TYPE_CHECKING:
    from .contributions import layer_contributions
    from .shrink import shrink

_LAZY = {"layer_contributions": ".contributions", "shrink": ".shrink"}


__getattr__, __dir__ = lazy_names(__name__, _LAZY)


class _Package(types.ModuleType):
    """`compactbert.shrinking.shrink` is the function, as before this package loaded lazily.

    Importing the submodule `compactbert.shrinking.shrink` sets the package's attribute `shrink` to that module; this
    keeps the function there instead, so `from compactbert.shrinking import shrink` gives the function whichever
    import came first.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "shrink" and isinstance(value, types.ModuleType):
            value = value.shrink
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

__all__ = [
    "STRATEGIES",
    "Strategy",
    "explicit_layers",
    "get_strategy",
    "layer_contributions",
    "register_strategy",
    "select_layers",
    "shrink",
]
