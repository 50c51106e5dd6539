"""Plan (or budget) against actual: the month, the year to date, variances and forecast outturn, exactly.

Contract monitoring and budget monitoring read the same way: a monthly table with PLAN_ACTIVITY, PLAN_PENCE,
ACTUAL_ACTIVITY and ACTUAL_PENCE per row and MONTH is summed by the engine to the rows asked for, then variances
and forecasts are worked out on those sums in Python with exact integer arithmetic (a forecast multiplies two sums
of money, which 64-bit engine integers cannot always hold).

Forecast outturn is given three ways:
- run rate: the year to date actual times 12 over the months elapsed;
- profiled: the year to date actual times the annual plan over the year to date plan, which allows for the
  plan's seasonality (the run rate where nothing was planned to date);
- seasonal: the year to date actual times last year's whole-year actual over last year's actual to the same
  month (given when last year's actuals are; the run rate where last year had none to date).

SUS data lags: a month is final once its freeze date has passed; later months are provisional and flagged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import ibis
import pyarrow as pa

from pbc.errors import PbcError
from pbc.ingest.load import freeze_date
from pbc.phasing import financial_months, month_index
from pbc.settings import Settings

SUMMARY_COLUMNS = (
    "MONTH_PLAN_PENCE",
    "MONTH_ACTUAL_PENCE",
    "MONTH_VARIANCE_PENCE",
    "YTD_PLAN_ACTIVITY",
    "YTD_ACTUAL_ACTIVITY",
    "YTD_ACTIVITY_VARIANCE",
    "YTD_PLAN_PENCE",
    "YTD_ACTUAL_PENCE",
    "YTD_VARIANCE_PENCE",
    "YTD_VARIANCE_PERCENT",
    "ANNUAL_PLAN_ACTIVITY",
    "ANNUAL_PLAN_PENCE",
    "FORECAST_RUN_RATE_PENCE",
    "FORECAST_PROFILED_PENCE",
    "FORECAST_SEASONAL_PENCE",
    "FORECAST_VARIANCE_PENCE",
)


PREVIOUS = "PREVIOUS_ACTUAL_PENCE"  # optional: last year's actual in the same month of its year


class MonitoringError(PbcError, ValueError):
    """A month asked for is not one that can be reported."""


@dataclass(frozen=True)
class Position:
    """Where monitoring stands: the month reported, how many months of the year it covers, which are final."""

    year: str
    as_at: dt.date
    elapsed: int
    final_through: dt.date | None
    provisional: list[dt.date]


def position(
    months: Sequence[dt.date], year: str, settings: Settings, as_at: dt.date | None, today: dt.date
) -> Position:
    """The month to report (default: the latest with activity) and which months are final on `today`."""
    calendar = financial_months(year)
    if as_at is None:
        held = [m for m in months if m in calendar]
        as_at = max(held) if held else calendar[0]
    as_at = as_at.replace(day=1)
    if as_at not in calendar:
        raise MonitoringError(f"{as_at:%Y-%m} is not a month of {year}")
    elapsed = calendar.index(as_at) + 1
    final = [m for m in calendar[:elapsed] if freeze_date(f"{m:%Y-%m}", settings) <= today]
    return Position(
        year=year,
        as_at=as_at,
        elapsed=elapsed,
        final_through=final[-1] if final else None,
        provisional=[m for m in calendar[:elapsed] if m not in final],
    )


def divide_half_up(numerator: int, denominator: int) -> int:
    """Numerator / denominator rounded half away from zero, exactly."""
    sign = -1 if (numerator < 0) != (denominator < 0) else 1
    n, d = abs(numerator), abs(denominator)
    return sign * ((2 * n + d) // (2 * d))


def forecasts(ytd_actual: int, ytd_plan: int, annual_plan: int, elapsed: int) -> tuple[int, int]:
    """(run rate, profiled) forecast outturn in pence; see the module docstring."""
    run_rate = divide_half_up(ytd_actual * 12, elapsed)
    profiled = divide_half_up(ytd_actual * annual_plan, ytd_plan) if ytd_plan > 0 else run_rate
    return run_rate, profiled


def variance_percent(actual: int, plan: int) -> float | None:
    """Actual over plan as a percentage variance to one decimal place (None where nothing was planned)."""
    if plan == 0:
        return None
    return divide_half_up((actual - plan) * 1000, plan) / 10


def summarise(table: ibis.Table, by: Sequence[str], where: Position) -> pa.Table:
    """The monthly table summed by `by`: the month, the year to date, the annual plan and the forecasts.

    The seasonal forecast needs a PREVIOUS_ACTUAL_PENCE column (last year's actual in the row's month); without
    it FORECAST_SEASONAL_PENCE is empty.
    """
    month_no = month_index(table.MONTH)
    ytd = month_no <= where.elapsed
    this = month_no == where.elapsed

    def when(condition: ibis.BooleanValue, measure: str) -> ibis.IntegerValue:
        return ibis.ifelse(condition, table[measure], 0).sum().cast("int64")

    sums = table.group_by(list(by)).aggregate(
        MONTH_PLAN_PENCE=when(this, "PLAN_PENCE"),
        MONTH_ACTUAL_PENCE=when(this, "ACTUAL_PENCE"),
        YTD_PLAN_ACTIVITY=when(ytd, "PLAN_ACTIVITY"),
        YTD_ACTUAL_ACTIVITY=when(ytd, "ACTUAL_ACTIVITY"),
        YTD_PLAN_PENCE=when(ytd, "PLAN_PENCE"),
        YTD_ACTUAL_PENCE=when(ytd, "ACTUAL_PENCE"),
        ANNUAL_PLAN_ACTIVITY=table.PLAN_ACTIVITY.sum().cast("int64"),
        ANNUAL_PLAN_PENCE=table.PLAN_PENCE.sum().cast("int64"),
        **(
            {
                "PREVIOUS_YTD_PENCE": when(ytd, PREVIOUS),
                "PREVIOUS_YEAR_PENCE": table[PREVIOUS].sum().cast("int64"),
            }
            if PREVIOUS in table.columns
            else {}
        ),
    )
    rows: list[dict[str, Any]] = []
    for r in sums.order_by(list(by)).to_pyarrow().to_pylist():
        run_rate, profiled = forecasts(
            r["YTD_ACTUAL_PENCE"], r["YTD_PLAN_PENCE"], r["ANNUAL_PLAN_PENCE"], where.elapsed
        )
        seasonal = None
        if PREVIOUS in table.columns:
            previous_ytd, previous_year = r["PREVIOUS_YTD_PENCE"], r["PREVIOUS_YEAR_PENCE"]
            seasonal = run_rate
            if previous_ytd > 0:
                seasonal = divide_half_up(r["YTD_ACTUAL_PENCE"] * previous_year, previous_ytd)
        rows.append(
            {
                **{k: r[k] for k in by},
                "MONTH_PLAN_PENCE": r["MONTH_PLAN_PENCE"],
                "MONTH_ACTUAL_PENCE": r["MONTH_ACTUAL_PENCE"],
                "MONTH_VARIANCE_PENCE": r["MONTH_ACTUAL_PENCE"] - r["MONTH_PLAN_PENCE"],
                "YTD_PLAN_ACTIVITY": r["YTD_PLAN_ACTIVITY"],
                "YTD_ACTUAL_ACTIVITY": r["YTD_ACTUAL_ACTIVITY"],
                "YTD_ACTIVITY_VARIANCE": r["YTD_ACTUAL_ACTIVITY"] - r["YTD_PLAN_ACTIVITY"],
                "YTD_PLAN_PENCE": r["YTD_PLAN_PENCE"],
                "YTD_ACTUAL_PENCE": r["YTD_ACTUAL_PENCE"],
                "YTD_VARIANCE_PENCE": r["YTD_ACTUAL_PENCE"] - r["YTD_PLAN_PENCE"],
                "YTD_VARIANCE_PERCENT": variance_percent(r["YTD_ACTUAL_PENCE"], r["YTD_PLAN_PENCE"]),
                "ANNUAL_PLAN_ACTIVITY": r["ANNUAL_PLAN_ACTIVITY"],
                "ANNUAL_PLAN_PENCE": r["ANNUAL_PLAN_PENCE"],
                "FORECAST_RUN_RATE_PENCE": run_rate,
                "FORECAST_PROFILED_PENCE": profiled,
                "FORECAST_SEASONAL_PENCE": seasonal,
                "FORECAST_VARIANCE_PENCE": profiled - r["ANNUAL_PLAN_PENCE"],
            }
        )
    fields = [pa.field(k, pa.string()) for k in by] + [
        pa.field(c, pa.float64() if c == "YTD_VARIANCE_PERCENT" else pa.int64()) for c in SUMMARY_COLUMNS
    ]
    return pa.Table.from_pylist(rows, schema=pa.schema(fields))
