"""The synthetic tariff and the pricing of correct claims, checked against a plain row-by-row reference.

The reference below is written from docs/synthetic-data.md ("How the provider's claim is priced") independently of
the vectorised code: one row at a time, Python ints only. The vectorised pricing must agree with it to the penny.
"""

from __future__ import annotations

import csv
import dataclasses
import re

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pbc.money import plain_pounds as pounds
from pbc.synth.catalogue import load_catalogue
from pbc.synth.claims import price_ae, price_apc, price_op
from pbc.synth.tariff import (
    AE_SCHEMA,
    APC_SCHEMA,
    LOCAL_SCHEMA,
    MFF_SCHEMA,
    OP_SCHEMA,
    Tariff,
    build_tariff,
    format_pounds,
    write_tariff,
)

PROVIDERS = [("RV8", "North West London Hospitals"), ("RAL", "Royal Free Hampstead"), ("RRV", "UCLH")]
YEARS = ("2005/06", "2006/07", "2007/08", "2008/09")
ADMIMETH = ("11", "12", "13", "21", "22", "23", "24", "25", "28", "31", "32", "81")


@pytest.fixture(scope="module")
def cat():
    return load_catalogue()


@pytest.fixture(scope="module")
def tariffs(cat):
    return {year: build_tariff(cat, year, PROVIDERS, seed=7) for year in YEARS}


# -- the reference: one row at a time -----------------------------------------------------------------------------


class Reference:
    """The spec's pricing rules, applied to one line at a time."""

    def __init__(self, tariff: Tariff) -> None:
        self.rules = tariff.rules
        self.mff = {r["provider_code"]: r["mff_e4"] for r in tariff.mff.to_pylist()}
        self.apc = {r["hrg"]: r for r in tariff.apc.to_pylist()}
        self.op = {r["tfc"]: r for r in tariff.op.to_pylist()}
        self.ae = {r["hrg"]: r["pence"] for r in tariff.ae.to_pylist()}
        self.local = {
            (r["provider_code"], r["pod"], r["currency"]): r["pence"] for r in tariff.local_prices.to_pylist()
        }

    def with_mff(self, procode: str, pence: int) -> int:
        if procode not in self.mff:
            raise ValueError(procode)
        return (pence * self.mff[procode] + 5000) // 10000

    def local_price(self, procode: str, pod: str, currency: str) -> int:
        if (procode, pod, currency) not in self.local:
            raise ValueError(currency)
        return self.local[(procode, pod, currency)]

    def apc_line(self, procode: str, hrg: str, admimeth: str, los: int, age: int) -> int:
        elective = admimeth in ("11", "12", "13")
        row = self.apc.get(hrg)
        spell = None if row is None else row["elective_pence" if elective else "nonelective_pence"]
        if spell is None:
            return self.with_mff(procode, self.local_price(procode, "APC_EL" if elective else "APC_NE", hrg))
        trim = row["elective_trim_days" if elective else "nonelective_trim_days"]
        total = spell + max(0, los - trim) * row["per_day_pence"]
        if (
            self.rules["short_stay_emergency"] == "yes"
            and not elective
            and los <= int(self.rules["short_stay_max_days"])
            and age >= int(self.rules["short_stay_min_age"])
            and row["sse_applicable"]
        ):
            total = row["sse_pence"]
        return self.with_mff(procode, total)

    def op_line(self, procode: str, tfc: str, firstatt: str, attended: str) -> int:
        if procode not in self.mff:
            raise ValueError(procode)
        if attended not in ("5", "6"):
            return 0
        column, pod = ("first_pence", "OP_FIRST") if firstatt == "1" else ("followup_pence", "OP_FU")
        price = self.op[tfc][column] if tfc in self.op else self.local_price(procode, pod, tfc)
        return self.with_mff(procode, price)

    def ae_line(self, procode: str, hrg: str, dept_type: str) -> int:
        if dept_type in self.rules["ae_minor_department_types"].split(";"):
            return self.with_mff(procode, min(self.ae.values()))
        price = self.ae[hrg] if hrg in self.ae else self.local_price(procode, "AE", hrg)
        return self.with_mff(procode, price)


def apc_hrgs(cat) -> list[str]:
    return sorted(set(cat.elective["hrg"].to_pylist()) | set(cat.emergency["hrg"].to_pylist()))


def apc_sample(cat, tariff: Tariff, n: int, seed: int) -> dict[str, np.ndarray]:
    """Spells concentrated on the edges: trim points and one either side, 0-2 day stays, ages 16-21."""
    rng = np.random.default_rng(seed)
    trims = {r["hrg"]: r for r in tariff.apc.to_pylist()}
    hrg = rng.choice(np.array(apc_hrgs(cat), dtype=object), n)
    admimeth = rng.choice(np.array(ADMIMETH, dtype=object), n)
    elective = np.isin(admimeth, ("11", "12", "13"))
    trim = np.array(
        [
            (trims.get(h) or {}).get("elective_trim_days" if e else "nonelective_trim_days") or 5
            for h, e in zip(hrg, elective, strict=True)
        ]
    )
    kind = rng.integers(0, 4, n)
    los = np.select(
        [kind == 0, kind == 1, kind == 2],
        [rng.integers(0, 3, n), trim + rng.integers(-1, 3, n), rng.integers(0, 80, n)],
        rng.integers(0, 10, n),
    )
    age = np.where(rng.random(n) < 0.6, rng.integers(16, 22, n), rng.integers(0, 105, n))
    procode = rng.choice(np.array([p for p, _ in PROVIDERS]), n)  # '<U' strings, the others are object
    los = np.maximum(los, 0)
    sse = np.array([bool((trims.get(h) or {}).get("sse_applicable")) for h in hrg])
    # the sample reaches every edge the rules have
    assert (los == trim).sum() > 50
    assert (los == trim + 1).sum() > 50
    for days in (0, 1):
        for years in (18, 19):
            assert (~elective & sse & (los == days) & (age == years)).any() or tariff.financial_year == "2005/06"
    assert (elective & ~np.isin(hrg, list(trims))).any()  # some need local prices
    return {"procode": procode, "hrg": hrg, "admimeth": admimeth, "los": los, "age": age}


def variants(tariff: Tariff) -> list[Tariff]:
    """The tariff and versions of it with rules changed, so the rules, not the table, are what is tested."""
    out = [tariff]
    for change in (
        {"short_stay_emergency": "no"},
        {"short_stay_max_days": "2", "short_stay_min_age": "17"},
        {"ae_minor_department_types": "03"},
    ):
        out.append(dataclasses.replace(tariff, rules=tariff.rules | change))
    return out


@pytest.mark.parametrize("year", YEARS)
def test_apc_agrees_with_reference(cat, tariffs, year):
    for variant in variants(tariffs[year]):
        ref = Reference(variant)
        s = apc_sample(cat, variant, 4000, seed=int(year[:4]))
        got = price_apc(variant, s["procode"], s["hrg"], s["admimeth"], s["los"], s["age"])
        want = [
            ref.apc_line(*row) for row in zip(s["procode"], s["hrg"], s["admimeth"], s["los"], s["age"], strict=True)
        ]
        assert got.dtype == np.int64
        assert got.tolist() == want


@pytest.mark.parametrize("year", YEARS)
def test_op_agrees_with_reference(cat, tariffs, year):
    rng = np.random.default_rng(int(year[:4]))
    n = 4000
    procode = rng.choice(np.array([p for p, _ in PROVIDERS], dtype=object), n)
    tfc = rng.choice(np.array(cat.specialties["tfc"].to_pylist(), dtype=object), n)
    firstatt = rng.choice(np.array(["1", "2"]), n)
    attended = rng.choice(np.array(["5", "6", "2", "3", "4", "7"], dtype=object), n)
    for variant in variants(tariffs[year]):
        ref = Reference(variant)
        got = price_op(variant, procode, tfc, firstatt, attended)
        assert got.tolist() == [ref.op_line(*row) for row in zip(procode, tfc, firstatt, attended, strict=True)]
    assert (got[~np.isin(attended, ["5", "6"])] == 0).all()


@pytest.mark.parametrize("year", YEARS)
def test_ae_agrees_with_reference(cat, tariffs, year):
    rng = np.random.default_rng(int(year[:4]))
    n = 4000
    procode = rng.choice(np.array([p for p, _ in PROVIDERS], dtype=object), n)
    hrg = rng.choice(np.array(cat.ae["hrg"].to_pylist(), dtype=object), n)
    dept = rng.choice(np.array(["01", "02", "03", "04"], dtype=object), n)
    for variant in variants(tariffs[year]):
        ref = Reference(variant)
        got = price_ae(variant, procode, hrg, dept)
        assert got.tolist() == [ref.ae_line(*row) for row in zip(procode, hrg, dept, strict=True)]


@settings(max_examples=300, deadline=None)
@given(
    provider=st.sampled_from([p for p, _ in PROVIDERS]),
    hrg_index=st.integers(0, 200),
    admimeth=st.sampled_from(ADMIMETH),
    los=st.integers(0, 120),
    age=st.integers(0, 110),
    year=st.sampled_from(YEARS),
)
def test_single_spells_agree_with_reference(provider, hrg_index, admimeth, los, age, year):
    cat = load_catalogue()
    tariff = build_tariff(cat, year, PROVIDERS, seed=3)
    hrgs = apc_hrgs(cat)
    hrg = hrgs[hrg_index % len(hrgs)]
    got = price_apc(
        tariff, np.array([provider]), np.array([hrg]), np.array([admimeth]), np.array([los]), np.array([age])
    )
    assert got.tolist() == [Reference(tariff).apc_line(provider, hrg, admimeth, los, age)]


# -- edges, spelt out ------------------------------------------------------------------------------------------


def one_apc(tariff, hrg, admimeth, los, age, procode="RV8") -> int:
    return int(price_apc(tariff, np.array([procode]), np.array([hrg]), np.array([admimeth]), [los], [age])[0])


def national(tariff, hrg) -> dict:
    return next(r for r in tariff.apc.to_pylist() if r["hrg"] == hrg)


def mff_of(tariff, procode="RV8") -> int:
    return next(r["mff_e4"] for r in tariff.mff.to_pylist() if r["provider_code"] == procode)


def times_mff(pence, mff_e4) -> int:
    return (pence * mff_e4 + 5000) // 10000


def test_long_stay_starts_one_day_over_the_trim_point(tariffs):
    t = tariffs["2007/08"]
    hip = national(t, "H02")
    assert hip["elective_trim_days"] == 15
    at_trim = one_apc(t, "H02", "11", 15, 70)
    assert at_trim == times_mff(hip["elective_pence"], mff_of(t))
    assert one_apc(t, "H02", "11", 16, 70) == times_mff(hip["elective_pence"] + hip["per_day_pence"], mff_of(t))
    stroke = national(t, "A22")
    assert stroke["nonelective_trim_days"] == 40
    assert one_apc(t, "A22", "21", 40, 80) == times_mff(stroke["nonelective_pence"], mff_of(t))
    assert one_apc(t, "A22", "21", 42, 80) == times_mff(
        stroke["nonelective_pence"] + 2 * stroke["per_day_pence"], mff_of(t)
    )


@pytest.mark.parametrize("los", [0, 1])
def test_short_stay_emergency_applies_from_age_19(tariffs, los):
    t = tariffs["2007/08"]
    chest = national(t, "E37")
    assert chest["sse_applicable"]
    assert chest["sse_percent"] == 40
    assert chest["sse_pence"] == (chest["nonelective_pence"] // 100 * 40 + 50) // 100 * 100
    assert one_apc(t, "E37", "21", los, 18) == times_mff(chest["nonelective_pence"], mff_of(t))
    assert one_apc(t, "E37", "21", los, 19) == times_mff(chest["sse_pence"], mff_of(t))
    assert one_apc(t, "E37", "11", los, 19) != one_apc(t, "E37", "21", los, 19)  # elective: not an emergency
    assert one_apc(t, "H08", "21", los, 80) == times_mff(national(t, "H08")["nonelective_pence"], mff_of(t))


def test_short_stay_emergency_not_for_two_days(tariffs):
    t = tariffs["2007/08"]
    assert one_apc(t, "E37", "21", 2, 40) == times_mff(national(t, "E37")["nonelective_pence"], mff_of(t))


def test_short_stay_emergency_off_in_2005_06(tariffs):
    t = tariffs["2005/06"]
    assert t.rules["short_stay_emergency"] == "no"
    assert not any(t.apc["sse_applicable"].to_pylist())
    assert one_apc(t, "E37", "21", 0, 40) == times_mff(national(t, "E37")["nonelective_pence"], mff_of(t))
    assert all(tariffs[y].rules["short_stay_emergency"] == "yes" for y in ("2006/07", "2007/08", "2008/09"))
    # the rule, not only the flags: the 2007/08 table with the rule off pays full price
    off = dataclasses.replace(tariffs["2007/08"], rules=tariffs["2007/08"].rules | {"short_stay_emergency": "no"})
    assert one_apc(off, "E37", "21", 0, 40) == times_mff(national(off, "E37")["nonelective_pence"], mff_of(off))


def test_dnas_and_cancellations_are_free(tariffs):
    t = tariffs["2007/08"]
    n = 6
    got = price_op(t, np.full(n, "RAL"), np.full(n, "110"), np.full(n, "1"), np.array(["5", "6", "3", "2", "4", "7"]))
    first = next(r["first_pence"] for r in t.op.to_pylist() if r["tfc"] == "110")
    assert got.tolist() == [times_mff(first, mff_of(t, "RAL"))] * 2 + [0] * 4


def test_minor_departments_get_the_lowest_price(tariffs, cat):
    t = tariffs["2007/08"]
    minor = next(r["hrg"] for r in cat.ae.to_pylist() if r["minor"])
    lowest = min(t.ae["pence"].to_pylist())
    assert lowest == next(r["pence"] for r in t.ae.to_pylist() if r["hrg"] == minor)
    got = price_ae(t, np.full(4, "RRV"), np.full(4, "V01"), np.array(["01", "02", "03", "04"]))
    v01 = next(r["pence"] for r in t.ae.to_pylist() if r["hrg"] == "V01")
    assert got.tolist() == [times_mff(v01, mff_of(t, "RRV"))] * 2 + [times_mff(lowest, mff_of(t, "RRV"))] * 2


def test_local_prices_for_currencies_outside_the_national_tariff(tariffs, cat):
    t = tariffs["2007/08"]
    local = {(r["provider_code"], r["pod"], r["currency"]): r["pence"] for r in t.local_prices.to_pylist()}
    assert "650" not in t.op["tfc"].to_pylist()
    assert "191" not in t.op["tfc"].to_pylist()
    assert {"A16", "H28"}.isdisjoint(t.apc["hrg"].to_pylist())
    got = price_op(t, np.array(["RAL", "RAL"]), np.array(["650", "650"]), np.array(["1", "2"]), np.array(["5", "5"]))
    assert got.tolist() == [times_mff(local[("RAL", p, "650")], mff_of(t, "RAL")) for p in ("OP_FIRST", "OP_FU")]
    # a local price is the whole price: no long stay even for a long spell
    assert one_apc(t, "H28", "11", 60, 50) == times_mff(local[("RV8", "APC_EL", "H28")], mff_of(t))
    assert one_apc(t, "A16", "21", 60, 50) == times_mff(local[("RV8", "APC_NE", "A16")], mff_of(t))
    # an emergency-only HRG admitted electively: no national elective price, so the local one
    assert national(t, "A22")["elective_pence"] is None
    assert one_apc(t, "A22", "12", 3, 70) == times_mff(local[("RV8", "APC_EL", "A22")], mff_of(t))
    # every provider has a local price for every currency the national tariff lacks, local prices differ by provider
    for provider, _ in PROVIDERS:
        for hrg in apc_hrgs(cat):
            for admimeth in ("11", "21"):
                one_apc(t, hrg, admimeth, 5, 50, provider)
    assert local[("RV8", "APC_EL", "H28")] != local[("RAL", "APC_EL", "H28")]


def test_unknown_provider_and_missing_prices_are_errors(tariffs):
    t = tariffs["2007/08"]
    with pytest.raises(ValueError, match="unknown provider RJ1"):
        one_apc(t, "H02", "11", 1, 60, procode="RJ1")
    with pytest.raises(ValueError, match="unknown provider RJ1"):
        price_op(t, np.array(["RJ1"]), np.array(["110"]), np.array(["1"]), np.array(["3"]))
    with pytest.raises(ValueError, match="unknown provider RJ1"):
        price_ae(t, np.array(["RJ1"]), np.array(["V01"]), np.array(["01"]))
    bare = dataclasses.replace(t, local_prices=t.local_prices.slice(0, 0))
    with pytest.raises(ValueError, match=r"HRG H28 \(APC_EL\) at provider RV8"):
        one_apc(bare, "H28", "11", 1, 60)
    with pytest.raises(ValueError, match=r"TFC 650 \(OP_FU\) at provider RAL"):
        price_op(bare, np.array(["RAL"]), np.array(["650"]), np.array(["2"]), np.array(["6"]))
    with pytest.raises(ValueError, match=r"HRG X99 \(AE\) at provider RAL"):
        price_ae(bare, np.array(["RAL"]), np.array(["X99"]), np.array(["01"]))
    with pytest.raises(ValueError, match="FIRSTATT"):
        price_op(t, np.array(["RAL"]), np.array(["110"]), np.array(["3"]), np.array(["5"]))


def test_empty_input_and_code_dtypes(tariffs):
    t = tariffs["2007/08"]
    empty = np.array([], dtype=object)
    assert price_apc(t, empty, empty, empty, np.array([], dtype=np.int64), np.array([], dtype=np.int64)).tolist() == []
    a = price_apc(
        t, np.array(["RV8"], dtype=object), np.array(["H02"], dtype=object), np.array(["11"], dtype=object), [3], [70]
    )
    b = price_apc(t, np.array(["RV8"]), np.array(["H02"]), np.array(["11"]), np.array([3]), np.array([70]))
    assert a.tolist() == b.tolist()


# -- golden examples, worked by hand -------------------------------------------------------------------------------


@pytest.fixture
def hand() -> Tariff:
    def table(schema, rows):
        return pa.Table.from_pylist(rows, schema=schema)

    apc = [
        # elective £1,000.00 trim 5; non-elective £800.00 trim 10; £200.00 a day; SSE 50% = £400.00
        {
            "hrg": "Z01",
            "hrg_name": "Hand-worked",
            "elective_pence": 100000,
            "elective_trim_days": 5,
            "nonelective_pence": 80000,
            "nonelective_trim_days": 10,
            "per_day_pence": 20000,
            "sse_applicable": True,
            "sse_percent": 50,
            "sse_pence": 40000,
        },
        {
            "hrg": "Z02",
            "hrg_name": "Emergency only",
            "elective_pence": None,
            "elective_trim_days": None,
            "nonelective_pence": 50000,
            "nonelective_trim_days": 3,
            "per_day_pence": 25000,
            "sse_applicable": False,
            "sse_percent": None,
            "sse_pence": None,
        },
    ]
    return Tariff(
        financial_year="2007/08",
        apc=table(APC_SCHEMA, apc),
        op=table(OP_SCHEMA, [{"tfc": "110", "tfc_name": "T&O", "first_pence": 15000, "followup_pence": 8000}]),
        ae=table(
            AE_SCHEMA,
            [{"hrg": "V01", "hrg_name": "Big", "pence": 12000}, {"hrg": "V08", "hrg_name": "Small", "pence": 5000}],
        ),
        mff=table(
            MFF_SCHEMA,
            [
                {"provider_code": "P12", "provider_name": "", "mff_e4": 12000},
                {"provider_code": "P21", "provider_name": "", "mff_e4": 12134},
                {"provider_code": "P10", "provider_name": "", "mff_e4": 10001},
            ],
        ),
        local_prices=table(
            LOCAL_SCHEMA,
            [
                {"provider_code": "P10", "pod": "APC_EL", "currency": "Z02", "pence": 5000},
                {"provider_code": "P21", "pod": "APC_EL", "currency": "Z02", "pence": 4999},
            ],
        ),
        rules={
            "short_stay_emergency": "yes",
            "short_stay_max_days": "1",
            "short_stay_min_age": "19",
            "elective_price_basis": "combined",
            "ae_minor_department_types": "03;04",
            "ae_minor_price": "lowest",
        },
    )


@pytest.mark.parametrize(
    ("procode", "hrg", "admimeth", "los", "age", "pence"),
    [
        ("P12", "Z01", "11", 7, 50, 168000),  # (100000 + 2 * 20000) * 1.2 = £1,680.00
        ("P12", "Z01", "11", 5, 50, 120000),  # at the trim point: no long stay
        ("P12", "Z01", "12", 6, 50, 144000),  # one over: one day
        ("P12", "Z01", "11", 0, 50, 120000),  # elective day case: never the SSE price
        ("P21", "Z01", "21", 1, 19, 48536),  # SSE: 40000 * 1.2134
        ("P21", "Z01", "21", 0, 18, 97072),  # too young for SSE: 80000 * 1.2134
        ("P21", "Z01", "21", 2, 19, 97072),  # too long for SSE
        ("P21", "Z01", "22", 13, 60, 169876),  # (80000 + 3 * 20000) * 1.2134
        ("P10", "Z02", "11", 9, 60, 5001),  # local £50.00 * 1.0001 = 5000.5p, half up; no long stay
        ("P21", "Z02", "13", 9, 60, 6066),  # local £49.99 * 1.2134 = 6065.7866p
        ("P10", "Z02", "21", 5, 60, 100010),  # (50000 + 2 * 25000) * 1.0001
    ],
)
def test_golden_spells(hand, procode, hrg, admimeth, los, age, pence):
    assert one_apc(hand, hrg, admimeth, los, age, procode) == pence
    assert Reference(hand).apc_line(procode, hrg, admimeth, los, age) == pence


def test_golden_outpatients_and_ae(hand):
    op = price_op(hand, np.full(3, "P12"), np.full(3, "110"), np.array(["1", "2", "1"]), np.array(["5", "6", "3"]))
    assert op.tolist() == [18000, 9600, 0]
    ae = price_ae(hand, np.full(4, "P21"), np.array(["V01", "V01", "V01", "V08"]), np.array(["01", "03", "04", "02"]))
    assert ae.tolist() == [14561, 6067, 6067, 6067]  # 12000 * 1.2134 = 14560.8; 5000 * 1.2134 = 6067


def test_pounds_text():
    assert [pounds(p) for p in (0, 5, 99, 100, 168000, 123456, None)] == [
        "0.00",
        "0.05",
        "0.99",
        "1.00",
        "1680.00",
        "1234.56",
        "",
    ]
    assert format_pounds(np.array([0, 5, 168000, 123456, -250])).tolist() == [
        "0.00",
        "0.05",
        "1680.00",
        "1234.56",
        "-2.50",
    ]


# -- the tariff itself ---------------------------------------------------------------------------------------------

HEADERS = {
    "apc.csv": [
        "HRG code",
        "HRG name",
        "Elective spell tariff (£)",
        "Elective long stay trim point (days)",
        "Non-elective spell tariff (£)",
        "Non-elective long stay trim point (days)",
        "Per day long stay payment (for days exceeding trim point) (£)",
        "Reduced short stay emergency tariff _applicable?",
        "% applied in calculation of reduced short stay emergency tariff",
        "Reduced short stay emergency tariff (£)",
    ],
    "op.csv": [
        "Treatment function code",
        "Treatment function name",
        "First attendance tariff (£)",
        "Follow-up attendance tariff (£)",
    ],
    "ae.csv": ["HRG code", "HRG name", "Tariff (£)"],
    "mff.csv": ["Provider code", "Provider name", "MFF"],
    "local_prices.csv": ["Provider code", "POD", "Currency", "Price (£)"],
    "rules.csv": ["rule", "value"],
}


def read(path):
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def test_write_tariff_headers_and_formats(tariffs, tmp_path):
    paths = write_tariff(tariffs["2007/08"], tmp_path / "2007_08")
    assert [p.name for p in paths] == list(HEADERS)
    money = re.compile(r"^\d+\.\d\d$")
    files = {p.name: read(p) for p in paths}
    for name, lines in files.items():
        assert lines[0] == HEADERS[name], name
    for line in files["apc.csv"][1:]:
        assert all(v == "" or money.match(v) for v in (line[2], line[4], line[6], line[9]))
        assert money.match(line[4])
        assert money.match(line[6])
        assert line[7] in ("Yes", "No")
        assert (line[7] == "Yes") == (line[8] != "") == (line[9] != "")
        assert (line[2] == "") == (line[3] == "")
    h02 = next(line for line in files["apc.csv"] if line[0] == "H02")
    assert h02[3] == "15"
    assert h02[1] == "Primary hip replacement"
    assert next(line for line in files["apc.csv"] if line[0] == "A22")[2:4] == ["", ""]
    assert all(re.match(r"^1\.[123]\d{3}$", line[2]) for line in files["mff.csv"][1:])
    assert all(
        money.match(line[3]) and line[1] in ("APC_EL", "APC_NE", "OP_FIRST", "OP_FU", "AE")
        for line in files["local_prices.csv"][1:]
    )
    assert files["rules.csv"][1:] == [
        ["short_stay_emergency", "yes"],
        ["short_stay_max_days", "1"],
        ["short_stay_min_age", "19"],
        ["elective_price_basis", "combined"],
        ["ae_minor_department_types", "03;04"],
        ["ae_minor_price", "lowest"],
    ]
    assert (tmp_path / "2007_08" / "apc.csv").read_bytes().count(b"\r") == 0


def test_same_seed_same_tariff_and_bytes(cat, tmp_path):
    a = build_tariff(cat, "2006/07", PROVIDERS, seed=11)
    b = build_tariff(cat, "2006/07", list(reversed(PROVIDERS)), seed=11)
    assert a == b
    for pa_, pb in zip(write_tariff(a, tmp_path / "a"), write_tariff(b, tmp_path / "b"), strict=True):
        assert pa_.read_bytes() == pb.read_bytes()


def test_different_seed_different_prices(cat):
    a = build_tariff(cat, "2007/08", PROVIDERS, seed=1)
    b = build_tariff(cat, "2007/08", PROVIDERS, seed=2)
    assert a.apc["nonelective_pence"].to_pylist() != b.apc["nonelective_pence"].to_pylist()
    assert a.mff["mff_e4"].to_pylist() != b.mff["mff_e4"].to_pylist()
    assert a.local_prices["pence"].to_pylist() != b.local_prices["pence"].to_pylist()
    assert a.rules == b.rules


def test_mff_depends_on_seed_and_provider_only(cat):
    one = build_tariff(cat, "2005/06", PROVIDERS, seed=5).mff.to_pylist()
    other = build_tariff(cat, "2008/09", PROVIDERS[:1], seed=5).mff.to_pylist()
    assert other[0] == next(r for r in one if r["provider_code"] == PROVIDERS[0][0])
    assert all(11000 <= r["mff_e4"] <= 13000 for r in one)


def test_price_magnitudes_2007_08(tariffs):
    t = tariffs["2007/08"]
    apc = {r["hrg"]: r for r in t.apc.to_pylist()}

    def near(pence, pounds_, within=0.02):
        return abs(pence / 100 - pounds_) <= pounds_ * within

    assert near(apc["H02"]["elective_pence"], 5500)
    assert near(apc["B13"]["elective_pence"], 750)
    assert near(apc["D39"]["nonelective_pence"], 1800)
    assert near(apc["A22"]["nonelective_pence"], 4500)
    assert all(18000 <= r["per_day_pence"] <= 30000 for r in apc.values())
    for r in t.op.to_pylist():
        assert 12000 <= r["first_pence"] <= 25000
        assert 7000 <= r["followup_pence"] <= 11000
    assert all(5000 <= p <= 14000 for p in t.ae["pence"].to_pylist())
    assert all(p % 100 == 0 for p in t.apc["elective_pence"].to_pylist() if p is not None)  # whole pounds


def test_years_scale_prices(tariffs):
    def mean_ratio(year):
        base = tariffs["2007/08"].apc["nonelective_pence"].to_pylist()
        other = tariffs[year].apc["nonelective_pence"].to_pylist()
        return float(np.mean(np.array(other) / np.array(base)))

    assert mean_ratio("2005/06") == pytest.approx(0.94, abs=0.01)
    assert mean_ratio("2006/07") == pytest.approx(0.97, abs=0.01)
    assert mean_ratio("2008/09") == pytest.approx(1.025, abs=0.01)


def test_every_catalogue_currency_is_priced(cat, tariffs):
    for tariff in tariffs.values():
        apc = {r["hrg"]: r for r in tariff.apc.to_pylist()}
        op = set(tariff.op["tfc"].to_pylist())
        local = {(r["provider_code"], r["pod"], r["currency"]) for r in tariff.local_prices.to_pylist()}
        for provider, _ in PROVIDERS:
            for hrg in apc_hrgs(cat):
                for pod, column in (("APC_EL", "elective_pence"), ("APC_NE", "nonelective_pence")):
                    assert (apc.get(hrg) or {}).get(column) is not None or (provider, pod, hrg) in local
            for tfc in cat.specialties["tfc"].to_pylist():
                assert tfc in op or {(provider, "OP_FIRST", tfc), (provider, "OP_FU", tfc)} <= local
        assert set(apc) <= set(apc_hrgs(cat))


def test_unsupported_year_and_duplicate_providers(cat):
    with pytest.raises(ValueError, match="2009/10"):
        build_tariff(cat, "2009/10", PROVIDERS, seed=1)
    with pytest.raises(ValueError, match="distinct"):
        build_tariff(cat, "2007/08", PROVIDERS + PROVIDERS[:1], seed=1)
