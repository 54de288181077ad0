"""Registering compactbert's families with transformers' Auto classes, without importing torch before it is needed.

After `import compactbert`, `AutoConfig` / `AutoModel*` / `AutoTokenizer.from_pretrained(<a compactbert folder>)` work.
Registering takes each family's config and model classes, and transformers 5 imports torch even for a config, so
`import compactbert` cannot register eagerly without costing seconds (`compactbert --help` would pay them). The
families are registered the first time it can matter instead:

* at `import compactbert`, when transformers' Auto module (`transformers.models.auto`) is already imported;
* else as soon as it is imported: `watch_transformers` puts a one-shot import hook on `sys.meta_path` that registers
  the families right after that import, then removes itself;
* and when a compactbert config or model class is first used (`compactbert.ShrunkBertModel`, ...).

The hook cannot register in the middle of the import that brings in the Auto module: transformers imports it from
inside other modules (`modeling_bert` -> `modeling_layers` -> `models.auto`), and the families' model code needs those
very modules, finished. So the hook follows every transformers (and compactbert model) import that starts after it is
installed, and registers when the outermost of them has finished: before any user code can call an Auto class.
"""

from __future__ import annotations

import importlib
import importlib.abc
import sys
import threading
import warnings
from typing import Any

from .registry import FAMILIES, Family

AUTO_MODULE = "transformers.models.auto"
# imports the hook follows: those that may bring in the Auto module, and the family code that registering imports
_FOLLOWED = ("transformers", "compactbert.models.")

_lock = threading.RLock()
_active = False  # the families have been registered: a family registered from now on is registered at once
_registering = False
_registered: dict[str, tuple[type, dict[str, type]]] = {}  # model_type -> (config class, Auto class name -> model)


def register_auto_classes(
    config_class: type, auto_classes: dict[str, type], tokenizer_class: type | None = None
) -> None:
    """Register a config with `AutoConfig`, each model class with its `AutoModel*` class, and the tokenizer.

    Registering the very same classes again is a no-op (e.g. a module imported twice); anything else that claims a
    `model_type` compactbert registered, or one of transformers' own, is refused with a `ValueError`.

    Args:
        config_class: the family's config; its `model_type` must be new to transformers.
        auto_classes: Auto class name (`"AutoModel"`, `"AutoModelForMaskedLM"`, ...) -> model class.
        tokenizer_class: the tokenizer `AutoTokenizer` uses for this family when a folder does not name one.
    """
    import transformers
    from transformers import AutoConfig, AutoTokenizer
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    model_type = config_class.model_type
    if not model_type:
        raise ValueError(f"{config_class.__name__} has no model_type; set a unique class attribute `model_type`.")
    known = _registered.get(model_type)
    if known is not None:
        if known == (config_class, dict(auto_classes)):
            return
        raise ValueError(
            f"model_type '{model_type}' is already registered by compactbert with {known[0].__name__}; "
            "pick another model_type."
        )
    if model_type in CONFIG_MAPPING:
        raise ValueError(
            f"model_type '{model_type}' is already used by {CONFIG_MAPPING[model_type].__name__}; "
            "compactbert families need their own model_type."
        )
    for auto_name, model_class in auto_classes.items():
        if not hasattr(transformers, auto_name):
            raise ValueError(f"unknown auto class '{auto_name}' for {model_class.__name__}.")
        if model_class.config_class is not config_class:
            raise ValueError(
                f"{model_class.__name__}.config_class is {model_class.config_class.__name__}, "
                f"expected {config_class.__name__}."
            )

    AutoConfig.register(model_type, config_class)
    for auto_name, model_class in auto_classes.items():
        getattr(transformers, auto_name).register(config_class, model_class)
    if tokenizer_class is not None:
        AutoTokenizer.register(config_class, tokenizer_class=tokenizer_class)
    _registered[model_type] = (config_class, dict(auto_classes))


def _register(family: Family) -> None:
    import transformers

    auto_classes = family.auto_classes()
    config_class = family.config_class()
    if config_class.model_type != family.model_type:
        raise ValueError(
            f"family '{family.model_type}' has the config {config_class.__name__} of model_type "
            f"'{config_class.model_type}'; they must be the same."
        )
    register_auto_classes(config_class, auto_classes, getattr(transformers, family.tokenizer))


def register_families() -> None:
    """Register every family with transformers' Auto classes (those already registered are skipped).

    Called for you (see the module's docstring); calling it again is cheap. Imports the families' model code.
    """
    global _active, _registering
    if _active and all(model_type in _registered for model_type in FAMILIES):
        return
    with _lock:
        if _registering:  # reached again from an import the registration itself makes
            return
        _registering = True
        try:
            _unwatch()
            for family in list(FAMILIES.values()):
                if family.model_type not in _registered:
                    _register(family)
            _active = True
        finally:
            _registering = False


def register_if_active(family: Family) -> None:
    """Register a family added after the others were registered (a plugin's); otherwise it comes with them."""
    if _active:
        register_families()


def is_registered(model_type: str) -> bool:
    """Whether `model_type` is registered with transformers' Auto classes."""
    return model_type in _registered


# -- the import hook ----------------------------------------------------------------------------------------------

_in_progress = 0  # followed imports running now, in every thread
_count_lock = threading.Lock()


def _register_after_import() -> None:
    """Register from the hook: never blocks on another thread's registration, and reports a failure as a warning
    (the import that triggered it is not compactbert's: it must not fail); using a compactbert class retries."""
    if _active or not _lock.acquire(blocking=False):
        return  # done already, or another thread is registering right now
    try:
        register_families()
    except Exception as error:  # noqa: BLE001 - turned into a warning that says what failed and what to do
        _unwatch()
        warnings.warn(
            f"compactbert could not register its model families with transformers' Auto classes ({error!r}); "
            "AutoModel.from_pretrained(<a compactbert folder>) will not know them. Call "
            "compactbert.models.register_families() to see the full error.",
            RuntimeWarning,
            stacklevel=2,
        )
    finally:
        _lock.release()


class _FollowingLoader(importlib.abc.Loader):
    """Wraps a followed module's loader: counts the import while it runs, registers after the outermost one."""

    def __init__(self, loader: Any):
        self.loader = loader

    def __getattr__(self, name: str) -> Any:  # get_source, get_filename, is_package, resource readers, ...
        return getattr(self.loader, name)

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        global _in_progress
        with _count_lock:
            _in_progress += 1
        try:
            self.loader.exec_module(module)
        finally:
            if getattr(module, "__spec__", None) is not None and module.__spec__.loader is self:
                module.__spec__.loader = self.loader  # the module keeps its own loader
            if getattr(module, "__loader__", None) is self:
                module.__loader__ = self.loader
            with _count_lock:
                _in_progress -= 1
                outermost = _in_progress == 0
        if outermost and AUTO_MODULE in sys.modules:
            _register_after_import()


class _AutoWatcher(importlib.abc.MetaPathFinder):
    """The one-shot hook: finds followed modules with the other finders and wraps their loaders."""

    def find_spec(self, fullname, path, target=None):
        if not fullname.startswith(_FOLLOWED):
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _FollowingLoader(spec.loader)
        return spec


_watcher = _AutoWatcher()


def watch_transformers() -> None:
    """Register the families now if transformers' Auto module is imported, else as soon as it is (see above)."""
    if _active:
        return
    if AUTO_MODULE in sys.modules:
        register_families()
    elif _watcher not in sys.meta_path:
        sys.meta_path.insert(0, _watcher)


def _unwatch() -> None:
    if _watcher in sys.meta_path:
        sys.meta_path.remove(_watcher)


__all__ = ["AUTO_MODULE", "is_registered", "register_auto_classes", "register_families", "watch_transformers"]
