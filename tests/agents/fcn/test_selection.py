"""Selection functions (paper III-D) on hand-made value arrays."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from agents.fcn.selection import (
    ApplicationRule,
    MaximumSelection,
    MixedSelection,
    ProbabilisticSelection,
    RandomSelection,
    UncertainSelection,
    make_selection,
)
from grasp_env.errors import ConfigError, InvalidObservation

# a (2, 2, 2, 1) grasp space with distinct, hand-picked values
VALUES = np.array([0.10, 0.90, 0.30, 0.58, 0.00, 0.80, 0.45, 0.70], np.float32).reshape(2, 2, 2, 1)


def flat(index):
    return int(np.ravel_multi_index(index, VALUES.shape))


def draws(selection, values=VALUES, n=4000, seed=0):
    rng = np.random.default_rng(seed)
    return [selection(values, rng) for _ in range(n)]


def test_random_is_uniform_over_the_space_and_reports_the_value():
    picks = draws(RandomSelection())
    counts = Counter(flat(p.index) for p in picks)
    assert sorted(counts) == list(range(8))
    assert all(abs(c / len(picks) - 1 / 8) < 0.03 for c in counts.values())
    assert all(p.value == pytest.approx(float(VALUES[p.index])) for p in picks)
    assert {p.method for p in picks} == {"random"}


def test_maximum_1_is_the_arg_max():
    pick = MaximumSelection(1)(VALUES, np.random.default_rng(0))
    assert pick.index == (0, 0, 1, 0)
    assert pick.value == pytest.approx(0.9)
    assert pick.method == "maximum(1)"


def test_maximum_3_picks_each_of_the_three_best_at_random():
    counts = Counter(flat(p.index) for p in draws(MaximumSelection(3), n=3000))
    assert set(counts) == {1, 5, 7}  # 0.90, 0.80, 0.70
    assert all(abs(c / 3000 - 1 / 3) < 0.04 for c in counts.values())


def test_maximum_with_n_beyond_the_space_takes_all():
    assert len({flat(p.index) for p in draws(MaximumSelection(100), n=500)}) == 8


def test_probabilistic_samples_in_proportion_to_the_values():
    values = np.array([0.0, 0.25, 0.75, 0.0]).reshape(1, 2, 2, 1)
    picks = draws(ProbabilisticSelection(), values, n=8000)
    counts = Counter(flat_index for flat_index in (p.index[1] * 2 + p.index[2] for p in picks))
    assert set(counts) == {1, 2}  # a zero value is never chosen
    assert counts[2] / 8000 == pytest.approx(0.75, abs=0.02)


def test_probabilistic_with_all_zero_values_is_uniform():
    picks = draws(ProbabilisticSelection(), np.zeros((1, 2, 2, 1)), n=2000)
    assert len({p.index for p in picks}) == 4


def test_uncertain_is_the_value_nearest_one_half():
    pick = UncertainSelection()(VALUES, np.random.default_rng(0))
    assert pick.index == (1, 1, 0, 0)  # 0.45 is 0.05 from 0.5; 0.58 is 0.08
    values = np.array([0.2, 0.48, 0.9, 0.53]).reshape(1, 1, 4, 1)
    assert UncertainSelection()(values, np.random.default_rng(0)).index == (0, 0, 1, 0)


def test_uncertain_breaks_ties_at_random():
    values = np.array([0.4, 0.6, 0.1, 0.9]).reshape(1, 1, 4, 1)
    picks = draws(UncertainSelection(), values, n=400)
    assert {p.index for p in picks} == {(0, 0, 0, 0), (0, 0, 1, 0)}


def test_application_rule_uses_maximum_5_after_a_failure():
    rule = ApplicationRule()
    rng = np.random.default_rng(0)
    values = np.arange(10, dtype=np.float32).reshape(1, 1, 10, 1) / 10
    assert rule.name == "maximum(1)"
    assert rule(values, rng).index == (0, 0, 9, 0)
    rule.observe(0.0)
    assert rule.name == "maximum(5)"
    picks = {rule(values, rng).index[2] for _ in range(200)}
    assert picks == {5, 6, 7, 8, 9}
    rule.observe(1.0)
    assert rule(values, rng).method == "maximum(1)"


def test_same_generator_state_gives_the_same_choices():
    for selection in (RandomSelection(), MaximumSelection(3), ProbabilisticSelection()):
        a = [p.index for p in draws(selection, n=50, seed=3)]
        b = [p.index for p in draws(selection, n=50, seed=3)]
        assert a == b


def test_mixed_selection_uses_its_members_with_their_weights():
    mixed = MixedSelection([(0.75, ProbabilisticSelection()), (0.25, RandomSelection())])
    methods = Counter(p.method for p in draws(mixed, n=4000))
    assert methods["random"] / 4000 == pytest.approx(0.25, abs=0.03)


def test_make_selection_by_name():
    assert make_selection("maximum(5)") == MaximumSelection(5)
    assert isinstance(make_selection("uncertain"), UncertainSelection)
    assert isinstance(make_selection("application"), ApplicationRule)
    with pytest.raises(ConfigError, match="got 'greedy'"):
        make_selection("greedy")


def test_non_finite_or_empty_values_are_refused():
    rng = np.random.default_rng(0)
    bad = VALUES.copy()
    bad[0, 0, 0, 0] = np.nan
    for selection in (RandomSelection(), MaximumSelection(), UncertainSelection()):
        with pytest.raises(InvalidObservation, match="NaN"):
            selection(bad, rng)
    with pytest.raises(InvalidObservation, match="non-empty"):
        ProbabilisticSelection()(np.zeros((0, 3)), rng)
