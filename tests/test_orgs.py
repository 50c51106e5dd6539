"""Tree queries on both engines: the same answers as a plain reading of the files, on DuckDB and on Spark."""

from __future__ import annotations

import datetime as dt

import pyarrow.compute as pc
import pytest

from pbc import orgs
from pbc.reference.load import REFERENCE, load_locality_memberships
from tests.conftest import normalise
from tests.helpers import write_csv
from tests.test_ods import BRENT_ACTIVE_GP_PRACTICES


def test_brent_active_gp_practices(con, reference_warehouse):
    result = orgs.practices_of(con, reference_warehouse, "07P", active_gp_only=True).to_pyarrow()
    assert sorted(result["code"].to_pylist()) == BRENT_ACTIVE_GP_PRACTICES
    assert set(result["status"].to_pylist()) == {"A"}
    assert str(result.filter(pc.equal(result["code"], "E84002"))["member_from"][0]) == "2013-04-01"


def test_all_brent_ccg_rows_including_closed(con, reference_warehouse):
    result = orgs.practices_of(con, reference_warehouse, "07P").to_pyarrow()
    practices = reference_warehouse.read(REFERENCE, "practices")
    expected = practices.filter(pc.equal(practices["commissioner_code"], "07P"))
    assert sorted(result["code"].to_pylist()) == sorted(expected["code"].to_pylist())
    assert result.num_rows == 88


def test_counts_by_status_and_setting(con, reference_warehouse):
    practices = reference_warehouse.read(REFERENCE, "practices")
    expected = practices.group_by(["status", "prescribing_setting"]).aggregate([("code", "count")])
    expected = expected.rename_columns(["status", "prescribing_setting", "organisations"])
    assert (
        normalise(orgs.practice_counts(con, reference_warehouse))[1]
        == normalise(expected.select(["status", "prescribing_setting", "organisations"]))[1]
    )


def test_tree_summary_agrees_across_engines(on_every_engine, reference_warehouse):
    _names, rows = on_every_engine(lambda c: orgs.tree_summary(c, reference_warehouse))
    counts = {(r[0], r[1]): r[2] for r in rows}
    assert (
        counts[("commissioner", "active")] == 31 + 245
    )  # London PCTs + the 245 CCG codes of the practice file (csv.reader count)
    assert counts[("locality", "active")] == 5
    assert counts[("sector", "active")] == 5
    assert sum(v for (kind, _), v in counts.items() if kind == "practice") == 14357


@pytest.fixture
def brent_clusters(tmp_path, loaded_warehouse):
    """Three Brent practices in clusters, one moving from Harlesden to Willesden on 1 October 2006."""
    path = write_csv(
        tmp_path / "memberships.csv",
        "practice_code,locality_code,effective_from,effective_to",
        [
            "E84002,5K5-HARLESDEN,2005-04-01,2006-09-30",
            "E84002,5K5-WILLESDEN,2006-10-01,",
            "E84003,5K5-KILBURN,2005-04-01,",
            "E84006,5K5-WEMBLEY,2007-01-01,",
        ],
    )
    load_locality_memberships(loaded_warehouse, path)
    return loaded_warehouse


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (dt.date(2005, 6, 1), [("E84002", "5K5-HARLESDEN"), ("E84003", "5K5-KILBURN")]),
        (dt.date(2006, 10, 1), [("E84002", "5K5-WILLESDEN"), ("E84003", "5K5-KILBURN")]),
        (
            dt.date(2007, 3, 31),
            [("E84002", "5K5-WILLESDEN"), ("E84003", "5K5-KILBURN"), ("E84006", "5K5-WEMBLEY")],
        ),
    ],
)
def test_practices_through_localities_on_a_date(con, brent_clusters, day, expected):
    result = orgs.practices_of(con, brent_clusters, "5K5", on=day).to_pyarrow()
    assert sorted(zip(result["code"].to_pylist(), result["locality_code"].to_pylist(), strict=True)) == expected


def test_membership_history_without_a_date(con, brent_clusters):
    result = orgs.practices_of(con, brent_clusters, "5K5").to_pyarrow()
    assert result.num_rows == 4
    assert orgs.practices_of(con, brent_clusters, "07P").to_pyarrow().num_rows == 88


def test_children_of_a_commissioner(con, reference_warehouse):
    rows = orgs.children(con, reference_warehouse, "5K5").to_pyarrow().to_pylist()
    assert [(r["code"], r["kind"]) for r in rows] == [
        ("5K5-HARLESDEN", "locality"),
        ("5K5-KILBURN", "locality"),
        ("5K5-KINGSBURY", "locality"),
        ("5K5-WEMBLEY", "locality"),
        ("5K5-WILLESDEN", "locality"),
    ]
