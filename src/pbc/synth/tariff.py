"""A synthetic Payment by Results tariff for each financial year, and the price of a provider's correct claim.

**Every price here is synthetic.** The reference prices below are 2007/08 magnitudes in whole pounds, shaped like
the HRG v3.5 tariff (a combined elective price, a non-elective price, long-stay trim points and a per-day rate,
and a reduced short-stay emergency (SSE) price for flagged HRGs). Other years scale deterministically (2005/06
about 6% lower, 2006/07 3% lower, 2008/09 2.5% higher), each price moved by up to 1.5% by the seed, so different
seeds give different tariffs. The SSE adjustment is off in 2005/06 and on from 2006/07 (a synthetic choice).

Money is integer pence throughout and the market forces factor (MFF) is an integer in ten-thousandths, so every
claim can be recomputed to the penny by anyone: a price times the MFF is rounded half up with integer arithmetic,
`(pence * mff_e4 + 5000) // 10000`. Floats would make an auditor's total differ from the provider's by pennies.

The pricing functions implement docs/synthetic-data.md ("How the provider's claim is priced"): the generator
prices its correct claims with them, and faults are departures from them. Where the national tariff has no price
for a currency and point of delivery (POD), the provider's local price is the whole price: it has no long-stay
payment and no SSE reduction, but is multiplied by the MFF like every price.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pyarrow as pa

from pbc.money import plain_pounds
from pbc.synth.catalogue import Catalogue

ELECTIVE_ADMIMETH = ("11", "12", "13")
PAYABLE_ATTENDED = ("5", "6")
PODS = ("APC_EL", "APC_NE", "OP_FIRST", "OP_FU", "AE")
YEAR_FACTOR_E4 = {"2005/06": 9400, "2006/07": 9700, "2007/08": 10000, "2008/09": 10250}
SEED_SPREAD_E4 = 150  # each price moves by up to 1.5% with the seed
SHORT_STAY_EMERGENCY_FROM = "2006/07"  # synthetic: the SSE adjustment is off in 2005/06
FILES = ("apc.csv", "op.csv", "ae.csv", "mff.csv", "local_prices.csv", "rules.csv")

APC_SCHEMA = pa.schema(
    [
        ("hrg", pa.string()),
        ("hrg_name", pa.string()),
        ("elective_pence", pa.int64()),
        ("elective_trim_days", pa.int32()),
        ("nonelective_pence", pa.int64()),
        ("nonelective_trim_days", pa.int32()),
        ("per_day_pence", pa.int64()),
        ("sse_applicable", pa.bool_()),
        ("sse_percent", pa.int32()),
        ("sse_pence", pa.int64()),
    ]
)
OP_SCHEMA = pa.schema(
    [("tfc", pa.string()), ("tfc_name", pa.string()), ("first_pence", pa.int64()), ("followup_pence", pa.int64())]
)
AE_SCHEMA = pa.schema([("hrg", pa.string()), ("hrg_name", pa.string()), ("pence", pa.int64())])
MFF_SCHEMA = pa.schema([("provider_code", pa.string()), ("provider_name", pa.string()), ("mff_e4", pa.int32())])
LOCAL_SCHEMA = pa.schema(
    [("provider_code", pa.string()), ("pod", pa.string()), ("currency", pa.string()), ("pence", pa.int64())]
)


class _Apc(NamedTuple):
    """2007/08 reference prices of an HRG in pounds; `el` None means no national elective tariff."""

    el: int | None
    el_trim: int | None
    ne: int
    ne_trim: int
    per_day: int
    sse_percent: int | None = None
    national: bool = True  # False: outside the national tariff altogether, priced locally in both PODs


# fmt: off
_APC = {
    "A07": _Apc(900, 4, 1800, 12, 230), "A08": _Apc(780, 2, 1300, 6, 200),
    "A16": _Apc(650, 2, 1000, 5, 200, national=False), "A20": _Apc(None, None, 1150, 12, 200, 50),
    "A22": _Apc(None, None, 4500, 40, 195), "A23": _Apc(1000, 5, 1350, 11, 230, 60),
    "A29": _Apc(None, None, 750, 5, 210, 40), "B02": _Apc(1200, 4, 1700, 8, 200),
    "B13": _Apc(750, 3, 1300, 8, 200), "C17": _Apc(800, 2, 1100, 5, 200),
    "C18": _Apc(550, 2, 800, 4, 195), "C30": _Apc(None, None, 650, 4, 200, 50),
    "C55": _Apc(700, 2, 1100, 5, 210), "C58": _Apc(1000, 3, 1150, 5, 210),
    "C60": _Apc(1150, 3, 1500, 6, 210), "D03": _Apc(900, 3, 2200, 14, 220),
    "D10": _Apc(None, None, 2000, 16, 210), "D20": _Apc(None, None, 1050, 10, 200, 50),
    "D22": _Apc(None, None, 2100, 30, 200), "D39": _Apc(None, None, 1800, 26, 200),
    "D40": _Apc(500, 2, 1200, 6, 200), "E11": _Apc(None, None, 2700, 20, 230),
    "E14": _Apc(1400, 4, 2100, 10, 240), "E15": _Apc(4300, 5, 5200, 12, 260),
    "E18": _Apc(None, None, 2600, 33, 200), "E29": _Apc(None, None, 1200, 10, 210, 50),
    "E32": _Apc(None, None, 1050, 11, 200, 50), "E33": _Apc(None, None, 950, 8, 200, 50),
    "E36": _Apc(None, None, 1150, 10, 210, 50), "E37": _Apc(None, None, 560, 5, 210, 40),
    "F35": _Apc(450, 3, 1500, 10, 210), "F36": _Apc(550, 3, 1600, 10, 210),
    "F40": _Apc(None, None, 1700, 14, 210), "F46": _Apc(None, None, 1000, 9, 200, 50),
    "F73": _Apc(1450, 5, 1850, 9, 220), "F82": _Apc(None, None, 2300, 9, 220),
    "F84": _Apc(None, None, 900, 7, 200, 50), "F90": _Apc(1050, 3, 1400, 8, 220),
    "G14": _Apc(2200, 6, 3000, 14, 230), "H02": _Apc(5500, 15, 6900, 33, 230),
    "H04": _Apc(5700, 15, 6500, 30, 230), "H08": _Apc(None, None, 7200, 45, 200),
    "H10": _Apc(1150, 3, 1700, 9, 220), "H22": _Apc(480, 2, 1000, 6, 200),
    "H23": _Apc(1200, 8, 2300, 20, 210), "H28": _Apc(1100, 7, 1400, 14, 195, national=False),
    "J11": _Apc(None, None, 1500, 18, 195), "J37": _Apc(550, 2, 1000, 6, 195),
    "J38": _Apc(900, 2, 1400, 7, 200), "K11": _Apc(None, None, 2100, 22, 200),
    "K12": _Apc(None, None, 1600, 12, 210), "K14": _Apc(None, None, 1500, 18, 195),
    "L09": _Apc(None, None, 1700, 20, 200), "L21": _Apc(2300, 8, 2900, 15, 210),
    "L25": _Apc(650, 3, 1100, 8, 200), "M04": _Apc(600, 2, 900, 5, 200),
    "M07": _Apc(3300, 8, 3900, 14, 220), "M09": _Apc(2100, 6, 2600, 12, 210),
    "N06": _Apc(2600, 8, 2900, 10, 220), "N08": _Apc(None, None, 700, 4, 200, 50),
    "P02": _Apc(None, None, 1100, 7, 240), "P03": _Apc(None, None, 850, 6, 230),
    "P04": _Apc(None, None, 700, 3, 240), "P06": _Apc(None, None, 650, 4, 230),
    "P11": _Apc(700, 2, 1100, 5, 220), "P12": _Apc(1100, 4, 1400, 7, 220),
    "Q03": _Apc(9500, 22, 12500, 35, 280), "Q11": _Apc(1300, 3, 1700, 8, 220),
    "S10": _Apc(650, 3, 1700, 14, 200), "S17": _Apc(None, None, 700, 5, 200, 40),
    "S22": _Apc(None, None, 2000, 25, 195),
}
_OP = {  # first, follow-up (pounds); locally priced TFCs (catalogue national_tariff false) go to local_prices
    "100": (157, 86), "101": (180, 84), "107": (165, 98), "110": (150, 80), "120": (125, 75), "130": (124, 72),
    "140": (130, 85), "191": (175, 95), "300": (200, 105), "301": (210, 106), "320": (190, 95), "330": (125, 72),
    "340": (215, 105), "400": (235, 107), "410": (225, 100), "420": (230, 107), "430": (240, 107), "501": (130, 72),
    "502": (150, 85), "650": (55, 38),
}
_AE = {"V01": 138, "V02": 125, "V03": 110, "V04": 95, "V05": 82, "V06": 70, "V07": 60, "V08": 52}
# fmt: on


@dataclass(frozen=True)
class Tariff:
    """One financial year's tariff: national prices, each provider's MFF and local prices, and the year's rules."""

    financial_year: str
    apc: pa.Table
    op: pa.Table
    ae: pa.Table
    mff: pa.Table
    local_prices: pa.Table
    rules: dict[str, str]


def _draw(*parts: object) -> int:
    """A stable pseudo-random integer from the parts (Python's hash() is salted per process, so never that)."""
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _scaled(whole_pounds: int, factor_e4: int, second_e4: int = 10000) -> int:
    """Whole pounds times one or two factors in ten-thousandths, rounded half up to whole pounds, in pence.

    Published tariff prices are whole pounds; pence only appear once the MFF is applied.
    """
    return (whole_pounds * factor_e4 * second_e4 + 50_000_000) // 100_000_000 * 100


def build_tariff(catalogue: Catalogue, financial_year: str, providers: Sequence[tuple[str, str]], seed: int) -> Tariff:
    """The synthetic tariff of a year for the catalogue's currencies and these (code, name) providers.

    Every currency the catalogue uses is priced for every POD, nationally or, where the national tariff has no
    price, by a local price for every provider, so the generator can always price what it makes.
    """
    if financial_year not in YEAR_FACTOR_E4:
        raise ValueError(f"no synthetic tariff for {financial_year!r}: years are {', '.join(YEAR_FACTOR_E4)}")
    codes = [code for code, _ in providers]
    if len(set(codes)) != len(codes):
        raise ValueError("providers must have distinct codes")
    year_e4 = YEAR_FACTOR_E4[financial_year]
    sse_on = financial_year >= SHORT_STAY_EMERGENCY_FROM

    def factor(kind: str, code: str) -> int:
        return year_e4 + _draw(seed, financial_year, kind, code) % (2 * SEED_SPREAD_E4 + 1) - SEED_SPREAD_E4

    names = dict(zip(catalogue.elective["hrg"].to_pylist(), catalogue.elective["hrg_name"].to_pylist(), strict=True))
    names.update(zip(catalogue.emergency["hrg"].to_pylist(), catalogue.emergency["hrg_name"].to_pylist(), strict=True))
    missing = sorted(set(names) - set(_APC))
    if missing:
        raise ValueError(f"no reference price for HRG {', '.join(missing)}: add it to pbc.synth.tariff._APC")
    apc_rows, local_refs = [], []
    for hrg in sorted(names):
        ref = _APC[hrg]
        if not ref.national:
            local_refs += [("APC_EL", hrg, ref.el if ref.el is not None else ref.ne), ("APC_NE", hrg, ref.ne)]
            continue
        if ref.el is None:
            local_refs.append(("APC_EL", hrg, ref.ne))
        ne_pence = _scaled(ref.ne, factor("APC_NE", hrg))
        sse = sse_on and ref.sse_percent is not None
        apc_rows.append(
            {
                "hrg": hrg,
                "hrg_name": names[hrg],
                "elective_pence": None if ref.el is None else _scaled(ref.el, factor("APC_EL", hrg)),
                "elective_trim_days": ref.el_trim if ref.el is not None else None,
                "nonelective_pence": ne_pence,
                "nonelective_trim_days": ref.ne_trim,
                "per_day_pence": _scaled(ref.per_day, factor("PER_DAY", hrg)),
                "sse_applicable": sse,
                "sse_percent": ref.sse_percent if sse else None,
                "sse_pence": _scaled(ne_pence // 100, 100 * (ref.sse_percent or 0)) if sse else None,
            }
        )

    op_rows = []
    for tfc, name, national in zip(
        *(catalogue.specialties[c].to_pylist() for c in ("tfc", "name", "national_tariff")), strict=True
    ):
        if tfc not in _OP:
            raise ValueError(f"no reference price for TFC {tfc}: add it to pbc.synth.tariff._OP")
        first, follow = _OP[tfc]
        if national:
            row = {"tfc": tfc, "tfc_name": name, "first_pence": _scaled(first, factor("OP_FIRST", tfc))}
            op_rows.append(row | {"followup_pence": _scaled(follow, factor("OP_FU", tfc))})
        else:
            local_refs += [("OP_FIRST", tfc, first), ("OP_FU", tfc, follow)]

    ae_rows = []
    for hrg, name, minor in zip(*(catalogue.ae[c].to_pylist() for c in ("hrg", "hrg_name", "minor")), strict=True):
        if hrg not in _AE:
            raise ValueError(f"no reference price for A&E HRG {hrg}: add it to pbc.synth.tariff._AE")
        ae_rows.append({"hrg": hrg, "hrg_name": name, "pence": _scaled(_AE[hrg], factor("AE", hrg)), "minor": minor})
    lowest = min(r["pence"] for r in ae_rows)
    if [r["hrg"] for r in ae_rows if r["pence"] == lowest] != [r["hrg"] for r in ae_rows if r["minor"]]:
        raise ValueError("the catalogue's minor A&E HRG must be the single lowest-priced one")

    mff_rows = [
        {"provider_code": code, "provider_name": name, "mff_e4": 11000 + _draw(seed, "MFF", code) % 2001}
        for code, name in sorted(providers)
    ]
    local_refs.sort(key=lambda r: (PODS.index(r[0]), r[1]))
    local_rows = [
        {"provider_code": code, "pod": pod, "currency": currency, "pence": _scaled(reference, year_e4, local)}
        for code in sorted(codes)
        for pod, currency, reference in local_refs
        # each provider agrees its own local price: 90% to 120% of the reference
        for local in [9000 + _draw(seed, financial_year, "LOCAL", code, pod, currency) % 3001]
    ]
    rules = {
        "short_stay_emergency": "yes" if sse_on else "no",
        "short_stay_max_days": "1",
        "short_stay_min_age": "19",
        "elective_price_basis": "combined",
        "ae_minor_department_types": "03;04",
        "ae_minor_price": "lowest",
    }
    return Tariff(
        financial_year=financial_year,
        apc=pa.Table.from_pylist(apc_rows, schema=APC_SCHEMA),
        op=pa.Table.from_pylist(op_rows, schema=OP_SCHEMA),
        ae=pa.Table.from_pylist([{k: r[k] for k in AE_SCHEMA.names} for r in ae_rows], schema=AE_SCHEMA),
        mff=pa.Table.from_pylist(mff_rows, schema=MFF_SCHEMA),
        local_prices=pa.Table.from_pylist(local_rows, schema=LOCAL_SCHEMA),
        rules=rules,
    )


HEADERS = {
    "apc.csv": (
        "HRG code",
        "HRG name",
        "Elective spell tariff (£)",
        "Elective long stay trim point (days)",
        "Non-elective spell tariff (£)",
        "Non-elective long stay trim point (days)",
        "Per day long stay payment (for days exceeding trim point) (£)",
        "Reduced short stay emergency tariff _applicable?",
        "% applied in calculation of reduced short stay emergency tariff",
        "Reduced short stay emergency tariff (£)",
    ),
    "op.csv": (
        "Treatment function code",
        "Treatment function name",
        "First attendance tariff (£)",
        "Follow-up attendance tariff (£)",
    ),
    "ae.csv": ("HRG code", "HRG name", "Tariff (£)"),
    "mff.csv": ("Provider code", "Provider name", "MFF"),
    "local_prices.csv": ("Provider code", "POD", "Currency", "Price (£)"),
    "rules.csv": ("rule", "value"),
}
"""The headers of the published workbooks, as docs/synthetic-data.md lists them."""


def format_pounds(pence: np.ndarray) -> np.ndarray:
    """`pbc.money.plain_pounds` for a whole array of pence (e.g. CLAIMED_PRICE), vectorised, as an array of str."""
    value = np.asarray(pence, dtype=np.int64)
    whole = np.char.add(np.where(value < 0, "-", ""), (np.abs(value) // 100).astype(str))
    return np.char.add(np.char.add(whole, "."), np.char.zfill((np.abs(value) % 100).astype(str), 2))


def _text(value: object) -> str:
    return "" if value is None else str(value)


def write_tariff(tariff: Tariff, folder: Path) -> list[Path]:
    """Write the year's six tariff files into `folder` (e.g. `tariff/2007_08`), laid out like the workbooks."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    apc = [
        [
            r["hrg"],
            r["hrg_name"],
            plain_pounds(r["elective_pence"]),
            _text(r["elective_trim_days"]),
            plain_pounds(r["nonelective_pence"]),
            _text(r["nonelective_trim_days"]),
            plain_pounds(r["per_day_pence"]),
            "Yes" if r["sse_applicable"] else "No",
            _text(r["sse_percent"]),
            plain_pounds(r["sse_pence"]),
        ]
        for r in tariff.apc.to_pylist()
    ]
    op = [
        [r["tfc"], r["tfc_name"], plain_pounds(r["first_pence"]), plain_pounds(r["followup_pence"])]
        for r in tariff.op.to_pylist()
    ]
    ae = [[r["hrg"], r["hrg_name"], plain_pounds(r["pence"])] for r in tariff.ae.to_pylist()]
    mff = [
        [r["provider_code"], r["provider_name"], f"{r['mff_e4'] // 10000}.{r['mff_e4'] % 10000:04d}"]
        for r in tariff.mff.to_pylist()
    ]
    local = [
        [r["provider_code"], r["pod"], r["currency"], plain_pounds(r["pence"])] for r in tariff.local_prices.to_pylist()
    ]
    rules = [[k, v] for k, v in tariff.rules.items()]
    paths = []
    for name, rows in zip(FILES, (apc, op, ae, mff, local, rules), strict=True):
        path = folder / name
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(HEADERS[name])
            writer.writerows(rows)
        paths.append(path)
    return paths
