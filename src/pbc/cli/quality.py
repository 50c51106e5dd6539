"""`pbc quality`: the data quality rules, their findings, a practice's worklist, and scoring against a truth."""

from __future__ import annotations

from pathlib import Path

import click

from pbc.cli.output import json_option, print_json, print_table, say
from pbc.engines import connect
from pbc.quality.rules import catalogue
from pbc.quality.run import practice_lines, run_quality, score
from pbc.settings import load_settings
from pbc.warehouse import Warehouse


@click.group()
def quality() -> None:
    """Data quality: run the rules over the stored activity, list findings, score them."""


@quality.command("rules")
@json_option
def rules(as_json: bool) -> None:
    """List the rule catalogue: id, name, severity, who acts, data sets."""
    rows = [
        {
            "id": r.id,
            "name": r.name,
            "severity": r.severity,
            "acts": r.acts,
            "datasets": ",".join(r.datasets),
            "title": r.title,
        }
        for r in catalogue()
    ]
    if as_json:
        print_json([{**row, "description": r.description} for row, r in zip(rows, catalogue(), strict=True)])
        return
    print_table(rows, title="data quality rules")


@quality.command("run")
@json_option
def run(as_json: bool) -> None:
    """Run every rule over the current activity and store the findings and practice-month summaries."""
    settings = load_settings()
    result = run_quality(connect(settings), Warehouse(settings.warehouse_dir))
    if as_json:
        print_json(result)
        return
    print_table(
        [{"rule": k, "findings": f"{v:,}"} for k, v in result["findings_by_rule"].items()],
        title=f"{result['findings']:,} findings",
    )
    if result["pending"]:
        say(f"pending: {', '.join(result['pending'])} (the claims audit needs a tariff: ingest the tariff files)")


@quality.command("score")
@click.option(
    "--truth",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="truth/faults.csv from `pbc synth`.",
)
@json_option
def score_command(truth: Path, as_json: bool) -> None:
    """Precision and recall of the findings per injected fault type."""
    settings = load_settings()
    result = score(Warehouse(settings.warehouse_dir), truth)
    if as_json:
        print_json(result)
        return
    print_table([{"fault": k, **v} for k, v in result.items()], title=f"findings against {truth}")


@quality.command("practice")
@click.option("--practice", required=True, metavar="CODE", help="Practice code, e.g. E84002.")
@click.option("--month", required=True, metavar="YYYY-MM", help="Month of activity.")
@click.option("--dataset", type=click.Choice(["apc", "op", "ae", "referrals"]), default="apc", show_default=True)
@json_option
def practice(practice: str, month: str, dataset: str, as_json: bool) -> None:
    """A practice's lines for a month with the rules each broke: the data behind its monthly report."""
    settings = load_settings()
    table = practice_lines(connect(settings), Warehouse(settings.warehouse_dir), practice, month, dataset)
    rows = table.drop_columns([c for c in ("SUBMISSION", "ROW_NUMBER") if c in table.column_names]).to_pylist()
    if as_json:
        print_json(rows)
        return
    flagged = sum(1 for r in rows if r["FLAGS"])
    say(f"{practice} {month} {dataset}: {len(rows)} lines, {flagged} with findings (patients shown as pseudonyms)")
    from pbc.ingest.contracts import load_contracts

    key = load_contracts()[dataset].key
    shown = ["PROCODE", key, "ACTIVITY_DATE", "TRETSPEF", "LOCALITY", "COMMISSIONER", "FLAGS"]
    print_table(rows[:50], columns=[c for c in shown if rows and c in rows[0]])
    if len(rows) > 50:
        say(f"... and {len(rows) - 50} more lines (use --json for all)")
