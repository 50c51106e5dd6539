"""Fixtures for costing tests: the small synthetic Brent ingested into a home, and a tiny hand-built tariff."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa
import pytest

from pbc.warehouse import Warehouse

# The schemas `pbc ingest` stores the tariff tables with (pbc.ingest.reference_files.TARIFF_TABLES)
SCHEMAS = {
    "apc": pa.schema(
        [
            ("hrg", pa.string()),
            ("hrg_name", pa.string()),
            ("elective_pence", pa.int64()),
            ("elective_trim_days", pa.int64()),
            ("nonelective_pence", pa.int64()),
            ("nonelective_trim_days", pa.int64()),
            ("per_day_pence", pa.int64()),
            ("sse_applicable", pa.string()),
            ("sse_percent", pa.int64()),
            ("sse_pence", pa.int64()),
            ("financial_year", pa.string()),
        ]
    ),
    "op": pa.schema(
        [
            ("tfc", pa.string()),
            ("tfc_name", pa.string()),
            ("first_pence", pa.int64()),
            ("followup_pence", pa.int64()),
            ("financial_year", pa.string()),
        ]
    ),
    "ae": pa.schema(
        [("hrg", pa.string()), ("hrg_name", pa.string()), ("pence", pa.int64()), ("financial_year", pa.string())]
    ),
    "mff": pa.schema(
        [
            ("provider_code", pa.string()),
            ("provider_name", pa.string()),
            ("mff_e4", pa.int64()),
            ("financial_year", pa.string()),
        ]
    ),
    "local_prices": pa.schema(
        [
            ("provider_code", pa.string()),
            ("pod", pa.string()),
            ("currency", pa.string()),
            ("pence", pa.int64()),
            ("financial_year", pa.string()),
        ]
    ),
    "rules": pa.schema([("rule", pa.string()), ("value", pa.string()), ("financial_year", pa.string())]),
}
RULES_2007 = {
    "short_stay_emergency": "yes",
    "short_stay_max_days": "1",
    "short_stay_min_age": "19",
    "elective_price_basis": "combined",
    "ae_minor_department_types": "03;04",
    "ae_minor_price": "lowest",
}


def _apc(hrg: str, el, el_trim, ne, ne_trim, per_day, sse_pct=None, sse=None) -> dict:
    return {
        "hrg": hrg,
        "hrg_name": f"HRG {hrg}",
        "elective_pence": el,
        "elective_trim_days": el_trim,
        "nonelective_pence": ne,
        "nonelective_trim_days": ne_trim,
        "per_day_pence": per_day,
        "sse_applicable": "Yes" if sse is not None else "No",
        "sse_percent": sse_pct,
        "sse_pence": sse,
    }


def hand_tariff(rules: dict[str, dict[str, str]] | None = None) -> dict[str, pa.Table]:
    """A tiny tariff for 2006/07 and 2007/08, small enough to price every golden line by hand.

    2007/08: AA1 elective £1000 (trim 3), non-elective £2000 (trim 5), £200 a day beyond, SSE 50% = £1000;
    AA2 no elective price, non-elective £1500 (trim 4), £100 a day, no SSE. 2006/07 is the same except AA1
    non-elective is £1900, the SSE adjustment is off and only type 04 is a minor A&E department.
    """
    years = {
        "2006/07": {
            "ne_aa1": 190000,
            "rules": {**RULES_2007, "short_stay_emergency": "no", "ae_minor_department_types": "04"},
        },
        "2007/08": {"ne_aa1": 200000, "rules": RULES_2007},
    }
    for year, override in (rules or {}).items():
        years.setdefault(year, {"ne_aa1": 200000, "rules": {}})["rules"] = override
    rows: dict[str, list[dict]] = {name: [] for name in SCHEMAS}
    for year, spec in years.items():
        stamp = {"financial_year": year}
        rows["apc"] += [
            _apc("AA1", 100000, 3, spec["ne_aa1"], 5, 20000, 50, spec["ne_aa1"] // 2) | stamp,
            _apc("AA2", None, None, 150000, 4, 10000) | stamp,
        ]
        rows["op"] += [
            {"tfc": "100", "tfc_name": "General surgery", "first_pence": 15000, "followup_pence": 8000} | stamp,
            {"tfc": "110", "tfc_name": "Trauma", "first_pence": 13000, "followup_pence": 7000} | stamp,
        ]
        rows["ae"] += [
            {"hrg": hrg, "hrg_name": f"A&E {hrg}", "pence": pence} | stamp
            for hrg, pence in (("V01", 13800), ("V05", 8200), ("V08", 5200))
        ]
        rows["mff"] += [
            {"provider_code": code, "provider_name": f"Trust {code}", "mff_e4": mff} | stamp
            for code, mff in (("PROV1", 10000), ("PROV2", 10005), ("PROV3", 12347))
        ]
        rows["local_prices"] += [
            {"provider_code": "PROV1", "pod": pod, "currency": currency, "pence": pence} | stamp
            for pod, currency, pence in (
                ("APC_EL", "AA2", 90000),
                ("APC_NE", "LL1", 123400),
                ("OP_FIRST", "999", 5000),
                ("AE", "V99", 3000),
            )
        ]
        rows["rules"] += [{"rule": k, "value": v} | stamp for k, v in spec["rules"].items()]
    return {name: pa.Table.from_pylist(rows[name], schema=SCHEMAS[name]) for name in SCHEMAS}


def tariff_warehouse(root: Path, tables: dict[str, pa.Table]) -> Warehouse:
    """A warehouse holding only a tariff, stored as `pbc ingest` stores it."""
    warehouse = Warehouse(root)
    warehouse.commit("tariff", tables, [])
    return warehouse


@pytest.fixture(scope="session")
def hand_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """The hand-built tariff in a warehouse of its own (tests must not change it)."""
    return tariff_warehouse(tmp_path_factory.mktemp("hand_tariff") / "warehouse", hand_tariff())


@pytest.fixture(scope="session")
def faults(small_brent: Path) -> dict[str, set[tuple[str, str, str]]]:
    """The injected faults of the small Brent by type: {(dataset, procode, record_key)}."""
    found: dict[str, set[tuple[str, str, str]]] = {}
    with (small_brent / "truth" / "faults.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            found.setdefault(row["fault_type"], set()).add((row["dataset"], row["procode"], row["record_key"]))
    return found
