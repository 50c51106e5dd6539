"""Counting what an indicator's numerator and denominator name, by practice, cluster, breakdown, age band and sex.

Each measure is counted by an ibis expression, so it runs unchanged on DuckDB and Spark. `gather` puts every
indicator's counts of a run into one union query, so only the small aggregate (practices x breakdown x bands x
sexes) comes back, in one engine job; the statistics are computed from it in Python (`pbc.indicators.compute`).

A line counts in the financial year its event falls in, by the date pbc counts activity on everywhere
(`pbc.costed`): a spell when it ends, an appointment or A&E attendance on its day, a referral on the day it was
made. Each line keeps the practice and cluster attribution gave it on its activity date; lines attributed to
another commissioner, or to none, are not counted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import ibis
import pyarrow as pa
import pyarrow.compute as pc

from pbc.activity import loaded
from pbc.calendar import financial_year_bounds
from pbc.costed import AGE_COLUMN
from pbc.engines import read_table
from pbc.errors import NotLoadedError
from pbc.indicators.codelists import Codelist, selects
from pbc.indicators.definitions import POPULATION, REGISTERS, Definition, Measure
from pbc.indicators.populations import ListDates, age_band, population
from pbc.ingest.reference_files import REGISTERS as REGISTERS_NAMESPACE
from pbc.quality.attribution import attribute, place
from pbc.tariff.pricing import TARIFF_DATE
from pbc.warehouse import Warehouse

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

EVENT_DATE = {**TARIFF_DATE, "referrals": "REFERRAL_DATE"}  # the dates costed activity is counted by
AGE = AGE_COLUMN  # referrals carry a date of birth instead
REGISTER_STORED = {"CONDITION": "condition", "SEX": "sex", "AGE_GROUP_5": "age_band"}
COUNT_COLUMNS = ("PRACTICE", "LOCALITY", "BREAKDOWN", "AGE_BAND", "SEX", "N")


def _age_at(dob: ibis.DateValue, day: ibis.DateValue) -> ibis.IntegerValue:
    """Age in completed years on a day (a birthday not yet reached this year takes one off)."""
    before = (day.month() < dob.month()) | ((day.month() == dob.month()) & (day.day() < dob.day()))
    return day.year() - dob.year() - ibis.ifelse(before, 1, 0)


def _sex(code: ibis.StringValue) -> ibis.StringValue:
    """HES sex codes as the list file writes them: 1 is M, 2 is F, anything else (0, 9, missing) unknown."""
    return ibis.cases((code == "1", "M"), (code == "2", "F"), else_=ibis.null("string"))


def _where(table: ibis.Table, where: Mapping[str, tuple[str, ...]], columns: Mapping[str, str]) -> ibis.Table:
    for column, values in where.items():
        table = table.filter(table[columns.get(column, column)].isin(list(values)))
    return table


def event_counts(
    con: BaseBackend,
    warehouse: Warehouse,
    measure: Measure,
    year: str,
    commissioner: str,
    breakdown: str | None,
    codelists: Mapping[str, Codelist],
) -> ibis.Table:
    """A data set's lines of the year that the measure keeps, counted with the COUNT_COLUMNS."""
    dataset = measure.dataset
    if not loaded(warehouse, dataset):
        raise NotLoadedError(f"no {dataset} activity has been ingested into {warehouse.root}: run `pbc ingest` first")
    start, end = financial_year_bounds(year)
    lines = attribute(con, warehouse, dataset)
    day = lines[EVENT_DATE[dataset]]
    lines = lines.filter((day >= start) & (day <= end) & (lines.COMMISSIONER == commissioner))
    lines = _where(lines, measure.where, {})
    if measure.codelist is not None:
        lines = lines.filter(selects(lines, codelists[measure.codelist], measure.codelist_groups))
    age = lines[AGE[dataset]] if dataset in AGE else _age_at(lines.DOB, lines[EVENT_DATE[dataset]])
    return lines.group_by(
        PRACTICE=lines.PRACTICE,
        LOCALITY=lines.LOCALITY,
        BREAKDOWN=lines[breakdown].cast("string") if breakdown else ibis.null("string"),
        AGE_BAND=age_band(age.cast("int64")),
        SEX=_sex(lines.SEX),
    ).aggregate(N=lines.count().cast("int64"))


def register_dates(con: BaseBackend, warehouse: Warehouse, year: str) -> list[dt.date]:
    """The extract dates of the disease registers held for a financial year."""
    if not warehouse.has(REGISTERS_NAMESPACE):
        raise NotLoadedError(
            f"no disease registers are in the warehouse at {warehouse.root}: ingest the register files first"
        )
    start, end = financial_year_bounds(year)
    table = read_table(con, warehouse.path(REGISTERS_NAMESPACE, "register_counts"), "register_counts")
    found = table.filter((table.extract_date >= start) & (table.extract_date <= end)).select("extract_date").distinct()
    dates = sorted(found.to_pyarrow()["extract_date"].to_pylist())
    if not dates:
        raise NotLoadedError(f"no disease registers dated in {year} ({start} to {end}) are in the warehouse")
    return dates


def register_counts(
    con: BaseBackend, warehouse: Warehouse, measure: Measure, year: str, commissioner: str, breakdown: str | None
) -> ibis.Table:
    """Patients on the disease registers at the year's last register date, counted with the COUNT_COLUMNS."""
    last = register_dates(con, warehouse, year)[-1]
    table = read_table(con, warehouse.path(REGISTERS_NAMESPACE, "register_counts"), "register_counts")
    table = table.filter(table.extract_date == last)
    table = _where(table, measure.where, REGISTER_STORED)
    table = place(con, warehouse, table, "practice_code", "extract_date")
    table = table.filter(table.COMMISSIONER == commissioner)
    sex = ibis.cases((table.sex == "MALE", "M"), (table.sex == "FEMALE", "F"), else_=ibis.null("string"))
    return table.group_by(
        PRACTICE=table.practice_code,
        LOCALITY=table.LOCALITY,
        BREAKDOWN=table[REGISTER_STORED[breakdown]] if breakdown else ibis.null("string"),
        AGE_BAND=table.age_band,
        SEX=sex,
    ).aggregate(N=table.register.sum().cast("int64"))


@dataclass(frozen=True)
class Counts:
    """An indicator's counts for one commissioner and year, collected from the engine.

    Both tables have the COUNT_COLUMNS. A population denominator has a null BREAKDOWN and its N is patients
    summed over `population_dates` list dates (divide by it to get the mean list, in person-years).
    """

    definition: Definition
    year: str
    commissioner: str
    numerator: pa.Table
    denominator: pa.Table
    population_dates: int


def _key(measure: Measure, breakdown: str | None) -> str:
    """What a count depends on, so two indicators counting the same thing share one part of the query."""
    return f"{measure.model_dump_json()}|{breakdown}"


def gather(
    con: BaseBackend,
    warehouse: Warehouse,
    definitions: Sequence[Definition],
    year: str,
    commissioner: str,
    dates: ListDates,
    codelists: Mapping[str, Codelist],
) -> list[Counts]:
    """Count every indicator's numerator and denominator in one engine query, and split the result.

    One query (a union of the distinct counts, each row tagged with the count it belongs to) means one Spark job
    for a whole benchmark run instead of two per indicator; a count several indicators share (the population,
    emergency spells) is made once. Only the small aggregate comes back.
    """
    parts: dict[str, ibis.Table] = {}

    def part(measure: Measure, breakdown: str | None) -> str:
        key = _key(measure, breakdown)
        if key not in parts:
            if measure.dataset == POPULATION:
                people, _ = population(con, warehouse, commissioner, dates, measure.basis)
                table = people.mutate(BREAKDOWN=ibis.null("string"))
            elif measure.dataset == REGISTERS:
                table = register_counts(con, warehouse, measure, year, commissioner, breakdown)
            else:
                table = event_counts(con, warehouse, measure, year, commissioner, breakdown, codelists)
            parts[key] = table.select(*COUNT_COLUMNS).mutate(PART=ibis.literal(str(len(parts))))
        return key

    roles = []
    for definition in definitions:
        denominator_breakdown = definition.breakdown if definition.breakdown_applies_to_denominator else None
        roles.append(
            (part(definition.numerator, definition.breakdown), part(definition.denominator, denominator_breakdown))
        )
    if not parts:
        return []
    tables = list(parts.values())
    union = ibis.union(*tables, distinct=False) if len(tables) > 1 else tables[0]
    collected = union.order_by(["PART", *COUNT_COLUMNS[:-1]]).to_pyarrow()
    numbers = {key: str(i) for i, key in enumerate(parts)}

    def rows(key: str) -> pa.Table:
        return collected.filter(pc.equal(collected["PART"], numbers[key])).select(list(COUNT_COLUMNS))

    return [
        Counts(
            definition,
            year,
            commissioner,
            rows(numerator),
            rows(denominator),
            len(dates.chosen(definition.denominator.basis)) if definition.denominator.dataset == POPULATION else 1,
        )
        for definition, (numerator, denominator) in zip(definitions, roles, strict=True)
    ]
