"""Loading the reference folder: all or nothing, and the same result however often it is run."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from pbc.errors import InputError
from pbc.reference.load import REFERENCE, load_reference
from tests.helpers import warehouse_state


def test_load_stores_the_tree(reference_warehouse):
    manifest = reference_warehouse.manifest(REFERENCE)
    assert manifest["tables"]["practices"]["rows"] == 14357
    assert manifest["tables"]["trusts"]["rows"] == 241
    assert manifest["tables"]["commissioners"]["rows"] == 31
    assert manifest["tables"]["localities"]["rows"] == 5
    assert manifest["tables"]["lead_commissioners"]["rows"] == 33
    assert {s["path"].rsplit("/", 1)[-1] for s in manifest["sources"]} >= {"epraccur.csv", "etr.csv"}
    gp_active = [
        c for c in manifest["details"]["practice_counts"] if (c["status"], c["prescribing_setting"]) == ("A", 4)
    ]
    assert gp_active[0]["count"] == 6830


def test_reloading_changes_no_figure(loaded_warehouse):
    before = {t: loaded_warehouse.read(REFERENCE, t) for t in ("practices", "organisations", "memberships")}
    load_reference(loaded_warehouse)
    for name, table in before.items():
        assert loaded_warehouse.read(REFERENCE, name).equals(table), name


@pytest.mark.parametrize(
    ("file", "mangle", "pattern"),
    [
        (
            "ods/epraccur.csv",
            lambda t: t.replace('"19740401"', '"19740431"', 1),
            r"epraccur\.csv, row 1, field open_date",
        ),
        ("ods/etr.csv", lambda t: t.replace(",", ";"), r"etr\.csv, row 1: looks semicolon-delimited"),
        (
            "london_pcts.csv",
            lambda t: t.replace("approx_population", "population"),
            r"approx_population: required column",
        ),
        (
            "brent_clusters.csv",
            lambda t: t.replace("Brent PCT", "Ambridge PCT", 1),
            r"unknown PCT 'Ambridge PCT'",
        ),
        (
            "lead_commissioners_2006_07.csv",
            lambda t: t + "Brent PCT,St Elsewhere NHS Trust\n",
            r"unknown provider",
        ),
    ],
    ids=["bad date", "wrong delimiter", "missing column", "unknown parent", "unknown provider"],
)
def test_a_broken_file_stores_nothing(loaded_warehouse, reference_copy, file, mangle, pattern):
    path = reference_copy / file
    path.write_text(mangle(path.read_text(encoding="latin-1")), encoding="latin-1")
    before = warehouse_state(loaded_warehouse)
    with pytest.raises(InputError, match=pattern) as caught:
        load_reference(loaded_warehouse, reference_copy)
    assert "Nothing was stored." in str(caught.value)
    assert warehouse_state(loaded_warehouse) == before


def test_a_missing_file_is_named(loaded_warehouse, reference_copy):
    (reference_copy / "ods" / "etr.csv").unlink()
    with pytest.raises(InputError, match=r"reference file ods/etr\.csv is missing"):
        load_reference(loaded_warehouse, reference_copy)


def test_a_load_killed_while_writing_leaves_the_warehouse_as_it_was(loaded_warehouse, monkeypatch):
    before = warehouse_state(loaded_warehouse)
    written = []
    real_write = pq.write_table

    def dies_on_the_third_table(table, where, *args, **kwargs):
        written.append(where)
        if len(written) == 3:
            raise KeyboardInterrupt("killed")
        return real_write(table, where, *args, **kwargs)

    monkeypatch.setattr(pq, "write_table", dies_on_the_third_table)
    with pytest.raises(KeyboardInterrupt):
        load_reference(loaded_warehouse)
    assert warehouse_state(loaded_warehouse) == before
