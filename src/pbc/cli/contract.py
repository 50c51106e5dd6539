"""`pbc contract`: draft or load a provider contract plan, and monitor contracts against it month by month."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from pbc.challenges import Ledger
from pbc.cli.output import (
    check_output,
    json_option,
    position_line,
    pounds,
    print_json,
    print_table,
    say,
    variance_rows,
    write_table,
)
from pbc.engines import connect
from pbc.provider_contracts.monitoring import LEVELS, lead_providers, monthly, position, summarise
from pbc.provider_contracts.plan import (
    Growth,
    keep_drafted_plan,
    phase_plan,
    read_plan_file,
    store_plan,
)
from pbc.settings import load_settings
from pbc.warehouse import Source, Warehouse


@click.group()
def contract() -> None:
    """Provider contract plans and their monthly monitoring."""


def _growth(default: str, per_pod: tuple[str, ...]) -> Growth:
    by_pod: dict[str, int] = {}
    for item in per_pod:
        pod, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r} is not POD=PERCENT, like APC_NE=4.5", param_hint="--pod-growth")
        by_pod[pod.strip().upper()] = Growth.parse(value)
    return Growth(Growth.parse(default), by_pod)


@contract.command("plan")
@click.option("--year", required=True, help="The contract year, like 2008/09.")
@click.option("--baseline", help="Draft the plan from this year's activity, repriced at the contract year's tariff.")
@click.option("--growth", default="0", show_default=True, help="Growth on the baseline, in percent.")
@click.option("--pod-growth", multiple=True, help="Growth for one POD, like APC_NE=4.5 (repeatable).")
@click.option(
    "--file",
    "plan_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Load the agreed plan from this CSV instead (columns: Provider code, Commissioner code, POD, Specialty, "
    "Activity, Value (£)); --baseline then only gives the seasonal profile.",
)
@json_option
def plan(
    year: str, baseline: str | None, growth: str, pod_growth: tuple[str, ...], plan_file: Path | None, as_json: bool
) -> None:
    """Make the year's plan per provider, commissioner, POD and specialty, phased by month, and keep it."""
    if plan_file is None and baseline is None:
        raise click.UsageError("give --baseline YEAR to draft a plan, or --file PLAN.csv to load an agreed one")
    settings = load_settings()
    con, warehouse = connect(settings), Warehouse(settings.warehouse_dir)
    accepted = Ledger(settings.home).accepted_lines()
    if plan_file is not None:
        annual = read_plan_file(plan_file)
        details: dict[str, object] = {"method": "agreed plan file", "profile_from": baseline}
        phased = phase_plan(con, warehouse, year, annual, baseline, accepted)
        store_plan(warehouse, year, annual, phased, Source.of(plan_file), details)
    else:
        assert baseline is not None
        annual, details = keep_drafted_plan(con, warehouse, year, baseline, _growth(growth, pod_growth), accepted)
    totals = {
        "financial_year": year,
        "lines": annual.num_rows,
        "providers": len(set(annual.column("PROCODE").to_pylist())),
        "activity": sum(annual.column("ACTIVITY").to_pylist()),
        "pence": sum(annual.column("PENCE").to_pylist()),
        **details,
    }
    if as_json:
        print_json(totals)
        return
    say(
        f"{year} plan kept: {totals['lines']:,} lines for {totals['providers']} providers, "
        f"{totals['activity']:,} activity, {pounds(totals['pence'])} ({details['method']})"
    )


@contract.command("monitor")
@click.option("--year", required=True, help="The contract year, like 2007/08.")
@click.option("--month", help="Report as at this month (YYYY-MM); default the latest month with activity.")
@click.option("--provider", "providers", multiple=True, help="Only this provider's contract (repeatable).")
@click.option("--lead", help="Every contract this commissioner leads, with each associate's share.")
@click.option("--level", type=click.Choice(list(LEVELS)), default=None, help="How finely to break the figures down.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the figures to this file (.csv or .parquet).",
)
@json_option
def monitor(
    year: str,
    month: str | None,
    providers: tuple[str, ...],
    lead: str | None,
    level: str | None,
    out: Path | None,
    as_json: bool,
) -> None:
    """Plan against actual: the month, the year to date, the annual plan and the forecast outturn."""
    if out is not None:
        check_output(out)
    settings = load_settings()
    con, warehouse = connect(settings), Warehouse(settings.warehouse_dir)
    chosen = list(providers)
    if lead:
        chosen += lead_providers(con, warehouse, lead.upper(), year)
    table = monthly(con, warehouse, year, Ledger(settings.home).accepted_lines())
    if chosen:
        table = table.filter(table.PROCODE.isin(sorted(set(chosen))))
    as_at = None
    if month:
        try:
            as_at = dt.datetime.strptime(month, "%Y-%m").date()
        except ValueError as error:
            raise click.BadParameter(f"{month!r} is not a month like 2007-10", param_hint="--month") from error
    months = [m for m in table.select("MONTH").distinct().to_pyarrow().column("MONTH").to_pylist()]
    actual_months = sorted(
        table.filter(table.ACTUAL_ACTIVITY + table.ACTUAL_PENCE != 0)
        .select("MONTH")
        .distinct()
        .to_pyarrow()
        .column("MONTH")
        .to_pylist()
    )
    where = position(actual_months or months, year, settings, as_at, dt.date.today())
    by = LEVELS[level or ("commissioner" if lead else "provider")]
    result = summarise(table, by, where)
    if out is not None:
        write_table(result, out)
    header = {
        "financial_year": year,
        "as_at": where.as_at,
        "months_elapsed": where.elapsed,
        "final_through": where.final_through,
        "provisional_months": where.provisional,
    }
    if as_json:
        print_json({**header, "rows": result.to_pylist()})
        return
    say(position_line(year, where))
    forecasts = (("FORECAST_PROFILED_PENCE", "profiled"), ("FORECAST_RUN_RATE_PENCE", "run rate"))
    print_table(variance_rows(result, by, "plan", forecasts), title="contract monitoring")
    if out is not None:
        say(f"{result.num_rows:,} rows written to {out}")
