"""The tariff held in the warehouse, read for an engine, with each year's rules checked before any line is priced.

`pbc ingest` stores the tariff files of every financial year in the warehouse namespace `tariff`, one Parquet table
per kind (`apc`, `op`, `ae`, `mff`, `local_prices`, `rules`), each row carrying its `financial_year`. The rules
that change between years (whether the short-stay emergency adjustment is on, its day and age limits, the elective
price basis, which A&E departments are minor and what they are paid) are data in the `rules` table, never
constants here. A rule pbc cannot apply (missing, or a value it does not know) fails loudly on load, naming the
year and the rule, because guessing would misprice every line of that year.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import ibis
import pyarrow as pa
import pyarrow.compute as pc

from pbc.engines import read_table
from pbc.errors import NotLoadedError, PbcError
from pbc.ingest.reference_files import TARIFF
from pbc.warehouse import Warehouse

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

TABLES = ("apc", "op", "ae", "mff", "local_prices", "rules")
RULES = (
    "short_stay_emergency",
    "short_stay_max_days",
    "short_stay_min_age",
    "elective_price_basis",
    "ae_minor_department_types",
    "ae_minor_price",
)
ELECTIVE_PRICE_BASES = ("combined",)  # HRG v3.5: one price for day case and ordinary elective
AE_MINOR_PRICES = ("lowest",)
_DEPARTMENT_TYPE = re.compile(r"^[0-9]{2}$")
NO_TARIFF = "no tariff is in the warehouse: run pbc ingest on the tariff files first (the tariff/YYYY_YY folders)"


class TariffError(PbcError, ValueError):
    """A tariff year whose rules pbc cannot apply; a ValueError for callers, a plain message on the command line."""


@dataclass(frozen=True)
class YearRules:
    """The rules of one financial year's tariff, parsed and checked."""

    financial_year: str
    short_stay_emergency: bool
    short_stay_max_days: int
    short_stay_min_age: int
    elective_price_basis: str
    ae_minor_department_types: tuple[str, ...]
    ae_minor_price: str


def _whole(year: str, rule: str, value: str) -> int:
    if not re.fullmatch(r"[0-9]{1,4}", value):
        raise TariffError(f"the {year} tariff rule {rule} must be a whole number of 0 or more, not {value!r}")
    return int(value)


def parse_rules(year: str, values: dict[str, str]) -> YearRules:
    """Check and parse one year's rules (rule name -> text value as in rules.csv)."""
    missing = [rule for rule in RULES if rule not in values]
    if missing:
        raise TariffError(f"the {year} tariff lacks the rule(s) {', '.join(missing)}: add them to its rules.csv")
    value = {rule: values[rule].strip() for rule in RULES}
    sse = value["short_stay_emergency"].lower()
    if sse not in ("yes", "no"):
        raise TariffError(f"the {year} tariff rule short_stay_emergency must be yes or no, not {sse!r}")
    if value["elective_price_basis"] not in ELECTIVE_PRICE_BASES:
        raise TariffError(
            f"the {year} tariff rule elective_price_basis is {value['elective_price_basis']!r}: pbc prices only "
            f"the {', '.join(ELECTIVE_PRICE_BASES)} basis of the HRG v3.5 years"
        )
    if value["ae_minor_price"] not in AE_MINOR_PRICES:
        raise TariffError(
            f"the {year} tariff rule ae_minor_price is {value['ae_minor_price']!r}: pbc knows only "
            f"{', '.join(AE_MINOR_PRICES)} (minor departments are paid the lowest A&E price)"
        )
    types = tuple(t.strip() for t in value["ae_minor_department_types"].split(";") if t.strip())
    bad = [t for t in types if not _DEPARTMENT_TYPE.match(t)]
    if bad:
        raise TariffError(
            f"the {year} tariff rule ae_minor_department_types must be two-digit department types separated by "
            f"semicolons (like 03;04), not {value['ae_minor_department_types']!r}"
        )
    return YearRules(
        financial_year=year,
        short_stay_emergency=sse == "yes",
        short_stay_max_days=_whole(year, "short_stay_max_days", value["short_stay_max_days"]),
        short_stay_min_age=_whole(year, "short_stay_min_age", value["short_stay_min_age"]),
        elective_price_basis=value["elective_price_basis"],
        ae_minor_department_types=types,
        ae_minor_price=value["ae_minor_price"],
    )


def year_rules(rules: pa.Table, years: set[str] | None = None) -> dict[str, YearRules]:
    """Every year's rules from the `rules` table (rule, value, financial_year), checked.

    `years` are the years the other tariff tables hold: each of them needs its rules too, or its prices could
    not be applied.
    """
    by_year: dict[str, dict[str, str]] = {}
    for row in rules.select(["financial_year", "rule", "value"]).to_pylist():
        by_year.setdefault(row["financial_year"], {})[row["rule"].strip()] = row["value"] or ""
    for year in years or ():
        by_year.setdefault(year, {})
    return {year: parse_rules(year, values) for year, values in sorted(by_year.items())}


def _snapshot_tag(warehouse: Warehouse) -> str:
    """A name part unique to the tariff snapshot, so two warehouses read in one Spark session never share a view."""
    snapshot = warehouse.current(TARIFF)
    assert snapshot is not None
    return re.sub(r"[^A-Za-z0-9]", "_", snapshot.name)


def _exists(warehouse: Warehouse, name: str) -> bool:
    snapshot = warehouse.current(TARIFF)
    return snapshot is not None and (snapshot / f"{name}.parquet").exists()


def has_tariff(warehouse: Warehouse) -> bool:
    """Whether every tariff table has been ingested."""
    return all(_exists(warehouse, name) for name in TABLES)


def load_rules(warehouse: Warehouse) -> dict[str, YearRules]:
    """The checked rules of every year held, read straight from the small `rules` table."""
    missing = [name for name in TABLES if not _exists(warehouse, name)]
    if missing:
        some = len(missing) < len(TABLES)
        raise NotLoadedError(NO_TARIFF + (f" (missing: {', '.join(f'{n}.csv' for n in missing)})" if some else ""))
    years: set[str] = set()
    for name in TABLES:
        years.update(y for y in pc.unique(warehouse.read(TARIFF, name)["financial_year"]).to_pylist() if y)
    return year_rules(warehouse.read(TARIFF, "rules"), years)


def rules_table(rules: dict[str, YearRules]) -> ibis.Table:
    """The rules pricing joins on, one row per year: `financial_year, sse, sse_max_days, sse_min_age`."""
    ordered = [rules[y] for y in sorted(rules)]
    return ibis.memtable(
        pa.table(
            {
                "financial_year": pa.array([r.financial_year for r in ordered], pa.string()),
                "sse": pa.array([r.short_stay_emergency for r in ordered], pa.bool_()),
                "sse_max_days": pa.array([r.short_stay_max_days for r in ordered], pa.int64()),
                "sse_min_age": pa.array([r.short_stay_min_age for r in ordered], pa.int64()),
            }
        )
    )


def minor_departments_table(rules: dict[str, YearRules]) -> ibis.Table:
    """The A&E department types paid the lowest price, per year: `financial_year, dept_type`."""
    pairs = [(r.financial_year, t) for y in sorted(rules) for r in [rules[y]] for t in r.ae_minor_department_types]
    return ibis.memtable(
        pa.table(
            {
                "financial_year": pa.array([p[0] for p in pairs], pa.string()),
                "dept_type": pa.array([p[1] for p in pairs], pa.string()),
            }
        )
    )


def tariff_tables(con: BaseBackend, warehouse: Warehouse) -> dict[str, ibis.Table]:
    """The warehouse's tariff as engine tables, after checking every year's rules.

    Keys: the six stored tables (`apc`, `op`, `ae`, `mff`, `local_prices`, `rules`, each with `financial_year`),
    plus `year_rules` (one typed row per year, see `rules_table`) and `ae_minor_departments` (year, department
    type). Raises NotLoadedError if the tariff was never ingested, TariffError (a ValueError) if a year's rules
    cannot be applied.
    """
    rules = load_rules(warehouse)
    tag = _snapshot_tag(warehouse)
    tables = {name: read_table(con, warehouse.path(TARIFF, name), f"tariff_{name}_{tag}") for name in TABLES}
    tables["year_rules"] = rules_table(rules)
    tables["ae_minor_departments"] = minor_departments_table(rules)
    return tables
