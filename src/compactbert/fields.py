"""Text read as typed values: comma-separated integers, and a dataclass field's value read by the field's type;
and the recipe file those fields come from.

A command line hands every value over as text. `parse_field_value` reads it the way `HfArgumentParser` reads a flag:
by the type the field declares, not by guessing. (YAML guesses: it reads `no` as false, so an override
`--eval_strategy no` reached `TrainingArguments` as `False`.) Torch-free: the command line's help imports it.

>>> from compactbert.fields import parse_field_value, parse_int_list
>>> parse_int_list("0, 2,4")
[0, 2, 4]
>>> parse_field_value("no", str), parse_field_value("no", bool), parse_field_value("null", int | None)
('no', False, None)
"""

from __future__ import annotations

import enum
import re
import types
import typing
from collections.abc import Iterable
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

TRUE_WORDS = ("yes", "true", "t", "y", "1")
FALSE_WORDS = ("no", "false", "f", "n", "0")
NULL_WORD = "null"  # as in YAML recipes; `none` also reads as null where the field takes no text


def parse_int_list(text: str, what: str = "integers") -> list[int]:
    """Read `"0,2,4"`, `"0, 2, 4"` or `"[0, 2, 4]"` as `[0, 2, 4]` (an empty text or `[]` is an empty list).

    Args:
        text (`str`):
            The integers, separated by commas, optionally in square brackets.
        what (`str`, *optional*, defaults to `"integers"`):
            What the integers are, for the error message (e.g. `"0-based layer indices"`).

    Raises:
        `ValueError`: when a part is not an integer.
    """
    body = text.strip()
    if body.startswith("[") and body.endswith("]"):
        body = body[1:-1]
    try:
        return [int(part) for part in body.replace(" ", "").split(",") if part]
    except ValueError:
        raise ValueError(f"expected comma-separated {what} like 0,2,4; got '{text}'") from None


def field_types(dataclass_types: Iterable[type]) -> dict[str, Any]:
    """The resolved type of every `__init__` field of `dataclass_types`, by field name (the first class wins)."""
    found: dict[str, Any] = {}
    for cls in dataclass_types:
        try:
            hints = typing.get_type_hints(cls)
        except (NameError, TypeError):  # an annotation that does not resolve here: fall back to the raw ones
            hints = {}
        for f in fields(cls):
            if f.init and f.name not in found:
                found[f.name] = hints.get(f.name, f.type)
    return found


def parse_field_value(text: str | None, annotation: Any, name: str = "value") -> Any:
    """Read the text given for a field as a value of the field's type.

    - `str` (and enums that also take `str`, like `IntervalStrategy | str`): the text, unchanged;
    - `bool`: `true/false`, `yes/no`, `t/f`, `y/n`, `1/0` (any case); no text at all (a bare `--flag`) is `True`;
    - `int`, `float`: the number (`5e-4` is a float);
    - `list[X]`: `a,b,c` or `[a, b, c]`, each item read as `X`;
    - `dict`: a flow mapping, `{key: value, ...}`;
    - an enum or `Literal` without `str`: one of its values;
    - `X | None`: `null` is `None` (and `none`, when `X` takes no text); otherwise read as `X`.
      A union tries a written-out list or mapping first, then `bool`, the numbers, and text.

    Args:
        text (`str` or `None`):
            The text after `--name`; `None` when the flag came without a value.
        annotation (`Any`):
            The field's resolved type (see `field_types`).
        name (`str`, *optional*, defaults to `"value"`):
            The field's name, for the error message.

    Raises:
        `ValueError`: when the text is not a value of the field's type; the message says what the field takes.
    """
    members, nullable = _members(annotation)
    if text is None:
        if bool in members:
            return True
        raise ValueError(f"--{name} needs a value: {_describe(annotation)}")
    stripped = text.strip()
    lowered = stripped.lower()
    takes_text = any(_takes_text(m) for m in members)
    if nullable and (lowered == NULL_WORD or (lowered == "none" and not takes_text)):
        return None
    lists = [m for m in members if typing.get_origin(m) is list or m is list]
    if lists and stripped.startswith("["):
        return _read_list(stripped, lists[0], name, annotation)
    if stripped.startswith("{") and any(typing.get_origin(m) is dict or m is dict for m in members):
        return _read_mapping(stripped, name, annotation)
    if bool in members and lowered in TRUE_WORDS + FALSE_WORDS:
        return lowered in TRUE_WORDS
    for kind in (int, float):
        if kind in members:
            try:
                return kind(stripped)
            except ValueError:
                pass
    for member in members:
        if typing.get_origin(member) is typing.Literal:
            for value in typing.get_args(member):
                if str(value) == stripped:
                    return value
    if str in members or any(m is Any for m in members):
        return text
    for member in members:
        if isinstance(member, type) and issubclass(member, enum.Enum):
            values = [str(e.value) for e in member]
            if stripped in values:
                return stripped
    if lists:
        return _read_list(stripped, lists[0], name, annotation)
    raise ValueError(f"--{name} takes {_describe(annotation)}; got '{text}'")


def _members(annotation: Any) -> tuple[tuple[Any, ...], bool]:
    """The types a (possibly union) annotation allows, without `None`, and whether it allows `None`."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation) if origin is typing.Union or origin is types.UnionType else (annotation,)
    return tuple(a for a in args if a is not type(None)), type(None) in args


def _takes_text(member: Any) -> bool:
    return member is str or member is Any


def _read_list(text: str, list_type: Any, name: str, annotation: Any) -> list:
    (item,) = typing.get_args(list_type) or (str,)
    if item is int:
        try:
            return parse_int_list(text)
        except ValueError:
            raise ValueError(f"--{name} takes {_describe(annotation)}; got '{text}'") from None
    body = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    parts = [part.strip().strip("'\"") for part in body.split(",")]
    return [parse_field_value(part, item, name) for part in parts if part]


def _read_mapping(text: str, name: str, annotation: Any) -> dict:
    import yaml

    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        value = None
    if not isinstance(value, dict):
        raise ValueError(f"--{name} takes {_describe(annotation)}; got '{text}'")
    return value


def _describe(annotation: Any) -> str:
    """What a field takes, in words: `an integer or null`, `true or false (also yes/no, 1/0)`, ..."""
    members, nullable = _members(annotation)
    words = [_describe_one(m) for m in members] + (["null"] if nullable else [])
    return " or ".join(dict.fromkeys(words))


def _describe_one(member: Any) -> str:
    origin = typing.get_origin(member)
    if member is bool:
        return "true or false (also yes/no, 1/0)"
    if member is int:
        return "an integer"
    if member is float:
        return "a number"
    if member is str or member is Any:
        return "text"
    if origin is list or member is list:
        (item,) = typing.get_args(member) or (str,)
        return (
            "a list like 0,2,4 or [0, 2, 4]" if item is int else f"a list like a,b or [a, b] ({_describe_one(item)})"
        )
    if origin is dict or member is dict:
        return "a mapping like {key: value}"
    if origin is typing.Literal:
        return "one of " + ", ".join(map(str, typing.get_args(member)))
    if isinstance(member, type) and issubclass(member, enum.Enum):
        return "one of " + ", ".join(str(e.value) for e in member)
    return f"a {getattr(member, '__name__', member)} (set it in the recipe file; it is not read from text)"


def required_fields(cls: type) -> list[str]:
    """The fields of the dataclass `cls` that have no default: what a record of it must give."""
    return [f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING]


_EXPONENT_NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)[eE][-+]?\d+")


def yaml_number(value: Any) -> Any:
    """YAML 1.1 reads `1e-4` (no dot) as a string; recipes mean the number."""
    return float(value) if isinstance(value, str) and _EXPONENT_NUMBER.fullmatch(value.strip()) else value


def did_you_mean(unknown: Iterable[str], known: Iterable[str]) -> str:
    """` (did you mean: shareing -> sharing?)` for the unknown names that are close to a known one, else `""`."""
    import difflib

    known = list(known)
    hints = [f"{u} -> {m[0]}" for u in unknown if (m := difflib.get_close_matches(u, known, n=1, cutoff=0.75))]
    return f" (did you mean: {', '.join(hints)}?)" if hints else ""


def as_texts(texts: Any, name: str) -> list[str]:
    """`texts` (a list, tuple or other iterable of strings) as a list, checked before any work (`name`: the argument).

    Raises:
        `TypeError`: one string (iterating it would give its characters, each scored as a text), something that is
        not iterable, or an item that is not a string (the first is named).
    """
    if isinstance(texts, (str, bytes)):
        raise TypeError(f"{name} takes a list of texts, not one string: pass [{_short(texts)}] for a single text")
    try:
        items = list(texts)
    except TypeError:
        raise TypeError(f"{name} takes a list of texts; got {type(texts).__name__}") from None
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise TypeError(f"{name} must hold strings; item {i} is {type(item).__name__}: {_short(item)}")
    return items


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def _whole_float(text: str) -> Any:
    """`text` as a float when it is a number (`"2.0"`), else `text` unchanged."""
    try:
        return float(text)
    except ValueError:
        return text


def typed_numbers(values: dict[str, Any], dataclass_types: Iterable[type], where: str) -> dict[str, Any]:
    """A recipe's values, those of number fields (`int`, `float`, or either or null) checked and made numbers.

    YAML hands over what was written: `max_length: "64"` is text, `learning_rate: fast` too. A number written as
    text is read as the field's number (as `parse_field_value` reads a command line's), a whole float given to an
    `int` field becomes that int, and anything else (a word, `true`, a fraction for a count) is refused naming the
    field and what it takes; without this it failed later as Python's "'<' not supported between 'str' and 'int'".

    Raises:
        `ValueError`: `"{where}: learning_rate takes a number; got 'fast'"`.
    """
    types_ = field_types(dataclass_types)
    typed = dict(values)
    for name, value in values.items():
        annotation = types_.get(name)
        members, _ = _members(annotation)
        if annotation is None or value is None or not members or not set(members) <= {int, float}:
            continue
        if isinstance(value, str):
            try:
                typed[name] = parse_field_value(value, annotation, name)
                continue
            except ValueError:
                value = _whole_float(value)  # "2.0" for a count, read as YAML's 2.0 is
        if isinstance(value, float) and float not in members and value.is_integer():
            typed[name] = int(value)
            continue
        if (
            isinstance(value, (int, float))
            and not isinstance(value, bool)
            and (float in members or isinstance(value, int))
        ):
            continue
        raise ValueError(f"{where}: {name} takes {_describe(annotation)}; got {values[name]!r}")
    return typed


__all__ = [
    "FALSE_WORDS",
    "NULL_WORD",
    "TRUE_WORDS",
    "as_texts",
    "did_you_mean",
    "field_types",
    "parse_field_value",
    "parse_int_list",
    "required_fields",
    "typed_numbers",
    "yaml_number",
]


def recipe_file(path) -> Path:
    """`path` as a recipe file: a folder is refused with the recipes in it, a missing file as missing."""
    recipe = Path(path)
    if recipe.is_dir():
        inside = sorted(p.name for p in recipe.glob("*.yaml"))
        listed = f": {', '.join(inside[:6])}{', ...' if len(inside) > 6 else ''}" if inside else ""
        raise IsADirectoryError(f"recipe {recipe} is a folder; give one recipe file in it{listed}")
    if not recipe.is_file():
        raise FileNotFoundError(f"recipe {recipe} does not exist")
    return recipe


def read_yaml_recipe(recipe: Path) -> Any:
    """The YAML of a recipe file; an empty file, or one that is not YAML, is refused naming it (an empty recipe would
    otherwise train every default: MiniLM on BBC News)."""
    import yaml

    try:
        loaded = yaml.safe_load(recipe.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ValueError(f"recipe {recipe} is not valid YAML: {err}") from None
    if loaded is None:
        raise ValueError(f"recipe {recipe} is empty; expected field: value lines (the recipes in configs/ show them)")
    return loaded
