"""What to make: scope, years, scale, seed and the rate of each injected data fault."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from pbc.calendar import financial_year_bounds, parse_financial_year

Scope = Literal["brent", "london"]

DEFAULT_YEARS = ("2005/06", "2006/07", "2007/08")

# Share of eligible records given each fault (resubmission: share of provider-month files per data set).
DEFAULT_FAULT_RATES: dict[str, float] = {
    "duplicate_spell": 0.004,
    "duplicate_attendance": 0.003,
    "invalid_nhs_number": 0.002,
    "unknown_or_closed_practice": 0.002,
    "not_registered": 0.003,
    "followup_without_first": 0.002,
    "ae_duplicate": 0.003,
    "daycase_as_ordinary": 0.01,
    "wrong_price": 0.004,
    "resubmission": 0.02,
}

WARM_UP_DAYS = 366  # activity is simulated a year ahead of the first year, so pathways are mid-flow on day one


@dataclass(frozen=True)
class SynthConfig:
    """The options of one `pbc synth` run; the same options and seed always make the same bytes."""

    scope: Scope = "brent"
    years: tuple[str, ...] = DEFAULT_YEARS
    seed: int = 1
    scale: float = 1.0
    fault_rates: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_FAULT_RATES))
    parquet: bool = False

    def __post_init__(self) -> None:
        if not self.years:
            raise ValueError("at least one financial year is needed")
        starts = [parse_financial_year(y) for y in self.years]
        if starts != list(range(starts[0], starts[0] + len(starts))):
            raise ValueError(f"financial years must be consecutive, got {', '.join(self.years)}")
        if not 0 < self.scale <= 10:
            raise ValueError(f"scale must be above 0 and at most 10, got {self.scale}")
        unknown = set(self.fault_rates) - set(DEFAULT_FAULT_RATES)
        if unknown:
            raise ValueError(
                f"unknown fault types: {', '.join(sorted(unknown))} (known: {', '.join(DEFAULT_FAULT_RATES)})"
            )
        for name, rate in self.fault_rates.items():
            if not 0 <= rate <= 0.2:
                raise ValueError(f"fault rate {name}={rate} must be between 0 and 0.2")

    @property
    def start(self) -> dt.date:
        """First day of the first financial year."""
        return financial_year_bounds(self.years[0])[0]

    @property
    def end(self) -> dt.date:
        """Last day of the last financial year."""
        return financial_year_bounds(self.years[-1])[1]

    @property
    def simulation_start(self) -> dt.date:
        """When the simulated population starts: a warm-up year before the first financial year."""
        return self.start - dt.timedelta(days=WARM_UP_DAYS)
