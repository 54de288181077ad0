"""The live demo: pick a drop strategy, compare the compact model's prediction and latency with the teacher's.

- `zoo`: the models the demo may run (the default zoo is built offline from MiniLM + BBC News and cached), with
  `families` (its students of other families) and `manifest` (zoo.json);
- `own`: a zoo of one's own teacher and models (`compactbert demo --teacher`);
- `compare`: `Comparer`, the checked, bounded comparison behind the page and the `compare` API endpoint;
- `describe`: a zoo in words, for the page and the Space's card;
- `ui`: the Gradio Blocks (imported only when a demo is built: gradio is the `demo` extra);
- `publish` and `space`: publishing a zoo and its Space.

>>> from compactbert.demo import create_demo
>>> # create_demo() builds the default zoo on first use (minutes), then reuses it (seconds)
>>> demo = create_demo()            # doctest: +SKIP
>>> demo.launch()                   # doctest: +SKIP
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..lazy import lazy_names
from .manifest import ENV_ZOO, MANIFEST, Zoo, ZooEntry, fetch_hub_entries, load_zoo
from .zoo import BuildProgress, BuildSettings, build_default_zoo, build_time_note, default_zoo_dir, ensure_default_zoo

if TYPE_CHECKING:
    from .compare import FINE_TUNED_CHOICE, NOT_RETRAINED, Comparer

# `compare` loads torch (through the models it shrinks): loaded the first time one of its names is asked for, so
# `compactbert demo --help` stays light (PEP 562)
_LAZY = {"FINE_TUNED_CHOICE": ".compare", "NOT_RETRAINED": ".compare", "Comparer": ".compare"}


__getattr__, __dir__ = lazy_names(__name__, _LAZY)


def resolve_zoo(
    zoo: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    log: Callable[[str], None] = print,
    manifest: str | os.PathLike | None = None,
) -> Zoo:
    """The zoo to serve: `zoo` (a folder or manifest), else `$COMPACTBERT_DEMO_ZOO`, else `manifest` when that file
    exists (a published Space's `zoo.json`), else the cached default zoo (built on first use)."""
    chosen = chosen_zoo(zoo, manifest)
    if chosen:
        return load_zoo(chosen)
    return load_zoo(ensure_default_zoo(cache_dir, log=log))


def chosen_zoo(zoo: str | os.PathLike | None = None, manifest: str | os.PathLike | None = None) -> str | None:
    """The zoo given by argument, environment or an existing `manifest` file; `None`: the default zoo."""
    if zoo or os.environ.get(ENV_ZOO):
        return os.fspath(zoo or os.environ[ENV_ZOO])
    if manifest is not None and Path(manifest).is_file():
        return os.fspath(manifest)
    return None


def create_demo(
    zoo: str | os.PathLike | Zoo | None = None,
    cache_dir: str | os.PathLike | None = None,
    dtype: str = "auto",
    log: Callable[[str], None] = print,
    backend: str = "torch",
):
    """The demo's `gradio.Blocks`, over a zoo (see `resolve_zoo`); launch it with `compactbert.demo.launch`.

    `backend` runs the models (`Comparer`'s): `"torch"`, `"openvino"`, `"onnxruntime"` or `"auto"`; the page can
    switch to any other installed runtime for a comparison.

    Entries that live on the Hub are downloaded first (at their pinned revisions); those that cannot be are left
    out and named on the page. Without the teacher there is nothing to compare with: the page then only says why.
    """
    from .compare import Comparer
    from .ui import build_demo, unavailable_page

    loaded = zoo if isinstance(zoo, Zoo) else resolve_zoo(zoo, cache_dir, log=log)
    loaded, problems = fetch_hub_entries(loaded, log=log)
    if loaded.teacher.name in problems:
        return unavailable_page(problems)
    return build_demo(Comparer(loaded, dtype=dtype, backend=backend), problems=problems)


def launch(demo, **launch_kwargs):
    """Launch a demo from `create_demo` with a bounded queue (gradio 6: theme and css go to `launch()`)."""
    from .ui import launch_demo

    return launch_demo(demo, **launch_kwargs)


def serve(
    zoo: str | os.PathLike | Zoo | None = None,
    cache_dir: str | os.PathLike | None = None,
    dtype: str = "auto",
    manifest: str | os.PathLike | None = None,
    log: Callable[[str], None] = print,
    reload_seconds: int = 30,
    backend: str = "torch",
    **launch_kwargs,
):
    """Serve the demo (blocking unless `prevent_thread_lock=True`): what `compactbert demo` and `python app.py` run.

    With a zoo given (`zoo`, a loaded `Zoo` such as `compactbert.demo.own.zoo_from_models`'s,
    `$COMPACTBERT_DEMO_ZOO`, or an existing `manifest` such as a published Space's `zoo.json`) it is served at once.
    Otherwise the default zoo is used, and when it is not built yet, a page that says the app is building, since when, how many models are done and how long that takes is served meanwhile on the
    same address (its API's `compare` refuses with the same, and `status` says it as data); the demo replaces it once
    the zoo is ready.
    """
    from .ui import building_page, reload_head

    if isinstance(zoo, Zoo):
        return launch(create_demo(zoo, dtype=dtype, log=log, backend=backend), **launch_kwargs)
    chosen = chosen_zoo(zoo, manifest)
    if chosen is None and not (default_zoo_dir(cache_dir) / MANIFEST).is_file():
        progress = BuildProgress()  # the build keeps it up to date; the page and its API say how far it is
        waiting = building_page(time.time(), build_time_note(), reload_seconds, progress=progress, backend=backend)
        waiting.queue()
        waiting.launch(**(launch_kwargs | {"prevent_thread_lock": True, "head": reload_head(reload_seconds)}))
        log("no zoo manifest: building the default zoo; the page says so meanwhile")
        try:  # the demo is made before the building page goes: the address is unanswered only for a moment
            demo = create_demo(
                os.fspath(ensure_default_zoo(cache_dir, log=log, progress=progress)),
                cache_dir,
                dtype=dtype,
                log=log,
                backend=backend,
            )
        finally:
            waiting.close()
        return launch(demo, **launch_kwargs)
    return launch(create_demo(chosen, cache_dir, dtype=dtype, log=log, backend=backend), **launch_kwargs)


__all__ = [
    "FINE_TUNED_CHOICE",
    "NOT_RETRAINED",
    "BuildProgress",
    "BuildSettings",
    "Comparer",
    "Zoo",
    "ZooEntry",
    "build_default_zoo",
    "create_demo",
    "ensure_default_zoo",
    "fetch_hub_entries",
    "launch",
    "load_zoo",
    "resolve_zoo",
    "serve",
]
