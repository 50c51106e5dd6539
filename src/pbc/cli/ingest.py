"""`pbc ingest`: load extracts and reference files into the warehouse, checked and pseudonymised."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from pbc.cli.output import json_option, print_json, print_table, say
from pbc.ingest.load import Ingest
from pbc.settings import load_settings
from pbc.warehouse import Warehouse


@click.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--received",
    default="today",
    show_default=True,
    metavar="DATE|today|on-time",
    help="When the files arrived, for the freeze-date check; 'on-time' replays history as if each month "
    "arrived on the 10th of the next month.",
)
@click.option("--force", is_flag=True, help="Replace a month after its freeze date (needs --reason).")
@click.option("--reason", help="Why a frozen month is being replaced; recorded in the load log.")
@json_option
def ingest(paths: tuple[Path, ...], received: str, force: bool, reason: str | None, as_json: bool) -> None:
    """Check, pseudonymise and store extracts (APC, OP, A&E, referrals) and reference files found in PATHS.

    Files or folders; in a folder, CSV files that are not a known data set are skipped. Broken rows are
    quarantined with their row, field and reason; broken files are refused and store nothing. Loading the same
    file twice changes nothing.
    """
    if force and not reason:
        raise click.UsageError('--force needs --reason "why this frozen month is replaced"')
    settings = load_settings()
    started = time.perf_counter()
    results = Ingest(
        settings,
        Warehouse(settings.warehouse_dir),
        received,
        reason if force else None,
        progress=(lambda _: None) if as_json else say,
    ).run(list(paths))
    seconds = time.perf_counter() - started
    counted = [r for r in results if r.outcome != "skipped"]
    refused = [r for r in counted if r.outcome == "refused"]
    if as_json:
        print_json(
            {
                "seconds": round(seconds, 2),
                "files": [r.__dict__ for r in counted],
                "skipped": [r.path for r in results if r.outcome == "skipped"],
            }
        )
    else:
        totals = {
            "files": len(counted),
            "rows in": sum(r.rows_in for r in counted),
            "stored": sum(r.stored for r in counted),
            "quarantined": sum(r.quarantined for r in counted),
            "refused files": len(refused),
            "seconds": round(seconds, 1),
        }
        print_table([{k: f"{v:,}" if isinstance(v, int) else v for k, v in totals.items()}], title="ingest")
        for r in refused:
            click.echo(f"refused {r.path}:\n  " + r.message.replace("\n", "\n  "), err=True)
    if refused:
        sys.exit(65)
