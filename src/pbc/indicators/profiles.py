"""Profiles of a cluster or practice: who is on its list, what it has recorded, and what hospital care it used.

A cluster board starts its business plan from three pictures (DOMAIN.md section 8):

- the population pyramid: patients by five-year band and sex from the year's last registered list, each band as
  a percentage of the unit's list beside the commissioner's, so an older or younger list shows at a glance;
- disease prevalence: each register's count against the list (recorded prevalence, with Wilson intervals) and
  against the count expected at the commissioner's own prevalence for each band and sex (the
  `disease_prevalence` indicator), so a gap can be read as a sicker list or as cases still to find;
- historic activity and cost: outpatient, inpatient and A&E activity and its cost at PbR prices
  (`pbc.costed`) for every financial year up to the chosen one, per 1,000 patients, beside the commissioner.

With a disclosure rule every count is protected and each percentage or rate recomputed from protected counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ibis
import pandas as pd
import pyarrow as pa

from pbc.activity import loaded
from pbc.calendar import financial_year_bounds, parse_financial_year
from pbc.costed import all_costed_lines, cost_summary
from pbc.errors import NotLoadedError, PbcError
from pbc.indicators.benchmark import check_year, unit_names
from pbc.indicators.compute import compute
from pbc.indicators.definitions import codelists_for, load_definitions
from pbc.indicators.disclosure import DisclosureRule
from pbc.indicators.measures import gather
from pbc.indicators.methods import wilson_ci
from pbc.indicators.populations import ListDates, list_dates, population
from pbc.reference.list_sizes import AGE_BANDS
from pbc.reference.load import REFERENCE
from pbc.tariff.model import has_tariff
from pbc.tariff.pricing import DATASETS
from pbc.warehouse import Warehouse

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

PREVALENCE = "disease_prevalence"
KINDS = {"practice": "practice", "locality": "cluster"}
UNIT_COLUMN = {"practice": "PRACTICE", "cluster": "LOCALITY"}
POD_ORDER = ("OP_FIRST", "OP_FU", "APC_EL", "APC_NE", "AE")


@dataclass(frozen=True)
class Profile:
    """A unit's profile for a year: three tables and the notes that go with them."""

    code: str
    name: str | None
    level: str
    commissioner: str
    year: str
    pyramid: pa.Table
    prevalence: pa.Table
    activity: pa.Table
    notes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """The profile as plain data for JSON."""
        return {
            "code": self.code,
            "name": self.name,
            "level": self.level,
            "commissioner": self.commissioner,
            "year": self.year,
            "pyramid": self.pyramid.to_pylist(),
            "prevalence": self.prevalence.to_pylist(),
            "activity": self.activity.to_pylist(),
            "notes": list(self.notes),
        }


def _protect(rule: DisclosureRule | None, count: float | None) -> float | None:
    if count is None or rule is None:
        return count
    protected = rule.protect(count)
    return None if protected is None else float(protected)


def _share(part: float | None, whole: float | None, scale: float = 100.0) -> float | None:
    return None if part is None or not whole else part / whole * scale


def level_of(warehouse: Warehouse, code: str) -> str:
    """Whether a code is a practice or a cluster (locality); anything else is an error that says so."""
    organisations = warehouse.read(REFERENCE, "organisations").to_pandas()
    kinds = set(organisations.loc[organisations["code"] == code, "kind"])
    for kind, level in KINDS.items():
        if kind in kinds:
            return level
    raise PbcError(f"{code!r} is not a practice or cluster code pbc knows: `pbc orgs --commissioner CODE` lists them")


def pyramid(
    con: BaseBackend,
    warehouse: Warehouse,
    code: str,
    level: str,
    commissioner: str,
    dates: ListDates,
    rule: DisclosureRule | None,
) -> pa.Table:
    """Patients by band and sex on the year's last list, as counts and as percentages of the unit's list."""
    table, _ = population(con, warehouse, commissioner, dates, "year_end")
    people = table.to_pyarrow().to_pandas()
    mine = people[people[UNIT_COLUMN[level]] == code]

    def counts(frame: pd.DataFrame) -> dict[tuple[str, str], float | None]:
        summed = frame.groupby(["AGE_BAND", "SEX"])["N"].sum()
        return {(b, s): _protect(rule, float(summed.get((b, s), 0))) for b in AGE_BANDS for s in ("M", "F")}

    unit, whole = counts(mine), counts(people)
    unit_total = sum(v for v in unit.values() if v)
    whole_total = sum(v for v in whole.values() if v)
    rows = [
        {
            "AGE_BAND": band,
            "MALE": unit[(band, "M")],
            "FEMALE": unit[(band, "F")],
            "MALE_PERCENT": _share(unit[(band, "M")], unit_total),
            "FEMALE_PERCENT": _share(unit[(band, "F")], unit_total),
            "COMMISSIONER_MALE_PERCENT": _share(whole[(band, "M")], whole_total),
            "COMMISSIONER_FEMALE_PERCENT": _share(whole[(band, "F")], whole_total),
        }
        for band in AGE_BANDS
    ]
    schema = pa.schema([("AGE_BAND", pa.string())] + [(k, pa.float64()) for k in list(rows[0])[1:]])
    return pa.Table.from_pylist(rows, schema=schema)


PREVALENCE_SCHEMA = pa.schema(
    [
        ("CONDITION", pa.string()),
        ("REGISTER", pa.int64()),
        ("LIST_SIZE", pa.float64()),
        ("PREVALENCE", pa.float64()),
        ("LOWER_95", pa.float64()),
        ("UPPER_95", pa.float64()),
        ("EXPECTED", pa.float64()),
        ("EXPECTED_PREVALENCE", pa.float64()),
        ("COMMISSIONER_PREVALENCE", pa.float64()),
        ("RATIO", pa.float64()),
        ("RATIO_LOWER_95", pa.float64()),
        ("RATIO_UPPER_95", pa.float64()),
        ("SIGNIFICANCE", pa.string()),
        ("SUPPRESSED", pa.bool_()),
    ]
)


def prevalence(
    con: BaseBackend,
    warehouse: Warehouse,
    code: str,
    level: str,
    commissioner: str,
    dates: ListDates,
    rule: DisclosureRule | None,
    definitions: Path | None = None,
) -> pa.Table:
    """Each register's recorded prevalence (percent of the list) and its ratio to the expected count."""
    definition = load_definitions(definitions).get(PREVALENCE)
    if definition is None:
        raise PbcError(f"the {PREVALENCE} indicator definition is missing: profiles need it")
    [counts] = gather(con, warehouse, [definition], dates.year, commissioner, dates, codelists_for(definitions))
    table = compute(counts, level, rule=rule).table.to_pylist()
    totals = {r["BREAKDOWN"]: r for r in table if r["LEVEL"] == "commissioner"}
    rows = []
    for r in (r for r in table if r["UNIT"] == code and r["LEVEL"] == level):
        observed, people = r["NUMERATOR"], r["DENOMINATOR"]
        crude = wilson_ci(observed, people) if observed is not None and people else None
        total = totals[r["BREAKDOWN"]]
        rows.append(
            {
                "CONDITION": r["BREAKDOWN"],
                "REGISTER": observed,
                "LIST_SIZE": people,
                "PREVALENCE": None if crude is None else crude.value * 100,
                "LOWER_95": None if crude is None else crude.lower * 100,
                "UPPER_95": None if crude is None else crude.upper * 100,
                "EXPECTED": r["EXPECTED"],
                "EXPECTED_PREVALENCE": _share(r["EXPECTED"], people) if not r["SUPPRESSED"] else None,
                "COMMISSIONER_PREVALENCE": _share(total["NUMERATOR"], total["DENOMINATOR"]),
                "RATIO": r["VALUE"],
                "RATIO_LOWER_95": r["LOWER_95"],
                "RATIO_UPPER_95": r["UPPER_95"],
                "SIGNIFICANCE": r["SIGNIFICANCE"],
                "SUPPRESSED": r["SUPPRESSED"],
            }
        )
    return pa.Table.from_pylist(rows, schema=PREVALENCE_SCHEMA)


ACTIVITY_SCHEMA = pa.schema(
    [
        ("FINANCIAL_YEAR", pa.string()),
        ("POD", pa.string()),
        ("ACTIVITY", pa.float64()),
        ("COST_PENCE", pa.int64()),
        ("UNPRICED", pa.int64()),
        ("POPULATION", pa.float64()),
        ("ACTIVITY_PER_1000", pa.float64()),
        ("COST_PER_HEAD_PENCE", pa.float64()),
        ("COMMISSIONER_ACTIVITY_PER_1000", pa.float64()),
        ("COMMISSIONER_COST_PER_HEAD_PENCE", pa.float64()),
    ]
)


def _populations(
    con: BaseBackend, warehouse: Warehouse, code: str, level: str, commissioner: str, years: list[str]
) -> dict[str, tuple[float | None, float | None]]:
    """The mean list of the unit and of the commissioner in each year that has lists (None where none is held)."""
    found: dict[str, tuple[float | None, float | None]] = {}
    for year in years:
        try:
            dates = list_dates(con, warehouse, year)
        except NotLoadedError:
            found[year] = (None, None)
            continue
        table, summed = population(con, warehouse, commissioner, dates, "year_average")
        people = table.to_pyarrow().to_pandas()
        mine = people.loc[people[UNIT_COLUMN[level]] == code, "N"].sum() / summed
        found[year] = (float(mine), float(people["N"].sum() / summed))
    return found


def activity_history(
    con: BaseBackend,
    warehouse: Warehouse,
    code: str,
    level: str,
    commissioner: str,
    year: str,
    rule: DisclosureRule | None,
) -> pa.Table:
    """Activity and cost by financial year and POD up to the chosen year, per 1,000 patients and per head."""
    lines = all_costed_lines(con, warehouse)
    _, end = financial_year_bounds(year)
    lines = lines.filter((lines.COMMISSIONER == commissioner) & (lines.MONTH <= ibis.literal(end)))
    by = ["FINANCIAL_YEAR", "POD"]
    unit = cost_summary(lines.filter(lines[UNIT_COLUMN[level]] == code), by).to_pyarrow().to_pylist()
    whole = {(r["FINANCIAL_YEAR"], r["POD"]): r for r in cost_summary(lines, by).to_pyarrow().to_pylist()}
    years = sorted({r["FINANCIAL_YEAR"] for r in unit}, key=parse_financial_year)
    people = _populations(con, warehouse, code, level, commissioner, years)
    rows = []
    for r in sorted(unit, key=lambda r: (parse_financial_year(r["FINANCIAL_YEAR"]), _pod_rank(r["POD"]))):
        mine, everyone = people[r["FINANCIAL_YEAR"]]
        activity, pop = _protect(rule, r["ACTIVITY"]), _protect(rule, mine)
        total = whole[(r["FINANCIAL_YEAR"], r["POD"])]
        all_activity, all_pop = _protect(rule, total["ACTIVITY"]), _protect(rule, everyone)
        cost = r["PENCE"] if activity is not None else None
        rows.append(
            {
                "FINANCIAL_YEAR": r["FINANCIAL_YEAR"],
                "POD": r["POD"],
                "ACTIVITY": activity,
                "COST_PENCE": cost,
                "UNPRICED": r["UNPRICED"] if rule is None else None,
                "POPULATION": pop,
                "ACTIVITY_PER_1000": _share(activity, pop, 1000),
                "COST_PER_HEAD_PENCE": _share(cost, pop, 1),
                "COMMISSIONER_ACTIVITY_PER_1000": _share(all_activity, all_pop, 1000),
                "COMMISSIONER_COST_PER_HEAD_PENCE": _share(total["PENCE"], all_pop, 1),
            }
        )
    return pa.Table.from_pylist(rows, schema=ACTIVITY_SCHEMA)


def _pod_rank(pod: str) -> int:
    return POD_ORDER.index(pod) if pod in POD_ORDER else len(POD_ORDER)


def profile(
    con: BaseBackend,
    warehouse: Warehouse,
    code: str,
    year: str,
    *,
    rule: DisclosureRule | None = None,
    definitions: Path | None = None,
) -> Profile:
    """A practice's or cluster's profile for a financial year; a part whose data is not loaded is left empty."""
    year = check_year(year)
    level = level_of(warehouse, code)
    dates = list_dates(con, warehouse, year)
    commissioner = dates.commissioner_of(code)
    if commissioner is None:
        raise PbcError(f"no registered list of {code} is held for {year}: a profile needs the year's list sizes")
    notes: list[str] = []
    try:
        prevalence_table = prevalence(con, warehouse, code, level, commissioner, dates, rule, definitions)
    except NotLoadedError as error:
        notes.append(f"no disease prevalence: {error}")
        prevalence_table = PREVALENCE_SCHEMA.empty_table()
    if not has_tariff(warehouse) or not any(loaded(warehouse, d) for d in DATASETS):
        notes.append("no activity history: it needs the tariff and the APC, OP or A&E activity ingested")
        activity_table = ACTIVITY_SCHEMA.empty_table()
    else:
        activity_table = activity_history(con, warehouse, code, level, commissioner, year, rule)
    if rule is not None:
        notes.append(rule.describe())
    return Profile(
        code,
        unit_names(warehouse).get(code),
        level,
        commissioner,
        year,
        pyramid(con, warehouse, code, level, commissioner, dates, rule),
        prevalence_table,
        activity_table,
        tuple(notes),
    )
