"""NHS numbers: the Modulus 11 rule, worked by hand, and the vectorised check against the one-at-a-time one."""

from __future__ import annotations

import numpy as np
import pytest

from pbc.nhs_number import check_digit, invalidate, is_valid, synthetic_numbers, valid_mask


def test_worked_example():
    # 9 4 3 4 7 6 5 9 1 weighted 10..2: 90+36+24+28+42+30+20+27+2 = 299; 299 mod 11 = 2; 11 - 2 = 9
    assert check_digit("943476591") == 9
    assert is_valid("9434765919")
    assert not is_valid("9434765918")


def test_eleven_means_zero_and_ten_means_no_valid_number():
    # 000000001 -> 2; 11 - 2 = 9. 100000000 -> 10; 11 - 10 = 1. 000000000 -> 0; 11 - 0 = 11, which is 0.
    assert check_digit("000000000") == 0
    # 000000006 -> 12; 12 mod 11 = 1; 11 - 1 = 10: no valid number starts with these nine digits
    assert check_digit("000000006") is None
    assert not any(is_valid(f"000000006{d}") for d in range(10))


@pytest.mark.parametrize("text", ["", "943476591", "94347659190", "94347659l9", " 9434765919"])
def test_anything_but_ten_digits_is_invalid(text):
    assert not is_valid(text)
    assert not valid_mask(np.array([text]))[0]


def test_vectorised_check_agrees_with_the_plain_one():
    rng = np.random.default_rng(7)
    numbers = np.array([f"{n:010d}" for n in rng.integers(0, 10**10, 20_000)] + ["", "12345", "abcdefghij"])
    assert valid_mask(numbers).tolist() == [is_valid(n) for n in numbers]


def test_synthetic_numbers_are_distinct_valid_test_range_numbers_and_invalidated_ones_fail():
    numbers = synthetic_numbers(np.random.default_rng(1), 50_000)
    text = numbers.astype(str)
    assert len(set(numbers.tolist())) == 50_000
    assert all(t.startswith("999") for t in text)
    assert valid_mask(text).all()
    assert not valid_mask(invalidate(numbers, np.random.default_rng(2)).astype(str)).any()
    with pytest.raises(ValueError, match="holds 909,091 valid NHS numbers"):
        synthetic_numbers(np.random.default_rng(1), 1_000_000)
