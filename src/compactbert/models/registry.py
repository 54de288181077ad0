"""What a compactbert model family is (a `Family` record), and the registry of them.

A family is a folder of `compactbert/models/` holding `configuration_<model_type>.py` and `modeling_<model_type>.py`
(self-contained, so that they work as remote code) and an `__init__.py` that registers one `Family`. Adding a family
is: write its folder, then add its name to the import line of `compactbert/models/__init__.py`. Everything outside
the folder reads the family from its record: the registration with transformers' Auto classes
(`compactbert.models.auto_registration`), the public names of `compactbert`, the model card (tags, template, how the
model was made), the bench and the CLI. `compactbert build` registers its builders by family name
(`compactbert.hub.builders.register_builder`): models never import the layers above them.

This module imports neither torch nor transformers. Each family's public names are read from the `__all__` of its
configuration and modeling files without importing them (so each class name is written once, in its own file), and
the model code is imported on first use of one of them.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any


def _recorded_as_is(config: dict, recorded: dict) -> dict:
    return dict(recorded)


@dataclass(frozen=True)
class Family:
    r"""
    A compactbert model family: what the code outside its folder needs to know about it.

    Args:
        model_type (`str`):
            The family's own `model_type` (never one of transformers'). It is also the name of the family's folder and
            of its files `configuration_<model_type>.py` and `modeling_<model_type>.py`.
        package (`str`):
            The family's package: `__name__` in the folder's `__init__.py`.
        title (`str`):
            The family's name in prose and tables, e.g. `"Albert-SOP"`.
        method (`str`):
            One line: how a model of the family is made, and the paper it follows.
        tokenizer (`str`, *optional*, defaults to `"BertTokenizer"`):
            The transformers tokenizer class that `AutoTokenizer` uses for a folder of this family that names none.
        card_tags (`tuple[str, ...]`, *optional*):
            Hub tags of the family's model cards (after `compactbert`); by default the `model_type`.
        card_template (`str`, *optional*):
            The family's model card template in `compactbert/hub/model_cards/`; by default `<model_type>.md`.
        describe_method (`Callable[[dict, dict], dict]`, *optional*):
            `(config, recorded) -> method`: what the card says about how a model was made, from its `config.json` (a
            dict) and what its trainer recorded under the `method` key of `metrics.json`. By default the recorded
            values as they are.
        describe_source (`Callable[[dict, dict, int], dict | None]`, *optional*):
            `(config, method, num_parameters) -> source`: the model this one was made from, which the card compares
            it with (a ShrunkBert's source, estimated from its config); `None` when the family has no source. It may
            return `None` for a model that has none (an Albert-SOP pre-trained from random init).

    Example:

    ```python
    >>> from compactbert.models import FAMILIES
    >>> family = FAMILIES["tiny_bert"]
    >>> family.title, family.modeling_module
    ('TinyBert', 'compactbert.models.tiny_bert.modeling_tiny_bert')
    >>> "TinyBertForSequenceClassification" in family.public_names()
    True
    ```
    """

    model_type: str
    package: str
    title: str
    method: str
    tokenizer: str = "BertTokenizer"
    card_tags: tuple[str, ...] = ()
    card_template: str | None = None
    describe_method: Callable[[dict, dict], dict] = _recorded_as_is
    describe_source: Callable[[dict, dict, int], dict | None] | None = None

    def __post_init__(self):
        if not self.model_type.isidentifier() or self.model_type != self.model_type.lower():
            raise ValueError(
                f"model_type {self.model_type!r} must be a lower-case Python identifier (it names the family's folder "
                "and files), e.g. 'tiny_bert'."
            )
        if self.package.rsplit(".", 1)[-1] != self.model_type:
            raise ValueError(
                f"family '{self.model_type}' is registered from package '{self.package}'; its folder must be named "
                f"after its model_type ('{self.model_type}'), as its files are."
            )
        if isinstance(self.card_tags, str):
            raise ValueError(f"card_tags must be a tuple of tags, got the string {self.card_tags!r}.")
        if not self.card_tags:
            object.__setattr__(self, "card_tags", (self.model_type,))
        if self.card_template is None:
            object.__setattr__(self, "card_template", f"{self.model_type}.md")

    @property
    def config_module(self) -> str:
        """Dotted name of the family's configuration file."""
        return f"{self.package}.configuration_{self.model_type}"

    @property
    def modeling_module(self) -> str:
        """Dotted name of the family's modeling file."""
        return f"{self.package}.modeling_{self.model_type}"

    @property
    def folder(self) -> Path:
        """The family's folder (found without importing its model code)."""
        spec = importlib.util.find_spec(self.package)
        if spec is None or not spec.submodule_search_locations:
            raise ValueError(f"family '{self.model_type}': package '{self.package}' cannot be found.")
        return Path(next(iter(spec.submodule_search_locations)))

    def exports(self) -> dict[str, str]:
        """Every name the family's configuration and modeling files list in `__all__` -> the module defining it.

        Read from the files' source (nothing is imported), so listing a family's names never loads torch.
        """
        names: dict[str, str] = {}
        for module in (self.config_module, self.modeling_module):
            path = self.folder / f"{module.rsplit('.', 1)[-1]}.py"
            for name in _declared_all(path):
                if name in names:
                    raise ValueError(f"{name} is in the __all__ of both {names[name]} and {module}; list it once.")
                names[name] = module
        return names

    def public_names(self) -> dict[str, str]:
        """The names `compactbert` exports for this family -> their module: its classes and functions.

        The files' UPPER_CASE tables (`AUTO_CLASSES`, `FIT_PROJECTIONS`, ...) stay in the family's own namespace
        (`compactbert.models.<model_type>`): every family has an `AUTO_CLASSES`.
        """
        return {name: module for name, module in self.exports().items() if not name.isupper()}

    def auto_classes(self) -> dict[str, type]:
        """The family's `AUTO_CLASSES` (Auto class name -> model class). Imports the model code (and torch)."""
        return importlib.import_module(self.modeling_module).AUTO_CLASSES

    def config_class(self) -> type:
        """The family's configuration class (the `config_class` of its models). Imports the model code."""
        return next(iter(self.auto_classes().values())).config_class


@cache
def _declared_all(path: Path) -> tuple[str, ...]:
    """The string literals of the `__all__ = [...]` assignment in `path`, read with `ast` (nothing is imported)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except FileNotFoundError:
        raise ValueError(f"a family needs {path.name} in {path.parent}; it is not there.") from None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
            try:
                names = ast.literal_eval(node.value)
            except ValueError:
                names = None
            if isinstance(names, (list, tuple)) and all(isinstance(n, str) for n in names):
                return tuple(names)
            break
    raise ValueError(
        f"{path} must define `__all__` as a literal list of names: compactbert exports the family from it."
    )


# model_type -> Family, in registration order
FAMILIES: dict[str, Family] = {}


def register_family(family: Family) -> Family:
    """Add a family to the registry (from its folder's `__init__.py`); returns it.

    Registering an equal record again is a no-op. A different record for a `model_type` that is already registered is
    refused with a `ValueError`, and so is a family exporting a class or function name that another one exports (the
    top-level `compactbert` namespace holds them all). Clashes with transformers' own `model_type`s are found when the
    families are registered with the Auto classes (`compactbert.models.auto_registration`), which needs transformers.
    If that registration has already run, the new family is registered with the Auto classes at once.
    """
    if not isinstance(family, Family):
        raise TypeError(f"register_family takes a Family record, got {type(family).__name__}.")
    known = FAMILIES.get(family.model_type)
    if known is not None:
        if known == family:
            return known
        raise ValueError(
            f"model_type '{family.model_type}' is already registered by compactbert (from {known.package}); "
            "pick another model_type."
        )
    names = family.public_names()
    for other in FAMILIES.values():
        shared = sorted(set(names) & set(other.public_names()))
        if shared:
            raise ValueError(
                f"family '{family.model_type}' exports {shared}, which family '{other.model_type}' exports too; "
                "prefix the family's classes and functions with its own name."
            )
    FAMILIES[family.model_type] = family
    from . import auto_registration  # light; imported here because it reads this module

    auto_registration.register_if_active(family)
    return family


def get_family(model_type: str) -> Family:
    """The registered family of `model_type`; a `ValueError` names the registered ones otherwise."""
    if model_type not in FAMILIES:
        raise ValueError(f"unknown compactbert family '{model_type}'; registered: {', '.join(list_families())}.")
    return FAMILIES[model_type]


def list_families() -> list[str]:
    """The `model_type`s compactbert has registered."""
    return sorted(FAMILIES)


def family_namespace(family: Family) -> tuple[list[str], Callable[[str], Any], Callable[[], list[str]]]:
    """`__all__`, `__getattr__` and `__dir__` for a family's package: its names import on first use.

    The first name used also registers every family with transformers' Auto classes (the model code that needs is
    being imported anyway), so a config or model taken from compactbert always works with `AutoModel` & co.
    """
    exports = family.exports()

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {family.package!r} has no attribute {name!r}")
        from .auto_registration import register_families

        register_families()
        value = getattr(importlib.import_module(exports[name]), name)
        setattr(sys.modules[family.package], name, value)  # looked up once
        return value

    def __dir__() -> list[str]:
        package = sys.modules.get(family.package)
        return sorted(set(vars(package) if package is not None else ()) | set(exports))

    return sorted(exports), __getattr__, __dir__


def recorded_or_config(config: dict, recorded: dict, *names: str) -> Any:
    """For `describe_method` functions: the first of `names` that the trainer recorded, else the first in the config;
    `None` if neither has any."""
    for source in (recorded, config):
        for name in names:
            if source.get(name) is not None:
                return source[name]
    return None


__all__ = [
    "FAMILIES",
    "Family",
    "family_namespace",
    "get_family",
    "list_families",
    "recorded_or_config",
    "register_family",
]
