"""`carve_splits`: seeded, stratified, duplicate-aware splitting."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compactbert.data import carve_splits, dedup_key
from compactbert.data.splits import check_fractions


def test_dedup_key_ignores_whitespace_and_case_only():
    assert dedup_key("An  absorbing\ndocumentary. ") == dedup_key("an absorbing documentary.")
    assert dedup_key("a film") != dedup_key("a films")
    assert dedup_key("a", "b") == dedup_key("A", " b")
    assert dedup_key("a", "b c") != dedup_key("a b", "c")  # the pair boundary counts


def test_sizes_partition_and_stratification():
    labels = [0] * 500 + [1] * 300 + [2] * 200
    rest, test, validation = carve_splits(labels, [0.1, 0.1], seed=0)
    assert (len(rest), len(test), len(validation)) == (800, 100, 100)
    assert sorted(rest + test + validation) == list(range(1000))
    for part in (rest, test, validation):
        counts = Counter(labels[i] for i in part)
        assert [counts[c] / len(part) for c in (0, 1, 2)] == pytest.approx([0.5, 0.3, 0.2], abs=0.01)


def test_seeded():
    labels = [i % 3 for i in range(300)]
    assert carve_splits(labels, [0.2], seed=5) == carve_splits(labels, [0.2], seed=5)
    assert set(carve_splits(labels, [0.2], seed=5)[1]) != set(carve_splits(labels, [0.2], seed=6)[1])


def test_groups_stay_together():
    keys = [i // 3 for i in range(300)]  # 100 groups of 3 rows
    labels = [k % 2 for k in keys]
    rest, part = carve_splits(labels, [0.2], seed=0, keys=keys)
    assert len(part) == 60
    assert not {keys[i] for i in rest} & {keys[i] for i in part}


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 2), st.integers(0, 40)), min_size=60, max_size=200),
    st.integers(0, 2**16),
)
def test_parts_partition_rows_and_never_split_a_group(rows, seed):
    labels = [label for label, _ in rows]
    keys = [(label, key) for label, key in rows]
    try:
        parts = carve_splits(labels, [0.15, 0.15], seed=seed, keys=keys)
    except ValueError as err:  # too few groups of some class: must say so
        assert "cannot make a stratified split" in str(err)
        return
    assert sorted(i for part in parts for i in part) == list(range(len(rows)))
    owners = [{keys[i] for i in part} for part in parts]
    assert not owners[0] & owners[1] and not owners[0] & owners[2] and not owners[1] & owners[2]


def test_too_few_per_class_names_the_class():
    with pytest.raises(ValueError, match=r"Examples per class: \{'common': 19, 'rare': 1\}"):
        carve_splits([0] * 19 + [1], [0.1], seed=0, label_names=["common", "rare"])


def test_keys_must_match_labels():
    with pytest.raises(ValueError, match="got 3 labels but 2 keys"):
        carve_splits([0, 1, 0], [0.1], seed=0, keys=["a", "b"])


def test_check_fractions():
    check_fractions(0.1, 0.1)
    with pytest.raises(
        ValueError, match=r"test_size must be a fraction between 0 and 1 \(exclusive\), like 0\.1; got 0"
    ):
        check_fractions(0.1, 0)
    with pytest.raises(ValueError, match="must be below 1 to leave training data"):
        check_fractions(0.6, 0.4)
