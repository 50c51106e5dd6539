"""`pbc demo`: set up a demonstration commissioner from nothing and show what was loaded."""

from __future__ import annotations

import click

from pbc.cli.output import print_table, say
from pbc.engines import connect
from pbc.keys import ensure_keys
from pbc.orgs import practices_of, tree_summary
from pbc.reference.load import load_reference, status_setting_pivot
from pbc.settings import load_settings
from pbc.warehouse import Warehouse

DEMO_CCG = "07P"


@click.command()
def demo() -> None:
    """Set up the demo: keys, the real reference data, and a summary of the organisation tree."""
    settings = load_settings()
    warehouse = Warehouse(settings.warehouse_dir)
    say(f"[1/3] keys in {settings.keys_dir}")
    for purpose, path in ensure_keys(settings).items():
        say(f"      generated the {purpose} key at {path}")
    say("[2/3] loading reference data (ODS practices and trusts, London commissioners, Brent clusters)")
    result = load_reference(warehouse)
    say("      " + ", ".join(f"{name} {rows:,}" for name, rows in result.rows.items()))
    say(f"[3/3] the organisation tree (engine: {settings.engine})")
    con = connect(settings)
    print_table(tree_summary(con, warehouse).to_pyarrow().to_pylist(), title="organisations by kind and status")
    counts = status_setting_pivot(result.details["practice_counts"])  # type: ignore[arg-type]
    print_table(counts, title="practice file: organisations by prescribing setting and status")
    brent = practices_of(con, warehouse, DEMO_CCG, active_gp_only=True).to_pyarrow()
    say(
        f"Brent ({DEMO_CCG}) has {brent.num_rows} active GP practices; `pbc orgs --commissioner {DEMO_CCG}` lists them."
    )
