"""`pbc audit claims`: the PbR claims audit, summed per provider and month, with the lines to challenge."""

from __future__ import annotations

from pathlib import Path

import click
import pyarrow as pa
import pyarrow.csv as pacsv

from pbc.cli.output import json_option, pounds, print_json, print_table, say
from pbc.engines import connect
from pbc.settings import load_settings
from pbc.tariff.audit import claims_audit, claims_summary
from pbc.warehouse import Warehouse

DATASETS = ("apc", "op", "ae")


@click.group()
def audit() -> None:
    """Audits of what providers charge."""


@audit.command("claims")
@click.option("--dataset", type=click.Choice([*DATASETS, "all"]), default="all", show_default=True)
@click.option("--procode", help="Only this provider.")
@click.option(
    "--lines",
    "lines_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the lines to challenge (claimed price differs from pbc's) to this CSV.",
)
@json_option
def claims(dataset: str, procode: str | None, lines_out: Path | None, as_json: bool) -> None:
    """Claimed against recomputed price: over- and under-charges per provider and month of submission."""
    settings = load_settings()
    con, warehouse = connect(settings), Warehouse(settings.warehouse_dir)
    chosen = DATASETS if dataset == "all" else (dataset,)
    summaries, challenges = [], []
    for name in chosen:
        summary = claims_summary(con, warehouse, name)
        differing = claims_audit(con, warehouse, name)
        if procode:
            summary = summary.filter(summary.PROCODE == procode)
            differing = differing.filter(differing.PROCODE == procode)
        summaries.append(summary.to_pyarrow())
        if lines_out is not None:
            challenges.append(differing.to_pyarrow())
    table = pa.concat_tables(summaries)
    if lines_out is not None:
        lines = pa.concat_tables(challenges)
        pacsv.write_csv(lines, lines_out)
        if not as_json:
            say(f"{lines.num_rows:,} lines to challenge written to {lines_out}")
    rows = table.to_pylist()
    if as_json:
        print_json(rows)
        return
    print_table(
        [
            {
                "dataset": r["DATASET"],
                "provider": r["PROCODE"],
                "month": r["MONTH"],
                "lines": f"{r['LINES']:,}",
                "claimed": pounds(r["CLAIMED_PENCE"]),
                "pbc price": pounds(r["PRICE_PENCE"]),
                "overcharged": f"{r['OVERCHARGED_LINES']} / {pounds(r['OVERCHARGED_PENCE'])}",
                "undercharged": f"{r['UNDERCHARGED_LINES']} / {pounds(r['UNDERCHARGED_PENCE'])}",
                "net": pounds(r["NET_PENCE"]),
            }
            for r in rows
        ],
        title="claims audit by provider and month",
    )
    total = sum(r["NET_PENCE"] for r in rows)
    say(f"net over all: {pounds(total)} ({'claimed above' if total > 0 else 'claimed at or below'} pbc's prices)")
