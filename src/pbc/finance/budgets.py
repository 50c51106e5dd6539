"""Indicative budgets: per practice and POD, from a scheme, as a versioned run that can be traced back.

The engine sums what the budget needs from the warehouse (`gather`): each practice's baseline spend, the
commissioner's baseline cost by age band and sex, the lists at the census date, disease registers for need, and
the baseline's seasonal profile. The budget is then set from those sums in exact arithmetic (`set_budgets`):

1. the pot per POD is the commissioner's baseline spend (repriced at the budget year's tariff, or uplifted);
2. the top-slice and the reserve are taken off it; the rest is shared among the practices;
3. the historic share follows each practice's own baseline spend;
4. the fair share follows its weighted population: its list by age band and sex times the commissioner's own
   baseline cost per head of each band, optionally scaled by a need index (observed over expected prevalence);
5. the budget moves the pace of change from historic towards fair share.

Every share is by largest remainder (`pbc.finance.allocation`), so practices add up to the distributed pot, and
with the top-slice and reserve to the baseline, to the penny. The budget is phased by month by the baseline's
seasonal profile per POD. Practices are those of the commissioner on the census list; their cluster is the one
they belong to on the census date.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING

import ibis
import pyarrow as pa

from pbc.costed import all_costed_lines
from pbc.engines import read_table
from pbc.errors import NotLoadedError
from pbc.finance.allocation import allocate, percent_of
from pbc.finance.scheme import FairShare, Scheme, basis_points
from pbc.indicators.populations import age_band, placed_lists, registered_lists
from pbc.ingest.reference_files import REGISTERS
from pbc.phasing import month_index
from pbc.warehouse import Warehouse

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

Band = tuple[str, str]  # (age band, sex M/F)


@dataclass
class BudgetInputs:
    """The sums a budget is set from; every figure is an integer summed by the engine."""

    census_list_date: dt.date
    historic: dict[tuple[str, str], int]  # (practice, POD) -> baseline pence
    pot: dict[str, int]  # POD -> the commissioner's baseline pence (all its practices, on the list or not)
    cost_by_band: dict[tuple[str, str, str], int]  # (POD, age band, sex) -> baseline pence
    lists: dict[tuple[str, str, str], int]  # (practice, age band, sex) -> patients at the census
    localities: dict[str, str | None]  # practice -> its cluster on the census date
    profile: dict[tuple[str, int], int]  # (POD, month index) -> baseline activity
    observed: dict[str, int] = field(default_factory=dict)  # practice -> patients on the need registers
    observed_by_band: dict[Band, int] = field(default_factory=dict)  # (age band, sex) -> on the registers


@dataclass
class Budget:
    """A budget run's results: per practice and POD, held centrally per POD, and phased by month."""

    practices: pa.Table
    central: pa.Table
    phased: pa.Table


def _latest_on_or_before(dates: list[dt.date], day: dt.date, what: str) -> dt.date:
    chosen = [d for d in dates if d <= day]
    if not chosen:
        raise NotLoadedError(f"no {what} dated on or before {day} is in the warehouse: ingest one first")
    return max(chosen)


def _sex(code: ibis.StringValue) -> ibis.StringValue:
    """Activity's sex code (1 male, 2 female) as the list file writes it (M, F); null when not known."""
    return ibis.cases((code == "1", "M"), (code == "2", "F"), else_=ibis.null("string"))


def census_date(scheme: Scheme) -> dt.date:
    """The day the practices and their lists are taken on: the fair-share census, else the budget year's start."""
    if scheme.fair_share is not None:
        return scheme.fair_share.census_date
    return dt.date(int(scheme.budget_year[:4]), 4, 1)


def gather(con: BaseBackend, warehouse: Warehouse, scheme: Scheme, accepted: pa.Table | None = None) -> BudgetInputs:
    """Sum, in the engine, everything the scheme's budget is set from (see the module docstring)."""
    lists_all = registered_lists(con, warehouse)
    dates = lists_all.select("extract_date").distinct().to_pyarrow().column("extract_date").to_pylist()
    census = _latest_on_or_before(dates, census_date(scheme), "registered list")
    lists = placed_lists(con, warehouse, (census,))
    lists = lists.filter(lists.COMMISSIONER == scheme.commissioner).to_pyarrow().to_pylist()
    if not lists:
        raise NotLoadedError(f"no practice of {scheme.commissioner} is on the registered list of {census}")
    h = scheme.historic
    reprice = h.method == "reprice"
    lines = all_costed_lines(con, warehouse, at_year=scheme.budget_year if reprice else None, accepted=accepted)
    lines = lines.filter(
        (lines.MONTH >= h.baseline_from.replace(day=1))
        & (lines.MONTH <= h.baseline_to)
        & (lines.COMMISSIONER == scheme.commissioner)
        & lines.POD.isin(scheme.pods)
    )
    # One pass over the baseline at the finest grain needed; the three sums are taken from it here, so neither
    # engine costs and attributes the lines more than once.
    banded = lines.mutate(AGE_BAND=age_band(lines.AGE), SEX_MF=_sex(lines.SEX), M=month_index(lines.MONTH))
    grain = banded.group_by(["PRACTICE", "POD", "AGE_BAND", "SEX_MF", "M"]).aggregate(
        PENCE=banded.PRICE_PENCE.sum().cast("int64"), N=banded.COUNTED.sum().cast("int64")
    )
    historic: dict[tuple[str, str], int] = defaultdict(int)
    cost_by_band: dict[tuple[str, str, str], int] = defaultdict(int)
    profile: dict[tuple[str, int], int] = defaultdict(int)
    for r in grain.to_pyarrow().to_pylist():
        historic[(r["PRACTICE"], r["POD"])] += r["PENCE"]
        profile[(r["POD"], r["M"])] += r["N"]
        if r["AGE_BAND"] is not None and r["SEX_MF"] is not None:
            cost_by_band[(r["POD"], r["AGE_BAND"], r["SEX_MF"])] += r["PENCE"]
    if not reprice:
        uplift = basis_points(h.uplift_percent)
        historic = {k: percent_of(v, 10000 + uplift) for k, v in historic.items()}
    pot: dict[str, int] = defaultdict(int)
    for (_, pod), pence in historic.items():
        pot[pod] += pence
    inputs = BudgetInputs(
        census_list_date=census,
        historic={k: v for k, v in historic.items() if k[0] is not None},
        pot={pod: pot.get(pod, 0) for pod in scheme.pods},
        cost_by_band=dict(cost_by_band),
        lists={(r["practice_code"], r["age_band"], r["sex"]): r["patients"] for r in lists},
        localities={r["practice_code"]: r["LOCALITY"] for r in lists},
        profile=dict(profile),
    )
    if scheme.fair_share is not None and scheme.fair_share.need is not None:
        _gather_need(con, warehouse, scheme.fair_share, inputs)
    return inputs


def _gather_need(con: BaseBackend, warehouse: Warehouse, fair_share: FairShare, inputs: BudgetInputs) -> None:
    """Patients on the need registers per practice and per age band and sex, at the census."""
    conditions = fair_share.need.conditions if fair_share.need is not None else []
    if not warehouse.has(REGISTERS):
        raise NotLoadedError("the scheme adjusts for need but no disease registers are loaded: ingest them first")
    registers = read_table(con, warehouse.path(REGISTERS, "register_counts"), "register_counts")
    dates = registers.select("extract_date").distinct().to_pyarrow().column("extract_date").to_pylist()
    day = _latest_on_or_before(dates, fair_share.census_date, "disease register")
    wanted = registers.filter(
        (registers.extract_date == day)
        & registers.condition.isin(conditions)
        & registers.practice_code.isin(sorted(inputs.localities))
    )
    rows = wanted.to_pyarrow().to_pylist()
    found = {r["condition"] for r in rows}
    missing = sorted(set(conditions) - found)
    if missing:
        raise NotLoadedError(f"the {day} disease registers hold no {', '.join(missing)} for these practices")
    for r in rows:
        sex = {"MALE": "M", "FEMALE": "F"}.get(r["sex"], r["sex"])
        inputs.observed[r["practice_code"]] = inputs.observed.get(r["practice_code"], 0) + r["register"]
        band = (r["age_band"], sex)
        inputs.observed_by_band[band] = inputs.observed_by_band.get(band, 0) + r["register"]


def need_index(inputs: BudgetInputs) -> dict[str, Fraction]:
    """Each practice's registers over those expected at the commissioner's age/sex prevalence (1 when none)."""
    patients: dict[Band, int] = defaultdict(int)
    for (_, band, sex), n in inputs.lists.items():
        patients[(band, sex)] += n
    expected: dict[str, Fraction] = defaultdict(Fraction)
    for (practice, band, sex), n in inputs.lists.items():
        if patients[(band, sex)]:
            expected[practice] += Fraction(n * inputs.observed_by_band.get((band, sex), 0), patients[(band, sex)])
    return {
        p: (Fraction(inputs.observed.get(p, 0)) / expected[p] if expected[p] else Fraction(1))
        for p in inputs.localities
    }


def weighted_populations(inputs: BudgetInputs, pods: list[str]) -> dict[tuple[str, str], Fraction]:
    """(practice, POD) -> list times the commissioner's baseline cost per head of each age band and sex (pence)."""
    patients: dict[Band, int] = defaultdict(int)
    for (_, band, sex), n in inputs.lists.items():
        patients[(band, sex)] += n
    weighted: dict[tuple[str, str], Fraction] = {(p, pod): Fraction(0) for p in inputs.localities for pod in pods}
    for (practice, band, sex), n in inputs.lists.items():
        if not patients[(band, sex)]:
            continue
        for pod in pods:
            cost = inputs.cost_by_band.get((pod, band, sex), 0)
            weighted[(practice, pod)] += Fraction(n * cost, patients[(band, sex)])
    return weighted


def set_budgets(inputs: BudgetInputs, scheme: Scheme) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """Practice budgets and central amounts per POD, in exact arithmetic (see the module docstring)."""
    practices = sorted(inputs.localities)
    list_size = defaultdict(int)
    for (practice, _, _), n in inputs.lists.items():
        list_size[practice] += n
    weighted = weighted_populations(inputs, scheme.pods) if scheme.fair_share is not None else {}
    need = need_index(inputs) if scheme.fair_share is not None and scheme.fair_share.need is not None else {}
    need_weight = Fraction(basis_points(scheme.fair_share.need.weight_percent), 10000) if need else Fraction(0)
    pace = scheme.pace_bp
    rows: list[dict[str, object]] = []
    central: list[dict[str, object]] = []
    for pod in scheme.pods:
        pot = inputs.pot.get(pod, 0)
        top_slice = percent_of(pot, basis_points(scheme.top_slice_percent))
        reserve = percent_of(pot, basis_points(scheme.reserve_percent))
        shared = pot - top_slice - reserve
        historic = {p: inputs.historic.get((p, pod), 0) for p in practices}
        historic_share = allocate(shared, {p: max(historic[p], 0) for p in practices})
        fair = None
        if scheme.fair_share is not None:
            adjusted = {p: weighted[(p, pod)] * (1 + need_weight * (need.get(p, 1) - 1)) for p in practices}
            fair = allocate(shared, adjusted if any(adjusted.values()) else {p: list_size[p] for p in practices})
            budget = allocate(shared, {p: historic_share[p] * (10000 - pace) + fair[p] * pace for p in practices})
        else:
            budget = historic_share
        central.append(
            {
                "POD": pod,
                "BASELINE_PENCE": pot,
                "TOP_SLICE_PENCE": top_slice,
                "RESERVE_PENCE": reserve,
                "SHARED_PENCE": shared,
                "ON_LIST_BASELINE_PENCE": sum(historic.values()),
            }
        )
        for p in practices:
            rows.append(
                {
                    "PRACTICE": p,
                    "LOCALITY": inputs.localities[p],
                    "POD": pod,
                    "LIST_SIZE": list_size[p],
                    "BASELINE_PENCE": historic[p],
                    "HISTORIC_SHARE_PENCE": historic_share[p],
                    "WEIGHTED_POPULATION_PENCE": None if fair is None else round(float(weighted[(p, pod)]), 2),
                    "NEED_INDEX": float(need[p]) if need else None,
                    "FAIR_SHARE_PENCE": None if fair is None else fair[p],
                    "BUDGET_PENCE": budget[p],
                }
            )
    return rows, central


PRACTICE_SCHEMA = pa.schema(
    [
        ("PRACTICE", pa.string()),
        ("LOCALITY", pa.string()),
        ("POD", pa.string()),
        ("LIST_SIZE", pa.int64()),
        ("BASELINE_PENCE", pa.int64()),
        ("HISTORIC_SHARE_PENCE", pa.int64()),
        ("WEIGHTED_POPULATION_PENCE", pa.float64()),
        ("NEED_INDEX", pa.float64()),
        ("FAIR_SHARE_PENCE", pa.int64()),
        ("BUDGET_PENCE", pa.int64()),
    ]
)


def phase_budgets(con: BaseBackend, practices: pa.Table, inputs: BudgetInputs, year: str) -> pa.Table:
    """Each practice and POD's budget by month, by the baseline's seasonal profile of the POD, to the penny."""
    from pbc.phasing import month_start, phase

    annual = ibis.memtable(practices.select(["PRACTICE", "LOCALITY", "POD", "BUDGET_PENCE"]).to_pandas())
    profile = ibis.memtable(
        {
            "POD": [pod for pod, _ in inputs.profile],
            "MONTH_INDEX": [m for _, m in inputs.profile],
            "WEIGHT": list(inputs.profile.values()),
        },
        schema={"POD": "string", "MONTH_INDEX": "int64", "WEIGHT": "int64"},
    )
    phased = con.to_pyarrow(phase(annual, ["PRACTICE", "POD"], ["BUDGET_PENCE"], profile, ["POD"]))
    months = [month_start(year, i) for i in phased.column("MONTH_INDEX").to_pylist()]
    return phased.append_column("MONTH", pa.array(months, pa.date32())).sort_by(
        [("PRACTICE", "ascending"), ("POD", "ascending"), ("MONTH_INDEX", "ascending")]
    )


def make_budget(
    con: BaseBackend, warehouse: Warehouse, scheme: Scheme, accepted: pa.Table | None = None
) -> tuple[Budget, BudgetInputs]:
    """Gather, set and phase a scheme's budget (not stored: see `pbc.finance.runs`)."""
    inputs = gather(con, warehouse, scheme, accepted)
    rows, central = set_budgets(inputs, scheme)
    practices = pa.Table.from_pylist(rows, schema=PRACTICE_SCHEMA)
    return Budget(
        practices, pa.Table.from_pylist(central), phase_budgets(con, practices, inputs, scheme.budget_year)
    ), inputs
