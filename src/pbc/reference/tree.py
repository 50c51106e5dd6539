"""The organisation tree with effective dates: region, sector, commissioner, locality, practice; and providers.

The tree is kept as two generic tables so that one query can walk it at any date:
`organisations` (code, name, kind, status, postcode, open and close dates, source) and `memberships` (child,
parent, effective from and to; a missing date means open-ended). Typed tables (`practices`, `trusts`,
`commissioners`, ...) keep every field of the files they came from.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from pbc.reference.london import LONDON_REGION_CODE, LONDON_REGION_NAME
from pbc.reference.ods import STATUSES

ORGANISATIONS = pa.schema(
    [
        ("code", pa.string()),
        ("name", pa.string()),
        ("kind", pa.string()),
        ("status", pa.string()),
        ("postcode", pa.string()),
        ("open_date", pa.date32()),
        ("close_date", pa.date32()),
        ("source", pa.string()),
    ]
)
MEMBERSHIPS = pa.schema(
    [
        ("child_code", pa.string()),
        ("child_kind", pa.string()),
        ("parent_code", pa.string()),
        ("parent_kind", pa.string()),
        ("effective_from", pa.date32()),
        ("effective_to", pa.date32()),
        ("source", pa.string()),
    ]
)


class _Rows:
    """Accumulates rows of a schema column by column."""

    def __init__(self, schema: pa.Schema) -> None:
        self.schema = schema
        self.columns: dict[str, list[object]] = {name: [] for name in schema.names}

    def add(self, **values: object) -> None:
        for name in self.schema.names:
            self.columns[name].append(values.get(name))

    def table(self) -> pa.Table:
        return pa.table(self.columns, schema=self.schema)


def build_tree(
    practices: pa.Table,
    trusts: pa.Table,
    pcts: pa.Table,
    clusters: pa.Table,
    historic_trusts: dict[str, str | None],
) -> tuple[pa.Table, pa.Table]:
    """Build the `organisations` and `memberships` tables from the loaded reference files."""
    orgs, links = _Rows(ORGANISATIONS), _Rows(MEMBERSHIPS)
    orgs.add(code=LONDON_REGION_CODE, name=LONDON_REGION_NAME, kind="region", status="active", source="pbc")

    sectors: dict[str, str] = {}
    for rec in pcts.to_pylist():
        sectors.setdefault(rec["sector_code"], rec["sector"])
        orgs.add(code=rec["code"], name=rec["pct"], kind="commissioner", status="active", source="london_pcts")
        links.add(
            child_code=rec["code"],
            child_kind="commissioner",
            parent_code=rec["sector_code"],
            parent_kind="sector",
            source="london_pcts",
        )
    for code, name in sectors.items():
        orgs.add(code=code, name=name, kind="sector", status="active", source="london_pcts")
        links.add(
            child_code=code,
            child_kind="sector",
            parent_code=LONDON_REGION_CODE,
            parent_kind="region",
            source="pbc",
        )

    known_commissioners = set(pcts["code"].to_pylist())
    for code in sorted(set(pc.drop_null(practices["commissioner_code"]).to_pylist()) - known_commissioners):
        orgs.add(code=code, kind="commissioner", status="active", source="epraccur")

    for rec in clusters.to_pylist():
        orgs.add(code=rec["code"], name=rec["cluster"], kind="locality", status="active", source="clusters")
        links.add(
            child_code=rec["code"],
            child_kind="locality",
            parent_code=rec["commissioner_code"],
            parent_kind="commissioner",
            source="clusters",
        )

    for rec in practices.select(
        [
            "code",
            "name",
            "status",
            "postcode",
            "open_date",
            "close_date",
            "commissioner_code",
            "join_date",
            "left_date",
        ]
    ).to_pylist():
        orgs.add(
            code=rec["code"],
            name=rec["name"],
            kind="practice",
            status=STATUSES[rec["status"]],
            postcode=rec["postcode"],
            open_date=rec["open_date"],
            close_date=rec["close_date"],
            source="epraccur",
        )
        if rec["commissioner_code"]:
            links.add(
                child_code=rec["code"],
                child_kind="practice",
                parent_code=rec["commissioner_code"],
                parent_kind="commissioner",
                effective_from=rec["join_date"],
                effective_to=rec["left_date"],
                source="epraccur",
            )

    current = set(trusts["code"].to_pylist())
    for rec in trusts.select(["code", "name", "postcode", "open_date", "close_date"]).to_pylist():
        status = "closed" if rec["close_date"] else "active"
        orgs.add(**rec, kind="provider", status=status, source="etr")
    for name, code in historic_trusts.items():
        if code and code not in current:
            orgs.add(code=code, name=name, kind="provider", status="historic", source="london_trusts_2006")
    return orgs.table(), links.table()
