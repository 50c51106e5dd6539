"""The London commissioning tables: PCTs, lead commissioners and clusters, good and broken."""

from __future__ import annotations

import pytest

from pbc.errors import InputError
from pbc.reference import london
from pbc.reference.load import bundled_reference_dir
from tests.helpers import write_csv

DATA = bundled_reference_dir()
PCT_CODES = DATA / "london_pct_codes.csv"
TRUST_CODES = DATA / "london_trusts_2006.csv"


@pytest.fixture(scope="module")
def pcts():
    return london.read_pcts(DATA / "london_pcts.csv", PCT_CODES)


@pytest.fixture(scope="module")
def pct_codes(pcts):
    return dict(zip(pcts["pct"].to_pylist(), pcts["code"].to_pylist(), strict=True))


def test_the_31_london_pcts_in_five_sectors(pcts):
    assert pcts.num_rows == 31
    assert sorted(set(pcts["sector_code"].to_pylist())) == ["LON-NC", "LON-NE", "LON-NW", "LON-SE", "LON-SW"]
    brent = next(r for r in pcts.to_pylist() if r["pct"] == "Brent PCT")
    assert (brent["code"], brent["sector"], brent["approx_population"]) == ("5K5", "North West", 270000)
    assert sum(pcts["approx_population"].to_pylist()) == 7_455_000  # awk sum of the file


def test_lead_commissioners(pct_codes):
    leads = london.read_lead_commissioners(
        DATA / "lead_commissioners_2006_07.csv", TRUST_CODES, pct_codes, "2006/07"
    ).to_pylist()
    assert len(leads) == 33
    nwlh = next(r for r in leads if r["provider_code"] == "RV8")
    assert nwlh["lead_commissioner_code"] == "5K5"
    gosh = next(r for r in leads if r["provider_code"] == "RP4")
    assert (gosh["lead_commissioner_code"], gosh["note"]) == ("5C9", "specialist commissioning")


def test_brent_clusters(pct_codes):
    clusters = london.read_clusters(DATA / "brent_clusters.csv", pct_codes).to_pylist()
    assert [c["code"] for c in clusters] == [
        "5K5-HARLESDEN",
        "5K5-KINGSBURY",
        "5K5-KILBURN",
        "5K5-WILLESDEN",
        "5K5-WEMBLEY",
    ]
    assert {c["commissioner_code"] for c in clusters} == {"5K5"}


def test_pct_without_a_code(tmp_path):
    path = write_csv(tmp_path / "london_pcts.csv", "sector,pct,approx_population", ["North West,Borsetshire PCT,1000"])
    with pytest.raises(InputError, match=r"london_pcts\.csv, row 2, field pct: 'Borsetshire PCT' has no ODS code"):
        london.read_pcts(path, PCT_CODES)


def test_pct_missing_column(tmp_path):
    path = write_csv(tmp_path / "london_pcts.csv", "sector,pct", ["North West,Brent PCT"])
    with pytest.raises(InputError, match=r"row 1, field approx_population: required column missing"):
        london.read_pcts(path, PCT_CODES)


def test_duplicate_pct(tmp_path):
    rows = ["North West,Brent PCT,270000", "North West,Brent PCT,270000"]
    path = write_csv(tmp_path / "london_pcts.csv", "sector,pct,approx_population", rows)
    with pytest.raises(InputError, match=r"row 3, field pct: duplicate Brent PCT: already given on row 2"):
        london.read_pcts(path, PCT_CODES)


def test_lead_commissioner_unknown_parent(tmp_path, pct_codes):
    path = write_csv(
        tmp_path / "lead_commissioners_2006_07.csv",
        "lead_pct,provider",
        ["Ambridge PCT,Kingston Hospital NHS Trust", "Brent PCT,St Elsewhere NHS Trust"],
    )
    with pytest.raises(InputError) as caught:
        london.read_lead_commissioners(path, TRUST_CODES, pct_codes, "2006/07")
    messages = [str(p) for p in caught.value.problems]
    assert messages == [
        "lead_commissioners_2006_07.csv, row 2, field lead_pct: unknown PCT 'Ambridge PCT'",
        "lead_commissioners_2006_07.csv, row 3, field provider: unknown provider 'St Elsewhere NHS Trust': "
        "add it to london_trusts_2006.csv",
    ]


def test_cluster_of_unknown_pct(tmp_path, pct_codes):
    path = write_csv(tmp_path / "x_clusters.csv", "pct,cluster,workshop_date", ["Ambridge PCT,Village,2005-06-15"])
    with pytest.raises(InputError, match=r"x_clusters\.csv, row 2, field pct: unknown PCT 'Ambridge PCT'"):
        london.read_clusters(path, pct_codes)


def test_cluster_bad_date(tmp_path, pct_codes):
    path = write_csv(tmp_path / "x_clusters.csv", "pct,cluster,workshop_date", ["Brent PCT,Harlesden,15/06/2005"])
    with pytest.raises(
        InputError, match=r"row 2, field workshop_date: '15/06/2005' is not a date in the form YYYY-MM-DD"
    ):
        london.read_clusters(path, pct_codes)
