"""Layer-selection strategies: the paper's table, the registry, explicit indices, and properties over L <= 48."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compactbert import STRATEGIES, select_layers
from compactbert.shrinking.strategies import explicit_layers, num_drop_above

from support.helpers import PAPER_TABLE_L12, kept_from_paper_drops


@pytest.mark.parametrize(("strategy", "num_drop"), sorted(PAPER_TABLE_L12))
def test_paper_table(strategy, num_drop):
    expected = kept_from_paper_drops(12, PAPER_TABLE_L12[(strategy, num_drop)])
    assert select_layers(12, strategy, num_drop) == expected


def test_table_covers_every_score_free_strategy():
    assert {name for name, _ in PAPER_TABLE_L12} == {n for n, s in STRATEGIES.items() if not s.needs_scores}


def test_symmetric_odd_remainder_keeps_extra_layer_at_bottom():
    # L=6, K=3: 3 kept, 2 at the bottom and 1 at the top
    assert select_layers(6, "symmetric", 3) == [0, 1, 5]
    assert select_layers(7, "symmetric", 2) == [0, 1, 2, 5, 6]


def test_contribution_drops_highest_similarity_and_breaks_ties_upward():
    scores = [0.5, 0.99, 0.7, 0.99, 0.8, 0.1]
    assert select_layers(6, "contribution", 1, scores) == [0, 1, 2, 4, 5]  # tie 1 vs 3: the higher goes
    assert select_layers(6, "contribution", 3, scores) == [0, 2, 5]


def test_contribution_threshold():
    scores = [0.9, 0.97, 0.96, 0.5]
    assert select_layers(4, "contribution", scores=scores, threshold=0.95) == [0, 3]
    assert num_drop_above(scores, 0.95) == 2
    with pytest.raises(ValueError, match="drops 0 of 4"):
        select_layers(4, "contribution", scores=scores, threshold=0.99)
    with pytest.raises(ValueError, match="drops 4 of 4"):
        select_layers(4, "contribution", scores=scores, threshold=0.1)
    with pytest.raises(ValueError, match="not both"):
        select_layers(4, "contribution", 1, scores=scores, threshold=0.95)
    with pytest.raises(ValueError, match="threshold applies to a strategy that reads per-layer scores .*, not 'top'"):
        select_layers(4, "top", threshold=0.95)
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        select_layers(4, "contribution", scores=scores, threshold=1.5)


@pytest.mark.parametrize("strategy", [name for name, s in STRATEGIES.items() if not s.needs_scores])
def test_scores_given_to_a_positional_strategy_are_refused_not_ignored(strategy):
    with pytest.raises(ValueError, match=f"'{strategy}' chooses layers by position and would ignore them"):
        select_layers(6, strategy, 2, [0.9, 0.1, 0.8, 0.2, 0.7, 0.3])


def test_contribution_needs_matching_scores():
    with pytest.raises(ValueError, match="needs per-layer scores"):
        select_layers(6, "contribution", 2)
    with pytest.raises(ValueError, match="one score per layer"):
        select_layers(6, "contribution", 2, [0.1, 0.2])
    with pytest.raises(ValueError, match="NaN"):
        select_layers(2, "contribution", 1, [0.1, float("nan")])


def test_unknown_strategy_lists_the_valid_ones():
    with pytest.raises(ValueError) as err:
        select_layers(12, "topp", 2)
    assert "unknown strategy 'topp'" in str(err.value)
    for name in STRATEGIES:
        assert name in str(err.value)


@pytest.mark.parametrize("num_drop", [0, -1, 12, 13, None, 2.0, True])
def test_invalid_num_drop(num_drop):
    with pytest.raises(ValueError):
        select_layers(12, "top", num_drop)


def test_alternate_strategies_cap_num_drop():
    with pytest.raises(ValueError, match="at most 6"):
        select_layers(12, "even-alternate", 7)
    assert len(select_layers(12, "odd-alternate", 6)) == 6
    with pytest.raises(ValueError, match="at most 6"):
        select_layers(12, "odd-alternate", 7)


def test_explicit_layers():
    assert explicit_layers(6, keep=[4, 0, 2]) == [0, 2, 4]
    assert explicit_layers(6, drop=[5, 1]) == [0, 2, 3, 4]
    for kwargs, message in [
        ({}, "exactly one"),
        ({"keep": [0], "drop": [1]}, "exactly one"),
        ({"keep": [0, 6]}, r"in \[0, 5\], got \[6\]"),
        ({"drop": [-1]}, r"got \[-1\]"),
        ({"keep": [1, 1]}, "unique"),
        ({"keep": []}, "keeps 0 of 6"),
        ({"drop": []}, "keeps 6 of 6"),
        ({"keep": [0, 1, 2, 3, 4, 5]}, "keeps 6 of 6"),
        ({"keep": ["0"]}, "must be ints"),
    ]:
        with pytest.raises(ValueError, match=message):
            explicit_layers(6, **kwargs)


def _scores(num_layers, seed):
    return [((i * 7919 + seed * 104729) % 1000) / 1000 for i in range(num_layers)]


@settings(max_examples=400, deadline=None)
@given(data=st.data(), num_layers=st.integers(2, 48), name=st.sampled_from(sorted(STRATEGIES)))
def test_every_valid_k_gives_l_minus_k_sorted_unique_in_range(data, num_layers, name):
    strategy = STRATEGIES[name]
    num_drop = data.draw(st.integers(1, strategy.max_drop(num_layers)))
    scores = _scores(num_layers, data.draw(st.integers(0, 1000))) if strategy.needs_scores else None
    kept = select_layers(num_layers, name, num_drop, scores)
    assert len(kept) == num_layers - num_drop
    assert kept == sorted(set(kept))
    assert all(0 <= i < num_layers for i in kept)


@settings(max_examples=300, deadline=None)
@given(
    num_layers=st.integers(1, 48),
    num_drop=st.one_of(st.integers(-5, 60), st.none()),
    name=st.sampled_from(sorted(STRATEGIES)),
)
def test_invalid_k_is_always_a_value_error(num_layers, num_drop, name):
    strategy = STRATEGIES[name]
    valid = num_drop is not None and num_layers >= 2 and 1 <= num_drop <= strategy.max_drop(num_layers)
    scores = _scores(num_layers, 1) if strategy.needs_scores else None
    if valid:
        assert len(select_layers(num_layers, name, num_drop, scores)) == num_layers - num_drop
    else:
        with pytest.raises(ValueError):
            select_layers(num_layers, name, num_drop, scores)


def test_every_strategy_every_l_up_to_48_every_k_exhaustively():
    for name, strategy in STRATEGIES.items():
        for num_layers in range(2, 49):
            scores = _scores(num_layers, num_layers) if strategy.needs_scores else None
            for num_drop in range(-1, num_layers + 2):
                if 1 <= num_drop <= strategy.max_drop(num_layers):
                    kept = select_layers(num_layers, name, num_drop, scores)
                    assert len(kept) == num_layers - num_drop and kept == sorted(set(kept))
                    assert 0 <= kept[0] and kept[-1] < num_layers
                else:
                    with pytest.raises(ValueError):
                        select_layers(num_layers, name, num_drop, scores)
