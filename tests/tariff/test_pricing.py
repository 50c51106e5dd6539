"""Costing at the tariff: hand-worked lines, a plain second implementation, the provider's claims, `pbc cost`."""

from __future__ import annotations

import csv
import datetime as dt
import json

import ibis
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from pbc.cli import PbcGroup
from pbc.cli.cost import cost
from pbc.engines import connect
from pbc.errors import NotLoadedError
from pbc.ingest.contracts import load_contracts
from pbc.ingest.store import ActivityStore
from pbc.tariff import OUTPUT_COLUMNS, TariffError, claims_audit, price, tariff_tables
from pbc.tariff.model import parse_rules
from pbc.warehouse import Warehouse
from tests.tariff.conftest import RULES_2007, hand_tariff, tariff_warehouse

D = dt.date
KEYS = {"apc": "PROVSPNO", "op": "ATTENDKEY", "ae": "AEKEY"}
# Compared for every golden line: what the line is priced at and why
GOLDEN = (
    "TARIFF_YEAR",
    "POD",
    "BASE_PENCE",
    "TRIM_DAYS",
    "EXCESS_DAYS",
    "LONG_STAY_PENCE",
    "SHORT_STAY_REDUCTION_PENCE",
    "MFF_E4",
    "PRICE_PENCE",
    "PRICED",
    "PRICE_RULE",
)


def _priced(con, warehouse, dataset, table: pa.Table) -> dict[str, dict]:
    result = price(con, warehouse, dataset, ibis.memtable(table)).to_pyarrow()
    assert result.num_rows == table.num_rows  # nothing dropped, nothing repeated
    return {r[KEYS[dataset]]: r for r in result.to_pylist()}


# ---------------------------------------------------------------------------------------------------------------
# Golden lines, worked by hand against the tariff of tests/tariff/conftest.py (hand_tariff)
# ---------------------------------------------------------------------------------------------------------------

NE, EL = "21", "11"
NEL_SPELL = "national non-elective spell"
JUNE = D(2007, 6, 1)
# key: (procode, age, admitted, discharged, admimeth, hrg) -> expected GOLDEN values
APC_GOLDEN = {
    # long stay: AA1 elective trim 3, non-elective trim 5, £200 a day beyond
    "EL_AT_TRIM": (("PROV1", 40, JUNE, D(2007, 6, 4), EL, "AA1"),
                   ("2007/08", "APC_EL", 100000, 3, 0, 0, 0, 10000, 100000, True, "national elective spell")),
    "EL_OVER_TRIM": (("PROV1", 40, JUNE, D(2007, 6, 5), EL, "AA1"),
                     ("2007/08", "APC_EL", 100000, 3, 1, 20000, 0, 10000, 120000, True,
                      "national elective spell with 1 excess bed day")),
    "NE_AT_TRIM": (("PROV1", 40, JUNE, D(2007, 6, 6), NE, "AA1"),
                   ("2007/08", "APC_NE", 200000, 5, 0, 0, 0, 10000, 200000, True, NEL_SPELL)),
    "NE_OVER_TRIM": (("PROV1", 40, JUNE, D(2007, 6, 9), NE, "AA1"),
                     ("2007/08", "APC_NE", 200000, 5, 3, 60000, 0, 10000, 260000, True,
                      "national non-elective spell with 3 excess bed days")),
    # short-stay emergency: 0 or 1 day, aged 19 or over, HRG flagged, rule on -> the 50% price replaces the spell's
    "SSE_0_DAYS_AGE_19": (("PROV1", 19, JUNE, JUNE, NE, "AA1"),
                          ("2007/08", "APC_NE", 200000, 5, 0, 0, 100000, 10000, 100000, True,
                           "reduced short-stay emergency (50%)")),
    "SSE_1_DAY_AGE_19": (("PROV1", 19, JUNE, D(2007, 6, 2), NE, "AA1"),
                         ("2007/08", "APC_NE", 200000, 5, 0, 0, 100000, 10000, 100000, True,
                          "reduced short-stay emergency (50%)")),
    "SSE_0_DAYS_AGE_18": (("PROV1", 18, JUNE, JUNE, NE, "AA1"),
                          ("2007/08", "APC_NE", 200000, 5, 0, 0, 0, 10000, 200000, True, NEL_SPELL)),
    "SSE_1_DAY_AGE_18": (("PROV1", 18, JUNE, D(2007, 6, 2), NE, "AA1"),
                         ("2007/08", "APC_NE", 200000, 5, 0, 0, 0, 10000, 200000, True, NEL_SPELL)),
    "SSE_2_DAYS_AGE_19": (("PROV1", 19, JUNE, D(2007, 6, 3), NE, "AA1"),
                          ("2007/08", "APC_NE", 200000, 5, 0, 0, 0, 10000, 200000, True, NEL_SPELL)),
    "SSE_HRG_NOT_FLAGGED": (("PROV1", 40, JUNE, JUNE, NE, "AA2"),
                            ("2007/08", "APC_NE", 150000, 4, 0, 0, 0, 10000, 150000, True,
                             "national non-elective spell")),
    "SSE_NEVER_ELECTIVE": (("PROV1", 40, JUNE, JUNE, "12", "AA1"),
                           ("2007/08", "APC_EL", 100000, 3, 0, 0, 0, 10000, 100000, True, "national elective spell")),
    # the year is the discharge's: 2006/07 has SSE switched off by its rules and AA1 non-elective at £1900
    "SSE_OFF_IN_2006_07": (("PROV1", 40, D(2007, 3, 31), D(2007, 3, 31), NE, "AA1"),
                           ("2006/07", "APC_NE", 190000, 5, 0, 0, 0, 10000, 190000, True,
                            "national non-elective spell")),
    "YEAR_OF_DISCHARGE": (("PROV1", 40, D(2007, 3, 28), D(2007, 4, 2), NE, "AA1"),
                          ("2007/08", "APC_NE", 200000, 5, 0, 0, 0, 10000, 200000, True,
                           "national non-elective spell")),
    # local prices: the whole base, no long stay, no SSE, times the MFF
    "LOCAL_ELECTIVE": (("PROV1", 40, JUNE, D(2007, 6, 11), EL, "AA2"),
                       ("2007/08", "APC_EL", 90000, None, 0, 0, 0, 10000, 90000, True, "local price")),
    "LOCAL_SHORT_EMERGENCY": (("PROV1", 40, JUNE, JUNE, NE, "LL1"),
                              ("2007/08", "APC_NE", 123400, None, 0, 0, 0, 10000, 123400, True, "local price")),
    # unpriced lines are kept, at 0, flagged, with the reason
    "NO_LOCAL_PRICE": (("PROV2", 40, JUNE, JUNE, EL, "AA2"),
                       ("2007/08", "APC_EL", 0, None, 0, 0, 0, 10005, 0, False,
                        "unpriced: no tariff for HRG AA2 in 2007/08")),
    "UNKNOWN_HRG": (("PROV1", 40, JUNE, JUNE, NE, "ZZ9"),
                    ("2007/08", "APC_NE", 0, None, 0, 0, 0, 10000, 0, False,
                     "unpriced: no tariff for HRG ZZ9 in 2007/08")),
    "NO_TARIFF_FOR_YEAR": (("PROV1", 40, D(2008, 3, 30), D(2008, 4, 2), NE, "AA1"),
                           ("2008/09", "APC_NE", 0, None, 0, 0, 0, None, 0, False,
                            "unpriced: no tariff for 2008/09")),
    "NO_MFF": (("XXX", 40, JUNE, D(2007, 6, 4), EL, "AA1"),
               ("2007/08", "APC_EL", 100000, 3, 0, 0, 0, None, 0, False,
                "unpriced: no MFF for provider XXX in 2007/08")),
    # MFF 1.0005: £1200 (spell and a day) -> 120060p; SSE £1000 -> 100050p
    "MFF_LONG_STAY": (("PROV2", 40, JUNE, D(2007, 6, 5), EL, "AA1"),
                      ("2007/08", "APC_EL", 100000, 3, 1, 20000, 0, 10005, 120060, True,
                       "national elective spell with 1 excess bed day")),
    "MFF_SSE": (("PROV2", 30, JUNE, JUNE, NE, "AA1"),
                ("2007/08", "APC_NE", 200000, 5, 0, 0, 100000, 10005, 100050, True,
                 "reduced short-stay emergency (50%)")),
}  # fmt: skip

# key: (procode, date, firstatt, attended, tfc) -> (year, pod, base, mff, price, priced, rule)
OP_GOLDEN = {
    "FIRST": (("PROV1", JUNE, "1", "5", "100"),
              ("2007/08", "OP_FIRST", 15000, 10000, 15000, True, "outpatient first attendance")),
    "FOLLOW_UP_SEEN_LATE": (("PROV1", JUNE, "2", "6", "100"),
                            ("2007/08", "OP_FU", 8000, 10000, 8000, True, "outpatient follow-up attendance")),
    "FIRST_BY_TELEPHONE": (("PROV1", JUNE, "3", "5", "100"),
                           ("2007/08", "OP_FIRST", 15000, 10000, 15000, True, "outpatient first attendance")),
    "FOLLOW_UP_BY_TELEPHONE": (("PROV1", JUNE, "4", "5", "100"),
                               ("2007/08", "OP_FU", 8000, 10000, 8000, True, "outpatient follow-up attendance")),
    "DNA": (("PROV1", JUNE, "1", "3", "100"),
            ("2007/08", "OP_FIRST", 0, 10000, 0, True, "did not attend: no charge")),
    "TOO_LATE_TO_BE_SEEN": (("PROV1", JUNE, "2", "7", "100"),
                            ("2007/08", "OP_FU", 0, 10000, 0, True, "did not attend: no charge")),
    "CANCELLED_BY_PATIENT": (("PROV1", JUNE, "1", "2", "100"),
                             ("2007/08", "OP_FIRST", 0, 10000, 0, True, "not attended: no charge")),
    "CANCELLED_BY_HOSPITAL": (("PROV1", JUNE, "2", "4", "100"),
                              ("2007/08", "OP_FU", 0, 10000, 0, True, "not attended: no charge")),
    "DNA_WITHOUT_TARIFF": (("PROV1", D(2005, 6, 1), "1", "3", "100"),
                           ("2005/06", "OP_FIRST", 0, None, 0, True, "did not attend: no charge")),
    "LOCAL_TFC": (("PROV1", JUNE, "1", "5", "999"),
                  ("2007/08", "OP_FIRST", 5000, 10000, 5000, True, "local price")),
    "NO_LOCAL_FOLLOW_UP": (("PROV1", JUNE, "2", "5", "999"),
                           ("2007/08", "OP_FU", 0, 10000, 0, False, "unpriced: no tariff for TFC 999 in 2007/08")),
    "NO_TARIFF_FOR_YEAR": (("PROV1", D(2005, 6, 1), "1", "5", "100"),
                           ("2005/06", "OP_FIRST", 0, None, 0, False, "unpriced: no tariff for 2005/06")),
    "NEITHER_FIRST_NOR_FOLLOW_UP": (("PROV1", JUNE, "5", "5", "100"),
                                    ("2007/08", None, 0, 10000, 0, False,
                                     "unpriced: FIRSTATT 5 is neither a first nor a follow-up attendance")),
    # rounding half up in integers: 13000 x 1.0005 = 13006.5 -> 13007 (banker's rounding would give 13006),
    # 7000 x 1.0005 = 7003.5 -> 7004, 13000 x 1.2347 = 16051.1 -> 16051, 7000 x 1.2347 = 8642.9 -> 8643
    "HALF_UP_EVEN": (("PROV2", JUNE, "1", "5", "110"),
                     ("2007/08", "OP_FIRST", 13000, 10005, 13007, True, "outpatient first attendance")),
    "HALF_UP_ODD": (("PROV2", JUNE, "2", "5", "110"),
                    ("2007/08", "OP_FU", 7000, 10005, 7004, True, "outpatient follow-up attendance")),
    "ROUNDS_DOWN": (("PROV3", JUNE, "1", "5", "110"),
                    ("2007/08", "OP_FIRST", 13000, 12347, 16051, True, "outpatient first attendance")),
    "ROUNDS_UP": (("PROV3", JUNE, "2", "5", "110"),
                  ("2007/08", "OP_FU", 7000, 12347, 8643, True, "outpatient follow-up attendance")),
}  # fmt: skip

# key: (procode, date, department type, hrg) -> (year, pod, base, mff, price, priced, rule)
AE_GOLDEN = {
    "MAJOR": (("PROV1", JUNE, "01", "V01"), ("2007/08", "AE", 13800, 10000, 13800, True, "national A&E price")),
    "SINGLE_SPECIALTY": (("PROV1", JUNE, "02", "V05"),
                         ("2007/08", "AE", 8200, 10000, 8200, True, "national A&E price")),
    "MINOR_INJURY_UNIT": (("PROV1", JUNE, "03", "V01"),
                          ("2007/08", "AE", 5200, 10000, 5200, True, "A&E minor department: lowest price")),
    "WALK_IN_CENTRE": (("PROV1", JUNE, "04", "V05"),
                       ("2007/08", "AE", 5200, 10000, 5200, True, "A&E minor department: lowest price")),
    "MINOR_WHATEVER_THE_HRG": (("PROV1", JUNE, "03", "V99"),
                               ("2007/08", "AE", 5200, 10000, 5200, True, "A&E minor department: lowest price")),
    # in 2006/07 only type 04 is minor (rules are data): a type 03 attendance gets its HRG's price
    "TYPE_03_IN_2006_07": (("PROV1", D(2007, 1, 15), "03", "V01"),
                           ("2006/07", "AE", 13800, 10000, 13800, True, "national A&E price")),
    "LOCAL": (("PROV1", JUNE, "01", "V99"), ("2007/08", "AE", 3000, 10000, 3000, True, "local price")),
    "UNKNOWN_HRG": (("PROV1", JUNE, "01", "V77"),
                    ("2007/08", "AE", 0, 10000, 0, False, "unpriced: no tariff for HRG V77 in 2007/08")),
    "NO_TARIFF_FOR_YEAR": (("PROV1", D(2009, 1, 1), "01", "V01"),
                           ("2008/09", "AE", 0, None, 0, False, "unpriced: no tariff for 2008/09")),
    "MFF": (("PROV2", JUNE, "03", "V08"),  # 5200 x 1.0005 = 5202.6
            ("2007/08", "AE", 5200, 10005, 5203, True, "A&E minor department: lowest price")),
}  # fmt: skip


def _table(keys, key_name, names, types, golden) -> pa.Table:
    columns = {key_name: pa.array(keys, pa.string())}
    for i, (name, kind) in enumerate(zip(names, types, strict=True)):
        columns[name] = pa.array([golden[k][0][i] for k in keys], kind)
    return pa.table(columns)


def test_admitted_care_lines_priced_by_hand(con, hand_warehouse):
    names = ("PROCODE", "STARTAGE", "ADMIDATE", "DISDATE", "ADMIMETH", "SUSHRG")
    types = (pa.string(), pa.int64(), pa.date32(), pa.date32(), pa.string(), pa.string())
    lines = _table(list(APC_GOLDEN), "PROVSPNO", names, types, APC_GOLDEN)
    got = _priced(con, hand_warehouse, "apc", lines)
    assert {k: tuple(r[c] for c in GOLDEN) for k, r in got.items()} == {k: v[1] for k, v in APC_GOLDEN.items()}
    assert all(r["CURRENCY"] == r["SUSHRG"] for r in got.values())
    assert list(next(iter(got.values()))) == [*lines.column_names, *OUTPUT_COLUMNS]


def _no_stay(rows: dict[str, dict]) -> None:
    for row in rows.values():
        assert (row["TRIM_DAYS"], row["EXCESS_DAYS"], row["LONG_STAY_PENCE"], row["SHORT_STAY_REDUCTION_PENCE"]) == (
            None,
            0,
            0,
            0,
        )


def test_outpatient_lines_priced_by_hand(con, hand_warehouse):
    names = ("PROCODE", "APPTDATE", "FIRSTATT", "ATTENDED", "TRETSPEF")
    types = (pa.string(), pa.date32(), pa.string(), pa.string(), pa.string())
    got = _priced(con, hand_warehouse, "op", _table(list(OP_GOLDEN), "ATTENDKEY", names, types, OP_GOLDEN))
    columns = ("TARIFF_YEAR", "POD", "BASE_PENCE", "MFF_E4", "PRICE_PENCE", "PRICED", "PRICE_RULE")
    assert {k: tuple(r[c] for c in columns) for k, r in got.items()} == {k: v[1] for k, v in OP_GOLDEN.items()}
    assert all(r["CURRENCY"] == r["TRETSPEF"] for r in got.values())
    _no_stay(got)


def test_ae_lines_priced_by_hand(con, hand_warehouse):
    names = ("PROCODE", "ARRIVALDATE", "AEDEPTTYPE", "SUSHRG")
    types = (pa.string(), pa.date32(), pa.string(), pa.string())
    got = _priced(con, hand_warehouse, "ae", _table(list(AE_GOLDEN), "AEKEY", names, types, AE_GOLDEN))
    columns = ("TARIFF_YEAR", "POD", "BASE_PENCE", "MFF_E4", "PRICE_PENCE", "PRICED", "PRICE_RULE")
    assert {k: tuple(r[c] for c in columns) for k, r in got.items()} == {k: v[1] for k, v in AE_GOLDEN.items()}
    _no_stay(got)


# ---------------------------------------------------------------------------------------------------------------
# The tariff's rules are checked when it is loaded
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "value", "message"),
    [
        ("elective_price_basis", "separate", "2007/08 tariff rule elective_price_basis is 'separate'"),
        ("ae_minor_price", "highest", "2007/08 tariff rule ae_minor_price is 'highest'"),
        ("short_stay_emergency", "maybe", "2007/08 tariff rule short_stay_emergency must be yes or no"),
        ("short_stay_max_days", "one", "2007/08 tariff rule short_stay_max_days must be a whole number"),
        ("ae_minor_department_types", "3,4", "2007/08 tariff rule ae_minor_department_types must be two-digit"),
        ("short_stay_min_age", None, "the 2007/08 tariff lacks the rule(s) short_stay_min_age"),
    ],
)
def test_a_rule_pbc_cannot_apply_is_refused_naming_year_and_rule(tmp_path, rule, value, message):
    rules = {k: v for k, v in RULES_2007.items() if k != rule} | ({rule: value} if value is not None else {})
    warehouse = tariff_warehouse(tmp_path / "warehouse", hand_tariff({"2007/08": rules}))
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        tariff_tables(connect(), warehouse)
    assert issubclass(TariffError, ValueError)


def test_a_year_with_prices_but_no_rules_is_refused(tmp_path):
    tables = hand_tariff()
    tables["rules"] = tables["rules"].filter(pa.compute.equal(tables["rules"]["financial_year"], "2007/08"))
    warehouse = tariff_warehouse(tmp_path / "warehouse", tables)
    with pytest.raises(TariffError, match="the 2006/07 tariff lacks the rule"):
        tariff_tables(connect(), warehouse)


def test_rules_parse_into_typed_values():
    rules = parse_rules("2007/08", {**RULES_2007, "ae_minor_department_types": " 03 ; 04 ;"})
    assert rules.short_stay_emergency is True
    assert (rules.short_stay_max_days, rules.short_stay_min_age) == (1, 19)
    assert rules.ae_minor_department_types == ("03", "04")


def test_pricing_without_a_tariff_says_to_ingest_it(tmp_path):
    with pytest.raises(NotLoadedError, match="run pbc ingest on the tariff files first"):
        price(connect(), Warehouse(tmp_path / "warehouse"), "apc", ibis.memtable({"PROCODE": ["X"]}))


def test_lines_missing_a_column_the_rules_need_are_refused(hand_warehouse):
    lines = ibis.memtable(_table(["K"], "PROVSPNO", ("PROCODE",), (pa.string(),), {"K": (("PROV1",), None)}))
    with pytest.raises(ValueError, match=r"apc lines need the column\(s\) STARTAGE, ADMIDATE"):
        price(connect(), hand_warehouse, "apc", lines)


# ---------------------------------------------------------------------------------------------------------------
# A plain second implementation: Python ints, one row at a time, the tariff as dicts
# ---------------------------------------------------------------------------------------------------------------


class Reference:
    """The pricing rules of docs/costing.md written as plainly as possible, to check the engine's expressions."""

    def __init__(self, warehouse: Warehouse) -> None:
        def rows(name):
            return warehouse.read("tariff", name).to_pylist()

        self.apc = {(r["financial_year"], r["hrg"]): r for r in rows("apc")}
        self.op = {(r["financial_year"], r["tfc"]): r for r in rows("op")}
        self.ae = {(r["financial_year"], r["hrg"]): r["pence"] for r in rows("ae")}
        self.mff = {(r["financial_year"], r["provider_code"]): r["mff_e4"] for r in rows("mff")}
        self.local = {(r["financial_year"], r["provider_code"], r["pod"], r["currency"]): r["pence"]
                      for r in rows("local_prices")}  # fmt: skip
        self.rules: dict[str, dict[str, str]] = {}
        for r in rows("rules"):
            self.rules.setdefault(r["financial_year"], {})[r["rule"]] = r["value"]

    @staticmethod
    def year(day: dt.date) -> str:
        start = day.year if day.month >= 4 else day.year - 1
        return f"{start}/{(start + 1) % 100:02d}"

    @staticmethod
    def times_mff(pence: int, mff: int) -> int:
        return (pence * mff + 5000) // 10000

    def out(self, year, pod, currency, procode, base=0, trim=None, excess=0, long_stay=0, reduction=0):
        return {"TARIFF_YEAR": year, "POD": pod, "CURRENCY": currency, "BASE_PENCE": base, "TRIM_DAYS": trim,
                "EXCESS_DAYS": excess, "LONG_STAY_PENCE": long_stay, "SHORT_STAY_REDUCTION_PENCE": reduction,
                "MFF_E4": self.mff.get((year, procode)), "PRICE_PENCE": 0, "PRICED": False}  # fmt: skip

    def priced(self, out: dict, rule: str) -> dict:
        net = out["BASE_PENCE"] + out["LONG_STAY_PENCE"] - out["SHORT_STAY_REDUCTION_PENCE"]
        return out | {"PRICE_PENCE": self.times_mff(net, out["MFF_E4"]), "PRICED": True, "PRICE_RULE": rule}

    def unpriced(self, out: dict, found: bool, what: str) -> str | None:
        year, procode = out["TARIFF_YEAR"], out["PROCODE"]
        if year not in self.rules:
            return f"unpriced: no tariff for {year}"
        if not found:
            return f"unpriced: no tariff for {what} {out['CURRENCY']} in {year}"
        if out["MFF_E4"] is None:
            return f"unpriced: no MFF for provider {procode} in {year}"
        return None

    def apc_line(self, line: dict) -> dict:
        year, hrg = self.year(line["DISDATE"]), line["SUSHRG"]
        elective = line["ADMIMETH"] in ("11", "12", "13")
        pod = "APC_EL" if elective else "APC_NE"
        los = (line["DISDATE"] - line["ADMIDATE"]).days
        rules, row = self.rules.get(year, {}), self.apc.get((year, hrg))
        spell = row and row["elective_pence" if elective else "nonelective_pence"]
        local = self.local.get((year, line["PROCODE"], pod, hrg))
        out = self.out(year, pod, hrg, line["PROCODE"]) | {"PROCODE": line["PROCODE"]}
        short = False
        if spell is not None:
            trim = row["elective_trim_days" if elective else "nonelective_trim_days"]
            short = (
                not elective
                and rules.get("short_stay_emergency") == "yes"
                and los <= int(rules["short_stay_max_days"])
                and line["STARTAGE"] >= int(rules["short_stay_min_age"])
                and row["sse_applicable"] == "Yes"
                and row["sse_pence"] is not None
            )
            excess = 0 if short or trim is None else max(los - trim, 0)
            reduction = row["nonelective_pence"] - row["sse_pence"] if short else 0
            out |= {"BASE_PENCE": spell, "TRIM_DAYS": trim, "EXCESS_DAYS": excess}
            out |= {"LONG_STAY_PENCE": excess * (row["per_day_pence"] or 0), "SHORT_STAY_REDUCTION_PENCE": reduction}
        elif local is not None:
            out["BASE_PENCE"] = local
        why = self.unpriced(out, spell is not None or local is not None, "HRG")
        if why:
            return out | {"PRICE_RULE": why}
        if short:
            return self.priced(out, f"reduced short-stay emergency ({row['sse_percent']}%)")
        if spell is None:
            return self.priced(out, "local price")
        days = out["EXCESS_DAYS"]
        extra = f" with {days} excess bed day{'s' if days > 1 else ''}" if days else ""
        return self.priced(out, ("national elective spell" if elective else "national non-elective spell") + extra)

    def op_line(self, line: dict) -> dict:
        year, tfc = self.year(line["APPTDATE"]), line["TRETSPEF"]
        pod = {"1": "OP_FIRST", "3": "OP_FIRST", "2": "OP_FU", "4": "OP_FU"}[line["FIRSTATT"]]
        out = self.out(year, pod, tfc, line["PROCODE"]) | {"PROCODE": line["PROCODE"]}
        if line["ATTENDED"] not in ("5", "6"):
            dna = line["ATTENDED"] in ("3", "7")
            return out | {
                "PRICED": True,
                "PRICE_RULE": "did not attend: no charge" if dna else "not attended: no charge",
            }
        row = self.op.get((year, tfc))
        national = row and row["first_pence" if pod == "OP_FIRST" else "followup_pence"]
        local = self.local.get((year, line["PROCODE"], pod, tfc))
        base = national if national is not None else local
        out["BASE_PENCE"] = base or 0
        why = self.unpriced(out, base is not None, "TFC")
        if why:
            return out | {"PRICE_RULE": why}
        if national is None:
            return self.priced(out, "local price")
        return self.priced(
            out, "outpatient first attendance" if pod == "OP_FIRST" else "outpatient follow-up attendance"
        )

    def ae_line(self, line: dict) -> dict:
        year, hrg = self.year(line["ARRIVALDATE"]), line["SUSHRG"]
        out = self.out(year, "AE", hrg, line["PROCODE"]) | {"PROCODE": line["PROCODE"]}
        minor_types = self.rules.get(year, {}).get("ae_minor_department_types", "").split(";")
        minor = line["AEDEPTTYPE"] in minor_types
        national = self.ae.get((year, hrg))
        if minor:
            base = min((p for (y, _), p in self.ae.items() if y == year and p is not None), default=None)
        else:
            base = national if national is not None else self.local.get((year, line["PROCODE"], "AE", hrg))
        out["BASE_PENCE"] = base or 0
        why = self.unpriced(out, base is not None, "HRG")
        if why:
            return out | {"PRICE_RULE": why}
        if minor:
            return self.priced(out, "A&E minor department: lowest price")
        return self.priced(out, "local price" if national is None else "national A&E price")


def _stored(warehouse: Warehouse, dataset: str) -> list[dict]:
    files = ActivityStore(warehouse).files("rows", dataset)
    return pa.concat_tables([pq.read_table(f) for f in files], promote_options="default").to_pylist()


@pytest.mark.parametrize("dataset", ["apc", "op", "ae"])
def test_every_stored_line_is_priced_as_the_plain_reference_prices_it(con, brent_home, dataset):
    warehouse = Warehouse(brent_home.warehouse_dir)
    key = KEYS[dataset]
    reference = Reference(warehouse)
    pricer = {"apc": reference.apc_line, "op": reference.op_line, "ae": reference.ae_line}[dataset]
    expected = {}
    for line in _stored(warehouse, dataset):
        out = pricer(line)
        expected[(line["PROCODE"], line[key])] = tuple(out[c] for c in OUTPUT_COLUMNS)
    result = price(con, warehouse, dataset).select("PROCODE", key, *OUTPUT_COLUMNS).to_pyarrow().to_pylist()
    got = {(r["PROCODE"], r[key]): tuple(r[c] for c in OUTPUT_COLUMNS) for r in result}
    assert len(result) == len(expected) > 1000
    wrong = sorted(k for k in expected if got.get(k) != expected[k])
    assert not wrong, [(k, got.get(k), expected[k]) for k in wrong[:5]]
    rules = {out[-1] for out in expected.values()}
    assert len(rules) >= 2  # the comparison exercised more than one rule


# ---------------------------------------------------------------------------------------------------------------
# The synthetic provider's claims, and the claims audit
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dataset", ["apc", "op", "ae"])
def test_pricing_reproduces_every_correct_claim_of_the_synthetic_provider(brent_home, faults, dataset):
    warehouse = Warehouse(brent_home.warehouse_dir)
    key = KEYS[dataset]
    table = price(connect(brent_home), warehouse, dataset)
    rows = table.select("PROCODE", key, "CLAIMED_PRICE_PENCE", "PRICE_PENCE", "PRICED").to_pyarrow().to_pylist()
    wrong = {(p, k) for d, p, k in faults["wrong_price"] if d == dataset}
    checked = [r for r in rows if (r["PROCODE"], r[key]) not in wrong]
    assert all(r["PRICED"] for r in rows)
    mispriced = [r for r in checked if r["PRICE_PENCE"] != r["CLAIMED_PRICE_PENCE"]]
    assert not mispriced, mispriced[:5]
    faulty = [r for r in rows if (r["PROCODE"], r[key]) in wrong]
    assert faulty, "the synthetic data should hold wrong_price faults to find"
    assert all(r["PRICE_PENCE"] != r["CLAIMED_PRICE_PENCE"] for r in faulty)
    assert len(checked) > 0.9 * len(rows)


def test_claims_audit_lists_exactly_the_wrongly_priced_lines(brent_home, faults):
    warehouse = Warehouse(brent_home.warehouse_dir)
    con = connect(brent_home)
    for dataset in ("apc", "op", "ae"):
        audit = claims_audit(con, warehouse, dataset).to_pyarrow().to_pylist()
        found = {(r["PROCODE"], r["RECORD_KEY"]) for r in audit}
        wrong = {(p, k) for d, p, k in faults["wrong_price"] if d == dataset}
        assert found == wrong, dataset
        first = audit[0]
        assert first["DATASET"] == dataset
        assert first["DIFFERENCE_PENCE"] == first["CLAIMED_PRICE_PENCE"] - first["PRICE_PENCE"] != 0
        pounds = f"£{first['PRICE_PENCE'] // 100}.{first['PRICE_PENCE'] % 100:02d}"
        assert first["DETAIL"] == f"claimed £{first['CLAIMED_PRICE_PENCE'] // 100}." + (
            f"{first['CLAIMED_PRICE_PENCE'] % 100:02d}, tariff price {pounds} ({first['PRICE_RULE']})"
        )


# ---------------------------------------------------------------------------------------------------------------
# pbc cost
# ---------------------------------------------------------------------------------------------------------------


@pytest.fixture
def run_cost(tmp_path, monkeypatch):
    monkeypatch.delenv("PBC_ENGINE", raising=False)
    monkeypatch.delenv("PBC_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)

    def invoke(home, *args):
        monkeypatch.setenv("PBC_HOME", str(home))
        return CliRunner().invoke(PbcGroup(commands={"cost": cost}), ["cost", *map(str, args)])

    return invoke


def _extract(small_brent, dataset="apc"):
    return sorted((small_brent / "extracts" / dataset).glob(f"{dataset}_RV8_*.csv"))[0]


def test_cost_writes_each_line_with_its_breakdown_and_no_nhs_numbers(run_cost, brent_home, small_brent, tmp_path):
    extract = _extract(small_brent)
    with extract.open(newline="") as handle:
        lines = list(csv.DictReader(handle))
    out = tmp_path / "out" / "costed.csv"
    result = run_cost(brent_home.home, extract, "--out", out, "--json")
    assert result.exit_code == 0, result.output
    totals = json.loads(result.stdout)
    claimed = sum(round(float(line["CLAIMED_PRICE"]) * 100) for line in lines)
    with out.open(newline="") as handle:
        written = list(csv.DictReader(handle))
    assert "NEWNHSNO" not in written[0]
    text = out.read_text()
    assert not any(line["NEWNHSNO"] and line["NEWNHSNO"] in text for line in lines)
    assert [w["PROVSPNO"] for w in written] == [line["PROVSPNO"] for line in lines]
    assert set(OUTPUT_COLUMNS) <= set(written[0])
    recomputed = sum(int(w["PRICE_PENCE"]) for w in written)
    assert totals["problems"] == []
    assert (totals["lines"], totals["priced"], totals["unpriced"], totals["rejected"]) == (len(lines), len(lines), 0, 0)
    assert (totals["claimed_pence"], totals["recomputed_pence"]) == (claimed, recomputed)
    assert totals["difference_pence"] == claimed - recomputed
    assert totals["differing_lines"] == sum(w["PRICE_PENCE"] != w["CLAIMED_PRICE_PENCE"] for w in written)
    assert totals["tariff_years"] == ["2007/08"]


def test_cost_reports_rows_that_break_the_contract_and_prices_the_rest(run_cost, brent_home, small_brent, tmp_path):
    with _extract(small_brent, "ae").open(newline="") as handle:
        rows = list(csv.reader(handle))
    rows[2][rows[0].index("ARRIVALDATE")] = "2007-02-30"  # file row 3
    extract = tmp_path / "ae_RV8_2007-04.csv"
    with extract.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    out = tmp_path / "costed.parquet"
    result = run_cost(brent_home.home, extract, "--out", out)
    assert result.exit_code == 0, result.output
    assert "rejected 1 (rows that break the contract, not priced)" in result.output
    assert "ARRIVALDATE" in result.output
    assert "'2007-02-30' is not a date" in result.output
    written = pq.read_table(out)
    assert written.num_rows == len(rows) - 2
    assert 3 not in written["ROW_NUMBER"].to_pylist()
    assert load_contracts()["ae"].nhs_number not in written.column_names


def test_cost_without_a_tariff_says_to_ingest_it(run_cost, small_brent, tmp_path):
    result = run_cost(tmp_path / "empty_home", _extract(small_brent, "op"), "--out", tmp_path / "x.csv")
    assert result.exit_code == 1
    assert "run pbc ingest on the tariff files first" in result.stderr
    assert not (tmp_path / "x.csv").exists()


def test_cost_refuses_an_output_it_cannot_write(run_cost, brent_home, small_brent, tmp_path):
    result = run_cost(brent_home.home, _extract(small_brent), "--out", tmp_path / "x.xlsx")
    assert result.exit_code == 1
    assert "name a .csv or .parquet file" in result.stderr
