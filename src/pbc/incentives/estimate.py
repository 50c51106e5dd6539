"""What a scheme would cost: the figures a commissioner puts in a scheme paper, before the year starts.

For a registered population, a number of localities and the level they would run at, each component's yearly cost:
every per-patient payment if every practice qualified, and the locality funding (flat levels per locality,
others pro rata to the population). Savings rewards depend on savings not yet made; the estimate gives the most
the reward could cost where the scheme caps it per patient, and says so where it is uncapped.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from pbc.incentives.payments import half_up, level_annual
from pbc.incentives.scheme import IncentiveScheme


@dataclass(frozen=True)
class Component:
    """One component of a scheme's yearly cost."""

    component: str
    pence: int | None
    basis: str

    def to_dict(self) -> dict[str, object]:
        """As plain data for JSON."""
        return asdict(self)


def estimate(scheme: IncentiveScheme, population: int, localities: int, level: int) -> list[Component]:
    """Each component's yearly cost; the last line is the total of those that can be known in advance."""
    if population < 0 or localities < 0:
        raise ValueError("population and localities cannot be negative")
    out: list[Component] = []
    for rule in scheme.per_patient:
        out.append(
            Component(
                rule.id,
                population * rule.pence_per_patient,
                f"{rule.title}: {rule.pence_per_patient}p x {population:,} patients (if every practice qualifies)",
            )
        )
    if scheme.locality is not None:
        funding = scheme.locality
        chosen = funding.level(level)
        if chosen.flat:
            sessions, hours = level_annual(funding, chosen, 0)
            sessions, hours = sessions * localities, hours * localities
            how = f"level {level}, {localities} localities, flat per locality"
        else:
            sessions, hours = level_annual(funding, chosen, population)
            how = f"level {level}, pro rata to {population:,} patients per {funding.per_population:,}"
        weeks = f"{funding.weeks_per_year} weeks"
        out.append(
            Component(
                "locality_gp_sessions",
                half_up(sessions),
                f"{chosen.gp_sessions_per_week} GP session(s) a week at {funding.gp_session_pence / 100:.2f} "
                f"pounds, {weeks}; {how}",
            )
        )
        if hours:
            out.append(
                Component(
                    "locality_staff_hours",
                    half_up(hours),
                    f"up to {chosen.staff_hours_per_week} staff hours a week at {funding.staff_hour_pence / 100:.2f} "
                    f"pounds, {weeks}; {how}",
                )
            )
    if scheme.savings is not None:
        cap = scheme.savings.reward_cap_pence_per_patient
        if cap is not None:
            out.append(
                Component(
                    "savings_reward",
                    None,
                    f"{scheme.savings.reward_percent}% of savings, at most {cap}p x {population:,} patients "
                    f"= {population * cap / 100:,.2f} pounds; depends on savings made",
                )
            )
        else:
            out.append(
                Component(
                    "savings_reward", None, f"{scheme.savings.reward_percent}% of savings, uncapped; depends on savings"
                )
            )
    known = sum(c.pence for c in out if c.pence is not None)
    out.append(Component("total", known, "the components known in advance"))
    return out
