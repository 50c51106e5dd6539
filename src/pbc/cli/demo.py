"""`pbc demo`: set up a demonstration commissioner from nothing and show what was loaded."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING

import click
import ibis
import pyarrow.compute as pc

from pbc.challenges import Ledger
from pbc.cli.budget import shipped_scheme
from pbc.cli.output import pounds, print_table, say
from pbc.engines import connect
from pbc.finance.budgets import make_budget
from pbc.finance.marts import mart, refresh
from pbc.finance.runs import keep_run
from pbc.finance.scheme import read_scheme
from pbc.finance.variance import position, summarise
from pbc.ingest.load import Ingest
from pbc.keys import ensure_keys
from pbc.orgs import children, practices_of, tree_summary
from pbc.provider_contracts.monitoring import lead_providers
from pbc.provider_contracts.monitoring import monthly as contract_months
from pbc.provider_contracts.plan import Growth, keep_drafted_plan
from pbc.quality.run import run_quality
from pbc.reference.load import LISTS, load_reference, status_setting_pivot
from pbc.settings import Settings, load_settings
from pbc.synth.config import SynthConfig
from pbc.warehouse import Warehouse

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

DEMO_CCG = "07P"
DEMO_PCT = "5K5"
DEMO_SEED = 1


def _synthetic_brent(home: Path) -> Path:
    """The demo's synthetic Brent, made once per PBC_HOME and seed (it is deterministic, so it is kept)."""
    folder = home / "synth" / f"brent-seed{DEMO_SEED}"
    manifest = folder / "manifest.json"
    if manifest.exists() and json.loads(manifest.read_text()).get("seed") == DEMO_SEED:
        say(f"      already made in {folder}")
        return folder
    if folder.exists():
        raise click.ClickException(f"{folder} holds an unfinished synthetic commissioner: remove it and run again")
    from pbc.synth.generate import generate

    generate(SynthConfig(seed=DEMO_SEED), folder, progress=lambda line: say(f"      {line}"))
    return folder


@click.command()
@click.option("--serve/--no-serve", default=False, help="End by serving the web application (make demo does).")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
def demo(serve: bool, port: int) -> None:
    """Set up the demo: keys, reference data, a synthetic Brent PCT, its budgets, monitoring and contracts.

    With --serve it ends by serving the web application on http://127.0.0.1:PORT with monitoring as at
    September 2007, and prints a login for each role.
    """
    settings = load_settings()
    warehouse = Warehouse(settings.warehouse_dir)
    say(f"[1/7] keys in {settings.keys_dir}")
    for purpose, path in ensure_keys(settings).items():
        say(f"      generated the {purpose} key at {path}")
    say("[2/7] loading reference data (ODS practices and trusts, London commissioners, Brent clusters)")
    result = load_reference(warehouse)
    say("      " + ", ".join(f"{name} {rows:,}" for name, rows in result.rows.items()))
    say(f"[3/7] the synthetic commissioner: Brent PCT ({DEMO_PCT}), 2005/06 to 2007/08, seed {DEMO_SEED}")
    synthetic = _synthetic_brent(settings.home)
    manifest = json.loads((synthetic / "manifest.json").read_text())
    say(
        "      "
        + ", ".join(f"{name} {rows:,} rows" for name, rows in manifest["rows"].items())
        + f"; extracts in {synthetic / 'extracts'}"
    )

    say("[4/7] ingesting the synthetic extracts and running the data quality rules")
    results = Ingest(settings, warehouse, "on-time").run([synthetic])
    counted = [r for r in results if r.outcome != "skipped"]
    say(
        "      "
        + ", ".join(
            f"{sum(1 for r in counted if r.outcome == o)} {o}"
            for o in ("stored", "replaced", "already loaded", "refused")
        )
    )
    say(f"      {sum(r.stored for r in counted):,} rows stored, {sum(r.quarantined for r in counted):,} quarantined")
    con = connect(settings)
    quality = run_quality(con, warehouse)
    print_table(
        [{"rule": k, "findings": f"{v:,}"} for k, v in quality["findings_by_rule"].items()],
        title=f"data quality: {quality['findings']:,} findings (pending: {', '.join(quality['pending']) or 'none'})",
    )

    say(f"[5/7] the organisation tree (engine: {settings.engine})")
    print_table(tree_summary(con, warehouse).to_pyarrow().to_pylist(), title="organisations by kind and status")
    counts = status_setting_pivot(result.details["practice_counts"])  # type: ignore[arg-type]
    print_table(counts, title="practice file: organisations by prescribing setting and status")
    brent = practices_of(con, warehouse, DEMO_CCG, active_gp_only=True).to_pyarrow()
    say(f"Brent CCG ({DEMO_CCG}) has {brent.num_rows} active GP practices in the 2019 ODS file.")
    lists = warehouse.read(LISTS, "registered_lists")
    latest = pc.max(lists["extract_date"]).as_py()
    lists = lists.filter(pc.equal(lists["extract_date"], latest))
    patients = dict(
        zip(
            *(
                lists.group_by("practice_code").aggregate([("patients", "sum")]).column(c).to_pylist()
                for c in ("practice_code", "patients_sum")
            ),
            strict=True,
        )
    )
    rows = []
    for locality in children(con, warehouse, DEMO_PCT).to_pyarrow().to_pylist():
        members = practices_of(con, warehouse, DEMO_PCT, on=latest).to_pyarrow()
        mine = members.filter(pc.equal(members["locality_code"], locality["code"]))["code"].to_pylist()
        rows.append(
            {
                "cluster": locality["name"],
                "code": locality["code"],
                "practices": len(mine),
                "registered patients": f"{sum(patients.get(c, 0) for c in mine):,}",
            }
        )
    print_table(rows, title=f"Brent PCT's clusters on {latest} (synthetic lists; practices placed by postcode)")
    _budgets_and_contracts(settings, con, warehouse)
    say("Try: pbc orgs --commissioner 5K5 --on 2006-10-01")
    say("     pbc quality practice --practice E84002 --month 2007-04 --dataset op")
    say(f"     pbc quality score --truth {synthetic}/truth/faults.csv")
    say(f"     pbc synth --report {synthetic}")
    say("     pbc monitor show --year 2007/08 --month 2007-12 --level practice --code 5K5-WEMBLEY --by-pod")
    say("     pbc monitor trend --year 2007/08 --indicator emergency_admissions --code 5K5")
    say("     pbc contract monitor --year 2007/08 --lead 5K5 --level pod")
    if serve:
        _serve(settings, port)


def _serve(settings: Settings, port: int) -> None:
    """Create the demo users, print their logins, and serve the web app as at September 2007."""
    from pbc.cli.web import serve as serve_command
    from pbc.cli.web import show_logins
    from pbc.web.setup import demo_users, start_django

    start_django()
    show_logins(demo_users(settings.home), f"demo logins for http://127.0.0.1:{port}/ (also: pbc demo-users)")
    serve_command.callback(host="127.0.0.1", port=port, as_at="2007-09", threads=4, workers=None)  # type: ignore[misc]


def _budgets_and_contracts(settings: Settings, con: BaseBackend, warehouse: Warehouse) -> None:
    """Steps 6 and 7: Brent's 2007/08 indicative budgets and their monitoring; contract plans and monitoring."""
    accepted = Ledger(settings.home).accepted_lines()
    scheme_path = shipped_scheme()
    scheme, digest = read_scheme(scheme_path)
    say(f"[6/7] {scheme.name}: budgets set from {scheme_path.name}, then monitored month by month")
    made, inputs = make_budget(con, warehouse, scheme, accepted)
    run_id = keep_run(warehouse, scheme, digest, scheme_path, made, inputs, accepted.num_rows)
    refresh(con, warehouse, scheme.budget_year, run_id, accepted)
    rows = mart(warehouse, "budget_monitoring", scheme.budget_year)
    where = position([], scheme.budget_year, settings, dt.date(2007, 12, 1), dt.date.today())
    result = summarise(ibis.memtable(rows.to_pandas()), ["LOCALITY"], where).to_pylist()
    print_table(
        [
            {
                "cluster": r["LOCALITY"],
                "ytd budget": pounds(r["YTD_PLAN_PENCE"]),
                "ytd actual": pounds(r["YTD_ACTUAL_PENCE"]),
                "variance": f"{pounds(r['YTD_VARIANCE_PENCE'])} ({r['YTD_VARIANCE_PERCENT']:+.1f}%)",
                "annual budget": pounds(r["ANNUAL_PLAN_PENCE"]),
                "forecast outturn": pounds(r["FORECAST_SEASONAL_PENCE"]),
            }
            for r in result
        ],
        title=f"budget monitoring 2007/08, April to December 2007 (run {run_id})",
    )
    say("[7/7] contract plans for 2007/08 drafted from 2006/07 (3% growth), monitored for the contracts 5K5 leads")
    keep_drafted_plan(con, warehouse, "2007/08", "2006/07", Growth(300), accepted)
    table = contract_months(con, warehouse, "2007/08", accepted)
    table = table.filter(table.PROCODE.isin(lead_providers(con, warehouse, DEMO_PCT, "2007/08")))
    contracts = summarise(table, ["PROCODE", "POD"], position([], "2007/08", settings, None, dt.date.today()))
    print_table(
        [
            {
                "provider": r["PROCODE"],
                "POD": r["POD"],
                "ytd plan": pounds(r["YTD_PLAN_PENCE"]),
                "ytd actual": pounds(r["YTD_ACTUAL_PENCE"]),
                "variance": pounds(r["YTD_VARIANCE_PENCE"]),
            }
            for r in contracts.to_pylist()
        ],
        title="contracts led by Brent PCT, 2007/08 to March 2008",
    )
