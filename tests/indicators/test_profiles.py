"""Practice and cluster profiles: golden figures on the tiny commissioner, and the activity history on small Brent."""

from __future__ import annotations

import pytest

from pbc.errors import PbcError
from pbc.indicators.disclosure import DisclosureRule
from pbc.indicators.profiles import profile
from pbc.warehouse import Warehouse
from tests.indicators.conftest import A
from tests.indicators.test_methods import hand_wilson

YEAR = "2007/08"


@pytest.fixture(scope="module")
def duck():
    from pbc.engines import connect
    from pbc.settings import Settings

    return connect(Settings(engine="duckdb"))


@pytest.fixture(scope="module")
def practice_a(duck, tiny_home):
    return profile(duck, Warehouse(tiny_home.warehouse_dir), A, YEAR)


def test_pyramid_from_the_year_s_last_list(practice_a):
    # The 1 October 2007 list: A has 1200 men aged 20-24 and 200 women aged 70-74; the commissioner 2200 and 1300.
    assert (practice_a.level, practice_a.commissioner, practice_a.name) == ("practice", "5K5", "FORTY WILLOWS SURGERY")
    bands = {r["AGE_BAND"]: r for r in practice_a.pyramid.to_pylist()}
    assert next(iter(bands)) == "0_4"
    assert list(bands)[-1] == "95+"
    assert len(bands) == 20
    assert (bands["20_24"]["MALE"], bands["70_74"]["FEMALE"]) == (1200, 200)
    assert bands["20_24"]["MALE_PERCENT"] == pytest.approx(1200 / 1400 * 100)
    assert bands["70_74"]["FEMALE_PERCENT"] == pytest.approx(200 / 1400 * 100)
    assert bands["20_24"]["COMMISSIONER_MALE_PERCENT"] == pytest.approx(2200 / 3500 * 100)
    assert bands["70_74"]["COMMISSIONER_FEMALE_PERCENT"] == pytest.approx(1300 / 3500 * 100)
    assert (bands["45_49"]["MALE"], bands["45_49"]["MALE_PERCENT"]) == (0, 0)


def test_prevalence_observed_and_expected(practice_a):
    rows = {r["CONDITION"]: r for r in practice_a.prevalence.to_pylist()}
    diabetes = rows["DIABETES"]
    expected = 1200 / 2200 + 200 * 60 / 1300  # the commissioner's diabetes rates: men 1/2200, women 60/1300
    lower, upper = hand_wilson(21, 1400, 0.95)
    assert (diabetes["REGISTER"], diabetes["LIST_SIZE"]) == (21, 1400)
    assert diabetes["PREVALENCE"] == pytest.approx(1.5)
    assert (diabetes["LOWER_95"], diabetes["UPPER_95"]) == pytest.approx((lower * 100, upper * 100))
    assert diabetes["EXPECTED"] == pytest.approx(expected)
    assert diabetes["EXPECTED_PREVALENCE"] == pytest.approx(expected / 1400 * 100)
    assert diabetes["COMMISSIONER_PREVALENCE"] == pytest.approx(61 / 3500 * 100)
    assert diabetes["RATIO"] == pytest.approx(21 / expected * 100)
    assert rows["ASTHMA"]["REGISTER"] == 50


def test_no_tariff_no_activity_history(practice_a):
    assert practice_a.activity.num_rows == 0
    assert any("no activity history" in note for note in practice_a.notes)


def test_cluster_profile_follows_the_move(duck, tiny_home):
    # On 1 October 2007 D is in Wembley, so Kingsbury's year-end list is A's alone.
    kingsbury = profile(duck, Warehouse(tiny_home.warehouse_dir), "5K5-KINGSBURY", YEAR)
    assert (kingsbury.level, kingsbury.name) == ("cluster", "Kingsbury")
    bands = {r["AGE_BAND"]: r for r in kingsbury.pyramid.to_pylist()}
    assert (bands["20_24"]["MALE"], bands["70_74"]["FEMALE"]) == (1200, 200)
    wembley = profile(duck, Warehouse(tiny_home.warehouse_dir), "5K5-WEMBLEY", YEAR)
    bands = {r["AGE_BAND"]: r for r in wembley.pyramid.to_pylist()}
    assert (bands["20_24"]["MALE"], bands["70_74"]["FEMALE"]) == (900, 1100)


def test_suppressed_profile(duck, tiny_home):
    protected = profile(duck, Warehouse(tiny_home.warehouse_dir), "E84006", YEAR, rule=DisclosureRule())
    rows = {r["CONDITION"]: r for r in protected.prevalence.to_pylist()}
    # C has 5 patients on the asthma register: suppressed, with the prevalence worked from it.
    assert (rows["ASTHMA"]["REGISTER"], rows["ASTHMA"]["PREVALENCE"], rows["ASTHMA"]["SUPPRESSED"]) == (
        None,
        None,
        True,
    )
    assert (rows["DIABETES"]["REGISTER"], rows["DIABETES"]["PREVALENCE"]) == (0, 0)
    assert any("suppressed" in note for note in protected.notes)
    a = profile(duck, Warehouse(tiny_home.warehouse_dir), A, YEAR, rule=DisclosureRule())
    diabetes = {r["CONDITION"]: r for r in a.prevalence.to_pylist()}["DIABETES"]
    assert diabetes["REGISTER"] == 20  # 21 rounded to 5
    assert diabetes["PREVALENCE"] == pytest.approx(20 / 1400 * 100)


def test_unknown_codes(duck, tiny_home):
    warehouse = Warehouse(tiny_home.warehouse_dir)
    with pytest.raises(PbcError, match="'ZZZ' is not a practice or cluster code"):
        profile(duck, warehouse, "ZZZ", YEAR)
    with pytest.raises(PbcError, match="'5K5' is not a practice or cluster code"):
        profile(duck, warehouse, "5K5", YEAR)
    with pytest.raises(PbcError, match="no registered list of E84011 is held for 2007/08"):
        profile(duck, warehouse, "E84011", YEAR)
