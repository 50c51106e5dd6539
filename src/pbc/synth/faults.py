"""Known data faults, injected at configurable rates and recorded in a ground-truth file.

Each fault goes on records that carry no other fault, so every fault in `truth/faults.csv` can be found on its own.
Duplicates copy clean records under new keys. A follow-up without a first attendance is injected only from the
second year on, where a year of history exists to tell. The month of a record is the month of the file it is in.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import numpy as np

from pbc.nhs_number import invalidate
from pbc.synth.extracts import Rows
from pbc.synth.practices import PracticeSet

KEYS = {"apc": "PROVSPNO", "op": "ATTENDKEY", "ae": "AEKEY"}
DATES = {"apc": "DISDATE", "op": "APPTDATE", "ae": "ARRIVALDATE", "referrals": "REFERRAL_DATE"}
PATIENT_DATASETS = ("apc", "op", "ae")


def month_of(days: np.ndarray) -> np.ndarray:
    """YYYY-MM of day numbers."""
    return np.datetime_as_string(np.asarray(days, dtype="int64").astype("datetime64[D]"), unit="M").astype(object)


class Injector:
    """Applies faults to the datasets and keeps the truth."""

    def __init__(
        self,
        rng: np.random.Generator,
        data: dict[str, Rows],
        rates: dict[str, float],
        practices: PracticeSet,
        known_codes: set[str],
        history_from: int,
    ) -> None:
        self.rng, self.data, self.rates, self.practices = rng, data, rates, practices
        self.known_codes, self.history_from = known_codes, history_from
        self.used = {name: np.zeros(len(rows[DATES[name]]), dtype=bool) for name, rows in data.items()}
        self.truth: list[tuple[str, str, str, str, str]] = []

    def _choose(self, dataset: str, fault: str, eligible: np.ndarray | None = None) -> np.ndarray:
        free = ~self.used[dataset] if eligible is None else (~self.used[dataset] & eligible)
        candidates = np.flatnonzero(free)
        wanted = round(self.rates.get(fault, 0.0) * len(self.used[dataset]))
        chosen = np.sort(self.rng.choice(candidates, size=min(wanted, len(candidates)), replace=False))
        self.used[dataset][chosen] = True
        return chosen

    def _record(self, fault: str, dataset: str, rows: np.ndarray) -> None:
        data = self.data[dataset]
        months = month_of(data[DATES[dataset]][rows])
        for procode, month, key in zip(data["PROCODE"][rows], months, data[KEYS[dataset]][rows], strict=True):
            self.truth.append((fault, dataset, procode, month, f"{int(key):010d}"))

    def duplicates(self, fault: str, dataset: str) -> None:
        """Repeat clean records under new keys; the repeats are the faults."""
        data = self.data[dataset]
        chosen = self._choose(dataset, fault)
        key = KEYS[dataset]
        start = int(data[key].max()) + 1 if len(data[key]) else 1
        copies = {k: v[chosen] for k, v in data.items()}
        copies[key] = np.arange(start, start + len(chosen), dtype=np.int64)
        self.data[dataset] = {k: np.concatenate([data[k], copies[k]]) for k in data}
        self.used[dataset] = np.concatenate([self.used[dataset], np.ones(len(chosen), dtype=bool)])
        self._record(fault, dataset, np.arange(len(data[key]), len(data[key]) + len(chosen)))

    def invalid_nhs_numbers(self) -> None:
        """NHS numbers whose check digit is wrong (never on a first attendance, whose follow-ups would orphan)."""
        for dataset in PATIENT_DATASETS:
            data = self.data[dataset]
            eligible = data["FIRSTATT"] != "1" if dataset == "op" else None
            rows = self._choose(dataset, "invalid_nhs_number", eligible)
            data["NEWNHSNO"][rows] = invalidate(data["NEWNHSNO"][rows], self.rng)
            self._record("invalid_nhs_number", dataset, rows)

    def unknown_practices(self) -> None:
        """Practice codes that are not in the ODS file (mistyped codes of the same shape)."""
        pool = np.array([c for c in (f"E8{n:04d}" for n in range(10_000)) if c not in self.known_codes], dtype=object)
        for dataset in PATIENT_DATASETS:
            data = self.data[dataset]
            rows = self._choose(dataset, "unknown_or_closed_practice", self._first_safe(dataset))
            data["GPPRAC"][rows] = self.rng.choice(pool, size=len(rows))
            self._record("unknown_or_closed_practice", dataset, rows)

    def not_registered(self) -> None:
        """Another practice of the same commissioner, with which the patient was not registered that day."""
        for dataset in PATIENT_DATASETS:
            data = self.data[dataset]
            rows = self._choose(dataset, "not_registered", self._first_safe(dataset))
            for commissioner in np.unique(data["PURCODE"][rows]):
                mine = rows[data["PURCODE"][rows] == commissioner]
                local = self.practices.of(commissioner)
                pick = local[self.rng.integers(0, len(local), len(mine))]
                clash = pick == data["_practice"][mine]
                pick[clash] = local[(np.searchsorted(local, pick[clash]) + 1) % len(local)]
                data["GPPRAC"][mine] = self.practices.code[pick]
            self._record("not_registered", dataset, rows)

    def _first_safe(self, dataset: str) -> np.ndarray | None:
        # a changed first attendance would leave its follow-ups looking orphaned to a practice-level check
        return self.data["op"]["FIRSTATT"] != "1" if dataset == "op" else None

    def followups_without_first(
        self, specialties: np.ndarray, reprice: Callable[[Rows, np.ndarray], np.ndarray]
    ) -> None:
        """Follow-ups moved to a specialty in which the patient has no first attendance at that provider.

        The provider's claim follows the specialty it recorded, so a moved follow-up is priced again (`reprice`):
        its claim is right for the line as sent, and only the missing first attendance is wrong.
        """
        op = self.data["op"]
        firsts = op["FIRSTATT"] == "1"
        seen = set(
            zip(
                op["NEWNHSNO"][firsts].tolist(),
                op["PROCODE"][firsts].tolist(),
                op["TRETSPEF"][firsts].tolist(),
                strict=True,
            )
        )
        eligible = (op["FIRSTATT"] == "2") & (op["APPTDATE"] >= self.history_from)
        rows = self._choose("op", "followup_without_first", eligible)
        for row in rows:
            options = [s for s in specialties if (op["NEWNHSNO"][row], op["PROCODE"][row], s) not in seen]
            op["TRETSPEF"][row] = options[int(self.rng.integers(0, len(options)))]
        if len(rows):
            op["CLAIMED_PRICE"][rows] = reprice(op, rows)
        self._record("followup_without_first", "op", rows)

    def day_cases_as_ordinary(self) -> None:
        """Elective same-day spells coded as ordinary admissions."""
        apc = self.data["apc"]
        eligible = np.isin(apc["ADMIMETH"], ["11", "12", "13"]) & (apc["CLASSPAT"] == "2")
        rows = self._choose("apc", "daycase_as_ordinary", eligible)
        apc["CLASSPAT"][rows] = "1"
        self._record("daycase_as_ordinary", "apc", rows)

    def wrong_prices(self) -> None:
        """Claims that differ from the tariff by 5-40%, up or down, and by at least a pound."""
        for dataset in PATIENT_DATASETS:
            data = self.data[dataset]
            rows = self._choose(dataset, "wrong_price", data["CLAIMED_PRICE"] >= 2000)
            factor = self.rng.uniform(1.05, 1.4, len(rows)) ** self.rng.choice([-1, 1], len(rows))
            wrong = np.round(data["CLAIMED_PRICE"][rows] * factor).astype(np.int64)
            data["CLAIMED_PRICE"][rows] = np.where(
                np.abs(wrong - data["CLAIMED_PRICE"][rows]) < 100, data["CLAIMED_PRICE"][rows] + 150, wrong
            )
            self._record("wrong_price", dataset, rows)

    def resubmissions(self) -> dict[str, set[tuple[str, str]]]:
        """Provider-months to resubmit: the first file misses about 3% of rows that the `_r2` file has."""
        chosen: dict[str, set[tuple[str, str]]] = {}
        for dataset in PATIENT_DATASETS:
            data = self.data[dataset]
            sizes = Counter(zip(data["PROCODE"].tolist(), month_of(data[DATES[dataset]]).tolist(), strict=True))
            files = sorted(f for f, n in sizes.items() if n >= 10)  # a resubmission of a near-empty file is no test
            count = round(self.rates.get("resubmission", 0.0) * len(files))
            picks = self.rng.choice(len(files), size=min(count, len(files)), replace=False)
            chosen[dataset] = {files[i] for i in sorted(picks)}
            for procode, month in sorted(chosen[dataset]):
                self.truth.append(("resubmission", dataset, procode, month, f"{dataset}_{procode}_{month}_r2.csv"))
        return chosen

    def truth_rows(self) -> list[tuple[str, str, str, str, str]]:
        """The ground truth, sorted."""
        return sorted(self.truth)
