"""Fixtures for the benchmark tests: a tiny hand-built Brent whose every figure is worked by hand, and small Brent.

The tiny commissioner has four real Brent practices with patients in two cells only (men aged 20-24, women aged
70-74), so that every expected count, standardised rate and interval in the golden tests can be worked on paper:

| practice | cluster | 1 Apr 2007 list (M 20-24 / F 70-74) | 1 Oct 2007 list | mean (person-years) |
|---|---|---|---|---|
| A E84002 | Kingsbury | 1000 / 200 | 1200 / 200 | 1100 / 200 = 1300 |
| B E84003 | Wembley | 400 / 600 | 400 / 600 | 400 / 600 = 1000 |
| C E84006 | Harlesden | 100 / 0 | 100 / 0 | 100 / 0 = 100 |
| D E84007 | Kingsbury to 30 Sep 2007, then Wembley | 500 / 500 | 500 / 500 | 500 / 500 = 1000 |

A list dated 1 Jan 2007 (2006/07, 9000 men at each practice) must never be used for 2007/08. The activity is
listed in `SPELLS`, `ATTENDANCES`, `AE` and `REFERRALS` below; the tests' docstrings work the figures from them.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from pbc.ingest.contracts import load_contracts
from pbc.ingest.load import Ingest
from pbc.keys import ensure_keys
from pbc.settings import Settings
from pbc.warehouse import Warehouse

A, B, C, D = "E84002", "E84003", "E84006", "E84007"
MEN, WOMEN = ("1", 22, "1985-01-01"), ("2", 72, "1935-01-01")  # SEX, age, date of birth: bands 20_24 and 70_74

LISTS = {
    "2007-01-01": {A: (9000, 0), B: (9000, 0), C: (9000, 0), D: (9000, 0)},
    "2007-04-01": {A: (1000, 200), B: (400, 600), C: (100, 0), D: (500, 500)},
    "2007-10-01": {A: (1200, 200), B: (400, 600), C: (100, 0), D: (500, 500)},
}
MEMBERSHIPS = [
    (A, "5K5-KINGSBURY", "2005-01-01", ""),
    (B, "5K5-WEMBLEY", "2005-01-01", ""),
    (C, "5K5-HARLESDEN", "2005-01-01", ""),
    (D, "5K5-KINGSBURY", "2005-01-01", "2007-09-30"),
    (D, "5K5-WEMBLEY", "2007-10-01", ""),
]
# (practice, who, admission method, patient class, diagnosis, procedure, admitted, discharged, how many)
SPELLS = [
    (A, MEN, "21", "1", "R07.4", "", "2007-06-01", "2007-06-02", 2),
    (A, WOMEN, "21", "1", "J45.9", "", "2007-06-01", "2007-06-03", 2),  # asthma: chronic ACSC
    (A, WOMEN, "21", "1", "I20.9", "K40.1", "2007-06-01", "2007-06-04", 1),  # angina with a cardiac procedure: not ACSC
    (A, WOMEN, "21", "1", "I20.9", "", "2007-06-01", "2007-06-04", 1),  # angina: chronic ACSC
    (A, WOMEN, "21", "1", "N39.0", "", "2007-06-01", "2007-06-04", 1),  # urinary tract infection: acute ACSC
    (A, WOMEN, "21", "1", "A09.9", "", "2007-06-01", "2007-06-04", 1),  # gastroenteritis A09: not on Purdy's list
    (A, ("0", 72, "1935-01-01"), "21", "1", "R55", "", "2007-06-01", "2007-06-02", 1),  # sex not known
    (A, WOMEN, "21", "1", "R55", "", "2007-03-10", "2007-03-15", 1),  # ends in 2006/07
    (B, MEN, "21", "1", "R07.4", "", "2007-07-01", "2007-07-02", 1),
    (B, WOMEN, "21", "1", "E11.6", "", "2007-07-01", "2007-07-05", 5),  # diabetes complication: chronic ACSC
    (B, WOMEN, "2A", "1", "R55", "", "2007-07-01", "2007-07-02", 15),
    (C, MEN, "22", "1", "J45.9", "", "2007-08-01", "2007-08-02", 1),
    (D, WOMEN, "21", "1", "I50.0", "", "2007-06-01", "2007-06-09", 3),  # heart failure, while D is in Kingsbury
    (D, WOMEN, "21", "1", "I50.0", "", "2007-11-01", "2007-11-09", 2),  # ... and after it moved to Wembley
    (A, MEN, "11", "2", "K40.9", "T20.2", "2007-09-01", "2007-09-01", 7),  # elective day cases
    (A, MEN, "11", "1", "K40.9", "T20.2", "2007-09-01", "2007-09-02", 3),
    (B, WOMEN, "12", "1", "H25.9", "C71.2", "2007-09-01", "2007-09-02", 4),
    (C, MEN, "13", "2", "K40.9", "T20.2", "2007-09-01", "2007-09-01", 2),
]
# (practice, who, specialty, FIRSTATT, ATTENDED, how many): all on 2 July 2007
ATTENDANCES = [
    (A, MEN, "100", "1", "5", 4),
    (A, MEN, "100", "2", "5", 10),
    (A, MEN, "100", "2", "3", 2),  # did not attend
    (B, WOMEN, "100", "1", "6", 2),
    (C, MEN, "100", "2", "5", 3),  # follow-ups with no first attendance at the practice
    (D, WOMEN, "110", "1", "5", 1),
    (D, WOMEN, "110", "4", "5", 1),
]
# (practice, who, how many): A&E attendances on 3 August 2007
AE = [(A, MEN, 10), (A, WOMEN, 4), (B, WOMEN, 12), (C, MEN, 3), (D, WOMEN, 9)]
# (practice, who, specialty, how many): referrals on 4 May 2007
REFERRALS = [(A, MEN, "100", 10), (A, WOMEN, "110", 3), (C, MEN, "100", 3), (D, WOMEN, "110", 10)]
# (practice, condition, sex, band, count) on 31 March 2008
REGISTERS = [
    (A, "DIABETES", "FEMALE", "70_74", 20),
    (A, "DIABETES", "MALE", "20_24", 1),
    (B, "DIABETES", "FEMALE", "70_74", 30),
    (D, "DIABETES", "FEMALE", "70_74", 10),
    (A, "ASTHMA", "MALE", "20_24", 50),
    (C, "ASTHMA", "MALE", "20_24", 5),
]


def _write(path: Path, header: list[str], rows: list[list[object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def write_tiny(folder: Path) -> Path:
    """Write the tiny commissioner's extracts and reference files into a folder `pbc ingest` can read."""
    lists = []
    for date, practices in LISTS.items():
        stamp = date.replace("-", "")
        published = f"{stamp[6:]}{['JAN', 'APR', 'OCT'][['01', '04', '10'].index(stamp[4:6])]}{stamp[:4]}"
        for practice, (men, women) in practices.items():
            lists += [
                ["GP_REG_PAT_PRAC_QUIN_AGE", published, "GP", practice, "", "", "MALE", "20_24", men],
                ["GP_REG_PAT_PRAC_QUIN_AGE", published, "GP", practice, "", "", "FEMALE", "70_74", women],
            ]
    _write(
        folder / "reference" / "list_sizes.csv",
        [
            "PUBLICATION",
            "EXTRACT_DATE",
            "ORG_TYPE",
            "ORG_CODE",
            "ONS_CODE",
            "POSTCODE",
            "SEX",
            "AGE_GROUP_5",
            "NUMBER_OF_PATIENTS",
        ],
        lists,
    )
    _write(
        folder / "reference" / "locality_memberships.csv",
        ["practice_code", "locality_code", "effective_from", "effective_to"],
        [list(m) for m in MEMBERSHIPS],
    )
    _write(
        folder / "reference" / "registers.csv",
        ["EXTRACT_DATE", "PRACTICE_CODE", "CONDITION", "SEX", "AGE_GROUP_5", "REGISTER_COUNT"],
        [["2008-03-31", *r] for r in REGISTERS],
    )
    common = {"PROCODE": "RV8", "NEWNHSNO": "", "GPPRAC": None, "PURCODE": "5K5"}
    apc = [
        {**common, "PROVSPNO": "", "DOB": dob, "STARTAGE": age, "SEX": sex, "GPPRAC": practice, "ADMIDATE": admitted}
        | {"DISDATE": discharged, "ADMIMETH": method, "ADMISORC": "19", "DISMETH": "1", "CLASSPAT": klass}
        | {"TRETSPEF": "300", "DIAG_01": diag, "OPERTN_01": opcs, "SUSHRG": "E37", "CLAIMED_PRICE": "1000.00"}
        for practice, (sex, age, dob), method, klass, diag, opcs, admitted, discharged, n in SPELLS
        for _ in range(n)
    ]
    op = [
        {**common, "ATTENDKEY": "", "DOB": dob, "APPTAGE": age, "SEX": sex, "GPPRAC": practice}
        | {"APPTDATE": "2007-07-02", "FIRSTATT": first, "ATTENDED": attended, "REFSOURC": "03", "TRETSPEF": tfc}
        | {"OUTCOME": "1", "CLAIMED_PRICE": "100.00"}
        for practice, (sex, age, dob), tfc, first, attended, n in ATTENDANCES
        for _ in range(n)
    ]
    ae = [
        {**common, "AEKEY": "", "DOB": dob, "ARRIVALAGE": age, "SEX": sex, "GPPRAC": practice}
        | {"ARRIVALDATE": "2007-08-03", "ARRIVALTIME": "10:00", "DEPTIME": "12:00", "AEDEPTTYPE": "01"}
        | {"AEATTENDCAT": "1", "AEATTENDDISP": "03", "SUSHRG": "V08", "CLAIMED_PRICE": "60.00"}
        for practice, (sex, age, dob), n in AE
        for _ in range(n)
    ]
    referrals = [
        {"REFERRAL_ID": "", "GPPRAC": practice, "NEWNHSNO": "", "DOB": dob, "SEX": sex}
        | {"REFERRAL_DATE": "2007-05-04", "TRETSPEF": tfc, "PROCODE": "RV8", "PRIORITY": "1", "REFSOURC": "03"}
        for practice, (sex, _age, dob), tfc, n in REFERRALS
        for _ in range(n)
    ]
    contracts = load_contracts()
    for dataset, name, key, lines in (
        ("apc", "apc_RV8_2007-06.csv", "PROVSPNO", apc),
        ("op", "op_RV8_2007-07.csv", "ATTENDKEY", op),
        ("ae", "ae_RV8_2007-08.csv", "AEKEY", ae),
        ("referrals", "referrals_5K5_2007-05.csv", "REFERRAL_ID", referrals),
    ):
        header = list(contracts[dataset].names)
        for number, line in enumerate(lines, start=1):
            line[key] = f"{dataset[0].upper()}{number:05d}"
        _write(folder / "extracts" / name, header, [[line[c] for c in header] for line in lines])
    return folder


def ingested_home(root: Path, reference: Warehouse, extracts: Path) -> Settings:
    """A home holding the reference data, keys and the given extracts, ingested as `pbc ingest` does."""
    settings = Settings(home=root)
    shutil.copytree(reference.root, settings.warehouse_dir)
    ensure_keys(settings)
    results = Ingest(settings, Warehouse(settings.warehouse_dir), "on-time").run([extracts])
    refused = [r for r in results if r.outcome == "refused" or r.quarantined]
    assert not refused, refused
    return settings


@pytest.fixture(scope="session")
def tiny_home(tmp_path_factory: pytest.TempPathFactory, reference_warehouse: Warehouse) -> Settings:
    """The tiny hand-built commissioner (see the module docstring), ingested."""
    extracts = write_tiny(tmp_path_factory.mktemp("tiny_extracts"))
    return ingested_home(tmp_path_factory.mktemp("tiny_home"), reference_warehouse, extracts)


@pytest.fixture(scope="session")
def brent_indicator_home(
    tmp_path_factory: pytest.TempPathFactory, reference_warehouse: Warehouse, small_brent: Path
) -> Settings:
    """The small synthetic Brent (2007/08 at 5%, tariff included), ingested."""
    settings = Settings(home=tmp_path_factory.mktemp("indicator_home"))
    shutil.copytree(reference_warehouse.root, settings.warehouse_dir)
    ensure_keys(settings)
    Ingest(settings, Warehouse(settings.warehouse_dir), "on-time").run([small_brent])
    return settings
