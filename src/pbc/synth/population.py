"""The synthetic population: patients, their registrations with practices over time, and long-term conditions.

A commissioner's lists start full on the first simulated day, with London's age and sex structure. From then on
patients leave (moving away, or dying at a rate that rises with age), some move to another practice of the same
commissioner, and newcomers (births and people moving in) join at the rate that keeps lists about level, so
25-35% of a list turns over each year and a patient's practice depends on the date. Every patient has a synthetic
NHS number from the 999 test range. Long-term conditions are set once per patient with age-specific prevalence.

Days are integers (days since 1970-01-01) throughout, for speed; a registration's end is exclusive, and a
registration still open at the end of the simulation ends on `open_end`.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from importlib import resources

import numpy as np

from pbc.calendar import financial_year_bounds
from pbc.nhs_number import synthetic_numbers
from pbc.reference.list_sizes import AGE_BANDS

EPOCH = dt.date(1970, 1, 1)
CONDITIONS = ("DIABETES", "CHD", "COPD", "ASTHMA", "HEART_FAILURE", "STROKE", "HYPERTENSION")
MOVE_RATE = 0.29  # a year: patients leaving a list, other than by death
TRANSFER_SHARE = 0.3  # of those leaving, the share who re-register with another practice of the commissioner
BIRTH_SHARE = 0.077  # of newcomers, the share who are newborns
STILL_REGISTERED, MOVED_AWAY, TRANSFERRED, DIED = 0, 1, 2, 3


def day_number(day: dt.date) -> int:
    """Days since 1970-01-01."""
    return (day - EPOCH).days


def to_date(days: np.ndarray) -> np.ndarray:
    """Day numbers as numpy dates."""
    return np.asarray(days, dtype="int64").astype("datetime64[D]")


def age_on(dob: np.ndarray, day: np.ndarray | int) -> np.ndarray:
    """Age in whole years on a day, for day numbers: a birthday counts from the day itself, as HES ages do."""
    born = to_date(dob)
    when = to_date(np.broadcast_to(day, np.shape(dob)))
    born_year, when_year = born.astype("datetime64[Y]"), when.astype("datetime64[Y]")
    born_month, when_month = born.astype("datetime64[M]"), when.astype("datetime64[M]")
    month_born, month_when = (born_month - born_year).astype(np.int64), (when_month - when_year).astype(np.int64)
    day_born, day_when = (born - born_month).astype(np.int64), (when - when_month).astype(np.int64)
    before_birthday = (month_when < month_born) | ((month_when == month_born) & (day_when < day_born))
    return (when_year - born_year).astype(np.int64) - before_birthday


def age_band_index(age: np.ndarray) -> np.ndarray:
    """Index of the quinary age band (0_4 is 0, 95+ is 19)."""
    return np.minimum(np.asarray(age) // 5, len(AGE_BANDS) - 1)


def _age_sex_cells() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """London's age/sex structure as (band index, sex 1/2, probability) for the 40 cells."""
    with resources.files("pbc.synth").joinpath("data", "london_age_sex.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    bands = [AGE_BANDS.index(r["age_band"]) for r in rows]
    band = np.array(bands * 2)
    sex = np.repeat([1, 2], len(rows))
    weight = np.array([float(r["male"]) for r in rows] + [float(r["female"]) for r in rows])
    return band, sex, weight / weight.sum()


def _prevalence(condition: str, age: np.ndarray, sex: np.ndarray) -> np.ndarray:
    """Age-specific prevalence of a long-term condition (synthetic curves of the order QOF registers show)."""
    male = sex == 1
    adult = np.where(age >= 18, 1.0, 0.0)  # registers of these conditions hold adults (diabetes from age 5)

    def rising(peak: float, centre: float, spread: float) -> np.ndarray:
        return peak / (1 + np.exp(-(age - centre) / spread))

    if condition == "DIABETES":
        return rising(0.17, 56, 9) * np.where(male, 1.1, 0.9) * (age >= 5)
    if condition == "CHD":
        return rising(0.24, 72, 8) * np.where(male, 1.3, 0.75) * adult
    if condition == "COPD":
        return rising(0.10, 68, 8) * adult
    if condition == "ASTHMA":
        return np.where(age < 16, 0.09, 0.055)
    if condition == "HEART_FAILURE":
        return rising(0.09, 80, 7) * adult
    if condition == "STROKE":
        return rising(0.11, 75, 8) * np.where(male, 1.15, 0.9) * adult
    if condition == "HYPERTENSION":
        return rising(0.55, 62, 10) * adult
    raise ValueError(condition)


@dataclass
class Population:
    """One commissioner's patients and registrations."""

    commissioner: str
    nhs: np.ndarray  # int64
    sex: np.ndarray  # int8: 1 male, 2 female
    dob: np.ndarray  # int32 day numbers
    ltc: np.ndarray  # uint8 bit mask, bit i for CONDITIONS[i]
    reg_patient: np.ndarray  # int64 index into the patient arrays
    reg_practice: np.ndarray  # int64 index into the PracticeSet
    reg_start: np.ndarray  # int32, first day registered
    reg_end: np.ndarray  # int32, first day no longer registered (open_end if still registered)
    reg_reason: np.ndarray  # int8: why the registration ended
    open_end: int

    def has(self, condition: str) -> np.ndarray:
        """Whether each patient has a condition."""
        return (self.ltc >> CONDITIONS.index(condition)) & 1 == 1

    def registered_on(self, patient: np.ndarray, day: np.ndarray) -> np.ndarray:
        """The registration (index) covering each (patient, day), or -1 where the patient was not registered."""
        order = np.lexsort((self.reg_start, self.reg_patient))
        key = self.reg_patient[order].astype(np.int64) * 100_000 + self.reg_start[order]
        probe = patient.astype(np.int64) * 100_000 + day
        pos = np.searchsorted(key, probe, side="right") - 1
        pos = np.clip(pos, 0, len(order) - 1)
        candidate = order[pos]
        covered = (self.reg_patient[candidate] == patient) & (self.reg_start[candidate] <= day)
        covered &= self.reg_end[candidate] > day
        return np.where(covered, candidate, -1)

    def counts_on(self, day: int, practices: int, by_condition: bool = False) -> np.ndarray:
        """Registered patients on a day by practice, sex and age band (and condition, as a last axis)."""
        live = (self.reg_start <= day) & (self.reg_end > day)
        patient = self.reg_patient[live]
        practice = self.reg_practice[live]
        band = age_band_index(age_on(self.dob[patient], day))
        cell = (practice * 2 + (self.sex[patient] - 1)) * len(AGE_BANDS) + band
        size = practices * 2 * len(AGE_BANDS)
        if not by_condition:
            return np.bincount(cell, minlength=size).reshape(practices, 2, len(AGE_BANDS))
        out = np.zeros((practices, 2, len(AGE_BANDS), len(CONDITIONS)), dtype=np.int64)
        for i in range(len(CONDITIONS)):
            has = (self.ltc[patient] >> i) & 1 == 1
            out[..., i] = np.bincount(cell[has], minlength=size).reshape(practices, 2, len(AGE_BANDS))
        return out

    def year_stats(self, financial_year: str) -> dict[str, float]:
        """Registrations, deregistrations and mean list of a financial year, for the realism report."""
        first, last = (day_number(d) for d in financial_year_bounds(financial_year))
        joined = int(((self.reg_start >= first) & (self.reg_start <= last)).sum())
        left = int(((self.reg_end > first) & (self.reg_end <= last + 1) & (self.reg_reason != STILL_REGISTERED)).sum())
        overlap = np.clip(np.minimum(self.reg_end, last + 1) - np.maximum(self.reg_start, first), 0, None)
        return {
            "registrations": joined,
            "deregistrations": left,
            "mean_list": round(float(overlap.sum()) / (last + 1 - first), 1),
        }


def _leaving(
    rng: np.random.Generator, start: np.ndarray, age: np.ndarray, open_end: int, move_rate: float
) -> tuple[np.ndarray, np.ndarray]:
    """When and why each new registration ends: moving away (rate a year) or death (rising with age)."""
    mortality = np.minimum(np.exp(-10.2 + 0.095 * age), 0.6)
    moving = rng.exponential(365.25 / move_rate, len(start))
    dying = rng.exponential(365.25 / mortality)
    end = start + np.ceil(np.minimum(moving, dying)).astype(np.int64) + 1
    reason = np.where(dying < moving, DIED, MOVED_AWAY).astype(np.int8)
    still = end >= open_end
    return np.where(still, open_end, end), np.where(still, STILL_REGISTERED, reason).astype(np.int8)


def simulate(
    commissioner: str,
    practice_index: np.ndarray,
    list_size: np.ndarray,
    first_day: dt.date,
    last_day: dt.date,
    rng: np.random.Generator,
) -> Population:
    """Simulate one commissioner's population from `first_day` to `last_day`."""
    begin, open_end = day_number(first_day), day_number(last_day) + 1
    years = (open_end - begin) / 365.25
    cell_band, cell_sex, cell_p = _age_sex_cells()

    def people(count: int, mobile: bool) -> tuple[np.ndarray, np.ndarray]:
        weights = cell_p * np.where((cell_band >= 3) & (cell_band <= 7), 2.5, 1.0) if mobile else cell_p
        cells = rng.choice(len(cell_p), size=count, p=weights / weights.sum())
        band = cell_band[cells]
        age = np.where(band == len(AGE_BANDS) - 1, 95 + rng.integers(0, 5, count), band * 5 + rng.integers(0, 5, count))
        return age, cell_sex[cells]

    # the list on the first day
    n0 = int(list_size.sum())
    age0, sex0 = people(n0, mobile=False)
    dob0 = begin - age0 * 365 - rng.integers(0, 365, n0)
    practice0 = np.repeat(practice_index, list_size)
    start0 = np.full(n0, begin, dtype=np.int64)

    # newcomers: births and people moving in, at the rate that keeps lists level
    mean_mortality = float(np.mean(np.minimum(np.exp(-10.2 + 0.095 * age0), 0.6)))
    arrivals = rng.poisson(list_size * ((1 - TRANSFER_SHARE) * MOVE_RATE + mean_mortality) * years)
    n1 = int(arrivals.sum())
    practice1 = np.repeat(practice_index, arrivals)
    start1 = rng.integers(begin, open_end, n1)
    age1, sex1 = people(n1, mobile=True)
    born = rng.random(n1) < BIRTH_SHARE
    age1 = np.where(born, 0, age1)
    dob1 = np.where(born, start1 - rng.integers(0, 43, n1), start1 - age1 * 365 - rng.integers(0, 365, n1))

    dob = np.concatenate([dob0, dob1])
    sex = np.concatenate([sex0, sex1]).astype(np.int8)
    practice = np.concatenate([practice0, practice1])
    start = np.concatenate([start0, start1])
    patient = np.arange(len(dob), dtype=np.int64)
    end, reason = _leaving(rng, start, (start - dob) / 365.25, open_end, MOVE_RATE)

    # some leavers re-register with another practice of the same commissioner
    transfer = (reason == MOVED_AWAY) & (rng.random(len(reason)) < TRANSFER_SHARE)
    reason = np.where(transfer, TRANSFERRED, reason).astype(np.int8)
    movers = np.flatnonzero(transfer)
    new_start = end[movers] + rng.integers(0, 29, len(movers))
    keep = new_start < open_end
    movers, new_start = movers[keep], new_start[keep]
    weights = list_size / list_size.sum()
    choice = rng.choice(len(practice_index), size=len(movers), p=weights)
    same = practice_index[choice] == practice[movers]
    choice = np.where(same, (choice + 1) % len(practice_index), choice)
    new_practice = practice_index[choice]
    new_end, new_reason = _leaving(
        rng, new_start, (new_start - dob[movers]) / 365.25, open_end, MOVE_RATE * (1 - TRANSFER_SHARE)
    )

    mid = (begin + open_end) // 2
    age_mid = np.maximum((mid - dob) / 365.25, 0)
    ltc = np.zeros(len(dob), dtype=np.uint8)
    for i, condition in enumerate(CONDITIONS):
        ltc |= (rng.random(len(dob)) < _prevalence(condition, age_mid, sex)).astype(np.uint8) << i

    return Population(
        commissioner=commissioner,
        nhs=synthetic_numbers(rng, len(dob)),
        sex=sex,
        dob=dob.astype(np.int64),
        ltc=ltc,
        reg_patient=np.concatenate([patient, movers]),
        reg_practice=np.concatenate([practice, new_practice]).astype(np.int64),
        reg_start=np.concatenate([start, new_start]).astype(np.int64),
        reg_end=np.concatenate([end, new_end]).astype(np.int64),
        reg_reason=np.concatenate([reason, new_reason]).astype(np.int8),
        open_end=open_end,
    )
