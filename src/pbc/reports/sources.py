"""What the reports read, gathered once per command and shared by every report it makes.

A pack for each of a commissioner's clusters needs the same commissioner-wide figures five times over: its
costed activity, its benchmarks, its monitoring marts. `Sources` asks the engine for each once and keeps the
(small, aggregated) answer, so making every cluster's report costs little more than making one. It reads only
what earlier steps made (marts, quality findings, indicator tables, the challenge ledger); where something a
report cannot do without is missing, the error says which command makes it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import ibis
import pyarrow as pa
import pyarrow.compute as pc

from pbc.activity import loaded
from pbc.calendar import financial_year_bounds
from pbc.challenges import Challenge, Ledger
from pbc.costed import all_costed_lines
from pbc.engines import connect
from pbc.errors import NotLoadedError
from pbc.finance.marts import mart
from pbc.incentives.registers import register
from pbc.indicators import profiles
from pbc.indicators.benchmark import check_year, choose_commissioner, unit_names
from pbc.indicators.compute import compute
from pbc.indicators.definitions import choose, codelists_for, load_definitions
from pbc.indicators.disclosure import DisclosureRule
from pbc.indicators.measures import Counts, gather
from pbc.indicators.populations import ListDates, list_dates, population
from pbc.provider_contracts.plan import CONTRACTS, has_plan
from pbc.quality.run import QUALITY
from pbc.settings import Settings
from pbc.tariff.model import has_tariff
from pbc.tariff.pricing import DATASETS
from pbc.warehouse import Warehouse

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

    from pbc.indicators.compute import Benchmark

T = TypeVar("T")

COST_KEYS = ("FINANCIAL_YEAR", "PRACTICE", "LOCALITY", "POD", "PROCODE", "SPECIALTY", "MONTH")
COST_SCHEMA = pa.schema(
    [
        *((key, pa.date32() if key == "MONTH" else pa.string()) for key in COST_KEYS),
        *((measure, pa.int64()) for measure in ("ACTIVITY", "LINES", "PENCE", "UNPRICED")),
    ]
)
AE_SPECIALTY_NAME = "Accident and emergency"
# The public-health indicators a pack compares its cluster and practices on (docs/indicators.md). Disease
# prevalence is in the profile, and the indicators given only by specialty (referrals by specialty, the follow-up
# ratio) are too fine-grained for a page (the follow-up ratio is in the monthly trends instead).
PACK_INDICATORS = (
    "emergency_admissions",
    "acsc_admissions",
    "acsc_chronic_admissions",
    "ae_attendances",
    "first_outpatient_attendances",
    "day_case_rate",
    "referrals",
)


class Sources:
    """The warehouse, engine and ledger a report reads, with each commissioner-wide answer kept once asked for."""

    def __init__(self, settings: Settings, con: BaseBackend | None = None) -> None:
        self.settings = settings
        self.con = con if con is not None else connect(settings)
        self.warehouse = Warehouse(settings.warehouse_dir)
        self.ledger = Ledger(settings.home)
        self._kept: dict[tuple[Any, ...], Any] = {}

    def _once(self, key: tuple[Any, ...], make: Callable[[], T]) -> T:
        if key not in self._kept:
            self._kept[key] = make()
        return self._kept[key]

    @property
    def accepted(self) -> pa.Table:
        """The lines whose challenges were accepted: they are left out of every figure of spend."""
        return self._once(("accepted",), self.ledger.accepted_lines)

    def challenges(self) -> list[Challenge]:
        """Every challenge in the ledger with its current state."""
        return self._once(("challenges",), lambda: list(self.ledger.challenges().values()))

    def names(self) -> dict[str, str]:
        """Organisation names by code (practices, clusters, commissioners, providers)."""
        return self._once(("names",), lambda: unit_names(self.warehouse))

    def name_of(self, code: str) -> str:
        """An organisation's name, or its code where the reference data has no name for it."""
        return self.names().get(code, code)

    def specialty_names(self) -> dict[str, str]:
        """Treatment function names by code, from the tariff's outpatient prices (the latest year naming each)."""

        def make() -> dict[str, str]:
            found = {"180": AE_SPECIALTY_NAME}
            if not has_tariff(self.warehouse):
                return found
            prices = self.warehouse.read("tariff", "op").select(["tfc", "tfc_name", "financial_year"])
            for row in sorted(prices.to_pylist(), key=lambda r: r["financial_year"] or ""):
                if row["tfc_name"]:
                    found[row["tfc"]] = row["tfc_name"]
            return found

        return self._once(("specialties",), make)

    def mart(self, table: str, year: str) -> pa.Table:
        """A monitoring mart's rows for a year; NotLoadedError (naming `pbc monitor run`) when it was not made."""
        return self._once(("mart", table, year), lambda: mart(self.warehouse, table, year))

    def optional_mart(self, table: str, year: str) -> pa.Table | None:
        """A monitoring mart's rows for a year, or None where the year has not been monitored."""
        try:
            return self.mart(table, year)
        except NotLoadedError:
            return None

    def costs(self, commissioner: str, up_to: str) -> pa.Table:
        """The commissioner's costed activity of every year to `up_to`, summed by COST_KEYS.

        Columns: the COST_KEYS, ACTIVITY (counted lines), LINES, PENCE and UNPRICED (lines with no price); accepted
        challenges are left out. One engine pass over the costed lines; every cluster, practice, year and month a
        report needs is then a filter of this small table.
        """

        def make() -> pa.Table:
            if not has_tariff(self.warehouse) or not any(loaded(self.warehouse, d) for d in DATASETS):
                return COST_SCHEMA.empty_table()
            _, end = financial_year_bounds(up_to)
            lines = all_costed_lines(self.con, self.warehouse, accepted=self.accepted)
            lines = lines.filter((lines.COMMISSIONER == commissioner) & (lines.MONTH <= ibis.literal(end)))
            summed = lines.group_by(list(COST_KEYS)).aggregate(
                ACTIVITY=lines.COUNTED.sum().cast("int64"),
                LINES=lines.count().cast("int64"),
                PENCE=lines.PRICE_PENCE.sum().cast("int64"),
                UNPRICED=(~lines.PRICED).cast("int64").sum().cast("int64"),
            )
            return summed.mutate(MONTH=summed.MONTH.cast("date")).to_pyarrow().cast(COST_SCHEMA)

        return self._once(("costs", commissioner, up_to), make)

    def list_dates(self, year: str) -> ListDates:
        """The year's registered list dates and where each practice's list was placed."""
        return self._once(("list_dates", year), lambda: list_dates(self.con, self.warehouse, year))

    def population(self, commissioner: str, year: str) -> tuple[pa.Table, int]:
        """Patients of the commissioner's practices summed over the year's list dates, and how many dates.

        Columns PRACTICE, LOCALITY, AGE_BAND, SEX and N; N over the number of dates is the year's mean list.
        """

        def make() -> tuple[pa.Table, int]:
            table, dates = population(self.con, self.warehouse, commissioner, self.list_dates(year), "year_average")
            return table.to_pyarrow(), dates

        return self._once(("population", commissioner, year), make)

    def plan(self, year: str, commissioner: str) -> pa.Table | None:
        """The commissioner's contract plans for the year (PROCODE, POD, SPECIALTY, ACTIVITY, PENCE), if any."""

        def make() -> pa.Table | None:
            if not has_plan(self.warehouse, year):
                return None
            plans = self.warehouse.read(CONTRACTS, "plans")
            mask = pc.and_(pc.equal(plans["FINANCIAL_YEAR"], year), pc.equal(plans["COMMISSIONER"], commissioner))
            return plans.filter(mask)

        return self._once(("plan", year, commissioner), make)

    def quality_months(self) -> pa.Table | None:
        """Each practice's lines and flagged lines per month and data set (`pbc quality run`), if it was run."""
        if not self.warehouse.has(QUALITY):
            return None
        return self._once(("quality_months",), lambda: self.warehouse.read(QUALITY, "practice_months"))

    def findings(self) -> pa.Table | None:
        """Every quality finding (data set, provider, record key, rule), if the rules have been run."""
        if not self.warehouse.has(QUALITY):
            return None
        return self._once(("findings",), lambda: self.warehouse.read(QUALITY, "findings"))

    def deliveries(self) -> list[dict[str, object]]:
        """The register of practices' monthly information reports delivered (the LES register)."""
        return self._once(("deliveries",), lambda: register(self.warehouse, "deliveries"))

    def benchmarks(self, year: str, commissioner: str, level: str, rule: DisclosureRule | None) -> list[Benchmark]:
        """The pack's public-health indicators for every practice or cluster of the commissioner in a year.

        This is `run_benchmarks` made once for every level and rule a run asks for: the indicators are counted on
        the engine once (`measures.gather`), and each level's tables, internal or protected, are computed from the
        same counts (`compute.compute`), since a pack shows the cluster and its practices side by side.
        """

        def counted() -> list[Counts]:
            known = load_definitions()
            chosen = choose(known, [i for i in PACK_INDICATORS if i in known])
            dates = self.list_dates(year)
            code = choose_commissioner(dates, commissioner)
            return gather(self.con, self.warehouse, chosen, check_year(year), code, dates, codelists_for())

        def make() -> list[Benchmark]:
            counts = self._once(("benchmark_counts", year, commissioner), counted)
            return [compute(c, level, self.names(), rule, self.list_dates(year).clusters) for c in counts]

        return self._once(("benchmarks", year, commissioner, level, rule), make)

    def pyramid(self, code: str, level: str, commissioner: str, year: str, rule: DisclosureRule | None) -> pa.Table:
        """A cluster's or practice's population pyramid on the year's last list (`profiles.pyramid`)."""
        return self._once(
            ("pyramid", code, year, rule),
            lambda: profiles.pyramid(self.con, self.warehouse, code, level, commissioner, self.list_dates(year), rule),
        )

    def prevalence(self, code: str, level: str, commissioner: str, year: str, rule: DisclosureRule | None) -> pa.Table:
        """A unit's recorded disease prevalence against expected (`profiles.prevalence`); empty without registers."""

        def make() -> pa.Table:
            try:
                return profiles.prevalence(
                    self.con, self.warehouse, code, level, commissioner, self.list_dates(year), rule
                )
            except NotLoadedError:
                return profiles.PREVALENCE_SCHEMA.empty_table()

        return self._once(("prevalence", code, year, rule), make)
