"""`pbc demo`: set up a demonstration commissioner from nothing and show what was loaded."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pyarrow.compute as pc

from pbc.cli.output import print_table, say
from pbc.engines import connect
from pbc.ingest.load import Ingest
from pbc.keys import ensure_keys
from pbc.orgs import children, practices_of, tree_summary
from pbc.quality.run import run_quality
from pbc.reference.load import LISTS, load_reference, status_setting_pivot
from pbc.settings import load_settings
from pbc.synth.config import SynthConfig
from pbc.warehouse import Warehouse

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
def demo() -> None:
    """Set up the demo: keys, the real reference data, a synthetic Brent PCT, and a summary of its tree."""
    settings = load_settings()
    warehouse = Warehouse(settings.warehouse_dir)
    say(f"[1/5] keys in {settings.keys_dir}")
    for purpose, path in ensure_keys(settings).items():
        say(f"      generated the {purpose} key at {path}")
    say("[2/5] loading reference data (ODS practices and trusts, London commissioners, Brent clusters)")
    result = load_reference(warehouse)
    say("      " + ", ".join(f"{name} {rows:,}" for name, rows in result.rows.items()))
    say(f"[3/5] the synthetic commissioner: Brent PCT ({DEMO_PCT}), 2005/06 to 2007/08, seed {DEMO_SEED}")
    synthetic = _synthetic_brent(settings.home)
    manifest = json.loads((synthetic / "manifest.json").read_text())
    say(
        "      "
        + ", ".join(f"{name} {rows:,} rows" for name, rows in manifest["rows"].items())
        + f"; extracts in {synthetic / 'extracts'}"
    )

    say("[4/5] ingesting the synthetic extracts and running the data quality rules")
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

    say(f"[5/5] the organisation tree (engine: {settings.engine})")
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
    say("Try: pbc orgs --commissioner 5K5 --on 2006-10-01")
    say("     pbc quality practice --practice E84002 --month 2007-04 --dataset op")
    say(f"     pbc quality score --truth {synthetic}/truth/faults.csv")
    say(f"     pbc synth --report {synthetic}")
