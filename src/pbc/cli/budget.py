"""`pbc budget` and `pbc monitor`: set indicative budgets from a scheme, and monitor spend against them monthly."""

from __future__ import annotations

import datetime as dt
import json
from importlib import resources
from pathlib import Path

import click
import ibis

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
from pbc.finance.budgets import make_budget
from pbc.finance.marts import mart, refresh
from pbc.finance.monitoring import LEVELS
from pbc.finance.runs import chosen_run, keep_run, run_table, runs
from pbc.finance.scheme import read_scheme
from pbc.finance.trends import RATES, RATIOS, REFERRALS
from pbc.finance.variance import position, summarise
from pbc.indicators.spc import xmr
from pbc.settings import load_settings
from pbc.warehouse import Warehouse


def shipped_scheme(name: str = "brent_2007_08.toml") -> Path:
    """A scheme file shipped with pbc (the demo's Brent 2007/08 scheme)."""
    return Path(str(resources.files("pbc.finance") / "schemes" / name))


@click.group()
def budget() -> None:
    """Indicative budgets: set them from a scheme file, list the runs, show a run."""


@budget.command("set")
@click.argument("scheme_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=False)
@json_option
def set_budget(scheme_file: Path | None, as_json: bool) -> None:
    """Set practice budgets from a scheme file (default: the shipped Brent 2007/08 scheme) and keep the run."""
    path = scheme_file or shipped_scheme()
    scheme, sha256 = read_scheme(path)
    settings = load_settings()
    con, warehouse = connect(settings), Warehouse(settings.warehouse_dir)
    accepted = Ledger(settings.home).accepted_lines()
    if not as_json:
        say(f"setting {scheme.name} from {path.name} ...")
    made, inputs = make_budget(con, warehouse, scheme, accepted)
    run_id = keep_run(warehouse, scheme, sha256, path, made, inputs, accepted.num_rows)
    total = sum(made.practices.column("BUDGET_PENCE").to_pylist())
    central = made.central.to_pylist()
    summary = {
        "run": run_id,
        "financial_year": scheme.budget_year,
        "practices": len(set(made.practices.column("PRACTICE").to_pylist())),
        "census_list_date": inputs.census_list_date,
        "budget_pence": total,
        "top_slice_pence": sum(c["TOP_SLICE_PENCE"] for c in central),
        "reserve_pence": sum(c["RESERVE_PENCE"] for c in central),
        "baseline_pence": sum(c["BASELINE_PENCE"] for c in central),
    }
    if as_json:
        print_json(summary)
        return
    say(
        f"run {run_id}: {summary['practices']} practices, lists of {inputs.census_list_date}; "
        f"budgets {pounds(total)} + top-slice {pounds(summary['top_slice_pence'])} + reserve "
        f"{pounds(summary['reserve_pence'])} = baseline {pounds(summary['baseline_pence'])}"
    )


@budget.command("runs")
@click.option("--year", help="Only this financial year's runs.")
@json_option
def list_runs(year: str | None, as_json: bool) -> None:
    """The budget runs kept, oldest first, with the scheme and inputs each was made from."""
    settings = load_settings()
    held = runs(Warehouse(settings.warehouse_dir), year)
    if as_json:
        print_json([{**r, "PARAMETERS": json.loads(r["PARAMETERS"]), "INPUTS": json.loads(r["INPUTS"])} for r in held])
        return
    print_table(
        [
            {
                "run": r["RUN_ID"],
                "year": r["FINANCIAL_YEAR"],
                "scheme": r["SCHEME"],
                "lists of": r["CENSUS_LIST_DATE"],
                "made": r["MADE_AT"][:19],
                "by": r["MADE_BY"],
            }
            for r in held
        ],
        title="budget runs",
    )


@budget.command("show")
@click.option("--year", required=True, help="The budget year, like 2007/08.")
@click.option("--run", "run_id", help="A run id (default: the year's latest run).")
@click.option("--level", type=click.Choice(list(LEVELS)), default="cluster", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write every practice and POD row.")
@json_option
def show(year: str, run_id: str | None, level: str, out: Path | None, as_json: bool) -> None:
    """A budget run's budgets summed to practices, clusters or the commissioner."""
    if out is not None:
        check_output(out)
    settings = load_settings()
    warehouse = Warehouse(settings.warehouse_dir)
    run = chosen_run(warehouse, year, run_id)
    table = run_table(warehouse, "practice_budgets", run["RUN_ID"])
    if out is not None:
        write_table(table, out)
    rows = table.to_pylist()
    totals: dict[tuple[str, ...], dict[str, int]] = {}
    for r in rows:
        key = tuple(run["COMMISSIONER"] if k == "COMMISSIONER" else (r[k] or "") for k in LEVELS[level])
        t = totals.setdefault(key, {"baseline": 0, "historic": 0, "fair": 0, "budget": 0})
        t["baseline"] += r["BASELINE_PENCE"]
        t["historic"] += r["HISTORIC_SHARE_PENCE"]
        t["fair"] += r["FAIR_SHARE_PENCE"] or 0
        t["budget"] += r["BUDGET_PENCE"]
    if as_json:
        print_json({"run": run["RUN_ID"], "rows": [{"key": list(k), **v} for k, v in sorted(totals.items())]})
        return
    say(f"run {run['RUN_ID']} ({run['SCHEME']})")
    print_table(
        [
            {
                **{name.lower(): value for name, value in zip(LEVELS[level], key, strict=True)},
                "baseline": pounds(v["baseline"]),
                "historic share": pounds(v["historic"]),
                "fair share": pounds(v["fair"]),
                "budget": pounds(v["budget"]),
            }
            for key, v in sorted(totals.items())
        ],
        title=f"indicative budgets {year} by {level}",
    )


@click.group()
def monitor() -> None:
    """Monthly monitoring: spend against budget, forecasts and trend indicators."""


@monitor.command("run")
@click.option("--year", required=True, help="The financial year, like 2007/08.")
@click.option("--run", "run_id", help="The budget run to monitor against (default: the year's latest).")
@json_option
def run_monitoring(year: str, run_id: str | None, as_json: bool) -> None:
    """Make the year's monitoring marts (budget against actual, spend, trend indicators); a re-run replaces them."""
    settings = load_settings()
    con, warehouse = connect(settings), Warehouse(settings.warehouse_dir)
    made = refresh(con, warehouse, year, run_id, Ledger(settings.home).accepted_lines())
    if as_json:
        print_json(made)
        return
    say(
        f"{year} monitoring against budget run {made['budget_run']}: {made['budget_rows']:,} budget rows, "
        f"{made['spend_rows']:,} spend rows, {made['trend_rows']:,} trend rows "
        f"({made['challenges_left_out']} accepted challenges left out)"
    )


def _month(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.datetime.strptime(text, "%Y-%m").date()
    except ValueError as error:
        raise click.BadParameter(f"{text!r} is not a month like 2007-10", param_hint="--month") from error


@monitor.command("show")
@click.option("--year", required=True, help="The financial year, like 2007/08.")
@click.option("--month", help="As at this month (YYYY-MM); default the latest month with activity.")
@click.option("--level", type=click.Choice(list(LEVELS)), default="cluster", show_default=True)
@click.option("--code", help="Only this practice or cluster.")
@click.option("--by-pod", is_flag=True, help="Break each row down by point of delivery.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Also write the rows (.csv/.parquet).")
@json_option
def show_monitoring(
    year: str, month: str | None, level: str, code: str | None, by_pod: bool, out: Path | None, as_json: bool
) -> None:
    """Budget against actual for the month and the year to date, with the forecast outturn."""
    if out is not None:
        check_output(out)
    settings = load_settings()
    rows = mart(Warehouse(settings.warehouse_dir), "budget_monitoring", year)
    table = ibis.memtable(rows.to_pandas())
    if code:
        table = table.filter((table.PRACTICE == code) | (table.LOCALITY == code))
    held = [r["MONTH"] for r in rows.to_pylist() if r["ACTUAL_PENCE"] or r["ACTUAL_ACTIVITY"]]
    where = position(sorted(set(held)), year, settings, _month(month), dt.date.today())
    by = (*LEVELS[level], "POD") if by_pod else LEVELS[level]
    result = summarise(table, by, where)
    if out is not None:
        write_table(result, out)
    header = {
        "financial_year": year,
        "budget_run": rows.column("BUDGET_RUN")[0].as_py(),
        "as_at": where.as_at,
        "final_through": where.final_through,
        "provisional_months": where.provisional,
    }
    if as_json:
        print_json({**header, "rows": result.to_pylist()})
        return
    say(position_line(year, where, f"budget run {header['budget_run']}"))
    forecasts = (("FORECAST_SEASONAL_PENCE", "seasonal"), ("FORECAST_RUN_RATE_PENCE", "run rate"))
    shown = variance_rows(result, by, "budget", forecasts)
    print_table(shown, title=f"budget monitoring by {level}")


@monitor.command("trend")
@click.option("--year", required=True, help="The financial year, like 2007/08.")
@click.option("--indicator", type=click.Choice([*RATES, *RATIOS, REFERRALS]), required=True)
@click.option("--code", required=True, help="A practice, cluster or commissioner code.")
@click.option("--specialty", help="For referrals: one specialty (treatment function code).")
@click.option("--improvement", type=click.Choice(["increase", "decrease", "neutral"]), default="decrease")
@json_option
def trend(year: str, indicator: str, code: str, specialty: str | None, improvement: str, as_json: bool) -> None:
    """A monthly trend indicator for one practice, cluster or commissioner, read as an SPC (XmR) chart."""
    settings = load_settings()
    rows = mart(Warehouse(settings.warehouse_dir), "trends", year).to_pylist()
    series: dict[dt.date, list[float]] = {}
    for r in rows:
        if r["CODE"] == code and r["INDICATOR"] == indicator and (specialty is None or r["BREAKDOWN"] == specialty):
            series.setdefault(r["MONTH"], [0, 0.0])
            series[r["MONTH"]][0] += r["NUMERATOR"]
            series[r["MONTH"]][1] = r["DENOMINATOR"]
    if not series:
        raise click.BadParameter(f"no {indicator} figures for {code} in {year}", param_hint="--code")
    months = sorted(series)
    if indicator in RATIOS:
        values = [series[m][0] / series[m][1] if series[m][1] else 0.0 for m in months]
    else:
        values = [series[m][0] * 1000 / series[m][1] if series[m][1] else 0.0 for m in months]
    chart = xmr(values, improvement=improvement)  # type: ignore[arg-type]
    if as_json:
        print_json({"months": months, "values": values, "spc": chart.to_dict()})
        return
    unit = "ratio" if indicator in RATIOS else "per 1,000 weighted patients"
    print_table(
        [
            {
                "month": f"{m:%b %Y}",
                "count": series[m][0],
                "value": f"{v:.3f}",
                "signal": ", ".join(p.rules) if (p := chart.points[i]).rules else "",
                "variation": p.variation,
            }
            for i, (m, v) in enumerate(zip(months, values, strict=True))
        ],
        title=f"{indicator} ({unit}), {code}",
    )
    say(
        f"mean {chart.mean:.3f}, process limits {chart.lower_process_limit:.3f} to {chart.upper_process_limit:.3f}"
        + (" (trial limits: fewer than 12 points)" if chart.trial_limits else "")
    )
