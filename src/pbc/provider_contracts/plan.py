"""Contract plans: each provider's activity and money for the year, per commissioner, POD and specialty, by month.

A plan comes either from the agreed contract schedule (`read_plan_file`: a CSV with one row per provider,
commissioner, POD and specialty) or is drafted from a baseline year (`plan_from_baseline`): the baseline's costed
activity, repriced at the plan year's tariff and grown by a percentage per POD, which is how commissioners draft
the activity schedules they then negotiate. Either way the annual figures are phased by month by the baseline's
seasonal profile (the share of each provider and POD's baseline activity in each month; flat where there is no
baseline) and stored in the warehouse's `contracts` namespace, replacing any plan held for the same year.

The commissioner of a contract line is the one the provider bills (PURCODE), not the practice's commissioner:
a contract is monitored on what the provider charges each commissioner.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import ibis
import pyarrow as pa

from pbc.calendar import parse_financial_year
from pbc.costed import all_costed_lines
from pbc.engines import read_table
from pbc.errors import InputError, PbcError
from pbc.phasing import month_start, phase, seasonal_profile
from pbc.reference.records import Column, read_csv
from pbc.warehouse import Source, Warehouse

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

CONTRACTS = "contracts"
PODS = ("APC_EL", "APC_NE", "OP_FIRST", "OP_FU", "AE")
PLAN_KEYS = ("PROCODE", "COMMISSIONER", "POD", "SPECIALTY")
PROFILE_KEYS = ("PROCODE", "POD")
PLAN_FILE: tuple[Column, ...] = (
    Column("PROCODE", "Provider code", required=True, pattern=r"[A-Z0-9]{3,5}", describe="provider code"),
    Column("COMMISSIONER", "Commissioner code", required=True, pattern=r"[A-Z0-9]{3,5}", describe="commissioner code"),
    Column("POD", "POD", required=True, choices=frozenset(PODS)),
    Column("SPECIALTY", "Specialty", required=True, pattern=r"[0-9]{3}", describe="treatment function code"),
    Column("ACTIVITY", "Activity", kind="int", required=True, minimum=0),
    Column("PENCE", "Value (£)", kind="money", required=True),
)
_GROWTH = re.compile(r"^(-?\d{1,3})(?:\.(\d{1,2}))?%?$")


class ContractError(PbcError, ValueError):
    """A plan cannot be made or read as asked."""


@dataclass(frozen=True)
class Growth:
    """Growth on the baseline, in hundredths of a percent (basis points), overall and per POD."""

    default_bp: int = 0
    by_pod_bp: Mapping[str, int] | None = None

    @staticmethod
    def parse(text: str) -> int:
        """'3', '3.5%' or '-1.25' as basis points (350 for 3.5%), exactly."""
        match = _GROWTH.match(text.strip())
        if not match:
            raise ContractError(f"growth {text!r} is not a percentage with at most two decimals, like 3.5")
        whole, part = match[1], (match[2] or "").ljust(2, "0")
        size = abs(int(whole)) * 100 + int(part)
        return -size if whole.startswith("-") else size

    def of(self, pod: str) -> int:
        """The growth for a POD in basis points."""
        return (self.by_pod_bp or {}).get(pod, self.default_bp)


def grown(value: ibis.IntegerValue, bp: ibis.IntegerValue) -> ibis.IntegerValue:
    """A non-negative integer grown by `bp` basis points, rounded half up, exactly (integer arithmetic)."""
    scaled = value * (10000 + bp) + 5000
    return ((scaled - scaled % 10000) // 10000).cast("int64")


def baseline_lines(
    con: BaseBackend, warehouse: Warehouse, baseline_year: str, at_year: str, accepted: pa.Table | None
) -> ibis.Table:
    """The baseline year's costed lines, repriced at `at_year`'s tariff, with accepted challenges left out."""
    parse_financial_year(baseline_year)
    lines = all_costed_lines(con, warehouse, at_year=at_year, accepted=accepted)
    return lines.filter(lines.FINANCIAL_YEAR == baseline_year)


def plan_from_baseline(
    con: BaseBackend,
    warehouse: Warehouse,
    year: str,
    baseline_year: str,
    growth: Growth,
    accepted: pa.Table | None = None,
) -> pa.Table:
    """The annual plan drafted from a baseline year: its activity and repriced money, grown per POD."""
    lines = baseline_lines(con, warehouse, baseline_year, year, accepted)
    lines = lines.mutate(COMMISSIONER=lines.PURCODE)
    annual = lines.group_by(list(PLAN_KEYS)).aggregate(
        ACTIVITY=lines.COUNTED.sum().cast("int64"), PENCE=lines.PRICE_PENCE.sum().cast("int64")
    )
    pods = sorted(set(PODS) | set((growth.by_pod_bp or {}).keys()))
    bp = ibis.cases(*[(annual.POD == p, growth.of(p)) for p in pods], else_=growth.default_bp)
    annual = annual.mutate(ACTIVITY=grown(annual.ACTIVITY, bp), PENCE=grown(annual.PENCE, bp))
    table = con.to_pyarrow(annual.order_by(list(PLAN_KEYS)))
    if table.num_rows == 0:
        raise ContractError(f"no costed activity in the baseline year {baseline_year}: nothing to plan from")
    return table


def read_plan_file(path: Path) -> pa.Table:
    """An agreed plan from a CSV file (one row per provider, commissioner, POD and specialty); checked row by row."""
    parsed = read_csv(path, PLAN_FILE, header=True, unique=PLAN_KEYS)
    if not len(parsed):
        raise InputError.one(path.name, None, None, "holds no plan rows")
    return parsed.to_arrow().select([*PLAN_KEYS, "ACTIVITY", "PENCE"])


def phase_plan(
    con: BaseBackend,
    warehouse: Warehouse,
    year: str,
    annual: pa.Table,
    baseline_year: str | None,
    accepted: pa.Table | None = None,
) -> pa.Table:
    """The annual plan as twelve monthly rows each, phased by the baseline's seasonal profile (flat without one)."""
    profile = None
    if baseline_year is not None:
        lines = baseline_lines(con, warehouse, baseline_year, year, accepted)
        profile = seasonal_profile(lines, PROFILE_KEYS, lines.COUNTED)
    phased = phase(ibis.memtable(annual), PLAN_KEYS, ["ACTIVITY", "PENCE"], profile, PROFILE_KEYS)
    table = con.to_pyarrow(phased.order_by([*PLAN_KEYS, "MONTH_INDEX"]))
    months = [month_start(year, i) for i in table.column("MONTH_INDEX").to_pylist()]
    return table.append_column("MONTH", pa.array(months, pa.date32()))


def store_plan(
    warehouse: Warehouse,
    year: str,
    annual: pa.Table,
    phased: pa.Table,
    source: Source,
    details: Mapping[str, object],
) -> None:
    """Keep the year's plan and its phasing together, replacing any plan held for the year."""
    label = pa.array([year] * annual.num_rows, pa.string())
    annual = annual.append_column("FINANCIAL_YEAR", label)
    phased = phased.append_column("FINANCIAL_YEAR", pa.array([year] * phased.num_rows, pa.string()))
    warehouse.replace_rows_of(
        {"plans": annual, "phased_plans": phased},
        CONTRACTS,
        "FINANCIAL_YEAR",
        source,
        {**details, "financial_year": year, "made_at": dt.datetime.now(dt.UTC).isoformat()},
    )


def keep_drafted_plan(
    con: BaseBackend,
    warehouse: Warehouse,
    year: str,
    baseline_year: str,
    growth: Growth,
    accepted: pa.Table | None = None,
) -> tuple[pa.Table, dict[str, object]]:
    """Draft the year's plan from a baseline year, phase it by the baseline's season and keep it.

    Returns the annual plan and the record of how it was made (kept in the `contracts` manifest too).
    """
    annual = plan_from_baseline(con, warehouse, year, baseline_year, growth, accepted)
    details: dict[str, object] = {
        "method": "drafted from baseline",
        "baseline": baseline_year,
        "growth_bp": growth.default_bp,
        "pod_growth_bp": dict(growth.by_pod_bp or {}),
    }
    phased = phase_plan(con, warehouse, year, annual, baseline_year, accepted)
    store_plan(warehouse, year, annual, phased, Source(path=f"baseline {baseline_year}", sha256="", bytes=0), details)
    return annual, details


def has_plan(warehouse: Warehouse, year: str) -> bool:
    """Whether a plan for the year is held."""
    if not warehouse.has(CONTRACTS):
        return False
    years = warehouse.read(CONTRACTS, "plans").column("FINANCIAL_YEAR").to_pylist()
    return year in years


def phased_plan(con: BaseBackend, warehouse: Warehouse, year: str) -> ibis.Table:
    """The stored monthly plan of a year."""
    if not has_plan(warehouse, year):
        raise ContractError(f"no contract plan for {year} is held: make one with `pbc contract plan`")
    t = read_table(con, warehouse.path(CONTRACTS, "phased_plans"), "phased_plans")
    return t.filter(t.FINANCIAL_YEAR == year)
