"""The planned-care pathway: GP referrals lead to first outpatient attendances, follow-ups and elective spells.

Targets (per 1,000 registered patients a year): about 200 GP referrals, 260 attended first attendances (four in
five GP referrals convert, other sources such as consultants make up the rest), 2.3 follow-ups per first
attendance, 7.5% of appointments not attended, and 110 elective admissions, two thirds of them day cases.
"""

from __future__ import annotations

import numpy as np

from pbc.calendar import financial_year_bounds
from pbc.synth.activity import Context, Events, referral_curve
from pbc.synth.population import day_number
from pbc.synth.sampling import financial_year_index, person_years, pick, thin_to

REFERRALS_PER_1000 = 200.0
FIRSTS_PER_1000 = 260.0
FOLLOWUP_RATIO = 2.3
DNA_RATE = 0.075
ELECTIVES_PER_1000 = 110.0
GP_CONVERSION = 0.8
MAX_PATHWAY_DAYS = 365  # follow-ups end within a year of the first attendance, so a year of history shows the first
WAIT_DAYS = {1: (14, 127), 2: (7, 43), 3: (3, 15)}  # by priority: routine, urgent, two-week wait


def choose_specialty(ctx: Context, patient: np.ndarray, day: np.ndarray) -> np.ndarray:
    """A specialty for each patient's referral, by referral share and age, never one with no case for their sex."""
    specialties, cases = ctx.catalogue.specialties, ctx.catalogue.elective
    codes = specialties["tfc"].to_pylist()
    weights = ctx.profile_weights(specialties["age_profile"].to_pylist(), patient, ctx.ages(patient, day))
    weights *= np.asarray(specialties["referral_weight"].to_pylist())
    case_sex = list(zip(cases["tfc"].to_pylist(), cases["sex"].to_pylist(), strict=True))
    sexes = ctx.sex_letters[patient]
    for j, code in enumerate(codes):
        for letter in ("M", "F"):
            if not any(t == code and s in ("", letter) for t, s in case_sex):
                weights[sexes == letter, j] = 0.0
    return np.asarray(codes, dtype=object)[pick(ctx.rng, weights)]


def referrals(ctx: Context) -> Events:
    """GP referrals: a Poisson count per registration, calibrated to the target rate, varying by practice."""
    rng = ctx.rng
    curve = referral_curve(ctx.mid_window_ages())
    reg, day, patient = ctx.per_registration(REFERRALS_PER_1000, curve, ctx.referral_factor)
    tfc = choose_specialty(ctx, patient, day)
    priority = rng.choice([1, 2, 3], size=len(reg), p=[0.8, 0.15, 0.05])
    provider = ctx.choose(ctx.providers, ctx.provider_shares, len(reg))
    return {"patient": patient, "reg": reg, "day": day, "tfc": tfc, "provider": provider, "priority": priority}


def _other_firsts(ctx: Context, needed: np.ndarray) -> Events:
    """First attendances referred by others than GPs, to bring each year's firsts to the target."""
    pop, rng = ctx.pop, ctx.rng
    parts: list[Events] = []
    for i, year in enumerate(ctx.years):
        if needed[i] <= 0:
            continue
        first, last = financial_year_bounds(year)
        lo = np.maximum(pop.reg_start, day_number(first))
        hi = np.minimum(pop.reg_end, day_number(last) + 1)
        span = np.clip(hi - lo, 0, None)
        weight = span * referral_curve(ctx.ages(pop.reg_patient, (lo + hi) // 2))
        reg = rng.choice(len(span), size=int(needed[i]), p=weight / weight.sum())
        day = lo[reg] + np.floor(rng.random(len(reg)) * span[reg]).astype(np.int64)
        parts.append({"reg": reg, "day": day})
    if not parts:
        return {"reg": np.zeros(0, np.int64), "day": np.zeros(0, np.int64)}
    return {k: np.concatenate([p[k] for p in parts]) for k in ("reg", "day")}


def first_attendances(ctx: Context, refs: Events) -> Events:
    """Attended first attendances: most GP referrals convert after a wait; other sources fill to the target."""
    rng = ctx.rng
    converts = rng.random(len(refs["day"])) < GP_CONVERSION
    wait = np.zeros(len(refs["day"]), dtype=np.int64)
    for priority, (low, high) in WAIT_DAYS.items():
        chosen = refs["priority"] == priority
        wait[chosen] = rng.integers(low, high, chosen.sum())
    day = refs["day"] + wait
    reg = ctx.registered(refs["patient"], day)
    ok = converts & (reg >= 0)
    gp = {
        "patient": refs["patient"][ok],
        "reg": reg[ok],
        "day": day[ok],
        "tfc": refs["tfc"][ok],
        "provider": refs["provider"][ok],
        "refsource": np.full(ok.sum(), "03", dtype=object),
    }

    target = np.round(FIRSTS_PER_1000 / 1000 * person_years(ctx.pop, ctx.years, by_band=False)[:, 0])
    have = np.bincount(financial_year_index(gp["day"], ctx.years) + 1, minlength=len(ctx.years) + 1)[1:]
    extra = _other_firsts(ctx, target - have)
    patient = ctx.pop.reg_patient[extra["reg"]]
    tfc = choose_specialty(ctx, patient, extra["day"])
    others = {
        "patient": patient,
        "reg": extra["reg"],
        "day": extra["day"],
        "tfc": tfc,
        "provider": ctx.choose(ctx.providers, ctx.provider_shares, len(patient)),
        "refsource": rng.choice(np.array(["05", "04", "01"], dtype=object), size=len(patient), p=[0.55, 0.25, 0.2]),
    }
    return {k: np.concatenate([gp[k], others[k]]) for k in gp}


def follow_ups(ctx: Context, firsts: Events) -> Events:
    """Follow-up attendances after each first, 4-16 weeks apart and within a year, 2.3 per first in each year."""
    rng = ctx.rng
    specialties = ctx.catalogue.specialties
    ratio = dict(zip(specialties["tfc"].to_pylist(), specialties["followups_per_first"].to_pylist(), strict=True))
    mean = np.array([ratio[t] for t in firsts["tfc"]]) * 1.4  # a surplus, thinned below
    count = rng.poisson(mean)
    parent = np.repeat(np.arange(len(count)), count)
    gap = rng.integers(28, 113, len(parent))
    running = np.cumsum(gap)
    group_start = np.repeat(np.cumsum(count) - count, count)
    offset = running - np.concatenate([[0], running])[group_start]
    day = firsts["day"][parent] + offset
    patient = firsts["patient"][parent]
    reg = np.where(offset <= MAX_PATHWAY_DAYS, ctx.registered(patient, day), -1)
    year = financial_year_index(day, ctx.years)
    first_year = np.bincount(financial_year_index(firsts["day"], ctx.years) + 1, minlength=len(ctx.years) + 1)[1:]
    keep = thin_to(rng, np.where(reg >= 0, year, -1), np.round(FOLLOWUP_RATIO * first_year))
    return {
        "patient": patient[keep],
        "reg": reg[keep],
        "day": day[keep],
        "tfc": firsts["tfc"][parent][keep],
        "provider": firsts["provider"][parent][keep],
        "refsource": firsts["refsource"][parent][keep],
        "pathway": parent[keep],
    }


def outpatients(ctx: Context, firsts: Events, fups: Events) -> Events:
    """All appointments: attended firsts and follow-ups, plus the ones not attended (DNAs)."""
    rng = ctx.rng
    pathway = np.concatenate([np.arange(len(firsts["day"])), fups["pathway"]])
    appts: Events = {
        k: np.concatenate([firsts[k], fups[k]]) for k in ("patient", "reg", "day", "tfc", "provider", "refsource")
    }
    appts["pathway"] = pathway
    appts["firstatt"] = np.concatenate(
        [np.full(len(firsts["day"]), "1", dtype=object), np.full(len(fups["day"]), "2", dtype=object)]
    )
    order = np.lexsort((appts["day"], pathway))
    last_of_pathway = np.ones(len(order), dtype=bool)
    last_of_pathway[order[:-1]] = pathway[order[:-1]] != pathway[order[1:]]
    appts["outcome"] = np.where(last_of_pathway, "1", "2").astype(object)
    appts["attended"] = rng.choice(np.array(["5", "6"], dtype=object), size=len(pathway), p=[0.9, 0.1])

    year = financial_year_index(appts["day"], ctx.years)
    attended_by_year = np.bincount(year + 1, minlength=len(ctx.years) + 1)[1:]
    wanted = np.round(attended_by_year * DNA_RATE / (1 - DNA_RATE)).astype(np.int64)
    source = thin_to(rng, year, wanted)
    dna = {k: v[source] for k, v in appts.items()}
    dna["day"] = dna["day"] - rng.integers(7, 29, len(dna["day"]))
    dna["reg"] = ctx.registered(dna["patient"], dna["day"])
    dna["attended"] = np.full(len(dna["day"]), "3", dtype=object)
    dna["outcome"] = np.full(len(dna["day"]), "3", dtype=object)
    dna = ctx.keep(dna, dna["reg"] >= 0)
    return {k: np.concatenate([appts[k], dna[k]]) for k in appts}


def electives(ctx: Context, firsts: Events) -> Events:
    """Elective spells decided at a first attendance, 4-26 weeks later, calibrated to 110 per 1,000 a year."""
    rng = ctx.rng
    chosen = np.flatnonzero(rng.random(len(firsts["day"])) < 0.55)
    day = firsts["day"][chosen] + rng.integers(28, 183, len(chosen))
    patient = firsts["patient"][chosen]
    reg = ctx.registered(patient, day)
    target = np.round(ELECTIVES_PER_1000 / 1000 * person_years(ctx.pop, ctx.years, by_band=False)[:, 0])
    keep = thin_to(rng, np.where(reg >= 0, financial_year_index(day, ctx.years), -1), target)
    chosen, day, patient, reg = chosen[keep], day[keep], patient[keep], reg[keep]
    tfc = firsts["tfc"][chosen]
    age = ctx.ages(patient, day)

    cases = ctx.catalogue.elective
    case_tfc = np.asarray(cases["tfc"].to_pylist(), dtype=object)
    base = np.asarray(cases["weight"].to_pylist(), dtype=float)[None, :] * (case_tfc[None, :] == tfc[:, None])
    sexes = np.asarray(cases["sex"].to_pylist(), dtype=object)
    fits = (sexes[None, :] == "") | (sexes[None, :] == ctx.sex_letters[patient][:, None])
    weights = base * fits * ctx.profile_weights(cases["age_profile"].to_pylist(), patient, age)
    empty = weights.sum(axis=1) <= 0
    weights[empty] = (base * fits)[empty]
    empty = weights.sum(axis=1) <= 0
    weights[empty] = base[empty]
    case = pick(rng, weights)

    day_case = rng.random(len(case)) < np.asarray(cases["day_case_share"].to_pylist(), dtype=float)[case]
    los_mean = np.asarray(cases["los_mean"].to_pylist(), dtype=float)[case]
    ordinary_los = np.maximum(1, np.round(rng.gamma(2.0, np.maximum(los_mean, 1) / 2.0))).astype(np.int64)
    return {
        "patient": patient,
        "reg": reg,
        "day": day,
        "los": np.where(day_case, 0, ordinary_los),
        "classpat": np.where(day_case, "2", "1").astype(object),
        "admimeth": rng.choice(np.array(["11", "12", "13"], dtype=object), size=len(case), p=[0.7, 0.25, 0.05]),
        "case": case,
        "provider": firsts["provider"][chosen],
        "tfc": tfc,
    }
