"""Schema contracts: what each data set's files must hold, kept as reviewed data (`contracts/*.toml`).

A contract names the data set's fields with their type, whether they are required, the codes or pattern they
may take and their range. It also says which field is the record key, which one the submitting provider is
(one per file), which date places a row in its submission month and which date activity is attributed on. A
data set is recognised by its signature columns in a file's header.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

TYPES = ("code", "text", "date", "int", "money", "time", "nhs_number")


@dataclass(frozen=True)
class Field:
    """One field of a contract."""

    name: str
    type: str
    required: bool = False
    values: frozenset[str] | None = None
    pattern: str | None = None
    minimum: int | None = None
    maximum: int | None = None
    describe: str = ""


@dataclass(frozen=True)
class Contract:
    """A data set's contract."""

    dataset: str
    title: str
    fields: tuple[Field, ...]
    signature: tuple[str, ...]
    nhs_number: str
    key: str | None = None
    submitter: str | None = None
    period: str | None = None
    activity_date: str | None = None
    orders: tuple[tuple[str, str], ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """The field names, in order."""
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> Field:
        """A field by name."""
        return next(f for f in self.fields if f.name == name)


def _parse(text: str, source: str) -> Contract:
    data = tomllib.loads(text)
    fields = []
    for number, raw in enumerate(data.get("field", []), start=1):
        if raw.get("type") not in TYPES:
            raise ValueError(f"{source}: field {number} ({raw.get('name')}) has unknown type {raw.get('type')!r}")
        fields.append(
            Field(
                name=raw["name"],
                type=raw["type"],
                required=bool(raw.get("required", False)),
                values=frozenset(raw["values"]) if "values" in raw else None,
                pattern=raw.get("pattern"),
                minimum=raw.get("min"),
                maximum=raw.get("max"),
                describe=raw.get("describe", ""),
            )
        )
    names = [f.name for f in fields]
    if len(set(names)) != len(names):
        raise ValueError(f"{source}: a field is listed twice")
    contract = Contract(
        dataset=data["dataset"],
        title=data["title"],
        fields=tuple(fields),
        signature=tuple(data["signature"]),
        nhs_number=data["nhs_number"],
        key=data.get("key"),
        submitter=data.get("submitter"),
        period=data.get("period"),
        activity_date=data.get("activity_date"),
        orders=tuple((o["earlier"], o["later"]) for o in data.get("order", [])),
    )
    named = [
        contract.nhs_number,
        contract.key,
        contract.submitter,
        contract.period,
        contract.activity_date,
        *contract.signature,
        *(n for pair in contract.orders for n in pair),
    ]
    unknown = sorted({n for n in named if n is not None and n not in names})
    if unknown:
        raise ValueError(f"{source}: names fields it does not define: {', '.join(unknown)}")
    return contract


@cache
def load_contracts() -> dict[str, Contract]:
    """Every shipped contract, checked, by data set name."""
    folder = resources.files("pbc.ingest").joinpath("contracts")
    contracts = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            contract = _parse(entry.read_text(encoding="utf-8"), entry.name)
            contracts[contract.dataset] = contract
    return contracts


def recognise(header: list[str], file_name: str = "") -> Contract | None:
    """The contract a file follows: by all its signature columns, else by its record key or its file name.

    The fallbacks let a file that is missing a column be recognised, so the message can name the missing column
    instead of saying the file is unknown.
    """
    columns = set(header)
    contracts = load_contracts()
    for contract in contracts.values():
        if set(contract.signature) <= columns:
            return contract
    for contract in contracts.values():
        if contract.key is not None and contract.key in columns:
            return contract
    prefix = file_name.split("_", 1)[0].lower()
    return contracts.get(prefix) if "_" in file_name else None
