"""Small-number suppression for figures that leave the commissioner (DOMAIN.md section 10).

A count of 1 to 7 patients or events could identify someone, so it is suppressed; every other count is rounded
to the nearest 5, so that a suppressed count cannot be recovered by subtracting the published ones from a
published total. Ratios (rates, proportions, observed over expected) are then recomputed from the protected
parts, never published from the exact ones, so that no figure in a table can be worked back to an exact small
count. Zero is shown as zero: knowing that nobody in a group had an event discloses nothing about a person.

The rule is a value, not a constant, so a commissioner whose information governance asks for a different
threshold or base can pass its own (`DisclosureRule(suppress_to=9, round_to=10)`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class DisclosureRule:
    """Suppress counts from `suppress_from` to `suppress_to` inclusive; round the others to `round_to`."""

    suppress_from: int = 1
    suppress_to: int = 7
    round_to: int = 5

    def __post_init__(self) -> None:
        if self.suppress_from < 1 or self.suppress_to < self.suppress_from:
            raise ValueError(
                f"suppression range {self.suppress_from}-{self.suppress_to} must start at 1 or more "
                "and not run backwards"
            )
        if self.round_to < 1:
            raise ValueError(f"round_to must be 1 or more, got {self.round_to}")

    def suppressed(self, count: float) -> bool:
        """Whether a count is one of the small numbers that must not be published."""
        return self.suppress_from <= _whole(count) <= self.suppress_to

    def protect(self, count: float | None) -> int | None:
        """The count as it may be published: None if suppressed, else rounded half up to the base."""
        if count is None or (isinstance(count, float) and math.isnan(count)):
            return None
        whole = _whole(count)
        if self.suppressed(whole):
            return None
        return math.floor(whole / self.round_to + 0.5) * self.round_to

    def describe(self) -> str:
        """The rule in words, for the notes that go with a protected table."""
        return (
            f"counts of {self.suppress_from} to {self.suppress_to} are suppressed and others rounded to the nearest "
            f"{self.round_to}; rates and ratios are recomputed from the rounded counts"
        )


def _whole(count: float) -> int:
    """A count as a whole number: a mean list size (person-years) is rounded to the nearest person first."""
    if count < 0:
        raise ValueError(f"a count cannot be negative, got {count!r}")
    return math.floor(count + 0.5)


DEFAULT_RULE = DisclosureRule()
