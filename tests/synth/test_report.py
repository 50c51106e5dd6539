"""The realism report, on tiny synth output folders built by hand whose every rate is worked out in comments.

The world ("base"), financial year 2005/06, commissioner 5K5, two practices:

  Lists (quarterly extracts 1 Apr, 1 Jul, 1 Oct 2005 and 1 Jan 2006):
    A81001: 50 in every quarter: 0-4 10 (M 0_4 5, F 0_4 5), 5-14 5 (F 5_9), 15-44 20 (M 20_24 10, F 40_44 10),
            45-64 10 (M 60_64), 75+ 5 (M 75_79 2, F 95+ 3).
    A81002: 65-74 10 (F 65_69) in every quarter, and M 15_19 of 30, 40, 40, 50: totals 40, 50, 50, 60, mean 50.
    Mean list 100; by band 0-4 10, 5-14 5, 15-44 20 + 40 = 60, 45-64 10, 65-74 10, 75+ 5.
    So each event is 10 per 1,000 overall.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import defaultdict
from pathlib import Path

import pytest

from pbc.synth import report as report_module
from pbc.synth.report import realism_report, report_rows


def fields(header: str) -> list[str]:
    return header.split(",")


LIST_HEADER = fields("PUBLICATION,EXTRACT_DATE,ORG_TYPE,ORG_CODE,ONS_CODE,POSTCODE,SEX,AGE_GROUP_5,NUMBER_OF_PATIENTS")
QUARTERS = ("2005-04-01", "2005-07-01", "2005-10-01", "2006-01-01")
APC = fields(
    "PROCODE,PROVSPNO,NEWNHSNO,DOB,STARTAGE,SEX,GPPRAC,PURCODE,ADMIDATE,DISDATE,ADMIMETH,ADMISORC,DISMETH,"
    "CLASSPAT,TRETSPEF,DIAG_01,OPERTN_01,SUSHRG,CLAIMED_PRICE"
)
OP = fields(
    "PROCODE,ATTENDKEY,NEWNHSNO,DOB,SEX,GPPRAC,PURCODE,APPTAGE,APPTDATE,FIRSTATT,ATTENDED,REFSOURC,TRETSPEF,"
    "OUTCOME,CLAIMED_PRICE"
)
AE = fields(
    "PROCODE,AEKEY,NEWNHSNO,DOB,SEX,GPPRAC,PURCODE,ARRIVALAGE,ARRIVALDATE,ARRIVALTIME,DEPTIME,AEDEPTTYPE,"
    "AEATTENDCAT,AEATTENDDISP,SUSHRG,CLAIMED_PRICE"
)
REF = fields("REFERRAL_ID,GPPRAC,NEWNHSNO,DOB,SEX,REFERRAL_DATE,TRETSPEF,PROCODE,PRIORITY,REFSOURC")
FAULTS = fields("fault_type,dataset,procode,month,record_key,file")


def write(path: Path, header: list[str], rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, header, restval="")
        writer.writeheader()
        writer.writerows(rows)


def list_file(folder: Path, date: str, practices: dict[str, dict[tuple[str, str], int]], totals=True) -> None:
    rows = []
    for code, cells in practices.items():
        base = {"PUBLICATION": "GP_REG", "EXTRACT_DATE": date, "ORG_TYPE": "GP", "ORG_CODE": code}
        rows += [base | {"SEX": s, "AGE_GROUP_5": b, "NUMBER_OF_PATIENTS": n} for (s, b), n in cells.items()]
        if totals:
            for sex in ("MALE", "FEMALE"):
                n = sum(v for (s, _), v in cells.items() if s == sex)
                rows.append(base | {"SEX": sex, "AGE_GROUP_5": "ALL", "NUMBER_OF_PATIENTS": n})
            rows.append(base | {"SEX": "ALL", "AGE_GROUP_5": "ALL", "NUMBER_OF_PATIENTS": sum(cells.values())})
    write(folder / "reference" / "lists" / f"list_sizes_{date}.csv", LIST_HEADER, rows)


def base_lists(folder: Path, totals=True) -> None:
    p1 = {("MALE", "0_4"): 5, ("FEMALE", "0_4"): 5, ("FEMALE", "5_9"): 5, ("MALE", "20_24"): 10}
    p1 |= {("FEMALE", "40_44"): 10, ("MALE", "60_64"): 10, ("MALE", "75_79"): 2, ("FEMALE", "95+"): 3}
    for date, young in zip(QUARTERS, (30, 40, 40, 50), strict=True):
        p2 = {("MALE", "15_19"): young, ("FEMALE", "65_69"): 10}
        list_file(folder, date, {"A81001": p1, "A81002": p2}, totals)


def write_extract(folder: Path, dataset: str, header: list[str], rows: list[dict], month_of: str) -> None:
    """One file per provider (or PCT, for referrals) and month, as the generator writes them."""
    files = defaultdict(list)
    for row in rows:
        code = "5K5" if dataset == "referrals" else row["PROCODE"]
        files[(code, row[month_of][:7])].append(row)
    for (code, month), file_rows in files.items():
        write(folder / "extracts" / dataset / f"{dataset}_{code}_{month}.csv", header, file_rows)


def spell(key, admidate, age, meth, classpat="1", procode="RV8", days=3):
    admitted = dt.date.fromisoformat(admidate)
    return {
        "PROCODE": procode, "PROVSPNO": key, "NEWNHSNO": "9990000018", "DOB": "1950-01-01", "STARTAGE": str(age),
        "SEX": "1", "GPPRAC": "A81001", "PURCODE": "5K5", "ADMIDATE": admidate,
        "DISDATE": (admitted + dt.timedelta(days=days)).isoformat(), "ADMIMETH": meth, "ADMISORC": "19",
        "DISMETH": "1", "CLASSPAT": classpat, "TRETSPEF": "300", "DIAG_01": "I209", "SUSHRG": "E12",
        "CLAIMED_PRICE": "1234.56",
    }  # fmt: skip


# Emergencies of 2005/06: one per emergency ADMIMETH code, so every code is recognised.
#   band 0-4: 1 (age 3); 5-14: 0; 15-44: 4 (15, 30, 44, 20); 45-64: 1 (64); 65-74: 2 (65, 74); 75+: 2 (75, 99).
#   Dec-Feb: 4 (Dec 5, Dec 20, Jan 10, Feb 14); Jun-Aug: 2 (Jun 10, Jul 1).
EMERGENCIES = [
    ("E01", "2005-12-05", 3, "21"), ("E02", "2005-12-20", 15, "22"), ("E03", "2006-01-10", 30, "23"),
    ("E04", "2006-02-14", 44, "24"), ("E05", "2005-06-10", 20, "25"), ("E06", "2005-07-01", 64, "28"),
    ("E07", "2005-04-15", 65, "2A"), ("E08", "2005-05-15", 74, "2B"), ("E09", "2005-09-15", 75, "2C"),
]  # fmt: skip


def build_base(folder: Path) -> Path:
    base_lists(folder)
    manifest = {
        "seed": 1,
        "financial_years": ["2005/06"],
        "population": {"2005/06": {"registrations": 20, "deregistrations": 10, "mean_list": 100}},
    }
    folder.joinpath("manifest.json").write_text(json.dumps(manifest), encoding="utf-8")

    apc = [spell(*e) for e in EMERGENCIES]
    apc.append(spell("E10", "2005-10-15", 99, "2D", procode="RQM"))  # the tenth emergency, at another trust
    apc.append(spell("000777", "2006-01-11", 30, "21"))  # injected duplicate: excluded
    apc.append(spell("B01", "2005-03-30", 50, "21"))  # admitted in 2004/05, discharged April 2005: not counted
    apc.append(spell("M01", "2005-08-01", 28, "31"))  # maternity: neither elective nor emergency
    # 10 electives at RV8, 7 of them day cases, spread over the year.
    apc += [spell(f"L{i:02d}", f"2005-{4 + i:02d}-03", 50, ("11", "12", "13")[i % 3], "2" if i < 7 else "1", days=0)
            for i in range(9)]  # fmt: skip
    apc.append(spell("L09", "2006-03-01", 50, "11", "1", days=0))
    write_extract(folder, "apc", APC, apc, "DISDATE")
    # RQM November: first file 3 elective day cases, resubmitted as 2 electives (1 day case, 1 ordinary).
    first = [spell(f"Q{i}", "2005-11-07", 60, "11", "2", procode="RQM", days=0) for i in range(3)]
    write(folder / "extracts" / "apc" / "apc_RQM_2005-11.csv", APC, first)
    r2 = [spell("R1", "2005-11-07", 60, "11", "2", "RQM", 0), spell("R2", "2005-11-08", 60, "12", "1", "RQM", 1)]
    write(folder / "extracts" / "resubmissions" / "apc_RQM_2005-11_r2.csv", APC, r2)
    # So electives 10 + 2 = 12 (not 10 + 3), day cases 7 + 1 = 8.

    # Outpatients at RV8: 20 attended firsts (15 code 5, 5 code 6), 44 attended follow-ups, 3 first and 3
    # follow-up DNAs, 2 patient cancellations (ATTENDED 2), and one injected duplicate first: 72 rows counted.
    plan = [("1", "5")] * 15 + [("1", "6")] * 5 + [("2", "5")] * 44 + [("1", "3")] * 3 + [("2", "3")] * 3
    plan += [("2", "2")] * 2
    op = [
        {"PROCODE": "RV8", "ATTENDKEY": f"{i:06d}", "GPPRAC": "A81002", "APPTAGE": "40", "FIRSTATT": first,
         "APPTDATE": dt.date(2005 + (i % 12 > 8), (3 + i % 12) % 12 + 1, 10).isoformat(), "ATTENDED": attended}
        for i, (first, attended) in enumerate(plan)
    ]  # fmt: skip
    op.append(op[0] | {"ATTENDKEY": "OPDUP"})
    write_extract(folder, "op", OP, op, "APPTDATE")

    # A&E at RV8: 25 attendances, 5 admitted (01), 19 discharged (02/03), 1 left (07); one duplicate admitted.
    disps = ["01"] * 5 + ["02"] * 10 + ["03"] * 9 + ["07"]
    ae = [
        {"PROCODE": "RV8", "AEKEY": f"A{i:03d}", "ARRIVALAGE": "33", "ARRIVALDATE": f"2005-{4 + i % 9:02d}-20",
         "AEDEPTTYPE": "01", "AEATTENDCAT": "1", "AEATTENDDISP": disp}
        for i, disp in enumerate(disps)
    ]  # fmt: skip
    ae.append(ae[0] | {"AEKEY": "AEDUP"})
    write_extract(folder, "ae", AE, ae, "ARRIVALDATE")

    # Referrals: A81001 12, A81002 8, and 1 from a practice on no list (still counted overall): 21.
    practices = ["A81001"] * 12 + ["A81002"] * 8 + ["Z99999"]
    refs = [
        {"REFERRAL_ID": f"F{i:03d}", "GPPRAC": p, "DOB": "1970-06-30", "REFERRAL_DATE": f"2005-{4 + i % 9:02d}-01",
         "PROCODE": "RV8", "PRIORITY": "1", "REFSOURC": "03"}
        for i, p in enumerate(practices)
    ]  # fmt: skip
    write_extract(folder, "referrals", REF, refs, "REFERRAL_DATE")

    faults = [
        {"fault_type": "duplicate_spell", "dataset": "apc", "procode": "RV8", "record_key": "000777"},
        {"fault_type": "duplicate_attendance", "dataset": "op", "procode": "RV8", "record_key": "OPDUP"},
        {"fault_type": "ae_duplicate", "dataset": "ae", "procode": "RV8", "record_key": "AEDUP"},
        # Same key at another provider: E03 at RV8 must still count.
        {"fault_type": "duplicate_spell", "dataset": "apc", "procode": "RQM", "record_key": "E03"},
        # Other faults are still activity.
        {"fault_type": "wrong_price", "dataset": "apc", "procode": "RV8", "record_key": "E01"},
        {"fault_type": "resubmission", "dataset": "apc", "procode": "RQM", "file": "apc_RQM_2005-11_r2.csv"},
    ]
    write(folder / "truth" / "faults.csv", FAULTS, faults)
    return folder


def metric(report, name, band=None, year="2005/06"):
    found = [m for m in report["metrics"] if m["metric"] == name and m["band"] == band and m["year"] == year]
    assert len(found) == 1, (name, band, year)
    return found[0]


def check(report, name, numerator, denominator, achieved, within, band=None):
    m = metric(report, name, band)
    assert m["numerator"] == pytest.approx(numerator)
    assert m["denominator"] == pytest.approx(denominator)
    assert m["achieved"] == pytest.approx(achieved)
    assert m["within"] is within


@pytest.fixture
def base(tmp_path):
    return build_base(tmp_path / "out")


def test_population_is_the_mean_of_the_four_quarters(base):
    report = realism_report(base)
    assert report["folder"] == str(base)
    assert report["financial_years"] == ["2005/06"]
    pop = report["population"]["2005/06"]
    assert pop["mean_list"] == pytest.approx(100)  # A81001 50 + A81002 (40 + 50 + 50 + 60) / 4
    assert pop["practices"] == 2
    assert pop["list_extracts"] == list(QUARTERS)
    assert pop["by_band"] == pytest.approx({"0-4": 10, "5-14": 5, "15-44": 60, "45-64": 10, "65-74": 10, "75+": 5})


def test_every_metric_against_hand_worked_rates(base):
    report = realism_report(base)
    # 21 referrals / 100 -> 210 per 1000 (target 200, +5%).
    check(report, "gp_referrals_per_1000", 21, 100, 210, True)
    # 20 attended firsts -> 200 (target 260, -23%).
    check(report, "op_first_attendances_per_1000", 20, 100, 200, False)
    # 44 attended follow-ups / 20 attended firsts = 2.2 (target 2.3, -4%).
    check(report, "op_followup_ratio", 44, 20, 2.2, True)
    # 6 DNAs / 72 rows (20 + 44 + 6 + 2; the duplicate is not a row) = 0.0833 (target 0.075, +11%).
    check(report, "op_dna_rate", 6, 72, 6 / 72, True)
    # 12 electives (the resubmission's 2, not the first file's 3) -> 120 (target 110, +9%).
    check(report, "elective_admissions_per_1000", 12, 100, 120, True)
    # 8 day cases / 12 electives (target 0.667).
    check(report, "elective_day_case_share", 8, 12, 8 / 12, True)
    # 10 emergencies (not the duplicate, not the 2004/05 admission) -> 100 (target 100).
    check(report, "emergency_admissions_per_1000", 10, 100, 100, True)
    # 25 attendances -> 250 (target 285, -12%); 5 of them admitted -> 0.2.
    check(report, "ae_attendances_per_1000", 25, 100, 250, True)
    check(report, "ae_admitted_share", 5, 25, 0.2, True)
    # 4 emergencies in Dec-Feb over 2 in Jun-Aug = 2.0 (target 1.15).
    check(report, "emergency_winter_ratio", 4, 2, 2.0, False)
    # Practice rates 240 (12/50) and 160 (8/50): p90 = 160 + 0.9 * 80 = 232, median 200 -> 1.16 (target 1.30, -11%).
    check(report, "practice_referral_p90_to_median", 232, 200, 1.16, True)
    # (20 + 10) / 2 / 100 = 0.15 (target 0.30).
    check(report, "list_turnover", 15, 100, 0.15, False)
    assert report["all_within"] is False
    assert len(report["metrics"]) == 18  # 12 overall metrics + 6 emergency bands
    json.dumps(report)  # JSON-ready


def test_banded_emergency_rates_use_banded_denominators(base):
    report = realism_report(base)
    check(report, "emergency_admissions_per_1000", 1, 10, 100, True, band="0-4")  # target 105
    check(report, "emergency_admissions_per_1000", 0, 5, 0, False, band="5-14")  # target 35
    check(report, "emergency_admissions_per_1000", 4, 60, 4000 / 60, True, band="15-44")  # 66.7 vs 75: -11%
    check(report, "emergency_admissions_per_1000", 1, 10, 100, True, band="45-64")  # target 105
    check(report, "emergency_admissions_per_1000", 2, 10, 200, False, band="65-74")  # 200 vs 170: +18%
    check(report, "emergency_admissions_per_1000", 2, 5, 400, False, band="75+")  # target 260


def test_resubmission_replaces_its_original(base):
    resubmission = base / "extracts" / "resubmissions" / "apc_RQM_2005-11_r2.csv"
    assert realism_report(base)["extracts"]["apc"]["resubmitted"] == 1
    resubmission.unlink()
    report = realism_report(base)
    # Without the resubmission the first file's 3 elective day cases count instead of its 2 spells.
    check(report, "elective_admissions_per_1000", 13, 100, 130, False)
    check(report, "elective_day_case_share", 10, 13, 10 / 13, False)  # 0.769 vs 0.667: +15.4%


def test_listed_duplicates_are_excluded_and_counted_in_the_summary(base):
    apc = realism_report(base)["extracts"]["apc"]
    # Read: 9 + 4 other RV8 spells (duplicate, 2004/05, maternity...) + 10 electives + RQM 1 + r2 2 = 25.
    assert apc == {
        "files": 14, "resubmitted": 1, "rows_read": 25, "duplicates_excluded": 1, "outside_years": 1, "counted": 23,
    }  # fmt: skip
    (base / "truth" / "faults.csv").unlink()
    report = realism_report(base)
    check(report, "emergency_admissions_per_1000", 11, 100, 110, True)
    check(report, "op_dna_rate", 6, 73, 6 / 73, True)
    check(report, "ae_admitted_share", 6, 26, 6 / 26, False)  # 0.231: +15.4%, just outside


def minimal(tmp_path: Path, emergencies: int) -> Path:
    """Lists of 100 people and nothing but `emergencies` emergency spells: each is 10 per 1,000."""
    folder = tmp_path / "out"
    base_lists(folder)
    apc = [spell(f"S{i}", f"2005-{4 + i % 9:02d}-01", 40, "21") for i in range(emergencies)]
    write_extract(folder, "apc", APC, apc, "DISDATE")
    return folder


@pytest.mark.parametrize(
    ("spells", "within"),
    [(10, True), (11, True), (9, True), (12, False), (8, False)],
)
def test_within_means_within_fifteen_percent(tmp_path, spells, within):
    # Target 100 per 1000: 110 and 90 are 10% off (within), 120 and 80 are 20% off (not).
    report = realism_report(minimal(tmp_path, spells))
    m = metric(report, "emergency_admissions_per_1000")
    assert m["achieved"] == pytest.approx(10 * spells)
    assert m["tolerance"] == 0.15
    assert m["within"] is within


def test_without_a_manifest_years_come_from_the_extract_files(tmp_path):
    report = realism_report(minimal(tmp_path, 10))
    assert report["financial_years"] == ["2005/06"]
    assert not [m for m in report["metrics"] if m["metric"] == "list_turnover"]  # no manifest population
    # A dataset with no rows gives a zero rate, and a ratio over nothing is not achieved.
    assert metric(report, "ae_attendances_per_1000")["achieved"] == 0
    assert metric(report, "ae_admitted_share")["achieved"] is None
    assert metric(report, "ae_admitted_share")["within"] is False


def test_list_files_without_totals_give_the_same_denominators(base):
    before = realism_report(base)["population"]
    for path in (base / "reference" / "lists").glob("*.csv"):
        path.unlink()
    base_lists(base, totals=False)
    assert realism_report(base)["population"] == before


def test_a_missing_quarter_averages_the_extracts_there_are(base):
    (base / "reference" / "lists" / "list_sizes_2006-01-01.csv").unlink()
    pop = realism_report(base)["population"]["2005/06"]
    assert pop["list_extracts"] == list(QUARTERS[:3])
    assert pop["mean_list"] == pytest.approx(50 + (40 + 50 + 50) / 3)
    assert pop["by_band"]["15-44"] == pytest.approx(20 + (30 + 40 + 40) / 3)


def test_referral_age_is_whole_years_on_the_referral_date(tmp_path, monkeypatch):
    folder = tmp_path / "out"
    base_lists(folder)
    refs = [  # born 15 Jan 2001: 4 the day before the fifth birthday, 5 on it
        {"REFERRAL_ID": "1", "GPPRAC": "A81001", "DOB": "2001-01-15", "REFERRAL_DATE": "2006-01-14"},
        {"REFERRAL_ID": "2", "GPPRAC": "A81001", "DOB": "2001-01-15", "REFERRAL_DATE": "2006-01-15"},
    ]
    write_extract(folder, "referrals", REF, refs, "REFERRAL_DATE")
    targets = [{"metric": "gp_referrals_per_1000", "band": b, "target": 100.0, "tol": 0.15} for b in ("0-4", "5-14")]
    monkeypatch.setattr(report_module, "_load_targets", lambda: targets)
    report = realism_report(folder)
    check(report, "gp_referrals_per_1000", 1, 10, 100, True, band="0-4")
    check(report, "gp_referrals_per_1000", 1, 5, 200, False, band="5-14")


def test_report_rows_round_for_a_table(base):
    rows = report_rows(realism_report(base))
    assert rows[0] == {
        "metric": "gp_referrals_per_1000", "year": "2005/06", "band": "", "achieved": 210.0, "target": 200.0,
        "within": True,
    }  # fmt: skip
    dna = next(r for r in rows if r["metric"] == "op_dna_rate")
    assert dna["achieved"] == 0.083
    band = next(r for r in rows if r["band"] == "15-44")
    assert band["achieved"] == 66.7


@pytest.mark.parametrize("make", [lambda p: p / "missing", lambda p: p])
def test_not_a_synth_folder_is_a_clear_error(tmp_path, make):
    folder = make(tmp_path)
    with pytest.raises(ValueError, match="not a pbc synth output folder") as err:
        realism_report(folder)
    assert str(folder) in str(err.value)


def test_a_year_without_list_files_is_a_clear_error(base):
    manifest = json.loads((base / "manifest.json").read_text())
    manifest["financial_years"] = ["2005/06", "2006/07"]
    (base / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match=r"no list files for 2006/07") as err:
        realism_report(base)
    assert str(base / "reference" / "lists") in str(err.value)


def test_extracts_missing_a_needed_column_is_a_clear_error(base):
    header = [c for c in AE if c != "AEATTENDDISP"]
    for path in (base / "extracts" / "ae").glob("*.csv"):
        with path.open(newline="") as f:
            rows = [{k: v for k, v in row.items() if k != "AEATTENDDISP"} for row in csv.DictReader(f)]
        write(path, header, rows)
    with pytest.raises(ValueError, match="AEATTENDDISP") as err:
        realism_report(base)
    assert str(base / "extracts" / "ae") in str(err.value)
