"""`pbc orgs`: show the organisation tree."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click

from pbc import orgs as tree
from pbc.cli.output import json_option, print_json, print_table, say
from pbc.engines import connect
from pbc.errors import PbcError
from pbc.reference.london import LONDON_REGION_CODE
from pbc.settings import load_settings
from pbc.warehouse import Warehouse


def _rows(expr: Any) -> list[dict[str, Any]]:
    return expr.to_pyarrow().to_pylist()


@click.command("orgs")
@click.option("--commissioner", metavar="CODE", help="List a commissioner's localities and practices (e.g. 07P, 5K5).")
@click.option("--on", "on", type=click.DateTime(formats=["%Y-%m-%d"]), help="Only memberships in force on this date.")
@click.option("--active", is_flag=True, help="Only active GP practices (status A, prescribing setting 4).")
@json_option
def orgs(commissioner: str | None, on: dt.datetime | None, active: bool, as_json: bool) -> None:
    """Show the organisation tree: a summary, or one commissioner's localities and practices."""
    settings = load_settings()
    warehouse = Warehouse(settings.warehouse_dir)
    con = connect(settings)
    day = on.date() if on else None
    if commissioner is None:
        summary = _rows(tree.tree_summary(con, warehouse))
        sectors = _rows(tree.children(con, warehouse, LONDON_REGION_CODE, day))
        if as_json:
            print_json({"organisations": summary, "london_sectors": sectors})
            return
        print_table(summary, title="organisations by kind and status")
        for sector in sectors:
            pcts = _rows(tree.children(con, warehouse, sector["code"], day))
            say(f"{sector['name']} ({sector['code']}): " + ", ".join(f"{p['name']} {p['code']}" for p in pcts))
        return
    found = _rows(tree.organisation(con, warehouse, commissioner))
    if not found or found[0]["kind"] != "commissioner":
        raise PbcError(f"{commissioner!r} is not a commissioner code pbc knows: `pbc orgs` lists them")
    localities = [r for r in _rows(tree.children(con, warehouse, commissioner, day)) if r["kind"] == "locality"]
    practices = _rows(tree.practices_of(con, warehouse, commissioner, day, active))
    if as_json:
        print_json({"commissioner": found[0], "on": day, "localities": localities, "practices": practices})
        return
    name = found[0]["name"] or "(name not in the reference files)"
    say(f"{commissioner} {name}: {len(localities)} localities, {len(practices)} practice memberships")
    if localities:
        print_table(localities, title="localities")
    print_table(
        practices,
        title="practices",
        columns=(
            "code",
            "name",
            "postcode",
            "status",
            "prescribing_setting",
            "open_date",
            "close_date",
            "locality_code",
            "member_from",
            "member_to",
        ),
    )
