"""The ODS loaders on the real published files, and on broken copies of them."""

from __future__ import annotations

from pathlib import Path

import pyarrow.compute as pc
import pytest

from pbc.errors import InputError
from pbc.reference.load import bundled_reference_dir
from pbc.reference.ods import read_epraccur, read_etr

EPRACCUR = bundled_reference_dir() / "ods" / "epraccur.csv"
ETR = bundled_reference_dir() / "ods" / "etr.csv"

# Figures of the December 2019 epraccur.csv, counted independently of pbc (a plain csv.reader over the file).
STATUS_COUNTS = {"A": 11474, "C": 2427, "D": 451, "P": 5}
GP_PRACTICES_BY_STATUS = {"A": 6830, "C": 1073, "D": 301}
BRENT_ACTIVE_GP_PRACTICES = [
    "E84002", "E84003", "E84006", "E84007", "E84011", "E84012", "E84013", "E84015", "E84017", "E84020",
    "E84021", "E84023", "E84025", "E84028", "E84030", "E84031", "E84032", "E84033", "E84036", "E84042",
    "E84048", "E84049", "E84051", "E84063", "E84066", "E84067", "E84074", "E84076", "E84078", "E84080",
    "E84083", "E84086", "E84620", "E84624", "E84626", "E84635", "E84637", "E84638", "E84645", "E84656",
    "E84665", "E84667", "E84674", "E84678", "E84684", "E84685", "E84696", "E84699", "E84701", "E84702",
    "E84704", "E84709", "Y00206", "Y01090", "Y02692",
]  # fmt: skip


@pytest.fixture(scope="module")
def practices():
    return read_epraccur(EPRACCUR)


def test_every_row_of_the_real_file_is_loaded(practices):
    assert practices.num_rows == 14357
    assert len(set(practices["code"].to_pylist())) == 14357


def test_counts_by_status(practices):
    counts = practices.group_by("status").aggregate([("code", "count")]).to_pylist()
    assert {r["status"]: r["code_count"] for r in counts} == STATUS_COUNTS


def test_gp_practices_are_prescribing_setting_4(practices):
    gp = practices.filter(practices["is_gp_practice"])
    counts = gp.group_by("status").aggregate([("code", "count")]).to_pylist()
    assert {r["status"]: r["code_count"] for r in counts} == GP_PRACTICES_BY_STATUS
    assert pc.all(pc.equal(gp["prescribing_setting"], 4)).as_py()


def test_brent_ccg_active_gp_practices(practices):
    brent = practices.filter(
        pc.and_(
            pc.equal(practices["commissioner_code"], "07P"),
            pc.and_(practices["is_gp_practice"], practices["is_active"]),
        )
    )
    assert sorted(brent["code"].to_pylist()) == BRENT_ACTIVE_GP_PRACTICES


def test_closed_practices_keep_their_dates(practices):
    row = practices.filter(pc.equal(practices["code"], "A81003")).to_pylist()[0]
    assert row["status"] == "C"
    assert str(row["open_date"]) == "1974-04-01"
    assert str(row["close_date"]) == "2017-10-31"


def test_trusts_load_whole():
    trusts = read_etr(ETR)
    assert trusts.num_rows == 241
    row = trusts.filter(pc.equal(trusts["code"], "RAL")).to_pylist()[0]
    assert row["name"] == "ROYAL FREE LONDON NHS FOUNDATION TRUST"
    assert row["postcode"] == "NW3 2QG"


# Broken copies: each problem is named by file, row and field.


def _write(tmp_path: Path, lines: list[str], name: str = "epraccur.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="latin-1")
    return path


def _first_rows(n: int) -> list[str]:
    return EPRACCUR.read_text(encoding="latin-1").splitlines()[:n]


def test_wrong_delimiter(tmp_path):
    lines = [line.replace('","', '";"') for line in _first_rows(3)]
    with pytest.raises(InputError, match=r"epraccur\.csv, row 1: looks semicolon-delimited"):
        read_epraccur(_write(tmp_path, lines))


def test_missing_field(tmp_path):
    lines = _first_rows(3)
    lines[1] = lines[1].rsplit(",", 1)[0]
    with pytest.raises(InputError, match=r"epraccur\.csv, row 2: expected 27 fields, found 26"):
        read_epraccur(_write(tmp_path, lines))


def test_bad_date(tmp_path):
    lines = _first_rows(3)
    lines[2] = lines[2].replace('"19740401"', '"19741301"', 1)
    with pytest.raises(InputError, match=r"row 3, field open_date: '19741301' is not a date in the form YYYYMMDD"):
        read_epraccur(_write(tmp_path, lines))


def test_duplicate_code(tmp_path):
    lines = _first_rows(3)
    lines.append(lines[1])
    with pytest.raises(InputError, match=r"row 4, field code: duplicate A81002: already given on row 2"):
        read_epraccur(_write(tmp_path, lines))


def test_unknown_status_and_setting(tmp_path):
    lines = _first_rows(2)
    fields = lines[0].split(",")
    fields[12], fields[25] = '"X"', '"7"'
    lines[0] = ",".join(fields)
    with pytest.raises(InputError) as caught:
        read_epraccur(_write(tmp_path, lines))
    messages = [str(p) for p in caught.value.problems]
    assert any("row 1, field status: 'X' is not one of the allowed codes (A, C, D, P)" in m for m in messages)
    assert any("row 1, field prescribing_setting: '7' is not one of the allowed codes" in m for m in messages)


def test_closed_without_close_date(tmp_path):
    lines = _first_rows(3)
    lines[2] = lines[2].replace('"20171031"', '""')
    with pytest.raises(InputError, match=r"row 3, field close_date: a closed organisation \(status C\) must have"):
        read_epraccur(_write(tmp_path, lines))


def test_binary_file(tmp_path):
    path = tmp_path / "epraccur.csv"
    path.write_bytes(b"PK\x03\x04\x00\x00binary")
    with pytest.raises(InputError, match=r"epraccur\.csv: is not a CSV text file"):
        read_epraccur(path)


def test_all_problems_are_reported_at_once(tmp_path):
    lines = _first_rows(4)
    lines[0] = lines[0].replace('"19740401"', '"1974"', 1)
    lines[2] = lines[2].replace('"19740401"', '"1974"', 1)
    with pytest.raises(InputError) as caught:
        read_epraccur(_write(tmp_path, lines))
    assert [(p.row, p.field) for p in caught.value.problems] == [(1, "open_date"), (3, "open_date")]
    assert str(caught.value).endswith("Nothing was stored.")
