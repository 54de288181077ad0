"""The registry shape shared by strategies, built-in data sets and bench rows."""

import pytest

from compactbert.bench import BENCH_MODELS
from compactbert.data import BUILTIN_TASKS
from compactbert.registries import Registry
from compactbert.shrinking import STRATEGIES


def test_a_name_is_registered_once_and_the_record_comes_back():
    registry = Registry("widget")
    first = object()
    assert registry.add("a", first) is first and registry["a"] is first and list(registry) == ["a"]
    with pytest.raises(ValueError, match="widget 'a' is already registered; choose another name"):
        registry.add("a", object())
    assert registry["a"] is first  # the refused record did not replace it


@pytest.mark.parametrize("registry", [STRATEGIES, BUILTIN_TASKS, BENCH_MODELS], ids=["strategies", "data", "bench"])
def test_every_registry_refuses_a_taken_name(registry):
    name = next(iter(registry))
    with pytest.raises(ValueError, match=f"'{name}' is already registered"):
        registry.add(name, registry[name])
