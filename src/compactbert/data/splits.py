"""Seeded, stratified, duplicate-aware splitting of labeled examples.

Splits are made with scikit-learn's `train_test_split(stratify=...)` under an integer seed, so they are the same on
every run and machine for the same input order and seed. Examples whose texts are equal after collapsing whitespace and
case (see `dedup_key`) are kept together: a duplicate never lands in two splits.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Hashable, Sequence

import numpy as np


def dedup_key(text: str, text_pair: str | None = None) -> str:
    """The key two examples share when they count as duplicates: whitespace collapsed and case folded.

    Args:
        text (`str`):
            The example's text.
        text_pair (`str`, *optional*):
            The second text of a pair task; pairs are duplicates only when both texts match.

    >>> dedup_key("An absorbing  documentary.") == dedup_key("an absorbing documentary.\\n")
    True
    """
    key = " ".join(text.split()).casefold()
    if text_pair is not None:
        key += "\x1f" + " ".join(text_pair.split()).casefold()
    return key


def check_fractions(validation_size: float, test_size: float) -> None:
    """Raise a `ValueError` unless both fractions are in (0, 1) and leave some data for training."""
    for name, value in (("validation_size", validation_size), ("test_size", test_size)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
            raise ValueError(f"{name} must be a fraction between 0 and 1 (exclusive), like 0.1; got {value!r}")
    if validation_size + test_size >= 1:
        raise ValueError(
            f"validation_size + test_size must be below 1 to leave training data; got {validation_size} + {test_size}"
        )


def carve_splits(
    labels: Sequence[int],
    fractions: Sequence[float],
    *,
    seed: int,
    keys: Sequence[Hashable] | None = None,
    label_names: Sequence[str] | None = None,
) -> list[list[int]]:
    """Split row indices into a remainder plus one stratified part per fraction.

    Rows that share a key form one group; groups (not rows) are split, each stratified by the label of its first row,
    so duplicates stay together. Part `i` gets `fractions[i]` of all groups: the parts are carved one after another,
    each from what the previous carves left.

    Args:
        labels (`Sequence[int]`):
            The class id of every row.
        fractions (`Sequence[float]`):
            The fraction of the data that goes to each carved part, e.g. `(0.1, 0.1)` for test and validation.
        seed (`int`):
            The random seed: the same seed and input give the same parts.
        keys (`Sequence[Hashable]`, *optional*):
            A duplicate key per row (see `dedup_key`); by default every row is its own group.
        label_names (`Sequence[str]`, *optional*):
            Names of the class ids, used only in error messages.

    Returns:
        `list[list[int]]`: `[remainder, part_0, part_1, ...]`, each a list of row indices in a seeded shuffled order
        (a group's rows follow one another).

    >>> rest, test = carve_splits([0, 1] * 10, [0.2], seed=0)
    >>> len(rest), len(test), sorted(rest + test) == list(range(20))
    (16, 4, True)
    """
    from sklearn.model_selection import train_test_split  # imported here: sklearn adds seconds to `import compactbert`

    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise ValueError(f"the split seed must be a whole number from 0 to {2**32 - 1}, got {seed!r}")
    if keys is None:
        keys = range(len(labels))
    if len(keys) != len(labels):
        raise ValueError(f"got {len(labels)} labels but {len(keys)} keys; expected one key per row")
    groups: dict[Hashable, list[int]] = {}
    for row, key in enumerate(keys):
        groups.setdefault(key, []).append(row)
    members = list(groups.values())
    group_labels = np.array([labels[rows[0]] for rows in members])

    parts: list[np.ndarray] = []
    remainder = np.arange(len(members))
    left = 1.0
    for fraction in fractions:
        share = fraction / left
        try:
            remainder, part = train_test_split(
                remainder, test_size=share, stratify=group_labels[remainder], random_state=seed
            )
        except ValueError as err:
            counts = Counter(group_labels[remainder].tolist())
            named = {(label_names[c] if label_names else c): n for c, n in sorted(counts.items())}
            rows = sum(len(members[group]) for group in remainder)
            copies = f" ({rows} rows: the copies of a text stay together)" if rows > len(remainder) else ""
            raise ValueError(
                f"cannot make a stratified split of {len(remainder)} examples{copies} with fractions {list(fractions)}: "
                f"{err} Examples per class: {named}. Every class needs enough examples to appear in each split; "
                "add data, merge rare classes or change validation_size / test_size."
            ) from None
        parts.append(part)
        left -= fraction
    return [[row for group in part for row in members[group]] for part in (remainder, *parts)]


def word_shingles(text: str, n: int = 8) -> set[str]:
    """The text's runs of `n` consecutive words (case folded, punctuation dropped); a shorter text is one run."""
    words = re.findall(r"\w+", text.casefold())
    return {" ".join(words[i : i + n]) for i in range(max(1, len(words) - n + 1))}


def near_duplicates(texts: Sequence[str], seen: Sequence[str], threshold: float = 0.5, n: int = 8) -> list[bool]:
    """For each of `texts`, whether it nearly repeats one of `seen`: the Jaccard similarity of their `n`-word runs
    (`word_shingles`) is at least `threshold`. It finds what `dedup_key` lets through: the same article body under
    another headline, a text with a few words edited.

    >>> near_duplicates(["Shares fell by a third in early trading on Monday after the results"],
    ...                 ["Results: shares fell by a third in early trading on Monday after the results"], n=4)
    [True]
    """
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    runs = [word_shingles(t, n) for t in seen]
    where: dict[str, list[int]] = {}
    for i, shingles in enumerate(runs):
        for shingle in shingles:
            where.setdefault(shingle, []).append(i)
    found = []
    for text in texts:
        shingles = word_shingles(text, n)
        shared = Counter(i for shingle in shingles for i in where.get(shingle, ()))
        found.append(any(count / len(shingles | runs[i]) >= threshold for i, count in shared.items()))
    return found
