"""Unplanned care: A&E attendances and emergency admissions, with a winter peak.

Targets (per 1,000 a year): about 285 A&E attendances, one in five admitted; emergency admissions by age band
(105 at 0-4, 35 at 5-14, 75 at 15-44, 105 at 45-64, 170 at 65-74 and 260 at 75 and over, about 100 overall),
more likely for people with long-term conditions. Emergency admissions through A&E happen on the day of the
attendance; the rest (GP, bed bureau, clinic) fill each year's band target.
"""

from __future__ import annotations

import numpy as np

from pbc.synth.activity import WINTER_AMPLITUDE, Context, Events, ae_curve
from pbc.synth.population import CONDITIONS
from pbc.synth.sampling import (
    BROAD_BANDS,
    broad_band,
    draw_days,
    financial_year_index,
    normalised,
    person_years,
    pick,
    thin_to,
)

AE_PER_1000 = 285.0
AE_ADMITTED_SHARE = 0.20
EMERGENCY_PER_1000_BY_BAND = np.array([105.0, 35.0, 75.0, 105.0, 170.0, 260.0])
DEPARTMENT_TYPES = np.array(["01", "02", "03", "04"], dtype=object)
DEPARTMENT_SHARES = [0.75, 0.03, 0.12, 0.10]
LTC_BOOST = 0.6  # each long-term condition adds 60% to a patient's emergency risk
CASE_LTC_BOOST = 4.0  # a case linked to a condition the patient has is five times as likely


def _ltc_count(ctx: Context, patient: np.ndarray) -> np.ndarray:
    bits = ctx.pop.ltc[patient]
    return sum(((bits >> i) & 1).astype(np.int64) for i in range(len(CONDITIONS)))


def ae_attendances(ctx: Context) -> Events:
    """A&E attendances by age, practice and season; about one in five at a major department is admitted."""
    rng = ctx.rng
    curve = ae_curve(ctx.mid_window_ages())
    reg, day, patient = ctx.per_registration(AE_PER_1000, curve, ctx.emergency_factor, WINTER_AMPLITUDE)
    age = ctx.ages(patient, day)
    n = len(day)
    dept = DEPARTMENT_TYPES[rng.choice(4, size=n, p=DEPARTMENT_SHARES)]
    major = np.isin(dept, ["01", "02"])

    hrgs = ctx.catalogue.ae
    minor = np.asarray(hrgs["minor"].to_pylist(), dtype=bool)
    codes = np.asarray(hrgs["hrg"].to_pylist(), dtype=object)
    weights = np.asarray(hrgs["weight"].to_pylist(), dtype=float) * ~minor
    hrg = np.where(major, codes[rng.choice(len(codes), size=n, p=weights / weights.sum())], codes[minor][0])

    admit_curve = np.select([age < 16, age < 45, age < 65, age < 75], [0.10, 0.09, 0.2, 0.35], 0.5) * major
    scale = AE_ADMITTED_SHARE * n / max(admit_curve.sum(), 1e-9)
    admitted = rng.random(n) < np.minimum(admit_curve * scale, 0.95)
    other = rng.choice(np.array(["02", "03", "07"], dtype=object), size=n, p=[0.3, 0.6, 0.1])
    arrival = rng.choice(24, size=n, p=_ARRIVAL_HOURS) * 60 + rng.integers(0, 60, n)
    stay = 30 + np.minimum(rng.gamma(2.0, 70.0, n), 1380).astype(np.int64)
    return {
        "patient": patient,
        "reg": reg,
        "day": day,
        "dept": dept,
        "hrg": hrg,
        "category": rng.choice(np.array(["1", "2", "3"], dtype=object), size=n, p=[0.9, 0.05, 0.05]),
        "disposal": np.where(admitted, "01", other).astype(object),
        "arrival_minute": arrival,
        "departure_minute": (arrival + stay) % 1440,
        "provider": ctx.choose(ctx.home_providers, ctx.home_shares, n),
    }


_HOURLY = np.array([2, 1.5, 1.2, 1, 1, 1, 1.5, 2.5, 4, 5.5, 6, 6, 6, 6, 5.8, 5.6, 5.6, 5.8, 6, 5.5, 5, 4.5, 3.5, 2.5])
_ARRIVAL_HOURS = _HOURLY / _HOURLY.sum()


def _emergency_case(ctx: Context, patient: np.ndarray, age: np.ndarray) -> np.ndarray:
    cases = ctx.catalogue.emergency
    weights = np.asarray(cases["weight"].to_pylist(), dtype=float)[None, :]
    sexes = np.asarray(cases["sex"].to_pylist(), dtype=object)
    weights = weights * ((sexes[None, :] == "") | (sexes[None, :] == ctx.sex_letters[patient][:, None]))
    weights = weights * ctx.profile_weights(cases["age_profile"].to_pylist(), patient, age)
    for j, condition in enumerate(cases["ltc"].to_pylist()):
        if condition:
            weights[:, j] *= 1 + CASE_LTC_BOOST * ctx.pop.has(condition)[patient]
    empty = weights.sum(axis=1) <= 0
    weights[empty] = np.asarray(cases["weight"].to_pylist(), dtype=float)
    return pick(ctx.rng, weights)


def emergency_admissions(ctx: Context, ae: Events) -> Events:
    """Emergency spells: A&E admissions on the day, and others calibrated to each year's and band's target."""
    pop, rng = ctx.pop, ctx.rng
    via_ae = ae["disposal"] == "01"
    from_ae = {
        "patient": ae["patient"][via_ae],
        "reg": ae["reg"][via_ae],
        "day": ae["day"][via_ae],
        "provider": ae["provider"][via_ae],
        "admimeth": np.full(via_ae.sum(), "21", dtype=object),
    }

    lo, hi, exposure = ctx.windows()
    band = broad_band(ctx.ages(pop.reg_patient, (lo + hi) // 2))
    risk = (1 + LTC_BOOST * _ltc_count(ctx, pop.reg_patient)) * ctx.emergency_factor[pop.reg_practice]
    for b in range(len(BROAD_BANDS)):
        in_band = band == b
        if in_band.any():
            risk[in_band] = normalised(risk[in_band], exposure[in_band])
    count = rng.poisson(1.3 * EMERGENCY_PER_1000_BY_BAND[band] / 1000 * risk * exposure)
    reg = np.repeat(np.arange(len(count)), count)
    day = draw_days(rng, lo[reg], hi[reg], WINTER_AMPLITUDE)
    patient = pop.reg_patient[reg]

    groups = len(BROAD_BANDS)

    def cell(patients: np.ndarray, days: np.ndarray) -> np.ndarray:
        year = financial_year_index(days, ctx.years)
        return np.where(year >= 0, year * groups + broad_band(ctx.ages(patients, days)), -1)

    target = np.round(EMERGENCY_PER_1000_BY_BAND / 1000 * person_years(pop, ctx.years, by_band=True)).ravel()
    have = np.bincount(cell(from_ae["patient"], from_ae["day"]) + 1, minlength=len(target) + 1)[1:]
    keep = thin_to(rng, cell(patient, day), np.maximum(target - have, 0))
    others = {
        "patient": patient[keep],
        "reg": reg[keep],
        "day": day[keep],
        "provider": np.where(
            rng.random(keep.sum()) < 0.85,
            ctx.choose(ctx.home_providers, ctx.home_shares, keep.sum()),
            ctx.choose(ctx.providers, ctx.provider_shares, keep.sum()),
        ),
        "admimeth": rng.choice(
            np.array(["22", "23", "24", "28"], dtype=object), size=keep.sum(), p=[0.45, 0.1, 0.1, 0.35]
        ),
    }
    spells = {k: np.concatenate([from_ae[k], others[k]]) for k in from_ae}
    age = ctx.ages(spells["patient"], spells["day"])
    case = _emergency_case(ctx, spells["patient"], age)
    los_mean = np.asarray(ctx.catalogue.emergency["los_mean"].to_pylist(), dtype=float)[case]
    los = rng.poisson(rng.gamma(1.2, np.maximum(los_mean, 0.2) / 1.2))
    died = rng.random(len(case)) < np.where(age >= 75, 0.07, np.where(age >= 65, 0.03, 0.005))
    spells.update(
        {
            "case": case,
            "los": los.astype(np.int64),
            "classpat": np.full(len(case), "1", dtype=object),
            "tfc": np.asarray(ctx.catalogue.emergency["tfc"].to_pylist(), dtype=object)[case],
            "dismeth": np.where(died, "4", "1").astype(object),
        }
    )
    return spells
