"""Names a package imports from its submodules the first time they are asked for (PEP 562).

Keeps `import compactbert.<package>` light (no torch, no runtime) while its public names stay where users look:

    _LAZY = {"shrink": ".shrink", "layer_contributions": ".contributions"}   # name -> module (relative to the package)
    __getattr__, __dir__ = lazy_names(__name__, _LAZY)
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(package: str, table: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module-level `__getattr__` and `__dir__` of `package`, whose names in `table` are imported from the module
    it names (relative to `package` when it starts with a dot) on first use, then kept in the package (imported
    once)."""

    def __getattr__(name: str) -> Any:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        vars(sys.modules[package])[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(table))

    return __getattr__, __dir__
