"""The test budget scheme for the small two-year Brent (the `two_year_home` fixture in tests/conftest.py)."""

from __future__ import annotations

SCHEME = """
name = "test scheme"
budget_year = "2007/08"
commissioner = "5K5"
pace_of_change_percent = "{pace}"
top_slice_percent = "2"
reserve_percent = "1.5"

[historic]
baseline_from = 2006-04-01
baseline_to = 2007-03-31
method = "{method}"
uplift_percent = "3.25"

[fair_share]
census_date = 2007-04-01
{need}
"""
NEED = """
[fair_share.need]
conditions = ["DIABETES", "CHD"]
weight_percent = "50"
"""


def scheme_text(pace: str = "25", method: str = "reprice", need: bool = True) -> str:
    """A test scheme for the small two-year Brent."""
    return SCHEME.format(pace=pace, method=method, need=NEED if need else "")
