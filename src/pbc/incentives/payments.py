"""What an incentive scheme pays: every payment due, to whom, when, under which rule, and what was withheld and why.

The rules are applied to plain facts about each practice and locality (`PracticeFacts`, `LocalityFacts`), which
`pbc.incentives.facts` gathers from the warehouse: the registered population at the scheme's population date,
the LES sign-up, the monthly reports delivered, the governance committee's level decisions, and the year's budget
and outturn. Keeping the rules apart from the gathering means a scheme can be costed before a year starts
(`pbc.incentives.estimate`) and tested on generated practices.

All money is whole pence; an amount that is a fraction of a penny (a pro-rata allowance, a share of savings) is
worked out exactly and rounded half up once, and monthly instalments are shared by largest remainder, so the
instalments add up to the annual figure exactly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from pbc.finance.allocation import allocate, percent_of
from pbc.finance.scheme import basis_points
from pbc.incentives.scheme import IncentiveScheme, Level, LocalityFunding, PerPatient
from pbc.money import pounds
from pbc.phasing import financial_months


@dataclass(frozen=True)
class PracticeFacts:
    """What the scheme's rules need to know about one practice for the year."""

    practice: str
    locality: str | None
    patients: int
    signed_on: dt.date | None = None
    reports_delivered: frozenset[dt.date] = frozenset()  # first days of the months delivered
    budget_pence: int | None = None
    outturn_pence: int | None = None
    outturn_is_forecast: bool = False


@dataclass(frozen=True)
class LevelDecision:
    """A governance committee decision: a locality's operating level from a date, with the minute reference."""

    locality: str
    effective_from: dt.date
    level: int
    minute: str = ""


@dataclass(frozen=True)
class LocalityFacts:
    """A locality's registered population at the population date and the committee's decisions about it."""

    locality: str
    patients: int
    decisions: tuple[LevelDecision, ...] = ()


@dataclass
class Payment:
    """One line of a payment schedule or statement."""

    payee_kind: str  # practice, locality or commissioner
    payee: str
    component: str
    rule: str
    due: dt.date
    pence: int
    withheld_pence: int = 0
    reason: str = ""
    detail: dict[str, object] = field(default_factory=dict)


def half_up(value: Fraction) -> int:
    """An exact amount rounded to the nearest whole unit, halves away from zero."""
    sign = -1 if value < 0 else 1
    return sign * int(abs(value) + Fraction(1, 2))


def _per_patient(scheme: IncentiveScheme, rule: PerPatient, p: PracticeFacts) -> list[Payment]:
    year_start = financial_months(scheme.financial_year)[0]
    total = p.patients * rule.pence_per_patient
    base = f"{rule.title}: {rule.pence_per_patient}p x {p.patients:,} patients at {scheme.population_date}"
    if rule.requires_signing and p.signed_on is None:
        return [Payment("practice", p.practice, rule.id, base, year_start, 0, total, "the LES was not signed")]
    if rule.condition == "signed_by":
        assert rule.signed_by is not None
        if p.signed_on is not None and p.signed_on <= rule.signed_by:
            return [Payment("practice", p.practice, rule.id, base, max(p.signed_on, year_start), total)]
        why = f"not signed by {rule.signed_by:%d %B %Y}" + (f" (signed {p.signed_on})" if p.signed_on else "")
        return [Payment("practice", p.practice, rule.id, base, rule.signed_by, 0, total, why)]
    if rule.condition == "none":
        return [Payment("practice", p.practice, rule.id, base, year_start, total)]
    months = financial_months(scheme.financial_year)
    instalments = allocate(total, dict.fromkeys(months, 1))
    missing = [m for m in months if m not in p.reports_delivered]
    if rule.paid == "monthly":
        out = []
        for m in months:
            due = _after(m)
            if m in p.reports_delivered:
                out.append(Payment("practice", p.practice, rule.id, f"{base}, {m:%B %Y}", due, instalments[m]))
            else:
                why = f"report for {m:%B %Y} not delivered"
                out.append(Payment("practice", p.practice, rule.id, f"{base}, {m:%B %Y}", due, 0, instalments[m], why))
        return out
    earned = sum(instalments[m] for m in months if m in p.reports_delivered)
    why = ""
    if missing:
        shown = ", ".join(f"{m:%b %Y}" for m in missing)
        why = f"paid up front, not earned for {len(missing)} month(s) without a delivered report ({shown})"
    return [Payment("practice", p.practice, rule.id, f"{base}, paid up front", year_start, earned, total - earned, why)]


def _after(month: dt.date) -> dt.date:
    return dt.date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def level_annual(funding: LocalityFunding, level: Level, patients: int) -> tuple[Fraction, Fraction]:
    """A level's exact yearly GP-session and staff-time allowance in pence for a locality of `patients`."""
    scale = Fraction(1) if level.flat else Fraction(patients, funding.per_population)
    sessions = Fraction(basis_points(level.gp_sessions_per_week), 100)
    hours = Fraction(basis_points(level.staff_hours_per_week), 100)
    weeks = funding.weeks_per_year
    return (
        sessions * weeks * funding.gp_session_pence * scale,
        hours * weeks * funding.staff_hour_pence * scale,
    )


def level_in_force(funding: LocalityFunding, decisions: Sequence[LevelDecision], day: dt.date) -> LevelDecision | None:
    """The latest decision in force on a day (None: the scheme's starting level)."""
    made = [d for d in decisions if d.effective_from <= day]
    return max(made, key=lambda d: d.effective_from) if made else None


def _locality(scheme: IncentiveScheme, funding: LocalityFunding, loc: LocalityFacts) -> list[Payment]:
    months = financial_months(scheme.financial_year)
    payments: list[Payment] = []
    for component, index, rate in (("gp_sessions", 0, "GP sessions"), ("staff_hours", 1, "practice staff hours")):
        monthly: dict[dt.date, Fraction] = {}
        levels: dict[dt.date, tuple[int, str]] = {}
        for m in months:
            decision = level_in_force(funding, loc.decisions, m)
            number = decision.level if decision else funding.starting_level
            levels[m] = (number, decision.minute if decision else "starting level")
            monthly[m] = level_annual(funding, funding.level(number), loc.patients)[index] / 12
        total = half_up(sum(monthly.values(), Fraction(0)))
        if total == 0:
            continue
        shares = allocate(total, monthly)
        for m in months:
            number, minute = levels[m]
            payments.append(
                Payment(
                    "locality",
                    loc.locality,
                    f"locality_{component}",
                    f"level {number} {rate} for {loc.patients:,} patients ({minute}), {m:%B %Y}",
                    m,
                    shares[m],
                    detail={"level": number, "minute": minute},
                )
            )
    return payments


def savings_outcome(scheme: IncentiveScheme, p: PracticeFacts, commissioner: str) -> list[Payment]:
    """The year-end outcome for one practice: its reward, and the rest split between locality and commissioner."""
    rules = scheme.savings
    if rules is None or p.budget_pence is None or p.outturn_pence is None:
        return []
    due = _after(financial_months(scheme.financial_year)[-1]).replace(month=7)
    savings = p.budget_pence - p.outturn_pence
    outturn = "forecast outturn" if p.outturn_is_forecast else "outturn"
    basis = f"budget {pounds(p.budget_pence)}, {outturn} {pounds(p.outturn_pence)}"
    if savings <= 0:
        why = (
            f"overspent by {pounds(-savings)}: no reward"
            if savings < 0 and rules.overspend_forfeits_reward
            else "no savings: nothing to share"
        )
        return [Payment("practice", p.practice, "savings_reward", basis, due, 0, 0, why, {"savings_pence": savings})]
    reward_bp, locality_bp = basis_points(rules.reward_percent), basis_points(rules.locality_percent)
    share = percent_of(savings, reward_bp)
    cap = None if rules.reward_cap_pence_per_patient is None else p.patients * rules.reward_cap_pence_per_patient
    reward = share if cap is None else min(share, cap)
    capped = f"; capped at {pounds(cap)} ({rules.reward_cap_pence_per_patient}p x {p.patients:,} patients)"
    reason = capped if cap is not None and share > cap else ""
    withheld_why = "reward above the cap returns to the commissioner" if reason else ""
    if rules.requires_signing and p.signed_on is None:
        reward, reason, withheld_why = 0, "", "the LES was not signed: no reward; the savings are split without one"
    if rules.split == "split_after_reward":
        locality = percent_of(savings - reward, locality_bp)
    else:
        locality = percent_of(savings - share, locality_bp)
    commissioner_share = savings - reward - locality
    detail = {"savings_pence": savings, "reward_before_cap_pence": share}
    out = [
        Payment(
            "practice",
            p.practice,
            "savings_reward",
            f"{rules.reward_percent}% of savings of {pounds(savings)} ({basis}){reason}",
            due,
            reward,
            share - reward,
            withheld_why,
            detail,
        )
    ]
    if locality:
        out.append(
            Payment(
                "locality",
                p.locality or "(no locality)",
                "savings_locality",
                f"{rules.locality_percent}% of {p.practice}'s savings after the reward ({rules.split})",
                due,
                locality,
                detail=detail,
            )
        )
    if commissioner_share:
        out.append(
            Payment(
                "commissioner",
                commissioner,
                "savings_commissioner",
                f"the rest of {p.practice}'s savings ({rules.split})",
                due,
                commissioner_share,
                detail=detail,
            )
        )
    return out


def payments(
    scheme: IncentiveScheme,
    practices: Sequence[PracticeFacts],
    localities: Sequence[LocalityFacts],
    commissioner: str,
) -> list[Payment]:
    """Every payment the scheme makes for the year, ordered by payee and date."""
    out: list[Payment] = []
    for p in sorted(practices, key=lambda x: x.practice):
        for rule in scheme.per_patient:
            out += _per_patient(scheme, rule, p)
        out += savings_outcome(scheme, p, commissioner)
    if scheme.locality is not None:
        for loc in sorted(localities, key=lambda x: x.locality):
            out += _locality(scheme, scheme.locality, loc)
    return sorted(out, key=lambda x: (x.payee_kind, x.payee, x.due, x.component))
