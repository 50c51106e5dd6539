"""Quality rules: they find the injected faults, agree across engines, and feed the practice's monthly report."""

from __future__ import annotations

import csv
import shutil

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from pbc.engines import connect
from pbc.ingest.load import Ingest
from pbc.keys import ensure_keys
from pbc.quality.rules import CHECKS, catalogue, findings
from pbc.quality.run import QUALITY, practice_lines, run_quality, score
from pbc.settings import Settings
from pbc.synth.config import DEFAULT_FAULT_RATES
from pbc.warehouse import Warehouse


def _loaded(tmp_path, reference_warehouse, folder) -> Settings:
    settings = Settings(home=tmp_path)
    shutil.copytree(reference_warehouse.root, settings.warehouse_dir)
    ensure_keys(settings)
    Ingest(settings, Warehouse(settings.warehouse_dir), "on-time").run([folder])
    return settings


@pytest.fixture(scope="module")
def brent_home(tmp_path_factory, reference_warehouse, brent) -> Settings:
    return _loaded(tmp_path_factory.mktemp("brent_home"), reference_warehouse, brent[0])


@pytest.fixture(scope="module")
def small_home(tmp_path_factory, reference_warehouse, small_brent) -> Settings:
    return _loaded(tmp_path_factory.mktemp("small_home"), reference_warehouse, small_brent)


def test_every_injected_fault_is_found_with_precision_and_recall_of_at_least_095(brent_home, brent):
    warehouse = Warehouse(brent_home.warehouse_dir)
    run_quality(connect(brent_home), warehouse)
    result = score(warehouse, brent[0] / "truth" / "faults.csv")
    assert not [fault for fault, figures in result.items() if figures["pending"]]
    assert set(result) == set(DEFAULT_FAULT_RATES)
    for fault, figures in result.items():
        assert figures["injected"] > 0, fault
        assert figures["precision"] >= 0.95, (fault, figures)
        assert figures["recall"] >= 0.95, (fault, figures)


def test_rules_agree_on_duckdb_and_spark(small_home, on_every_engine):
    warehouse = Warehouse(small_home.warehouse_dir)
    _, rows = on_every_engine(lambda c: findings(c, warehouse)[0])
    assert len(rows) > 10


def test_practice_months_account_for_every_line(small_home):
    warehouse = Warehouse(small_home.warehouse_dir)
    con = connect(small_home)
    result = run_quality(con, warehouse)
    months = warehouse.read(QUALITY, "practice_months")
    from pbc.activity import activity

    for dataset in ("apc", "op", "ae", "referrals"):
        mine = months.filter(pc.equal(months["DATASET"], dataset))
        assert pc.sum(mine["LINES"]).as_py() == activity(con, warehouse, dataset).count().execute()
    assert pc.sum(months["FLAGGED"]).as_py() <= result["findings"]


def test_a_practice_sees_its_lines_with_their_flags(small_home):
    warehouse = Warehouse(small_home.warehouse_dir)
    con = connect(small_home)
    run_quality(con, warehouse)
    found = warehouse.read(QUALITY, "findings")
    flagged = found.filter(pc.equal(found["DATASET"], "op")).slice(0, 1).to_pylist()[0]
    from pbc.quality.attribution import attribute

    lines = attribute(con, warehouse, "op")
    line = lines.filter(lines.ATTENDKEY == flagged["RECORD_KEY"]).to_pyarrow().to_pylist()[0]
    month = line["ACTIVITY_DATE"].strftime("%Y-%m")
    worklist = practice_lines(con, warehouse, line["PRACTICE"], month, "op")
    assert set(worklist["PRACTICE"].to_pylist()) == {line["PRACTICE"]}
    mine = worklist.filter(pc.equal(worklist["ATTENDKEY"], flagged["RECORD_KEY"])).to_pylist()[0]
    assert flagged["RULE_ID"] in mine["FLAGS"]
    assert "NEWNHSNO" not in worklist.column_names


def test_every_rule_has_a_check_and_is_documented():
    from pathlib import Path

    docs = (Path(__file__).parents[2] / "docs" / "ingest.md").read_text()
    for rule in catalogue():
        assert rule.name in CHECKS
        assert rule.id in docs, rule.id


def test_attribution_places_known_practices_in_their_cluster_and_commissioner(small_home, small_brent):
    warehouse = Warehouse(small_home.warehouse_dir)
    from pbc.quality.attribution import attribute

    lines = attribute(connect(small_home), warehouse, "apc").to_pyarrow()
    ours = {r["practice_code"] for r in csv.DictReader((small_brent / "reference" / "practices.csv").open())}
    known = lines.filter(pc.is_in(lines["PRACTICE"], value_set=pa.array(sorted(ours))))
    assert set(known["COMMISSIONER"].to_pylist()) == {"5K5"}
    assert pc.all(pc.starts_with(known["LOCALITY"], "5K5-")).as_py()
    unknown = lines.filter(pc.invert(pc.is_in(lines["PRACTICE"], value_set=pa.array(sorted(ours)))))
    assert set(unknown["COMMISSIONER"].to_pylist()) <= {None}
