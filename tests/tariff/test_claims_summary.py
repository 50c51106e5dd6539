"""Claims audit summed per provider and month: the same sums as adding the priced lines one by one, on any engine."""

from __future__ import annotations

import csv
import json
from collections import defaultdict

import pytest
from click.testing import CliRunner

from pbc.cli import main
from pbc.engines import connect
from pbc.ingest.contracts import load_contracts
from pbc.tariff.audit import claims_audit, claims_summary
from pbc.tariff.pricing import price
from pbc.warehouse import Warehouse


def _by_hand(rows: list[dict], period: str) -> dict[tuple[str, str], dict[str, int]]:
    """The reference: every figure added up one line at a time."""
    out: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        figures = out[(row["PROCODE"], row[period].strftime("%Y-%m"))]
        claimed = row["CLAIMED_PRICE_PENCE"] or 0
        difference = claimed - row["PRICE_PENCE"]
        figures["LINES"] += 1
        figures["CLAIMED_PENCE"] += claimed
        figures["PRICE_PENCE"] += row["PRICE_PENCE"]
        figures["OVERCHARGED_LINES"] += difference > 0
        figures["OVERCHARGED_PENCE"] += max(difference, 0)
        figures["UNDERCHARGED_LINES"] += difference < 0
        figures["UNDERCHARGED_PENCE"] += max(-difference, 0)
        figures["UNPRICED_LINES"] += not row["PRICED"]
        figures["NET_PENCE"] += difference
    return out


@pytest.mark.parametrize("dataset", ["apc", "op", "ae"])
def test_summary_equals_the_lines_added_one_by_one(con, brent_home, dataset):
    warehouse = Warehouse(brent_home.warehouse_dir)
    period = load_contracts()[dataset].period
    rows = price(con, warehouse, dataset).to_pyarrow().to_pylist()
    expected = _by_hand(rows, period)
    summary = claims_summary(con, warehouse, dataset).to_pyarrow().to_pylist()
    assert len(summary) == len(expected)
    for row in summary:
        figures = expected[(row["PROCODE"], row["MONTH"])]
        for name, value in figures.items():
            assert row[name] == value, (row["PROCODE"], row["MONTH"], name)
    assert sum(r["OVERCHARGED_LINES"] + r["UNDERCHARGED_LINES"] for r in summary) == (
        claims_audit(con, warehouse, dataset).count().execute()
    )


def test_cli_writes_the_lines_to_challenge(brent_home, tmp_path, monkeypatch):
    monkeypatch.setenv("PBC_HOME", str(brent_home.home))
    out = tmp_path / "challenge.csv"
    result = CliRunner().invoke(
        main, ["audit", "claims", "--dataset", "apc", "--lines", str(out), "--json"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    with out.open() as handle:
        lines = list(csv.DictReader(handle))
    assert len(lines) == sum(r["OVERCHARGED_LINES"] + r["UNDERCHARGED_LINES"] for r in summary)
    assert lines
    assert "NEWNHSNO" not in lines[0]
    warehouse = Warehouse(brent_home.warehouse_dir)
    assert len(lines) == claims_audit(connect(brent_home), warehouse, "apc").count().execute()
