"""Budget schemes: the parameters of an indicative budget run, read from a TOML file and checked before any work.

A commissioner's PBC scheme says how practice budgets are set (DOMAIN.md section 4): the baseline window and
whether it is repriced at the budget year's tariff or uplifted, the census date of the lists that fair shares are
taken from, the pace of change from historic towards fair share, the top-slices held centrally and the reserve.
These are decisions of a governance committee, so they live in a reviewed file, not in code, and every run keeps
a copy of the parameters it used.

Percentages are written like "3.5" and held as basis points (hundredths of a percent), so every calculation on
them is exact.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pbc.calendar import financial_year_bounds, parse_financial_year
from pbc.errors import InputError, Problem
from pbc.provider_contracts.plan import PODS, ContractError, Growth

Percent = Annotated[str, Field(description="a percentage like '3.5'")]


def basis_points(value: str) -> int:
    """'3.5' as 350: a checked percentage with at most two decimals."""
    try:
        return Growth.parse(str(value))
    except ContractError as error:
        raise ValueError(str(error).replace("growth", "percentage")) from None


class Historic(BaseModel):
    """The historic method: the practice's own spend over a baseline window."""

    model_config = ConfigDict(extra="forbid")
    baseline_from: dt.date
    baseline_to: dt.date
    method: Literal["reprice", "uplift"] = "reprice"
    uplift_percent: Percent = "0"

    @model_validator(mode="after")
    def _window(self) -> Historic:
        if self.baseline_to < self.baseline_from:
            raise ValueError("baseline_to is before baseline_from")
        if (self.baseline_to - self.baseline_from).days > 731:
            raise ValueError("the baseline window is longer than two years")
        basis_points(self.uplift_percent)
        return self


class Need(BaseModel):
    """Need adjustment of fair shares by disease prevalence: observed register against expected."""

    model_config = ConfigDict(extra="forbid")
    conditions: list[str] = Field(min_length=1)
    weight_percent: Percent = "100"


class FairShare(BaseModel):
    """The capitation method: the pot shared by age/sex-weighted lists at a census date."""

    model_config = ConfigDict(extra="forbid")
    census_date: dt.date
    need: Need | None = None


class Scheme(BaseModel):
    """One year's indicative budget scheme for a commissioner."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    budget_year: str
    commissioner: str = Field(pattern=r"^[A-Z0-9]{3,5}$")
    pods: list[str] = Field(default_factory=lambda: list(PODS))
    historic: Historic
    fair_share: FairShare | None = None
    pace_of_change_percent: Percent = "0"
    top_slice_percent: Percent = "0"
    reserve_percent: Percent = "0"

    @field_validator("budget_year")
    @classmethod
    def _year(cls, value: str) -> str:
        parse_financial_year(value)
        return value

    @field_validator("pods")
    @classmethod
    def _pods(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(PODS))
        if unknown:
            raise ValueError(f"unknown POD(s) {', '.join(unknown)}; pbc budgets {', '.join(PODS)}")
        return value

    @field_validator("pace_of_change_percent", "top_slice_percent", "reserve_percent")
    @classmethod
    def _percent(cls, value: str) -> str:
        points = basis_points(value)
        if not 0 <= points <= 10000:
            raise ValueError("must be between 0 and 100")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Scheme:
        if basis_points(self.top_slice_percent) + basis_points(self.reserve_percent) > 10000:
            raise ValueError("top slice and reserve together exceed 100%")
        if basis_points(self.pace_of_change_percent) > 0 and self.fair_share is None:
            raise ValueError("a pace of change needs a [fair_share] section to move towards")
        start, _ = financial_year_bounds(self.budget_year)
        if self.historic.baseline_to >= start:
            raise ValueError(f"the baseline window must end before the budget year starts ({start})")
        return self

    @property
    def pace_bp(self) -> int:
        """How far towards fair share, in basis points (0: all historic, 10000: all fair share)."""
        return basis_points(self.pace_of_change_percent) if self.fair_share is not None else 0

    def parameters(self) -> dict[str, Any]:
        """The scheme as plain data, kept with every run."""
        return self.model_dump(mode="json")


Model = TypeVar("Model", bound=BaseModel)


def read_model_file(path: Path, model: type[Model]) -> tuple[Model, str]:
    """A TOML file checked in full against a model, and its SHA-256 (for the record of what used it).

    Every mistake is reported with the file and the field, and nothing is used; a scheme is a committee's
    decision, so a half-read one is worse than none.
    """
    try:
        raw = path.read_bytes()
        data = tomllib.loads(raw.decode("utf-8"))
    except OSError as error:
        raise InputError.one(path.name, None, None, f"cannot be read: {error.strerror}") from error
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise InputError.one(path.name, None, None, f"is not valid TOML: {error}") from error
    try:
        checked = model.model_validate(data)
    except ValidationError as error:
        problems = [
            Problem(path.name, None, ".".join(str(p) for p in e["loc"]) or None, e["msg"].removeprefix("Value error, "))
            for e in error.errors()
        ]
        raise InputError(problems) from None
    return checked, hashlib.sha256(raw).hexdigest()


def read_scheme(path: Path) -> tuple[Scheme, str]:
    """A budget scheme file checked in full, and its SHA-256."""
    return read_model_file(path, Scheme)
