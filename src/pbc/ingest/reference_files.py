"""Reference files that `pbc ingest` meets among the extracts, each sent to its loader.

Registrations (the patient register) are pseudonymised like activity and replace the previous register whole.
List sizes and locality memberships go to the reference loaders. Disease registers replace their extract date.
Tariff tables are recognised by their published-workbook headers and stored per financial year, which is taken
from the folder or file name (`2007_08`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from pbc.errors import InputError, Problem
from pbc.ingest.checks import check
from pbc.ingest.contracts import Contract
from pbc.reference.list_sizes import AGE_BANDS
from pbc.reference.load import REFERENCE, load_list_sizes, load_locality_memberships
from pbc.reference.records import Column, read_csv
from pbc.warehouse import Source

if TYPE_CHECKING:
    from pbc.ingest.load import Ingest

REGISTRATIONS = "registrations"
REGISTERS = "registers"
TARIFF = "tariff"
CONDITIONS = ("DIABETES", "CHD", "COPD", "ASTHMA", "HEART_FAILURE", "STROKE", "HYPERTENSION")
_YEAR = re.compile(r"(\d{4})_(\d{2})")


def load_registrations(ingest: Ingest, path: Path, contract: Contract) -> tuple[int, int]:
    """Check, pseudonymise and store the patient register, replacing the previous one; returns (stored, quarantined)."""
    from pbc.ingest.load import header_of, read_extract

    raw, row_numbers = read_extract(path, contract, header_of(path))
    if raw.num_rows == 0:
        raise InputError.one(path.name, None, None, "has no rows")
    checked = check(contract, raw, row_numbers)
    good = checked.good.drop_columns(["_SOURCE"])
    patients, identities = ingest.pseudonymiser.pseudonymise(good[contract.nhs_number])
    good = good.drop_columns([contract.nhs_number]).append_column("PATIENT_ID", patients)
    problems = checked.problems.drop_columns(["_SOURCE", "_POSITION"])
    if ingest.warehouse.has(REGISTRATIONS):  # identities are the only encrypted copy: carried forward, never dropped
        identities = pa.concat_tables([ingest.warehouse.read(REGISTRATIONS, "identities"), identities])
    ingest.warehouse.commit(
        REGISTRATIONS,
        {"registrations": good, "quarantine": problems, "identities": identities},
        [Source.of(path)],
        {"rows_in": raw.num_rows, "quarantined": checked.failed_rows},
    )
    return good.num_rows, checked.failed_rows


REGISTER_CONTRACT = (
    Column("extract_date", "EXTRACT_DATE", kind="date", required=True, date_formats=("%Y-%m-%d",)),
    Column("practice_code", "PRACTICE_CODE", required=True, pattern=r"[A-Z0-9]{3,6}", describe="practice code"),
    Column("condition", "CONDITION", required=True, choices=frozenset(CONDITIONS)),
    Column("sex", "SEX", required=True, choices=frozenset({"MALE", "FEMALE"})),
    Column("age_band", "AGE_GROUP_5", required=True, choices=frozenset(AGE_BANDS)),
    Column("register", "REGISTER_COUNT", kind="int", required=True, minimum=0),
)


def load_registers(ingest: Ingest, path: Path) -> int:
    """Disease register counts by practice, condition, sex and age band; a reloaded date replaces its rows."""
    parsed = read_csv(
        path, REGISTER_CONTRACT, header=True, unique=("extract_date", "practice_code", "condition", "sex", "age_band")
    )
    known = set(ingest.warehouse.read(REFERENCE, "practices")["code"].to_pylist())
    problems = [
        Problem(parsed.file, row, "PRACTICE_CODE", f"unknown practice {rec['practice_code']!r}")
        for row, rec in parsed.rows()
        if rec["practice_code"] not in known
    ]
    if problems:
        raise InputError(problems)
    return ingest.warehouse.replace_rows(
        REGISTERS, "register_counts", parsed.to_arrow(), "extract_date", Source.of(path)
    ).num_rows


def _money(name: str, header: str, required: bool = True) -> Column:
    return Column(name, header, kind="money", required=required)


TARIFF_TABLES: dict[str, tuple[Column, ...]] = {
    "apc": (
        Column("hrg", "HRG code", required=True, pattern=r"[A-Z]{1,2}[0-9]{2}[A-Z]?", describe="HRG code"),
        Column("hrg_name", "HRG name"),
        _money("elective_pence", "Elective spell tariff (£)", required=False),
        Column("elective_trim_days", "Elective long stay trim point (days)", kind="int", minimum=0),
        _money("nonelective_pence", "Non-elective spell tariff (£)", required=False),
        Column("nonelective_trim_days", "Non-elective long stay trim point (days)", kind="int", minimum=0),
        _money("per_day_pence", "Per day long stay payment (for days exceeding trim point) (£)", required=False),
        Column("sse_applicable", "Reduced short stay emergency tariff _applicable?", choices=frozenset({"Yes", "No"})),
        Column("sse_percent", "% applied in calculation of reduced short stay emergency tariff", kind="int", minimum=0),
        _money("sse_pence", "Reduced short stay emergency tariff (£)", required=False),
    ),
    "op": (
        Column("tfc", "Treatment function code", required=True, pattern=r"[0-9]{3}", describe="treatment function"),
        Column("tfc_name", "Treatment function name"),
        _money("first_pence", "First attendance tariff (£)"),
        _money("followup_pence", "Follow-up attendance tariff (£)"),
    ),
    "ae": (
        Column("hrg", "HRG code", required=True, pattern=r"[A-Z]{1,2}[0-9]{2}[A-Z]?", describe="HRG code"),
        Column("hrg_name", "HRG name"),
        _money("pence", "Tariff (£)"),
    ),
    "mff": (
        Column("provider_code", "Provider code", required=True, pattern=r"[A-Z0-9]{3,5}", describe="provider code"),
        Column("provider_name", "Provider name"),
        Column("mff_e4", "MFF", kind="e4", required=True),
    ),
    "local_prices": (
        Column("provider_code", "Provider code", required=True, pattern=r"[A-Z0-9]{3,5}", describe="provider code"),
        Column("pod", "POD", required=True, choices=frozenset({"APC_EL", "APC_NE", "OP_FIRST", "OP_FU", "AE"})),
        Column("currency", "Currency", required=True),
        _money("pence", "Price (£)"),
    ),
    "rules": (Column("rule", "rule", required=True), Column("value", "value", required=True)),
}
_TARIFF_SIGNATURES = {
    "apc": {"HRG code", "Non-elective spell tariff (£)"},
    "op": {"Treatment function code", "First attendance tariff (£)"},
    "ae": {"HRG code", "Tariff (£)"},
    "mff": {"Provider code", "MFF"},
    "local_prices": {"Provider code", "POD", "Currency"},
    "rules": {"rule", "value"},
}


def _tariff_loader(kind: str) -> Callable[[Ingest, Path], int]:
    def load(ingest: Ingest, path: Path) -> int:
        match = _YEAR.search(path.name) or _YEAR.search(path.parent.name)
        if not match or (int(match[1]) + 1) % 100 != int(match[2]):
            raise InputError.one(
                path.name,
                None,
                None,
                "cannot tell the tariff's financial year: keep the tariff "
                "files in a folder named like 2007_08, or put the year in the file name",
            )
        year = f"{match[1]}/{match[2]}"
        unique = {
            "apc": ("hrg",),
            "op": ("tfc",),
            "ae": ("hrg",),
            "mff": ("provider_code",),
            "local_prices": ("provider_code", "pod", "currency"),
            "rules": ("rule",),
        }[kind]
        table = read_csv(path, TARIFF_TABLES[kind], header=True, unique=unique).to_arrow()
        table = table.append_column("financial_year", pa.array([year] * table.num_rows, pa.string()))
        return ingest.warehouse.replace_rows(TARIFF, kind, table, "financial_year", Source.of(path)).num_rows

    return load


@dataclass(frozen=True)
class ReferenceLoader:
    """A kind of reference file: its header signature and its loader."""

    name: str
    signature: frozenset[str]
    load: Callable[[Ingest, Path], int]


LOADERS = (
    ReferenceLoader(
        "list sizes",
        frozenset({"ORG_CODE", "AGE_GROUP_5", "NUMBER_OF_PATIENTS"}),
        lambda ingest, path: load_list_sizes(ingest.warehouse, path).rows["loaded"],
    ),
    ReferenceLoader(
        "locality memberships",
        frozenset({"practice_code", "locality_code", "effective_from"}),
        lambda ingest, path: load_locality_memberships(ingest.warehouse, path).rows["locality_memberships"],
    ),
    ReferenceLoader("disease registers", frozenset({"PRACTICE_CODE", "CONDITION", "REGISTER_COUNT"}), load_registers),
    *(
        ReferenceLoader(f"tariff {kind}", frozenset(sig), _tariff_loader(kind))
        for kind, sig in _TARIFF_SIGNATURES.items()
    ),
)


def recognise(header: list[str]) -> ReferenceLoader | None:
    """The reference loader whose signature is in the header (the most specific one first)."""
    columns = set(header)
    matches = [loader for loader in LOADERS if loader.signature <= columns]
    return max(matches, key=lambda loader: len(loader.signature)) if matches else None
