"""`pbc benchmark`: indicator definitions, benchmark tables with funnel plot data, and practice or cluster profiles.

Each table compares practices (or clusters) with their commissioner for a financial year by the UK public-health
methods (docs/indicators.md). `--suppress` applies small-number suppression (counts of 1-7 suppressed, others
rounded to 5, rates recomputed) for tables that leave the commissioner.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from pbc.cli.output import json_option, print_json, print_table, say
from pbc.engines import connect
from pbc.errors import PbcError
from pbc.indicators.benchmark import describe, funnel_curve, run_benchmarks, stack, summary
from pbc.indicators.compute import LEVELS, Benchmark
from pbc.indicators.definitions import load_definitions
from pbc.indicators.disclosure import DEFAULT_RULE
from pbc.indicators.profiles import profile as make_profile
from pbc.settings import load_settings
from pbc.warehouse import Warehouse

OUTPUT_SUFFIXES = (".csv", ".parquet")

definitions_option = click.option(
    "--definitions",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A folder of your own indicator files, added to pbc's (a file with the same id replaces pbc's).",
)
year_option = click.option("--year", required=True, metavar="YYYY/YY", help="Financial year, e.g. 2007/08.")
suppress_option = click.option(
    "--suppress",
    is_flag=True,
    help="Protect small numbers for publication: counts of 1-7 suppressed, others rounded to 5, rates recomputed.",
)


def _figure(value: float | None) -> str:
    """A figure for people: two decimals below 10, one from 10."""
    if value is None:
        return ""
    return f"{value:,.2f}" if abs(value) < 10 else f"{value:,.1f}"


def _amount(value: float | None) -> str:
    """A count or list size: whole numbers without decimals (a mean list keeps one)."""
    if value is None:
        return ""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _checked_out(out: Path | None) -> None:
    if out is not None and out.suffix.lower() not in OUTPUT_SUFFIXES:
        raise PbcError(f"{out}: name a .csv or .parquet file")


def write_table(table: pa.Table, out: Path) -> None:
    """Write a table as CSV or Parquet, by the file's suffix."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".parquet":
        pq.write_table(table, out)
    else:
        pacsv.write_csv(table, out)


@click.group()
def benchmark() -> None:
    """Benchmark practices and clusters against the commissioner with public-health statistics."""


@benchmark.command("indicators")
@definitions_option
@json_option
def indicators(definitions: Path | None, as_json: bool) -> None:
    """List the indicator definitions: id, statistic, unit, which direction is better, review date."""
    found = load_definitions(definitions)
    rows = [describe(found[k]) for k in sorted(found)]
    if as_json:
        print_json([{**r, "description": found[r["id"]].description.strip()} for r in rows])
        return
    today = dt.date.today()
    print_table(
        [
            {
                **r,
                "breakdown": r["breakdown"] or "",
                "review_date": f"{r['review_date']}{' (due)' if r['review_date'] <= today else ''}",
            }
            for r in rows
        ],
        title="indicator definitions",
        columns=("id", "statistic", "polarity", "breakdown", "review_date", "title"),
    )


def _detail(result: Benchmark) -> None:
    definition = result.definition
    rows = result.table.to_pylist()
    shown = []
    for r in rows:
        interval = f"{_figure(r['LOWER_95'])} to {_figure(r['UPPER_95'])}" if r["LOWER_95"] is not None else ""
        shown.append(
            {
                "unit": r["UNIT"],
                "name": (r["UNIT_NAME"] or "")[:28],
                "cluster": r["CLUSTER"] or "",
                definition.breakdown or "breakdown": r["BREAKDOWN"] or "",
                "numerator": "*" if r["SUPPRESSED"] and r["NUMERATOR"] is None else r["NUMERATOR"],
                "denominator": _amount(r["DENOMINATOR"]),
                "expected": _figure(r["EXPECTED"]),
                "value": _figure(r["VALUE"]),
                "95% interval": interval,
                "significance": r["SIGNIFICANCE"] or "",
                "comparison": r["COMPARISON"] or "",
            }
        )
    columns = ["unit", "name"]
    if result.level == "practice":
        columns.append("cluster")
    if definition.breakdown:
        columns.append(definition.breakdown)
    columns += ["numerator", "denominator"]
    if definition.statistic == "isr":
        columns.append("expected")
    columns += ["value", "95% interval", "significance", "comparison"]
    print_table(shown, title=f"{definition.id}: {definition.title} ({definition.unit})", columns=columns)


def _summary(results: list[Benchmark]) -> None:
    rows = []
    for result in results:
        for s in summary(result):
            polarity = result.definition.polarity
            better, worse = ("lower", "higher") if polarity == "neither" else ("better", "worse")
            rows.append(
                {
                    "indicator": s["indicator"],
                    "breakdown": s["breakdown"] or "",
                    "commissioner": _figure(s["commissioner_value"]),
                    "units": s["units"],
                    "better/lower": s[better],
                    "similar": s["similar"],
                    "worse/higher": s[worse],
                    "other": s["suppressed"] + s["not_compared"],
                }
            )
    print_table(rows, title="units against the commissioner at 95% (other: suppressed or not compared)")
    say("`--indicator ID` lists each unit with its value and interval; `pbc benchmark indicators` gives the units")


@benchmark.command("run")
@year_option
@click.option("--level", type=click.Choice(LEVELS), default="practice", show_default=True, help="Units to compare.")
@click.option("--indicator", "indicator_ids", multiple=True, metavar="ID", help="Only this indicator (repeatable).")
@click.option("--commissioner", metavar="CODE", help="Commissioner whose units are compared (if lists hold several).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the full table: .csv or .parquet.")
@click.option(
    "--funnel",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the funnel plot control limits over the units' range: .csv or .parquet.",
)
@suppress_option
@definitions_option
@json_option
def run(
    year: str,
    level: str,
    indicator_ids: tuple[str, ...],
    commissioner: str | None,
    out: Path | None,
    funnel: Path | None,
    suppress: bool,
    definitions: Path | None,
    as_json: bool,
) -> None:
    """Benchmark tables for a financial year: each unit's value, 95% and 99.8% intervals and funnel position.

    Without --indicator every indicator is computed and summarised; with it, each unit is listed.
    """
    _checked_out(out)
    _checked_out(funnel)
    settings = load_settings()
    results = run_benchmarks(
        connect(settings),
        Warehouse(settings.warehouse_dir),
        year,
        level=level,
        indicators=indicator_ids,
        commissioner=commissioner,
        definitions=definitions,
        rule=DEFAULT_RULE if suppress else None,
    )
    table = stack(results)
    if out is not None:
        write_table(table, out)
    if funnel is not None:
        write_table(pa.concat_tables([funnel_curve(r) for r in results]), funnel)
    if as_json:
        print_json({"rows": table.to_pylist(), "notes": {r.definition.id: list(r.notes) for r in results}})
        return
    commissioner_code = results[0].commissioner if results else ""
    say(f"{commissioner_code} {year}, {level} level: {len(results)} indicator(s)")
    if indicator_ids:
        for result in results:
            _detail(result)
    else:
        _summary(results)
    for result in results:
        for note in result.notes:
            say(f"  {result.definition.id}: {note}")
    if out is not None:
        say(f"{table.num_rows:,} rows written to {out}")
    if funnel is not None:
        say(f"funnel limits written to {funnel}")


def _pounds(pence: float | None) -> str:
    return "" if pence is None else f"£{pence / 100:,.2f}"


@benchmark.command("profile")
@click.argument("code")
@year_option
@suppress_option
@definitions_option
@json_option
def profile(code: str, year: str, suppress: bool, definitions: Path | None, as_json: bool) -> None:
    """A practice's or cluster's profile: population pyramid, disease prevalence, activity and cost by year."""
    settings = load_settings()
    result = make_profile(
        connect(settings),
        Warehouse(settings.warehouse_dir),
        code,
        year,
        rule=DEFAULT_RULE if suppress else None,
        definitions=definitions,
    )
    if as_json:
        print_json(result.to_dict())
        return
    say(f"{result.code} {result.name or ''} ({result.level} of {result.commissioner}), {result.year}")
    pyramid = [
        {
            "age": r["AGE_BAND"].replace("_", "-"),
            "male": _count(r["MALE"]),
            "female": _count(r["FEMALE"]),
            "male %": _figure(r["MALE_PERCENT"]),
            "female %": _figure(r["FEMALE_PERCENT"]),
            "commissioner male %": _figure(r["COMMISSIONER_MALE_PERCENT"]),
            "commissioner female %": _figure(r["COMMISSIONER_FEMALE_PERCENT"]),
        }
        for r in result.pyramid.to_pylist()
    ]
    print_table(pyramid, title="population pyramid (the year's last registered list)")
    prevalence = [
        {
            "condition": r["CONDITION"],
            "register": _count(r["REGISTER"]),
            "list": _amount(r["LIST_SIZE"]),
            "prevalence %": _figure(r["PREVALENCE"]),
            "95% interval": f"{_figure(r['LOWER_95'])} to {_figure(r['UPPER_95'])}"
            if r["LOWER_95"] is not None
            else "",
            "expected %": _figure(r["EXPECTED_PREVALENCE"]),
            "commissioner %": _figure(r["COMMISSIONER_PREVALENCE"]),
            "observed/expected": _figure(r["RATIO"]),
            "significance": r["SIGNIFICANCE"] or "",
        }
        for r in result.prevalence.to_pylist()
    ]
    print_table(prevalence, title="recorded disease prevalence (expected at the commissioner's age/sex rates)")
    activity = [
        {
            "year": r["FINANCIAL_YEAR"],
            "pod": r["POD"],
            "activity": _count(r["ACTIVITY"]),
            "cost": _pounds(r["COST_PENCE"]),
            "per 1,000": _figure(r["ACTIVITY_PER_1000"]),
            "commissioner per 1,000": _figure(r["COMMISSIONER_ACTIVITY_PER_1000"]),
            "cost per head": _pounds(r["COST_PER_HEAD_PENCE"]),
            "commissioner per head": _pounds(r["COMMISSIONER_COST_PER_HEAD_PENCE"]),
        }
        for r in result.activity.to_pylist()
    ]
    print_table(activity, title="hospital activity and cost by year (PbR prices)")
    for note in result.notes:
        say(f"  {note}")


def _count(value: Any) -> str:
    """A count as people read it; a suppressed one as *."""
    return "*" if value is None else f"{value:,.0f}"
