"""Locality (cluster) memberships: dated, checked against the tree, replaced whole."""

from __future__ import annotations

import pytest

from pbc.errors import InputError
from pbc.reference.load import LOCALITIES, load_locality_memberships
from tests.helpers import warehouse_state, write_csv

HEADER = "practice_code,locality_code,effective_from,effective_to"


def test_good_memberships(tmp_path, loaded_warehouse):
    path = write_csv(
        tmp_path / "m.csv",
        HEADER,
        [
            "E84002,5K5-HARLESDEN,2005-04-01,2006-09-30",
            "E84002,5K5-WILLESDEN,2006-10-01,",
            "E84003,5K5-KILBURN,2005-04-01,",
        ],
    )
    assert load_locality_memberships(loaded_warehouse, path).rows == {"locality_memberships": 3}
    table = loaded_warehouse.read(LOCALITIES, "locality_memberships")
    assert table.column("effective_to").null_count == 2


@pytest.mark.parametrize(
    ("rows", "pattern"),
    [
        (
            ["Z99999,5K5-KILBURN,2005-04-01,"],
            r"m\.csv, row 2, field practice_code: unknown practice 'Z99999'",
        ),
        (["E84002,5K5-NOWHERE,2005-04-01,"], r"row 2, field locality_code: unknown locality '5K5-NOWHERE'"),
        (["E84002,5K5-KILBURN,2005-04-01,2004-01-01"], r"row 2, field effective_to: 2004-01-01 is before"),
        (
            ["E84002,5K5-KILBURN,2005-04-01,", "E84002,5K5-WEMBLEY,2006-01-01,"],
            r"row 3, field effective_from: practice E84002 is already in a locality on 2006-01-01 \(row 2\)",
        ),
        (["E84002,5K5-KILBURN,01/04/2005,"], r"row 2, field effective_from: '01/04/2005' is not a date"),
    ],
    ids=["unknown practice", "unknown locality", "dates backwards", "overlap", "bad date"],
)
def test_broken_memberships_store_nothing(tmp_path, loaded_warehouse, rows, pattern):
    before = warehouse_state(loaded_warehouse)
    with pytest.raises(InputError, match=pattern):
        load_locality_memberships(loaded_warehouse, write_csv(tmp_path / "m.csv", HEADER, rows))
    assert warehouse_state(loaded_warehouse) == before
