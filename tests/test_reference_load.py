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


def _first_line_again(text: str) -> str:
    return text + text.splitlines()[0] + "\n"


def _second_line_again(text: str) -> str:
    return text + text.splitlines()[1] + "\n"


def _drop_last_field(text: str) -> str:
    lines = text.splitlines()
    lines[0] = lines[0].rsplit(",", 1)[0]
    return "\n".join(lines) + "\n"


# Each reference file, broken each way that applies to it; every one must be refused with nothing stored.
BROKEN = [
    ("ods/epraccur.csv", lambda t: t.replace('"19740401"', '"19740431"', 1), r"epraccur\.csv, row 1, field open_date"),
    ("ods/epraccur.csv", lambda t: t.replace('","', '";"'), r"epraccur\.csv, row 1: looks semicolon-delimited"),
    ("ods/epraccur.csv", _drop_last_field, r"epraccur\.csv, row 1: expected 27 fields, found 26"),
    ("ods/epraccur.csv", _first_line_again, r"epraccur\.csv, row 14358, field code: duplicate A81001"),
    ("ods/etr.csv", lambda t: t.replace(",", ";"), r"etr\.csv, row 1: looks semicolon-delimited"),
    ("ods/etr.csv", _drop_last_field, r"etr\.csv, row 1: expected 24 fields, found 23"),
    ("ods/etr.csv", lambda t: t.replace(",20110701,", ",2011-07-01,", 1), r"etr\.csv, row 1, field open_date"),
    ("ods/etr.csv", _first_line_again, r"etr\.csv, row 242, field code: duplicate R1A"),
    ("london_pcts.csv", lambda t: t.replace("approx_population", "population"), r"approx_population: required column"),
    ("london_pcts.csv", lambda t: t.replace(",", "|"), r"london_pcts\.csv, row 1: looks pipe-delimited"),
    ("london_pcts.csv", lambda t: t.replace("270000", "about 270k"), r"row 14, field approx_population: 'about 270k'"),
    ("london_pcts.csv", _second_line_again, r"row 33, field pct: duplicate Barnet PCT"),
    (
        "london_pcts.csv",
        lambda t: t + "North West,Ambridge PCT,1000\n",
        r"row 33, field pct: 'Ambridge PCT' has no ODS",
    ),
    ("brent_clusters.csv", lambda t: t.replace("Brent PCT", "Ambridge PCT", 1), r"unknown PCT 'Ambridge PCT'"),
    ("brent_clusters.csv", lambda t: t.replace("2005-06-15", "15 June 2005"), r"row 2, field workshop_date"),
    ("brent_clusters.csv", _second_line_again, r"row 7, field pct, cluster: duplicate Brent PCT/Harlesden"),
    ("brent_clusters.csv", lambda t: t.replace("workshop_date", "date"), r"workshop_date: required column missing"),
    ("lead_commissioners_2006_07.csv", lambda t: t + "Brent PCT,St Elsewhere NHS Trust\n", r"unknown provider"),
    (
        "lead_commissioners_2006_07.csv",
        lambda t: t.replace("Brent PCT,North West", "Ambridge PCT,North West"),
        r"row 5, field lead_pct: unknown PCT 'Ambridge PCT'",
    ),
    (
        "lead_commissioners_2006_07.csv",
        lambda t: t + "Kingston PCT,Kingston Hospital NHS Trust\n",
        r"row 35, field provider: duplicate Kingston Hospital NHS Trust: already given on row 22",
    ),
    ("lead_commissioners_2006_07.csv", lambda t: t.replace(",", "\t"), r"looks tab-delimited"),
]


@pytest.mark.parametrize(
    ("file", "mangle", "pattern"), BROKEN, ids=[f"{f.rsplit('/', 1)[-1]}-{i}" for i, (f, _, _) in enumerate(BROKEN)]
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
