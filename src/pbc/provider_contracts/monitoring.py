"""Contract monitoring: plan against actual by month, year to date and forecast outturn, for a provider or a lead.

The monthly table (`monthly`) puts the phased plan and the costed actuals (accepted challenges left out) side by
side per provider, commissioner, POD, specialty and month; activity the plan did not foresee appears with a plan
of 0, and planned lines with no activity with an actual of 0, so nothing falls out of the comparison. The
engine sums the lines; `summarise` then works out variances and forecasts on the summed rows with exact integer
arithmetic in Python (a forecast multiplies two sums of money, which 64-bit engine integers cannot always hold).

Forecast outturn is given two ways, as contract managers read both:
- run rate: the year to date actual times 12 over the months elapsed;
- profiled: the year to date actual times the annual plan over the year to date plan, which allows for the
  plan's seasonality (the run rate where nothing was planned to date).

SUS data lags: a month is final once its freeze date has passed; later months are provisional and flagged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis
import pyarrow as pa

from pbc.costed import all_costed_lines
from pbc.engines import read_table
from pbc.finance.variance import Position, forecasts, position, summarise, variance_percent
from pbc.provider_contracts.plan import PLAN_KEYS, ContractError, phased_plan
from pbc.warehouse import Warehouse

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

MEASURES = ("PLAN_ACTIVITY", "PLAN_PENCE", "ACTUAL_ACTIVITY", "ACTUAL_PENCE")
LEVELS = {
    "provider": ("PROCODE",),
    "commissioner": ("PROCODE", "COMMISSIONER"),
    "pod": ("PROCODE", "COMMISSIONER", "POD"),
    "specialty": PLAN_KEYS,
}


def monthly(con: BaseBackend, warehouse: Warehouse, year: str, accepted: pa.Table | None = None) -> ibis.Table:
    """Plan and actual activity and money per provider, commissioner, POD, specialty and month of the year."""
    plan = phased_plan(con, warehouse, year)
    zero = ibis.literal(0, "int64")
    planned = plan.select(
        *PLAN_KEYS,
        MONTH=plan.MONTH,
        PLAN_ACTIVITY=plan.ACTIVITY.cast("int64"),
        PLAN_PENCE=plan.PENCE.cast("int64"),
        ACTUAL_ACTIVITY=zero,
        ACTUAL_PENCE=zero,
    )
    lines = all_costed_lines(con, warehouse, accepted=accepted)
    lines = lines.filter(lines.FINANCIAL_YEAR == year).mutate(COMMISSIONER=lines.PURCODE)
    actual = lines.group_by([*PLAN_KEYS, "MONTH"]).aggregate(
        ACTUAL_ACTIVITY=lines.COUNTED.sum().cast("int64"), ACTUAL_PENCE=lines.PRICE_PENCE.sum().cast("int64")
    )
    actual = actual.mutate(PLAN_ACTIVITY=zero, PLAN_PENCE=zero)
    both = ibis.union(planned, actual.select(*planned.columns).cast(planned.schema()), distinct=False)
    return both.group_by([*PLAN_KEYS, "MONTH"]).aggregate(**{m: both[m].sum().cast("int64") for m in MEASURES})


def lead_providers(con: BaseBackend, warehouse: Warehouse, lead: str, year: str) -> list[str]:
    """The providers whose contracts `lead` leads for the year (the latest year's table at or before it)."""
    t = read_table(con, warehouse.path("reference", "lead_commissioners"), "lead_commissioners").to_pyarrow()
    years = sorted({y for y in t.column("financial_year").to_pylist() if y <= year})
    if not years:
        raise ContractError(f"no lead commissioner table for {year} or earlier is loaded")
    rows = [r for r in t.to_pylist() if r["financial_year"] == years[-1] and r["lead_commissioner_code"] == lead]
    if not rows:
        raise ContractError(f"{lead} leads no provider's contract in the {years[-1]} lead commissioner table")
    return sorted(r["provider_code"] for r in rows)


__all__ = ["LEVELS", "Position", "forecasts", "lead_providers", "monthly", "position", "summarise", "variance_percent"]
