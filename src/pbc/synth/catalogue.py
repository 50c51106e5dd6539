"""The clinical catalogue of the synthetic commissioner: specialties, the cases they treat and the A&E currencies.

The generator draws every referral, spell and attendance from this catalogue, so the codes on one record belong
together: a hip replacement is coded `M16.9` / `W37.1` under treatment function 110 and HRG `H02`. Four CSV files
in `pbc/synth/data` hold it, so a clinician can read and correct them without touching code:

- `specialties.csv`: treatment functions (real NHS Data Dictionary TFC codes and names), each one's share of GP
  referrals (roughly England's mid-2000s mix), mean follow-ups per first attendance (the referral-weighted mean is
  about 2.3, England's ratio at the time), the age profile of its patients and whether the national tariff prices
  its outpatients (`false` marks TFCs priced locally, such as physiotherapy).
- `elective_cases.csv`: planned admissions per specialty (every specialty has at least one, because the generator
  picks an elective case within the referral's specialty), with the day-case share, the mean length of stay of
  ordinary admissions and the relative frequency within the specialty.
- `emergency_cases.csv`: emergency admissions, with their relative frequency among all emergency admissions (roughly
  as England saw them), the long-term condition whose register makes them more likely, and whether they are
  ambulatory-care-sensitive (after Purdy et al. 2009).
- `ae_hrgs.csv`: A&E HRGs with their share of attendances; exactly one is `minor`, the lowest priced, which type 03
  and 04 departments are paid.

The ICD-10 and OPCS-4 codes are real. **The HRG codes and names are synthetic**, styled on the HRG v3.5 chapters
(A nervous system, B eye, C mouth/ENT, D respiratory, E cardiac, F digestive, G hepatobiliary, H musculoskeletal,
J skin, K endocrine, L urinary, M female reproductive, N obstetrics, P paediatrics, Q vascular, S other; A&E
V01-V08). The catalogue holds no prices: the synthetic tariff built from it (`pbc.synth.tariff`) holds those, and
they are synthetic too.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from pbc.errors import Problem

AGE_PROFILES = ("child", "adult", "older", "all", "maternity")
LTCS = ("DIABETES", "CHD", "COPD", "ASTHMA", "HEART_FAILURE", "STROKE", "HYPERTENSION")
SEXES = ("M", "F", "")

ICD10 = re.compile(r"^[A-Z]\d{2}(\.\d)?$")  # M16.9; three-character categories such as I10 have no subdivision
OPCS4 = re.compile(r"^[A-Z]\d{2}\.\d$")  # W37.1
HRG = re.compile(r"^[A-Z]\d{2}$")  # H02 (HRG v3.5 style)
TFC = re.compile(r"^\d{3}$")  # 110

SPECIALTIES = "specialties.csv"
ELECTIVE = "elective_cases.csv"
EMERGENCY = "emergency_cases.csv"
AE = "ae_hrgs.csv"

_SCHEMAS = {
    SPECIALTIES: pa.schema(
        [
            ("tfc", pa.string()),
            ("name", pa.string()),
            ("referral_weight", pa.float64()),
            ("followups_per_first", pa.float64()),
            ("age_profile", pa.string()),
            ("national_tariff", pa.bool_()),
        ]
    ),
    ELECTIVE: pa.schema(
        [
            ("case_id", pa.string()),
            ("tfc", pa.string()),
            ("hrg", pa.string()),
            ("hrg_name", pa.string()),
            ("diag", pa.string()),
            ("opcs", pa.string()),
            ("day_case_share", pa.float64()),
            ("los_mean", pa.float64()),
            ("weight", pa.float64()),
            ("age_profile", pa.string()),
            ("sex", pa.string()),
        ]
    ),
    EMERGENCY: pa.schema(
        [
            ("case_id", pa.string()),
            ("tfc", pa.string()),
            ("hrg", pa.string()),
            ("hrg_name", pa.string()),
            ("diag", pa.string()),
            ("opcs", pa.string()),
            ("los_mean", pa.float64()),
            ("weight", pa.float64()),
            ("age_profile", pa.string()),
            ("sex", pa.string()),
            ("ltc", pa.string()),
            ("acsc", pa.bool_()),
        ]
    ),
    AE: pa.schema([("hrg", pa.string()), ("hrg_name", pa.string()), ("weight", pa.float64()), ("minor", pa.bool_())]),
}

Row = dict[str, Any]


@dataclass(frozen=True)
class Catalogue:
    """The four catalogue tables, validated; the columns are those of the CSV files (see the module docstring)."""

    specialties: pa.Table
    elective: pa.Table
    emergency: pa.Table
    ae: pa.Table


def bundled_catalogue_dir() -> Path:
    """The catalogue files shipped inside pbc."""
    return Path(str(resources.files("pbc.synth") / "data"))


def age_weights(profile: str, ages: np.ndarray, sexes: np.ndarray) -> np.ndarray:
    """How likely each person is to be a patient of a case with this age profile, relative to others (>= 0).

    The shapes are deliberately simple and smooth so that rates by age look like England's without fitting data:
    children (0-15, twice as likely under 5), working-age adults (16-64, a little outside), older people (rising
    about e-fold every 11 years, so that 85-year-olds are ~40 times as likely as 45-year-olds), everyone, and
    maternity (women 16-45 only, most likely 20-39).
    """
    age = np.asarray(ages, dtype=np.float64)
    if profile == "all":
        return np.ones(age.shape)
    if profile == "child":
        return np.select([age < 5, age < 16], [2.0, 1.0], 0.0)
    if profile == "adult":
        return np.select([age < 16, age < 65], [0.05, 1.0], 0.25)
    if profile == "older":
        return np.exp((np.clip(age, 0, 95) - 45) / 11)
    if profile == "maternity":
        sex = np.asarray(sexes).astype(str)
        if sex.shape != age.shape:
            raise ValueError(f"ages and sexes differ in shape: {age.shape} and {sex.shape}")
        peak = np.select([(age >= 20) & (age < 40), (age >= 16) & (age <= 45)], [1.0, 0.5], 0.0)
        return np.where(sex == "F", peak, 0.0)
    raise ValueError(f"unknown age profile {profile!r}: expected one of {', '.join(AGE_PROFILES)}")


class _Reader:
    """Reads one catalogue file into typed rows, raising a ValueError that names the file, row and field."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = path.name

    def fail(self, row: int | None, field: str | None, reason: str) -> ValueError:
        return ValueError(str(Problem(self.name, row, field, reason)))

    def rows(self) -> list[tuple[int, Row]]:
        """Typed rows with their line numbers (the header is row 1, as everywhere in pbc)."""
        schema = _SCHEMAS[self.name]
        if not self.path.is_file():
            raise self.fail(None, None, f"catalogue file is missing from {self.path.parent}")
        with self.path.open(encoding="utf-8", newline="") as handle:
            lines = list(csv.reader(handle))
        if not lines:
            raise self.fail(None, None, "is empty")
        header = [h.strip() for h in lines[0]]
        if header != schema.names:
            wrong = [n for n in schema.names if n not in header] + [h for h in header if h not in schema.names]
            raise self.fail(1, ", ".join(wrong) or None, f"header must be {','.join(schema.names)}")
        out = []
        for number, fields in enumerate(lines[1:], start=2):
            if not any(f.strip() for f in fields):
                continue
            if len(fields) != len(header):
                raise self.fail(number, None, f"expected {len(header)} fields, found {len(fields)}")
            out.append(
                (number, {f.name: self._value(number, f, text.strip()) for f, text in zip(schema, fields, strict=True)})
            )
        return out

    def _value(self, row: int, field: pa.Field, text: str) -> object:
        if pa.types.is_boolean(field.type):
            if text not in ("true", "false"):
                raise self.fail(row, field.name, f"{text!r} is not true or false")
            return text == "true"
        if pa.types.is_floating(field.type):
            try:
                number = float(text)
            except ValueError:
                raise self.fail(row, field.name, f"{text!r} is not a number") from None
            if not math.isfinite(number):
                raise self.fail(row, field.name, f"{text!r} is not a finite number")
            return number
        return text


def _check(reader: _Reader, row: int, field: str, ok: bool, reason: str) -> None:
    if not ok:
        raise reader.fail(row, field, reason)


def _check_case(reader: _Reader, number: int, r: Row, tfcs: set[str], hrg_names: dict[str, str]) -> None:
    """Checks shared by elective and emergency cases."""
    _check(reader, number, "case_id", bool(r["case_id"]), "is empty")
    _check(reader, number, "tfc", r["tfc"] in tfcs, f"{r['tfc']!r} is not a treatment function in {SPECIALTIES}")
    _check(reader, number, "hrg", bool(HRG.match(r["hrg"])), f"{r['hrg']!r} is not an HRG code like H02")
    _check(reader, number, "hrg_name", bool(r["hrg_name"]), "is empty")
    name = hrg_names.setdefault(r["hrg"], r["hrg_name"])
    _check(reader, number, "hrg_name", name == r["hrg_name"], f"HRG {r['hrg']} is named {name!r} elsewhere")
    _check(reader, number, "diag", bool(ICD10.match(r["diag"])), f"{r['diag']!r} is not an ICD-10 code")
    opcs_ok = r["opcs"] == "" or bool(OPCS4.match(r["opcs"]))
    _check(reader, number, "opcs", opcs_ok, f"{r['opcs']!r} is not an OPCS-4 code like W37.1")
    _check(reader, number, "los_mean", r["los_mean"] >= 0, "must not be negative")
    _check(reader, number, "weight", r["weight"] > 0, "must be greater than 0")
    _check(reader, number, "age_profile", r["age_profile"] in AGE_PROFILES, f"must be one of {', '.join(AGE_PROFILES)}")
    _check(reader, number, "sex", r["sex"] in SEXES, "must be M, F or empty")


def _table(name: str, rows: list[tuple[int, Row]]) -> pa.Table:
    return pa.Table.from_pylist([r for _, r in rows], schema=_SCHEMAS[name])


@cache
def load_catalogue(folder: Path | None = None) -> Catalogue:
    """Read and validate the catalogue (pbc's own unless `folder` is given); the result is cached per folder.

    Any inconsistency is a ValueError naming the file, row and field, because a wrong catalogue would silently
    produce implausible data (a case under a specialty that is never referred to, a weight that can never be drawn).
    """
    base = bundled_catalogue_dir() if folder is None else Path(folder)
    readers = {name: _Reader(base / name) for name in _SCHEMAS}

    spec, spec_rows = readers[SPECIALTIES], readers[SPECIALTIES].rows()
    tfc_rows: dict[str, int] = {}
    for number, r in spec_rows:
        _check(spec, number, "tfc", bool(TFC.match(r["tfc"])), f"{r['tfc']!r} is not a three-digit TFC")
        _check(spec, number, "tfc", r["tfc"] not in tfc_rows, f"duplicate TFC {r['tfc']}")
        tfc_rows[r["tfc"]] = number
        _check(spec, number, "name", bool(r["name"]), "is empty")
        _check(spec, number, "referral_weight", r["referral_weight"] > 0, "must be greater than 0")
        _check(spec, number, "followups_per_first", r["followups_per_first"] >= 0, "must not be negative")
        _check(
            spec, number, "age_profile", r["age_profile"] in AGE_PROFILES, f"must be one of {', '.join(AGE_PROFILES)}"
        )

    case_ids: set[str] = set()
    hrg_names: dict[str, str] = {}
    cases: dict[str, list[tuple[int, Row]]] = {}
    for name in (ELECTIVE, EMERGENCY):
        reader, rows = readers[name], readers[name].rows()
        for number, r in rows:
            _check_case(reader, number, r, set(tfc_rows), hrg_names)
            _check(reader, number, "case_id", r["case_id"] not in case_ids, f"duplicate case_id {r['case_id']}")
            case_ids.add(r["case_id"])
            if name == ELECTIVE:
                share = r["day_case_share"]
                _check(reader, number, "day_case_share", 0 <= share <= 1, "must be between 0 and 1")
            else:
                _check(
                    reader,
                    number,
                    "ltc",
                    r["ltc"] == "" or r["ltc"] in LTCS,
                    f"must be empty or one of {', '.join(LTCS)}",
                )
        cases[name] = rows

    with_elective = {r["tfc"] for _, r in cases[ELECTIVE]}
    for tfc, number in tfc_rows.items():
        _check(spec, number, "tfc", tfc in with_elective, f"TFC {tfc} has no case in {ELECTIVE}")

    ae, ae_rows = readers[AE], readers[AE].rows()
    seen: set[str] = set()
    for number, r in ae_rows:
        _check(ae, number, "hrg", bool(HRG.match(r["hrg"])), f"{r['hrg']!r} is not an HRG code like V08")
        _check(ae, number, "hrg", r["hrg"] not in seen, f"duplicate HRG {r['hrg']}")
        _check(ae, number, "hrg", r["hrg"] not in hrg_names, f"HRG {r['hrg']} is also an admitted-care HRG")
        seen.add(r["hrg"])
        _check(ae, number, "hrg_name", bool(r["hrg_name"]), "is empty")
        _check(ae, number, "weight", r["weight"] > 0, "must be greater than 0")
    minors = [number for number, r in ae_rows if r["minor"]]
    if len(minors) != 1:
        found = f"found {len(minors)}" + (f" (rows {', '.join(map(str, minors))})" if minors else "")
        raise ae.fail(minors[0] if minors else None, "minor", f"exactly one HRG must be minor, {found}")

    return Catalogue(
        specialties=_table(SPECIALTIES, spec_rows),
        elective=_table(ELECTIVE, cases[ELECTIVE]),
        emergency=_table(EMERGENCY, cases[EMERGENCY]),
        ae=_table(AE, ae_rows),
    )
