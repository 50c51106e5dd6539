"""Small helpers the report tables share: protected counts, POD order, months of a year to date, the largest rows.

Small-number suppression itself lives in one place, `pbc.indicators.disclosure`; reports only apply its rule to
the counts they show and recompute every percentage from the protected counts, as that module asks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from pbc.calendar import financial_year_label, parse_financial_year
from pbc.indicators.disclosure import DisclosureRule
from pbc.phasing import financial_months

POD_ORDER = ("APC_EL", "APC_NE", "OP_FIRST", "OP_FU", "AE")
DATASET_LABELS = {
    "apc": "Admitted care (spells)",
    "op": "Outpatient attendances",
    "ae": "A&E attendances",
    "referrals": "GP referrals",
}


def protected(rule: DisclosureRule | None, value: int | float | None) -> int | float | None:
    """A count as it may be shown: as it is without a rule; suppressed (None) or rounded with one."""
    if value is None or rule is None:
        return value
    return rule.protect(value)


def share(part: float | None, whole: float | None) -> float | None:
    """Part over whole as a percentage, recomputed from whatever (protected) parts are shown; None without both."""
    if part is None or not whole:
        return None
    return part * 100 / whole


def pod_rank(pod: str) -> tuple[int, str]:
    """Sort key that lists PODs in the order budgets and reports use (admissions, outpatients, A&E)."""
    return (POD_ORDER.index(pod) if pod in POD_ORDER else len(POD_ORDER), pod)


def previous_year(year: str) -> str:
    """The financial year before: '2007/08' gives '2006/07'."""
    return financial_year_label(parse_financial_year(year) - 1)


def year_of_month(month: dt.date) -> str:
    """The financial year a month falls in: April 2007 to March 2008 is 2007/08."""
    return financial_year_label(month.year if month.month >= 4 else month.year - 1)


def months_to_date(year: str, elapsed: int) -> list[dt.date]:
    """The first `elapsed` months of a financial year (April first)."""
    return financial_months(year)[:elapsed]


def rows_where(table: pa.Table, column: str, values: Iterable[Any]) -> pa.Table:
    """The rows of a table whose column holds one of the values."""
    wanted = list(values)
    if not wanted:
        return table.slice(0, 0)
    return table.filter(pc.is_in(table[column], value_set=pa.array(wanted, table.schema.field(column).type)))


def summed(table: pa.Table, by: Sequence[str], measures: Sequence[str]) -> list[dict[str, Any]]:
    """Rows of a table summed by columns (pyarrow's group-by), as dicts with the measures under their own names."""
    if table.num_rows == 0:
        return []
    grouped = table.group_by(list(by)).aggregate([(m, "sum") for m in measures])
    return [{**{k: r[k] for k in by}, **{m: r[f"{m}_sum"] for m in measures}} for r in grouped.to_pylist()]


def largest(rows: Iterable[dict[str, Any]], key: Callable[[dict[str, Any]], int | float | None], n: int) -> list[dict]:
    """The n rows with the largest absolute value of `key` (rows without a value last), largest first."""
    return sorted(rows, key=lambda r: -abs(key(r) or 0))[:n]
