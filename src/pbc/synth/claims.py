"""The price of a provider's correct claim under a synthetic tariff, vectorised for millions of lines.

The rules are those of docs/synthetic-data.md ("How the provider's claim is priced"): the spell price of the HRG
for its POD, days beyond the trim point at the per-day rate, the reduced short-stay emergency price where it
applies, first and follow-up prices for attended outpatient appointments, the lowest A&E price at minor
departments, the provider's local price where the national tariff has none, and every price times the MFF,
rounded half up to the penny with integer arithmetic. The generator prices its correct claims here; the
`wrong_price` fault is a departure from them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pyarrow as pa

from pbc.synth.tariff import APC_SCHEMA, ELECTIVE_ADMIMETH, LOCAL_SCHEMA, PAYABLE_ATTENDED, Tariff
from pbc.tariff.model import RULES


class _Rules(NamedTuple):
    sse: bool
    max_days: int
    min_age: int
    minor_types: tuple[str, ...]


def _rules(tariff: Tariff) -> _Rules:
    """The year's rules, checked: a rule pbc cannot apply must fail loudly rather than misprice every line."""
    rules = tariff.rules
    missing = [k for k in RULES if k not in rules]
    if missing:
        raise ValueError(f"the {tariff.financial_year} tariff lacks the rule(s) {', '.join(missing)}")
    if rules["short_stay_emergency"] not in ("yes", "no"):
        raise ValueError(f"short_stay_emergency must be yes or no, not {rules['short_stay_emergency']!r}")
    if rules["elective_price_basis"] != "combined":
        raise ValueError("only the combined elective price basis of the HRG v3.5 years is supported")
    if rules["ae_minor_price"] != "lowest":
        raise ValueError("only the 'lowest' A&E minor price is supported")
    return _Rules(
        sse=rules["short_stay_emergency"] == "yes",
        max_days=int(rules["short_stay_max_days"]),
        min_age=int(rules["short_stay_min_age"]),
        minor_types=tuple(t.strip() for t in rules["ae_minor_department_types"].split(";") if t.strip()),
    )


def _codes(values: np.ndarray) -> np.ndarray:
    return np.asarray(values).astype(str)


def _whole(values: np.ndarray, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.dtype.kind == "f" and not np.all(np.floor(array) == array):
        raise ValueError(f"{name} must be whole numbers")
    if array.dtype.kind not in "iufO":
        raise ValueError(f"{name} must be whole numbers, not {array.dtype}")
    return array.astype(np.int64)


def _mff_e4(tariff: Tariff, procode: np.ndarray) -> np.ndarray:
    """Each row's MFF; an unknown provider is an error, since no price can be right without its MFF."""
    known = dict(zip(tariff.mff["provider_code"].to_pylist(), tariff.mff["mff_e4"].to_pylist(), strict=True))
    unique, inverse = np.unique(procode, return_inverse=True)
    for code in unique:
        if code not in known:
            raise ValueError(f"unknown provider {code}: it has no MFF in the {tariff.financial_year} tariff")
    return np.array([known[c] for c in unique], dtype=np.int64)[inverse]


def _national(table: pa.Table, key: str, codes: np.ndarray, columns: Sequence[str]) -> dict[str, np.ndarray]:
    """Each row's national values by currency, looked up once per distinct code; -1 where there is none."""
    index = {code: i for i, code in enumerate(table[key].to_pylist())}
    unique, inverse = np.unique(codes, return_inverse=True)
    out = {}
    for column in columns:
        values = table[column].to_pylist()
        found = [values[index[c]] if c in index else None for c in unique]
        out[column] = np.array([-1 if v is None else int(v) for v in found], dtype=np.int64)[inverse]
    return out


def _local(tariff: Tariff, procode: np.ndarray, pod: np.ndarray, currency: np.ndarray) -> np.ndarray:
    """Local prices for rows the national tariff does not price; an error if the provider has none either."""
    table = tariff.local_prices
    known = {
        (p, d, c): pence for p, d, c, pence in zip(*(table[k].to_pylist() for k in LOCAL_SCHEMA.names), strict=True)
    }
    sep = "\x1f"
    keys = np.char.add(np.char.add(np.char.add(np.char.add(procode, sep), pod), sep), currency)
    unique, inverse = np.unique(keys, return_inverse=True)
    prices = []
    for key in unique:
        provider, point, code = str(key).split(sep)
        if (provider, point, code) not in known:
            kind = "TFC" if point.startswith("OP") else "HRG"
            raise ValueError(
                f"no price for {kind} {code} ({point}) at provider {provider}: the {tariff.financial_year} national "
                "tariff has none and the provider has no local price"
            )
        prices.append(known[(provider, point, code)])
    return np.array(prices, dtype=np.int64)[inverse]


def _times_mff(pence: np.ndarray, mff_e4: np.ndarray) -> np.ndarray:
    """Price times MFF, rounded half up to the penny with integer arithmetic."""
    return (pence * mff_e4 + 5000) // 10000


def price_apc(
    tariff: Tariff, procode: np.ndarray, hrg: np.ndarray, admimeth: np.ndarray, los: np.ndarray, age: np.ndarray
) -> np.ndarray:
    """The correct price in pence of each admitted-care spell (vectorised).

    The POD is elective for ADMIMETH 11-13 and non-elective otherwise. Days beyond the POD's trim point are paid at
    the per-day rate. A non-elective spell of at most `short_stay_max_days` for a patient at least
    `short_stay_min_age`, under an HRG flagged for it, is paid the reduced SSE price instead (no long stay), when
    the year's rules switch the adjustment on. The total is multiplied by the provider's MFF.
    """
    procode, hrg, admimeth = _codes(procode), _codes(hrg), _codes(admimeth)
    los, age = _whole(los, "los"), _whole(age, "age")
    if len({len(procode), len(hrg), len(admimeth), len(los), len(age)}) != 1:
        raise ValueError("procode, hrg, admimeth, los and age must have the same length")
    if np.any(los < 0):
        raise ValueError("los must not be negative")
    rules = _rules(tariff)
    mff = _mff_e4(tariff, procode)
    elective = np.isin(admimeth, ELECTIVE_ADMIMETH)
    nat = _national(tariff.apc, "hrg", hrg, APC_SCHEMA.names[2:])
    price = np.where(elective, nat["elective_pence"], nat["nonelective_pence"])
    trim = np.where(elective, nat["elective_trim_days"], nat["nonelective_trim_days"])
    national = price >= 0
    per_day = np.maximum(nat["per_day_pence"], 0)
    long_stay = np.where(national & (trim >= 0), np.maximum(los - trim, 0) * per_day, 0)
    if rules.sse:
        short = ~elective & national & (los <= rules.max_days) & (age >= rules.min_age)
        short &= (nat["sse_applicable"] == 1) & (nat["sse_pence"] >= 0)
        price = np.where(short, nat["sse_pence"], price)
        long_stay = np.where(short, 0, long_stay)
    need = ~national
    if need.any():
        price[need] = _local(tariff, procode[need], np.where(elective[need], "APC_EL", "APC_NE"), hrg[need])
    return _times_mff(price + long_stay, mff)


def price_op(
    tariff: Tariff, procode: np.ndarray, tfc: np.ndarray, firstatt: np.ndarray, attended: np.ndarray
) -> np.ndarray:
    """The correct price in pence of each outpatient appointment (vectorised).

    Attended appointments (ATTENDED 5 or 6) are paid the TFC's first or follow-up price times the MFF; DNAs and
    cancellations (2, 3, 4, 7 and any other code) are paid 0, as only attended appointments are payable.
    """
    procode, tfc, firstatt, attended = _codes(procode), _codes(tfc), _codes(firstatt), _codes(attended)
    if len({len(procode), len(tfc), len(firstatt), len(attended)}) != 1:
        raise ValueError("procode, tfc, firstatt and attended must have the same length")
    mff = _mff_e4(tariff, procode)
    payable = np.isin(attended, PAYABLE_ATTENDED)
    wrong = payable & ~np.isin(firstatt, ("1", "2"))
    if wrong.any():
        raise ValueError(f"FIRSTATT {firstatt[wrong][0]!r} is neither 1 (first) nor 2 (follow-up)")
    first = firstatt == "1"
    nat = _national(tariff.op, "tfc", tfc, ("first_pence", "followup_pence"))
    price = np.where(payable, np.where(first, nat["first_pence"], nat["followup_pence"]), 0)
    need = price < 0
    if need.any():
        price[need] = _local(tariff, procode[need], np.where(first[need], "OP_FIRST", "OP_FU"), tfc[need])
    return _times_mff(price, mff)


def price_ae(tariff: Tariff, procode: np.ndarray, hrg: np.ndarray, dept_type: np.ndarray) -> np.ndarray:
    """The correct price in pence of each A&E attendance (vectorised).

    The HRG's price times the MFF, except that minor departments (types 03 and 04 by the year's rules: minor
    injury units and walk-in centres) are paid the lowest national A&E price whatever the HRG.
    """
    procode, hrg, dept_type = _codes(procode), _codes(hrg), _codes(dept_type)
    if len({len(procode), len(hrg), len(dept_type)}) != 1:
        raise ValueError("procode, hrg and dept_type must have the same length")
    rules = _rules(tariff)
    mff = _mff_e4(tariff, procode)
    minor = np.isin(dept_type, rules.minor_types)
    price = _national(tariff.ae, "hrg", hrg, ("pence",))["pence"]
    need = ~minor & (price < 0)
    if need.any():
        price[need] = _local(tariff, procode[need], np.full(int(need.sum()), "AE"), hrg[need])
    if minor.any():
        national = [p for p in tariff.ae["pence"].to_pylist() if p is not None]
        if not national:
            raise ValueError(f"the {tariff.financial_year} tariff has no A&E price to pay minor departments")
        price = np.where(minor, min(national), price)
    return _times_mff(price, mff)
