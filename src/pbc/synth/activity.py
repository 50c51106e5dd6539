"""Hospital activity for one commissioner's population: what the activity generators share.

The pathways connect GP referrals to outpatients and elective spells (outpatients.py), and A&E to emergency
admissions (emergency.py).

Every event belongs to a patient registered with a practice on the event's date, so `GPPRAC` is right unless a
fault is injected later. Activity is simulated from the warm-up year on, so pathways are under way on the first
day of the first financial year, and only events inside the financial years are kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pbc.synth.catalogue import Catalogue, age_weights
from pbc.synth.population import Population, age_on
from pbc.synth.sampling import draw_days, normalised

Events = dict[str, np.ndarray]

WINTER_AMPLITUDE = 0.085  # gives Dec-Feb about 15% above Jun-Aug


@dataclass
class Context:
    """What every activity generator needs for one commissioner."""

    rng: np.random.Generator
    pop: Population
    years: tuple[str, ...]
    begin: int  # first simulated day (warm-up)
    first_day: int  # first day of the first financial year
    end: int  # day after the last day of the last financial year
    catalogue: Catalogue
    home_providers: list[str]
    home_shares: np.ndarray
    providers: list[str]
    provider_shares: np.ndarray
    referral_factor: np.ndarray  # per practice (global index)
    emergency_factor: np.ndarray  # per practice (global index)
    sex_letters: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.sex_letters = np.where(self.pop.sex == 1, "M", "F")

    def per_registration(
        self, per_1000: float, curve: np.ndarray, practice_factor: np.ndarray, amplitude: float = 0.0
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Events at a calibrated rate per registration: (registration, day, patient) of each.

        `curve` is each registration's relative risk (by age at the middle of its window); with the practice
        factor it is normalised over person-time, so the commissioner's rate is `per_1000` in expectation.
        """
        lo, hi, exposure = self.windows()
        factor = normalised(curve * practice_factor[self.pop.reg_practice], exposure)
        count = self.rng.poisson(per_1000 / 1000 * factor * exposure)
        reg = np.repeat(np.arange(len(count)), count)
        day = draw_days(self.rng, lo[reg], hi[reg], amplitude)
        return reg, day, self.pop.reg_patient[reg]

    def mid_window_ages(self) -> np.ndarray:
        """Each registration's patient's age in the middle of its simulated window."""
        lo, hi, _ = self.windows()
        return self.ages(self.pop.reg_patient, (lo + hi) // 2)

    def windows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each registration's simulated window [lo, hi) and its length in years."""
        lo = np.maximum(self.pop.reg_start, self.begin)
        hi = np.minimum(self.pop.reg_end, self.end)
        return lo, hi, np.clip(hi - lo, 0, None) / 365.25

    def ages(self, patient: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Ages of patients on days."""
        return age_on(self.pop.dob[patient], day)

    def profile_weights(self, profiles: list[str], patient: np.ndarray, age: np.ndarray) -> np.ndarray:
        """A (rows x profiles) matrix of age/sex weights."""
        sexes = self.sex_letters[patient]
        return np.column_stack([age_weights(p, age, sexes) for p in profiles]) if profiles else np.zeros((len(age), 0))

    def choose(self, codes: list[str], shares: np.ndarray, count: int) -> np.ndarray:
        """Providers for `count` events, by shares."""
        return np.asarray(codes, dtype=object)[self.rng.choice(len(codes), size=count, p=shares)]

    def keep(self, events: Events, mask: np.ndarray) -> Events:
        """The events where mask holds."""
        return {k: v[mask] for k, v in events.items()}

    def registered(self, patient: np.ndarray, day: np.ndarray) -> np.ndarray:
        """The registration covering each (patient, day), -1 if none, and -1 outside the simulated span."""
        reg = self.pop.registered_on(patient, day)
        return np.where((day >= self.begin) & (day < self.end), reg, -1)


def referral_curve(age: np.ndarray) -> np.ndarray:
    """How much more than average people of an age are referred (children least, older people most)."""
    return np.select([age < 16, age < 45, age < 65, age < 75], [0.55, 0.9, 1.25, 1.6], 1.8)


def ae_curve(age: np.ndarray) -> np.ndarray:
    """A&E use by age: high for young children, young adults and the very old."""
    return np.select([age < 5, age < 16, age < 25, age < 65, age < 75], [1.6, 0.8, 1.3, 0.85, 0.9], 1.5)
