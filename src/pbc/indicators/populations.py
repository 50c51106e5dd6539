"""The registered population: the denominators of rates, by practice, cluster, five-year age band and sex.

Rates per head use the practices' registered lists (NHS Digital's quinary file, loaded by `pbc ingest`), the
denominator PHE's practice profiles use. Over a financial year the population is the mean of the quarterly lists
dated in the year, which approximates the person-years at risk; for counts taken on one day (disease registers)
it is the year's last list. Each list is placed in the cluster and commissioner the practice belonged to on the
list's date, by the same precedence as activity attribution (`pbc.quality.attribution`): the locality's
commissioner, else the one holding the practice's patient register, else the ODS commissioner.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import ibis

from pbc.calendar import financial_year_bounds
from pbc.engines import read_table
from pbc.errors import NotLoadedError
from pbc.quality.attribution import place
from pbc.reference.load import LISTS
from pbc.warehouse import Warehouse

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

    from pbc.indicators.definitions import Basis

UNIT_COLUMNS = ("PRACTICE", "LOCALITY", "AGE_BAND", "SEX")


def age_band(age: ibis.IntegerValue) -> ibis.StringValue:
    """The list file's five-year band of an age in whole years ('0_4' ... '90_94', '95+'); null when unknown."""
    low = (age // 5) * 5
    band = ibis.ifelse(age >= 95, "95+", low.cast("string") + "_" + (low + 4).cast("string"))
    return ibis.ifelse(age.isnull() | (age < 0), ibis.null("string"), band)


def registered_lists(con: BaseBackend, warehouse: Warehouse) -> ibis.Table:
    """Every stored list row: extract_date, practice_code, sex (M/F), age_band, patients."""
    if not warehouse.has(LISTS):
        raise NotLoadedError(
            f"no registered list sizes are in the warehouse at {warehouse.root}: rates per head need them, so "
            "ingest the quinary list-size files (pbc ingest) first"
        )
    return read_table(con, warehouse.path(LISTS, "registered_lists"), "registered_lists")


@dataclass(frozen=True)
class Placement:
    """Where a practice's list of one date was placed: its cluster (if any) and commissioner on that date."""

    date: dt.date
    practice: str
    locality: str | None
    commissioner: str | None


@dataclass(frozen=True)
class ListDates:
    """A financial year's list extract dates, and where each practice's list of each date was placed."""

    year: str
    dates: tuple[dt.date, ...]
    placements: tuple[Placement, ...] = ()

    def chosen(self, basis: Basis) -> tuple[dt.date, ...]:
        """All the year's dates for a year average; the last one for the year end."""
        return self.dates if basis == "year_average" else self.dates[-1:]

    @property
    def commissioners(self) -> tuple[str, ...]:
        """The commissioners whose practices have lists in the year: the candidates for a benchmark."""
        return tuple(sorted({p.commissioner for p in self.placements if p.commissioner is not None}))

    @property
    def clusters(self) -> dict[str, str]:
        """Each practice's cluster on the last of the year's lists that placed it in one."""
        return {p.practice: p.locality for p in self.placements if p.locality is not None}

    def commissioner_of(self, code: str) -> str | None:
        """The commissioner a practice's (or a cluster's practices') last list of the year was placed under."""
        found = [p for p in self.placements if code in (p.practice, p.locality) and p.commissioner is not None]
        return found[-1].commissioner if found else None


def list_dates(con: BaseBackend, warehouse: Warehouse, year: str) -> ListDates:
    """The year's list dates and where each practice's list of each date was placed, in one query.

    No list dated in the year is an error that says what to load.
    """
    start, end = financial_year_bounds(year)
    lists = registered_lists(con, warehouse)
    lists = lists.filter((lists.extract_date >= start) & (lists.extract_date <= end))
    placed = place(con, warehouse, lists, "practice_code", "extract_date")
    found = placed.select("extract_date", "practice_code", "LOCALITY", "COMMISSIONER").distinct().to_pyarrow()
    placements = sorted(
        (Placement(*r.values()) for r in found.to_pylist()),
        key=lambda p: (p.date, p.practice, p.locality or "", p.commissioner or ""),
    )
    dates = tuple(sorted({p.date for p in placements}))
    if not dates:
        raise NotLoadedError(
            f"no registered list sizes dated in {year} ({start} to {end}) are in the warehouse: ingest that year's "
            "quinary list-size files first"
        )
    return ListDates(year, dates, tuple(placements))


def placed_lists(con: BaseBackend, warehouse: Warehouse, dates: tuple[dt.date, ...]) -> ibis.Table:
    """The lists of the given dates, each row placed in its cluster and commissioner on its date."""
    lists = registered_lists(con, warehouse)
    lists = lists.filter(lists.extract_date.isin(list(dates)))
    return place(con, warehouse, lists, "practice_code", "extract_date")


def population(
    con: BaseBackend, warehouse: Warehouse, commissioner: str, dates: ListDates, basis: Basis
) -> tuple[ibis.Table, int]:
    """Patients of a commissioner's practices summed over the chosen dates, and how many dates were summed.

    Columns: PRACTICE, LOCALITY, AGE_BAND, SEX and N (patients summed over the dates). Dividing N by the number of
    dates gives the mean list; that division happens in Python so both engines sum the same integers.
    """
    chosen = dates.chosen(basis)
    lists = placed_lists(con, warehouse, chosen)
    lists = lists.filter(lists.COMMISSIONER == commissioner)
    summed = lists.group_by(
        PRACTICE=lists.practice_code, LOCALITY=lists.LOCALITY, AGE_BAND=lists.age_band, SEX=lists.sex
    ).aggregate(N=lists.patients.sum().cast("int64"))
    return summed, len(chosen)
