"""`carve_splits`: seeded, stratified, duplicate-aware splitting."""

from __future__ import annotations

import math
from collections import Counter

import pytest
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from compactbert.data import carve_splits, dedup_key, load_task, near_duplicates
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


def carved_size(share: float, num_groups: int) -> int:
    """How many of `num_groups` groups a carve of `share` takes: rounded up."""
    return math.ceil(share * num_groups)


def stratifiable(class_counts: Counter, share: float) -> bool:
    """Whether `class_counts` (groups per class) can be split with `share` of the groups in the carved part: every
    class needs 2 groups or more, and both the part and what is left need at least one group per class."""
    n = sum(class_counts.values())
    carved = carved_size(share, n)
    return min(class_counts.values()) >= 2 and min(carved, n - carved) >= len(class_counts)


def group_counts(part: list[int], labels: list[int], keys: list) -> Counter:
    """Groups per class in `part` (rows of one group share their label)."""
    return Counter(labels[i] for i in {keys[i]: i for i in part}.values())


@st.composite
def grouped_rows(draw) -> list[tuple[int, int]]:
    """`(label, group)` rows in a random order: 1 to 4 classes of 1 to 25 groups, each group 1 to 3 rows."""
    groups_per_class = draw(st.lists(st.integers(1, 25), min_size=1, max_size=4))
    rows = [
        (label, group)
        for label, num_groups in enumerate(groups_per_class)
        for group in range(num_groups)
        for _ in range(draw(st.integers(1, 3)))
    ]
    draw(st.randoms(use_true_random=False)).shuffle(rows)
    return rows


@settings(max_examples=60, deadline=None)
@given(
    grouped_rows(),
    st.lists(st.floats(0.02, 0.3), min_size=1, max_size=3),
    st.integers(0, 2**16),
)
@example(rows=[(0, 0), (0, 1), (1, 0), (1, 0)], fractions=[0.5], seed=0)  # class 1 is one group: must raise
@example(rows=[(i % 2, i) for i in range(6)], fractions=[0.2, 0.2], seed=0)  # carve 2 gets 1 of 4 groups: must raise
@example(rows=[(i % 2, i) for i in range(40)], fractions=[0.1, 0.1], seed=0)  # 20 groups per class: must split
def test_parts_partition_rows_and_never_split_a_group(rows, fractions, seed):
    """The parts are carved one after another, each taking `fraction / left` of the groups still left (rounded up);
    a carve raises exactly when its remainder cannot be stratified (`stratifiable`), and otherwise the parts partition
    the rows, keep groups whole and are stratified."""
    labels = [label for label, _ in rows]
    keys = [(label, key) for label, key in rows]
    remainder = list(range(len(rows)))
    carved: list[list[int]] = []
    left = 1.0
    for step, fraction in enumerate(fractions):
        share = fraction / left
        counts = group_counts(remainder, labels, keys)
        if not stratifiable(counts, share):
            with pytest.raises(ValueError) as info:
                carve_splits(labels, fractions, seed=seed, keys=keys)
            message = str(info.value)
            event(f"raises at carve {step + 1}")
            rows_left = len(remainder)  # rows; `counts` counts their groups
            copies = (
                f" ({rows_left} rows: the copies of a text stay together)" if rows_left > sum(counts.values()) else ""
            )
            assert message.startswith(
                f"cannot make a stratified split of {sum(counts.values())} examples{copies} with fractions {fractions}:"
            )
            assert f"Examples per class: {dict(sorted(counts.items()))}." in message
            assert "add data, merge rare classes or change validation_size / test_size" in message
            return
        # the first `step + 1` carves alone: the same parts as the first carves of the full call (checked below)
        rest, *parts = carve_splits(labels, fractions[: step + 1], seed=seed, keys=keys)
        assert parts[:step] == carved
        part_counts = group_counts(parts[-1], labels, keys)
        num_carved = carved_size(share, sum(counts.values()))
        assert sum(part_counts.values()) == num_carved
        for label, count in counts.items():  # stratified: each class within one group of its proportional share
            assert abs(part_counts[label] - num_carved / sum(counts.values()) * count) <= 1
        remainder, carved = rest, parts
        left -= fraction
    event("splits")
    everything = carve_splits(labels, fractions, seed=seed, keys=keys)
    assert everything == [remainder, *carved]
    assert sorted(i for part in everything for i in part) == list(range(len(rows)))
    owners = [{keys[i] for i in part} for part in everything]
    assert all(not a & b for i, a in enumerate(owners) for b in owners[i + 1 :])


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


def test_near_duplicates_are_texts_that_share_most_of_their_word_runs():
    body = "the minister said on Tuesday that the plan would cost more than four billion pounds over ten years"
    seen = [f"Plan costs {body}", "an unrelated text about football and the cup final at the weekend"]
    edited = body.replace("more than", "over")  # 3 of the 20 8-word runs of the two are shared
    found = near_duplicates([f"Budget row {body}", edited, "a text about something else entirely here"], seen)
    assert found == [True, False, False]  # the same sentence under another headline: 11 of 15 runs shared
    assert near_duplicates([edited], seen, threshold=0.15) == [True]
    assert near_duplicates([edited], seen, n=4, threshold=0.45) == [True]  # shorter runs: 10 of 21 survive the edit
    with pytest.raises(ValueError, match=r"threshold must be in \(0, 1\], got 0"):
        near_duplicates([body], seen, threshold=0)


def test_bbc_news_test_articles_that_repeat_a_training_article_are_found():
    split = load_task("bbc-news", seed=42).dataset
    train, test = split["train"]["text"], split["test"]["text"]
    found = near_duplicates(test, train)
    assert sum(found) == 12  # docs/data.md
    keys = {dedup_key(t) for t in train}
    assert not any(dedup_key(t) in keys for t in test)  # none is an exact repeat: the split keeps those together


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5, "7"])
def test_a_split_seed_out_of_range_is_refused_as_such(seed):
    """Not as a data problem (scikit-learn's message used to come with advice to add data or merge classes)."""
    with pytest.raises(ValueError, match=r"^the split seed must be a whole number from 0 to 4294967295, got "):
        carve_splits([0, 1] * 10, [0.2], seed=seed)
