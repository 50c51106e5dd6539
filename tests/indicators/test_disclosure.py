"""Small-number suppression (DOMAIN.md section 10): counts of 1-7 suppressed, others rounded to 5."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pbc.indicators.disclosure import DEFAULT_RULE, DisclosureRule


@pytest.mark.parametrize(
    ("count", "published"),
    [
        (0, 0),  # nobody: nothing about a person is disclosed
        (1, None),
        (7, None),
        (8, 10),
        (12, 10),
        (12.4, 10),  # a mean list size is rounded to a whole person first
        (12.5, 15),  # ... half up, as rounding to 5 is
        (13, 15),
        (7.4, None),  # a mean of 7.4 people is 7 people
        (7.5, 10),
        (1003, 1005),
        (None, None),
        (float("nan"), None),
    ],
)
def test_default_rule(count, published):
    assert DEFAULT_RULE.protect(count) == published


def test_a_commissioner_s_own_rule():
    rule = DisclosureRule(suppress_from=1, suppress_to=9, round_to=10)
    assert [rule.protect(n) for n in (0, 9, 10, 14, 15, 26)] == [0, None, 10, 10, 20, 30]
    assert "1 to 9" in rule.describe()
    assert "nearest 10" in rule.describe()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [({"suppress_from": 0}, "start at 1"), ({"suppress_to": 0}, "backwards"), ({"round_to": 0}, "round_to")],
)
def test_nonsense_rules_are_refused(arguments, message):
    with pytest.raises(ValueError, match=message):
        DisclosureRule(**arguments)


def test_negative_counts_are_refused():
    with pytest.raises(ValueError, match="cannot be negative"):
        DEFAULT_RULE.protect(-1)


@given(st.integers(min_value=0, max_value=10**7))
def test_published_counts_are_multiples_of_5_within_2_of_the_truth(count):
    published = DEFAULT_RULE.protect(count)
    if 1 <= count <= 7:
        assert published is None
    else:
        assert published % 5 == 0
        assert abs(published - count) <= 2


@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=10**6))
def test_rounding_keeps_order(a, b):
    # A numerator never exceeds its denominator after protection, so a protected proportion stays within 0-1.
    low, high = sorted((a, b))
    pl, ph = DEFAULT_RULE.protect(low), DEFAULT_RULE.protect(high)
    if pl is not None and ph is not None:
        assert pl <= ph
