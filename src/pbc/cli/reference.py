"""`pbc reference`: load the organisation tree, list sizes and locality memberships into the warehouse."""

from __future__ import annotations

from pathlib import Path

import click

from pbc.cli.output import json_option, print_json, print_table, say
from pbc.reference.load import (
    LoadResult,
    load_list_sizes,
    load_locality_memberships,
    load_reference,
    status_setting_pivot,
)
from pbc.settings import load_settings
from pbc.warehouse import Warehouse

_existing_file = click.Path(exists=True, dir_okay=False, path_type=Path)


def _warehouse() -> Warehouse:
    return Warehouse(load_settings().warehouse_dir)


def _report(result: LoadResult, as_json: bool) -> None:
    if as_json:
        print_json(
            {
                "namespace": result.namespace,
                "rows": result.rows,
                "sources": [s.__dict__ for s in result.sources],
                **result.details,
            }
        )
        return
    for source in result.sources:
        say(f"read {source.path} ({source.bytes:,} bytes, sha256 {source.sha256[:12]})")
    print_table([{"table": k, "rows": f"{v:,}"} for k, v in result.rows.items()], title=f"stored: {result.namespace}")


@click.group()
def reference() -> None:
    """Load reference data: ODS practices and trusts, London commissioners, clusters, list sizes."""


@reference.command("load")
@click.option(
    "--from",
    "folder",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Reference folder (default: the files shipped with pbc).",
)
@json_option
def load(folder: Path | None, as_json: bool) -> None:
    """Check and store the organisation tree from a reference folder; on any problem nothing is stored."""
    result = load_reference(_warehouse(), folder)
    _report(result, as_json)
    if not as_json:
        counts = status_setting_pivot(result.details["practice_counts"])  # type: ignore[arg-type]
        print_table(counts, title="practice file: organisations by prescribing setting and status")


@reference.command("lists")
@click.argument("path", type=_existing_file)
@json_option
def lists(path: Path, as_json: bool) -> None:
    """Load an NHS Digital quinary list-size file (an extract date already loaded is replaced)."""
    _report(load_list_sizes(_warehouse(), path), as_json)


@reference.command("localities")
@click.argument("path", type=_existing_file)
@json_option
def localities(path: Path, as_json: bool) -> None:
    """Load locality (cluster) memberships: practice_code, locality_code, effective_from, effective_to."""
    _report(load_locality_memberships(_warehouse(), path), as_json)
