"""Financial years and months as the NHS counts them: April to March, written 2007/08, month 1 is April."""

from __future__ import annotations

import datetime as dt
import re

_YEAR = re.compile(r"^(\d{4})/(\d{2})$")


def parse_financial_year(text: str) -> int:
    """The calendar year a financial year starts in: '2007/08' gives 2007. A malformed year is a ValueError."""
    match = _YEAR.match(text.strip())
    if not match or (int(match[1]) + 1) % 100 != int(match[2]):
        raise ValueError(f"{text!r} is not a financial year: write it like 2007/08")
    return int(match[1])


def financial_year_label(start_year: int) -> str:
    """The label of the financial year starting in April of `start_year`: 2007 gives '2007/08'."""
    return f"{start_year}/{(start_year + 1) % 100:02d}"


def financial_year_bounds(text: str) -> tuple[dt.date, dt.date]:
    """First and last day of a financial year."""
    start = parse_financial_year(text)
    return dt.date(start, 4, 1), dt.date(start + 1, 3, 31)


def financial_years_between(first: str, last: str) -> list[str]:
    """Every financial year from `first` to `last` inclusive."""
    start, end = parse_financial_year(first), parse_financial_year(last)
    if end < start:
        raise ValueError(f"{last} is before {first}")
    return [financial_year_label(y) for y in range(start, end + 1)]


def folder_name(financial_year: str) -> str:
    """A financial year as a file or folder name: '2007/08' gives '2007_08'."""
    parse_financial_year(financial_year)
    return financial_year.replace("/", "_")
