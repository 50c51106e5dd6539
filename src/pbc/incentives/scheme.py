"""Incentive schemes (Local Enhanced Services) as checked files, built from a few blocks.

Every London PCT ran a different PBC scheme in 2005, so a scheme is data, not code (DOMAIN.md section 7). It is
built from three kinds of block:

- **per-patient payments** to practices, each with a condition: signing the LES by a date, or delivering the
  monthly validated reports (paid up front, earned month by month);
- **locality funding** by operating level: GP sessions and practice staff hours a week, per 100,000 registered
  population (or flat per locality whatever its size), at set rates, for a number of weeks a year;
- **the year-end savings rules**: whether an overspend forfeits the reward, the reward's share of the savings and
  its cap per patient, and how the rest is split between the locality and the commissioner, in one of the two
  readings of the Hertfordshire text (`split_after_reward` or `literal`).

Money is in pence and percentages are read exactly as basis points, so every payment is exact.
"""

from __future__ import annotations

import datetime as dt
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pbc.calendar import parse_financial_year
from pbc.errors import InputError
from pbc.finance.scheme import basis_points, read_model_file


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PerPatient(_Strict):
    """A payment per registered patient at the population date, to the practice, on a condition."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    pence_per_patient: int = Field(ge=0)
    condition: Literal["signed_by", "reports_delivered", "none"]
    signed_by: dt.date | None = None
    paid: Literal["on_signing", "up_front", "monthly"] = "on_signing"
    requires_signing: bool = False  # only for practices that signed the LES
    note: str = ""

    @model_validator(mode="after")
    def _condition(self) -> PerPatient:
        if self.condition == "signed_by" and self.signed_by is None:
            raise ValueError("a signed_by condition needs the signed_by date")
        return self


class Level(_Strict):
    """One operating level's resources; each level stands alone (it does not add to the level below)."""

    level: int = Field(ge=1)
    gp_sessions_per_week: str = "0"
    staff_hours_per_week: str = "0"
    flat: bool = False  # per locality whatever its size, not per 100,000

    @field_validator("gp_sessions_per_week", "staff_hours_per_week")
    @classmethod
    def _amount(cls, value: str) -> str:
        if basis_points(value) < 0:
            raise ValueError("must not be negative")
        return value


class LocalityFunding(_Strict):
    """Funded GP sessions and staff time for localities, by the level the governance committee sets."""

    gp_session_pence: int = Field(ge=0)
    staff_hour_pence: int = Field(ge=0)
    per_population: int = Field(default=100_000, gt=0)
    weeks_per_year: int = Field(default=52, ge=1, le=53)
    starting_level: int = 1
    levels: list[Level] = Field(min_length=1)

    @model_validator(mode="after")
    def _levels(self) -> LocalityFunding:
        numbers = [level.level for level in self.levels]
        if len(set(numbers)) != len(numbers):
            raise ValueError("each level may be given once")
        if self.starting_level not in numbers:
            raise ValueError(f"starting_level {self.starting_level} is not one of the levels given")
        return self

    def level(self, number: int) -> Level:
        """The resources of a level; an unknown level is an error that lists the known ones."""
        for level in self.levels:
            if level.level == number:
                return level
        known = ", ".join(str(x.level) for x in self.levels)
        raise ValueError(f"level {number} is not in the scheme (levels: {known})")


class Savings(_Strict):
    """What happens at year end to a practice's savings (budget minus outturn)."""

    overspend_forfeits_reward: bool = True
    requires_signing: bool = False  # only practices that signed the LES earn a reward
    reward_percent: str = "0"
    reward_cap_pence_per_patient: int | None = Field(default=None, ge=0)
    locality_percent: str = "0"
    split: Literal["split_after_reward", "literal"] = "split_after_reward"

    @field_validator("reward_percent", "locality_percent")
    @classmethod
    def _percent(cls, value: str) -> str:
        if not 0 <= basis_points(value) <= 10000:
            raise ValueError("must be between 0 and 100")
        return value


class IncentiveScheme(_Strict):
    """One year's incentive scheme for a commissioner's practices and localities."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str
    financial_year: str
    population_date: dt.date
    source: str = ""
    per_patient: list[PerPatient] = Field(default_factory=list)
    locality: LocalityFunding | None = None
    savings: Savings | None = None

    @field_validator("financial_year")
    @classmethod
    def _year(cls, value: str) -> str:
        parse_financial_year(value)
        return value

    @model_validator(mode="after")
    def _unique(self) -> IncentiveScheme:
        ids = [p.id for p in self.per_patient]
        if len(set(ids)) != len(ids):
            raise ValueError("per_patient payment ids must be unique")
        if not (self.per_patient or self.locality or self.savings):
            raise ValueError("a scheme needs at least one per_patient payment, locality funding or savings rules")
        return self


SCHEMES = "pbc.incentives"


def shipped_schemes() -> dict[str, Path]:
    """The schemes shipped with pbc, by id (file name without .toml)."""
    folder = Path(str(resources.files(SCHEMES) / "schemes"))
    return {p.stem: p for p in sorted(folder.glob("*.toml"))}


def find_scheme(name_or_file: str) -> Path:
    """A shipped scheme's file by id, or a path to a scheme file."""
    shipped = shipped_schemes()
    if name_or_file in shipped:
        return shipped[name_or_file]
    path = Path(name_or_file)
    if path.is_file():
        return path
    raise InputError.one(
        name_or_file, None, None, f"is neither a scheme file nor a shipped scheme ({', '.join(shipped)})"
    )


def read_incentive_scheme(path: Path) -> tuple[IncentiveScheme, str]:
    """A scheme file checked in full, and its SHA-256; mistakes are named by file and field, nothing is used."""
    return read_model_file(path, IncentiveScheme)
