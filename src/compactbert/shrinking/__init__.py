"""Layer dropping: strategies (pure functions), contribution scores and `shrink()`."""

from .contributions import layer_contributions
from .shrink import shrink
from .strategies import STRATEGIES, Strategy, explicit_layers, get_strategy, register_strategy, select_layers

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
