"""The live demo: pick a drop strategy, compare the compact model's prediction and latency with the teacher's.

- `zoo`: the models the demo may run (the default zoo is built offline from MiniLM + BBC News and cached);
- `compare`: `Comparer`, the checked, bounded comparison behind the page and the `compare` API endpoint;
- `ui`: the Gradio Blocks (imported only when a demo is built: gradio is the `demo` extra).

>>> from compactbert.demo import create_demo
>>> demo = create_demo()            # builds the default zoo on first use (minutes), then reuses it (seconds)
>>> demo.launch()                   # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .zoo import ENV_ZOO, BuildSettings, Zoo, ZooEntry, build_default_zoo, ensure_default_zoo, load_zoo

if TYPE_CHECKING:
    from .compare import FINE_TUNED_CHOICE, NOT_RETRAINED, Comparer

# `compare` loads torch (through the models it shrinks): loaded the first time one of its names is asked for, so
# `compactbert demo --help` stays light (PEP 562)
_LAZY = {"FINE_TUNED_CHOICE": ".compare", "NOT_RETRAINED": ".compare", "Comparer": ".compare"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def resolve_zoo(
    zoo: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    log: Callable[[str], None] = print,
) -> Zoo:
    """The zoo to serve: `zoo` (a folder or manifest), else `$COMPACTBERT_DEMO_ZOO`, else the cached default zoo."""
    chosen = zoo or os.environ.get(ENV_ZOO)
    if chosen:
        return load_zoo(chosen)
    return load_zoo(ensure_default_zoo(cache_dir, log=log))


def create_demo(
    zoo: str | os.PathLike | Zoo | None = None,
    cache_dir: str | os.PathLike | None = None,
    dtype: str = "auto",
):
    """The demo's `gradio.Blocks`, over a zoo (see `resolve_zoo`); launch it with `compactbert.demo.launch`."""
    from .compare import Comparer
    from .ui import build_demo

    loaded = zoo if isinstance(zoo, Zoo) else resolve_zoo(zoo, cache_dir)
    return build_demo(Comparer(loaded, dtype=dtype))


def launch(demo, **launch_kwargs):
    """Launch a demo from `create_demo` with a bounded queue (gradio 6: theme and css go to `launch()`)."""
    from .ui import launch_demo

    return launch_demo(demo, **launch_kwargs)


__all__ = [
    "FINE_TUNED_CHOICE",
    "NOT_RETRAINED",
    "BuildSettings",
    "Comparer",
    "Zoo",
    "ZooEntry",
    "build_default_zoo",
    "create_demo",
    "ensure_default_zoo",
    "launch",
    "load_zoo",
    "resolve_zoo",
]
