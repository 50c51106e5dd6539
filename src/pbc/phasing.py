"""Phasing: an annual figure spread over the twelve months of its financial year, to the penny.

Contract plans and indicative budgets are agreed for a year and monitored by month, so each annual figure is split
by a seasonal profile: the share of the baseline's activity that fell in each month (April is month 1). The split
is by largest remainder: each month gets the whole pence of its share, and the pence left over go one each to the
months with the largest fractional parts (earlier months first on a tie). The twelve months always add up to the
annual figure exactly, and the same inputs always give the same months, on any engine.

Arithmetic is on integers only. The engines divide integers as doubles, so the remainder is taken off before
dividing and the division is exact. Amounts up to £10 billion with profile weights up to ten million per key are
exact in 64-bit integers; negative amounts are phased as their size, then signed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import ibis
from ibis import _

MONTHS = tuple(range(1, 13))  # financial-year months: 1 = April ... 12 = March


def month_index(month: ibis.DateValue) -> ibis.IntegerValue:
    """The financial-year month (1 = April, 12 = March) of a date."""
    return ((month.month() + 8) % 12 + 1).cast("int64")


def month_start(financial_year: str, index: int) -> dt.date:
    """The first day of a financial-year month: ('2007/08', 1) is 1 April 2007; ('2007/08', 12) is 1 March 2008."""
    start = int(financial_year[:4])
    calendar_month = (index + 2) % 12 + 1
    return dt.date(start + (1 if calendar_month < 4 else 0), calendar_month, 1)


def financial_months(financial_year: str) -> list[dt.date]:
    """The first days of the twelve months of a financial year, April first."""
    return [month_start(financial_year, i) for i in MONTHS]


def seasonal_profile(lines: ibis.Table, keys: Sequence[str], weight: ibis.Value | None = None) -> ibis.Table:
    """Weights per key and financial-year month: the lines (or `weight`) summed per MONTH_INDEX.

    `lines` needs a MONTH date column. A month with nothing has no row (weight 0 when phasing).
    """
    value = lines.count() if weight is None else weight.sum()
    return lines.group_by([*keys, month_index(lines.MONTH).name("MONTH_INDEX")]).aggregate(WEIGHT=value.cast("int64"))


def _exact_div(numerator: ibis.IntegerValue, denominator: ibis.IntegerValue) -> ibis.IntegerValue:
    """Floor of a non-negative integer over a positive one, exact on engines that divide as doubles."""
    return ((numerator - numerator % denominator) // denominator).cast("int64")


def phase(
    annual: ibis.Table,
    keys: Sequence[str],
    amounts: Sequence[str],
    profile: ibis.Table | None = None,
    profile_keys: Sequence[str] | None = None,
) -> ibis.Table:
    """Each row of `annual` as twelve rows (MONTH_INDEX 1-12) with each of `amounts` phased by `profile`.

    `profile` has `profile_keys` (a subset of `keys`, default all of them), MONTH_INDEX and WEIGHT, as made by
    `seasonal_profile`. A key with no profile, or a profile of all zeros, is phased flat (one twelfth a month).
    """
    profile_keys = list(keys if profile_keys is None else profile_keys)
    months = ibis.memtable({"MONTH_INDEX": list(MONTHS)})
    grid = annual.cross_join(months)
    if profile is not None:
        p = profile.select(*[profile[k].name(f"_P_{k}") for k in profile_keys], _P_M=profile.MONTH_INDEX, W=_.WEIGHT)
        grid = grid.left_join(p, [*[grid[k] == p[f"_P_{k}"] for k in profile_keys], grid.MONTH_INDEX == p._P_M]).select(
            *grid.columns, W=p.W.fill_null(0).cast("int64")
        )
    else:
        grid = grid.mutate(W=ibis.literal(0, "int64"))
    row = ibis.window(group_by=list(keys))
    grid = grid.mutate(_TOTAL_W=_.W.sum().over(row).cast("int64"))
    flat = _._TOTAL_W <= 0
    grid = grid.mutate(
        _W=ibis.ifelse(flat, 1, _.W).cast("int64"), _TOTAL_W=ibis.ifelse(flat, 12, _._TOTAL_W).cast("int64")
    )
    for amount in amounts:
        size = grid[amount].abs().cast("int64")
        sign = ibis.ifelse(grid[amount] < 0, -1, 1)
        scaled = size * grid._W
        grid = grid.mutate(_BASE=_exact_div(scaled, grid._TOTAL_W), _REM=(scaled % grid._TOTAL_W).cast("int64"))
        grid = grid.mutate(_SHORT=(size - grid._BASE.sum().over(row)).cast("int64"))
        ranked = ibis.window(group_by=list(keys), order_by=[ibis.desc("_REM"), ibis.asc("MONTH_INDEX")])
        grid = grid.mutate(_RANK=ibis.row_number().over(ranked))
        grid = grid.mutate(
            **{amount: ((grid._BASE + ibis.ifelse(grid._RANK < grid._SHORT, 1, 0)) * sign).cast("int64")}
        )
    return grid.drop("W", "_W", "_TOTAL_W", *[c for c in ("_BASE", "_REM", "_SHORT", "_RANK") if c in grid.columns])
