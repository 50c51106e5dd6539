"""NHS numbers: the Modulus 11 check, and synthetic numbers from the range reserved for testing.

An NHS number is ten digits; the tenth is a check digit. Weight the first nine digits 10, 9, ..., 2 and sum them;
the check digit is 11 minus the remainder of the sum divided by 11, where 11 means 0 and 10 means the number is
invalid (no valid number has those nine digits). Numbers starting 999 are never issued to patients and are reserved
for testing, which is why pbc's synthetic patients use them.
"""

from __future__ import annotations

import numpy as np

WEIGHTS = np.arange(10, 1, -1, dtype=np.int64)
TEST_PREFIX = "999"
TEST_RANGE_SIZE = 1_000_000  # six free digits between the 999 prefix and the check digit


def check_digit(first_nine: str) -> int | None:
    """The check digit for nine digits, or None when no valid number starts with them."""
    total = sum(int(d) * w for d, w in zip(first_nine, range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        return 0
    return None if check == 10 else check


def is_valid(number: str) -> bool:
    """Whether a string is a ten-digit NHS number whose check digit is right."""
    if len(number) != 10 or not number.isdigit():
        return False
    return check_digit(number[:9]) == int(number[9])


def check_digits(first_nine: np.ndarray) -> np.ndarray:
    """Vectorised check digits for integers of up to nine digits; -1 where no valid number exists."""
    digits = (first_nine[:, None] // 10 ** np.arange(8, -1, -1, dtype=np.int64)) % 10
    check = 11 - (digits @ WEIGHTS) % 11
    check = np.where(check == 11, 0, check)
    return np.where(check == 10, -1, check)


def valid_mask(numbers: np.ndarray) -> np.ndarray:
    """Vectorised Modulus 11 check over an array of strings (anything not ten digits is invalid)."""
    text = np.asarray(numbers, dtype="U10")
    shaped = np.char.str_len(np.asarray(numbers, dtype=str)) == 10
    shaped &= np.char.isdigit(text)
    as_int = np.where(shaped, text, "0").astype(np.int64)
    return shaped & (check_digits(as_int // 10) == as_int % 10)


def synthetic_numbers(rng: np.random.Generator, count: int) -> np.ndarray:
    """`count` distinct valid NHS numbers from the test range (999...), as int64.

    The range holds 909,091 valid numbers (one in eleven nine-digit stems has no valid check digit), so at most
    that many distinct patients can be numbered; a London-scale population reuses numbers across commissioners.
    """
    capacity = 909_091
    if count > capacity:
        raise ValueError(f"the 999 test range holds {capacity:,} valid NHS numbers; {count:,} were asked for")
    stems = rng.permutation(TEST_RANGE_SIZE).astype(np.int64) + 999 * TEST_RANGE_SIZE
    checks = check_digits(stems)
    good = checks >= 0
    return (stems[good][:count] * 10) + checks[good][:count]


def invalidate(numbers: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Turn valid NHS numbers (int64) into invalid ones by changing the check digit to a wrong value."""
    stems, checks = numbers // 10, numbers % 10
    shift = rng.integers(1, 10, size=len(numbers))
    return stems * 10 + (checks + shift) % 10
