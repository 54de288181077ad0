"""The one shape of compactbert's registries (layer-selection strategies, built-in data sets, bench rows): a name ->
record mapping that refuses a name registered twice. Standard library only, so any layer may use it.
"""

from __future__ import annotations

from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(dict, Generic[T]):
    """A `dict` of name -> record whose `add` refuses a name that is already taken.

    Args:
        kind (`str`):
            What the records are, for the error message (e.g. `"strategy"`, `"built-in task"`).

    >>> rows = Registry("bench model")
    >>> rows.add("teacher", object()) is rows["teacher"]
    True
    """

    def __init__(self, kind: str):
        super().__init__()
        self.kind = kind

    def add(self, name: str, record: T) -> T:
        """Register `record` under `name` and return it; a taken name raises a `ValueError`."""
        if name in self:
            raise ValueError(f"{self.kind} '{name}' is already registered; choose another name")
        self[name] = record
        return record
