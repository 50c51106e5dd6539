"""The clinical catalogue: codes that fit together, rates that add up, and loud errors for a broken file."""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from pbc.synth.catalogue import (
    AGE_PROFILES,
    LTCS,
    Catalogue,
    age_weights,
    bundled_catalogue_dir,
    load_catalogue,
)

ICD10 = re.compile(r"^[A-Z]\d{2}(\.\d)?$")
OPCS4 = re.compile(r"^[A-Z]\d{2}\.\d$")
HRG = re.compile(r"^[A-Z]\d{2}$")


@pytest.fixture(scope="module")
def cat() -> Catalogue:
    return load_catalogue()


def rows(table: pa.Table) -> list[dict]:
    return table.to_pylist()


def test_sizes_are_as_briefed(cat):
    assert 15 <= cat.specialties.num_rows <= 20
    assert 25 <= cat.emergency.num_rows <= 35
    assert 6 <= cat.ae.num_rows <= 8
    assert sum(r["minor"] for r in rows(cat.ae)) == 1


def test_columns_and_types(cat):
    assert cat.specialties.column_names == [
        "tfc",
        "name",
        "referral_weight",
        "followups_per_first",
        "age_profile",
        "national_tariff",
    ]
    assert cat.elective.column_names == [
        "case_id",
        "tfc",
        "hrg",
        "hrg_name",
        "diag",
        "opcs",
        "day_case_share",
        "los_mean",
        "weight",
        "age_profile",
        "sex",
    ]
    assert cat.emergency.column_names[-2:] == ["ltc", "acsc"]
    assert cat.ae.column_names == ["hrg", "hrg_name", "weight", "minor"]
    assert cat.specialties.schema.field("national_tariff").type == pa.bool_()
    assert cat.emergency.schema.field("acsc").type == pa.bool_()
    assert cat.elective.schema.field("los_mean").type == pa.float64()


def test_every_case_tfc_is_a_specialty(cat):
    tfcs = set(cat.specialties["tfc"].to_pylist())
    for case in rows(cat.elective) + rows(cat.emergency):
        assert case["tfc"] in tfcs, case["case_id"]


def test_every_specialty_has_an_elective_case(cat):
    assert set(cat.specialties["tfc"].to_pylist()) == set(cat.elective["tfc"].to_pylist())


def test_codes_have_valid_shapes(cat):
    for case in rows(cat.elective) + rows(cat.emergency):
        assert ICD10.match(case["diag"]), case
        assert case["opcs"] == "" or OPCS4.match(case["opcs"]), case
        assert HRG.match(case["hrg"]), case
        assert case["sex"] in ("M", "F", "")
        assert case["age_profile"] in AGE_PROFILES
    for spec in rows(cat.specialties):
        assert re.fullmatch(r"\d{3}", spec["tfc"])
        assert spec["age_profile"] in AGE_PROFILES
    assert all(re.fullmatch(r"V0[1-8]", h) for h in cat.ae["hrg"].to_pylist())


def test_an_hrg_has_one_name(cat):
    names: dict[str, str] = {}
    for case in rows(cat.elective) + rows(cat.emergency):
        assert names.setdefault(case["hrg"], case["hrg_name"]) == case["hrg_name"]


def test_weighted_followups_per_first_is_england_ratio(cat):
    weight = np.array(cat.specialties["referral_weight"].to_pylist())
    ratio = np.array(cat.specialties["followups_per_first"].to_pylist())
    assert (weight * ratio).sum() / weight.sum() == pytest.approx(2.3, abs=0.1)


def test_ltc_values_are_the_register_conditions(cat):
    assert set(LTCS) == {"DIABETES", "CHD", "COPD", "ASTHMA", "HEART_FAILURE", "STROKE", "HYPERTENSION"}
    values = set(cat.emergency["ltc"].to_pylist())
    assert values <= {*LTCS, ""}
    assert values - {""} == set(LTCS)  # every register drives some admissions


def test_shares_and_weights_in_range(cat):
    assert all(0 <= s <= 1 for s in cat.elective["day_case_share"].to_pylist())
    for table in (cat.specialties, cat.ae):
        col = "referral_weight" if "referral_weight" in table.column_names else "weight"
        assert all(w > 0 for w in table[col].to_pylist())
    assert all(w > 0 for w in cat.elective["weight"].to_pylist() + cat.emergency["weight"].to_pylist())


def test_some_specialties_are_priced_locally(cat):
    local = {r["tfc"] for r in rows(cat.specialties) if not r["national_tariff"]}
    assert local == {"191", "650"}


def test_clinical_content_fits_together(cat):
    elective = {r["case_id"]: r for r in rows(cat.elective)}
    emergency = {r["diag"]: r for r in rows(cat.emergency)}
    hip = elective["EL_TO_HIP"]
    assert (hip["tfc"], hip["diag"], hip["opcs"], hip["day_case_share"]) == ("110", "M16.9", "W37.1", 0)
    assert elective["EL_OP_CATARACT"]["opcs"] == "C75.1"
    assert elective["EL_GS_CHOLE"]["opcs"] == "J18.3"
    assert elective["EL_GS_HERNIA"]["opcs"] == "T20.2"
    nof = emergency["S72.0"]
    assert (nof["opcs"], nof["age_profile"]) == ("W46.1", "older")
    assert 15 <= nof["los_mean"] <= 25
    assert emergency["K35.9"]["opcs"] == "H01.9"
    assert emergency["I63.9"]["los_mean"] >= 15
    assert emergency["R07.4"]["los_mean"] <= 1
    assert (emergency["J44.1"]["ltc"], emergency["J44.1"]["acsc"]) == ("COPD", True)
    assert (emergency["I50.0"]["ltc"], emergency["I50.0"]["acsc"]) == ("HEART_FAILURE", True)
    assert emergency["J21.9"]["age_profile"] == "child"
    asthma = [r for r in rows(cat.emergency) if r["diag"] == "J45.9"]
    assert {r["age_profile"] for r in asthma} == {"child", "adult"}
    assert all(r["ltc"] == "ASTHMA" and r["acsc"] for r in asthma)
    # female-only specialties have only female cases
    for tfc in ("501", "502"):
        assert {r["sex"] for r in rows(cat.elective) if r["tfc"] == tfc} == {"F"}


def test_loaded_once(cat):
    assert load_catalogue() is cat


# -- validation --------------------------------------------------------------------------------------------------


def broken(tmp_path: Path, name: str, row: int, field: str, value: str) -> Path:
    """A copy of the catalogue with one field of one row (numbered like pbc: header is row 1) changed."""
    folder = tmp_path / "catalogue"
    shutil.copytree(bundled_catalogue_dir(), folder)
    path = folder / name
    with path.open(newline="", encoding="utf-8") as handle:
        lines = list(csv.reader(handle))
    lines[row - 1][lines[0].index(field)] = value
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(lines)
    return folder


@pytest.mark.parametrize(
    ("name", "row", "field", "value"),
    [
        ("elective_cases.csv", 3, "age_profile", "teenager"),
        ("emergency_cases.csv", 5, "age_profile", "old"),
        ("specialties.csv", 4, "age_profile", ""),
        ("elective_cases.csv", 2, "tfc", "999"),
        ("emergency_cases.csv", 7, "tfc", "180"),
        ("elective_cases.csv", 4, "case_id", "EL_GS_HERNIA"),
        ("emergency_cases.csv", 3, "case_id", "EL_TO_HIP"),
        ("elective_cases.csv", 6, "weight", "0"),
        ("emergency_cases.csv", 2, "weight", "-1"),
        ("ae_hrgs.csv", 3, "weight", "0"),
        ("specialties.csv", 2, "referral_weight", "0"),
        ("elective_cases.csv", 5, "day_case_share", "1.5"),
        ("elective_cases.csv", 5, "day_case_share", "-0.1"),
        ("elective_cases.csv", 5, "day_case_share", "half"),
        ("emergency_cases.csv", 4, "ltc", "EPILEPSY"),
        ("emergency_cases.csv", 4, "acsc", "yes"),
        ("elective_cases.csv", 8, "diag", "M169"),
        ("elective_cases.csv", 8, "opcs", "W371"),
        ("elective_cases.csv", 8, "sex", "X"),
        ("ae_hrgs.csv", 2, "minor", "true"),
    ],
)
def test_errors_name_file_row_and_field(tmp_path, name, row, field, value):
    folder = broken(tmp_path, name, row, field, value)
    with pytest.raises(ValueError, match=rf"^{re.escape(name)}, row {row}, field {field}: "):
        load_catalogue(folder)


def test_an_hrg_with_two_names_is_an_error(tmp_path):
    folder = broken(tmp_path, "elective_cases.csv", 3, "hrg", "F73")  # the hernia HRG, under another name
    with pytest.raises(ValueError, match=r"elective_cases.csv, row 3, field hrg_name: HRG F73 is named"):
        load_catalogue(folder)


def test_a_specialty_without_elective_cases_is_an_error(tmp_path):
    folder = broken(tmp_path, "specialties.csv", 2, "name", "General surgery")
    with (folder / "specialties.csv").open("a", encoding="utf-8") as handle:
        handle.write("999,Nowhere,0.01,1.0,all,true\n")
    with pytest.raises(ValueError, match=r"specialties.csv, row 22, field tfc: TFC 999 has no case"):
        load_catalogue(folder)


def test_no_minor_ae_hrg_is_an_error(tmp_path):
    folder = broken(tmp_path, "ae_hrgs.csv", 9, "minor", "false")
    with pytest.raises(ValueError, match=r"ae_hrgs.csv, field minor: exactly one HRG must be minor, found 0"):
        load_catalogue(folder)


def test_wrong_header_and_missing_file(tmp_path):
    folder = broken(tmp_path, "emergency_cases.csv", 1, "acsc", "ambulatory")
    with pytest.raises(ValueError, match=r"emergency_cases.csv, row 1, field acsc, ambulatory: header must be"):
        load_catalogue(folder)
    (folder / "ae_hrgs.csv").unlink()
    (folder / "emergency_cases.csv").write_bytes((bundled_catalogue_dir() / "emergency_cases.csv").read_bytes())
    with pytest.raises(ValueError, match=r"ae_hrgs.csv: catalogue file is missing"):
        load_catalogue(folder)


# -- age weights ---------------------------------------------------------------------------------------------------

AGES = np.arange(0, 101)


def test_age_weights_maternity_is_women_16_to_45():
    men = age_weights("maternity", AGES, np.full(AGES.shape, "M"))
    women = age_weights("maternity", AGES, np.full(AGES.shape, "F", dtype=object))
    assert not men.any()
    assert (women[16:46] > 0).all()
    assert not women[:16].any()
    assert not women[46:].any()


def test_age_weights_child():
    w = age_weights("child", AGES, np.full(AGES.shape, "F"))
    assert w[40] == 0
    assert not w[16:].any()
    assert (w[:16] > 0).all()
    assert w[2] > w[10]


def test_age_weights_adult_small_outside_working_age():
    w = age_weights("adult", AGES, np.full(AGES.shape, "M"))
    assert (w[16:65] == 1).all()
    assert (w[:16] < 0.5).all()
    assert (w[65:] < 0.5).all()
    assert (w[65:] > 0).all()


def test_age_weights_older_increasing():
    w = age_weights("older", AGES, np.full(AGES.shape, "M"))
    assert (np.diff(w) >= 0).all()
    assert (np.diff(w[45:96]) > 0).all()
    assert w[85] > 20 * w[45]
    assert w[45] > 5 * w[20]


def test_age_weights_all_and_unknown():
    assert (age_weights("all", AGES, np.full(AGES.shape, "M")) == 1).all()
    with pytest.raises(ValueError, match="unknown age profile"):
        age_weights("elderly", AGES, np.full(AGES.shape, "M"))
    for profile in AGE_PROFILES:
        w = age_weights(profile, AGES, np.where(AGES % 2 == 0, "M", "F"))
        assert w.shape == AGES.shape
        assert (w >= 0).all()
        assert w.dtype == np.float64
