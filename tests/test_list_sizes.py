"""The quinary list-size loader: good files, broken files, and reloading without double counting."""

from __future__ import annotations

import pyarrow.compute as pc
import pytest

from pbc.errors import InputError
from pbc.reference.list_sizes import AGE_BANDS
from pbc.reference.load import LISTS, load_list_sizes
from tests.helpers import warehouse_state, write_csv

HEADER = "PUBLICATION,EXTRACT_DATE,ORG_TYPE,ORG_CODE,ONS_CODE,POSTCODE,SEX,AGE_GROUP_5,NUMBER_OF_PATIENTS"


def quinary_rows(code: str, date: str = "01OCT2019", per_band: int = 10, with_totals: bool = True) -> list[str]:
    prefix = f"GP_REG,{date},GP,{code},E38000012,NW10 8RY"
    rows = [f"{prefix},{sex},{band},{per_band}" for sex in ("MALE", "FEMALE") for band in AGE_BANDS]
    if with_totals:
        band_total = per_band * len(AGE_BANDS)
        rows += [
            f"{prefix},MALE,ALL,{band_total}",
            f"{prefix},FEMALE,ALL,{band_total}",
            f"{prefix},ALL,ALL,{2 * band_total}",
        ]
    return rows


def test_good_file_keeps_detail_rows_only(tmp_path, loaded_warehouse):
    path = write_csv(tmp_path / "lists.csv", HEADER, quinary_rows("E84002") + quinary_rows("E84003", per_band=3))
    result = load_list_sizes(loaded_warehouse, path)
    assert result.rows["registered_lists"] == 2 * 2 * 20
    table = loaded_warehouse.read(LISTS, "registered_lists")
    assert set(table["sex"].to_pylist()) == {"M", "F"}
    assert pc.sum(table["patients"]).as_py() == 2 * 20 * 10 + 2 * 20 * 3
    assert str(table["extract_date"][0]) == "2019-10-01"


def test_same_extract_date_replaces_never_adds(tmp_path, loaded_warehouse):
    path = write_csv(tmp_path / "lists.csv", HEADER, quinary_rows("E84002"))
    load_list_sizes(loaded_warehouse, path)
    load_list_sizes(loaded_warehouse, path)
    later = write_csv(tmp_path / "later.csv", HEADER, quinary_rows("E84002", date="01JAN2020", per_band=11))
    load_list_sizes(loaded_warehouse, later)
    table = loaded_warehouse.read(LISTS, "registered_lists")
    by_date = table.group_by("extract_date").aggregate([("patients", "sum")]).to_pylist()
    assert {str(r["extract_date"]): r["patients_sum"] for r in by_date} == {
        "2019-10-01": 400,
        "2020-01-01": 440,
    }


def _refused(tmp_path, warehouse, rows: list[str], pattern: str, header: str = HEADER) -> None:
    before = warehouse_state(warehouse)
    path = write_csv(tmp_path / "lists.csv", header, rows)
    with pytest.raises(InputError, match=pattern):
        load_list_sizes(warehouse, path)
    assert warehouse_state(warehouse) == before


def test_unknown_practice_is_refused(tmp_path, loaded_warehouse):
    _refused(
        tmp_path,
        loaded_warehouse,
        quinary_rows("Z99999"),
        r"lists\.csv, row 2, field ORG_CODE: unknown practice 'Z99999'",
    )


def test_totals_that_do_not_add_up_are_refused(tmp_path, loaded_warehouse):
    rows = quinary_rows("E84002")
    rows[-1] = rows[-1].rsplit(",", 1)[0] + ",401"
    _refused(
        tmp_path,
        loaded_warehouse,
        rows,
        r"field NUMBER_OF_PATIENTS: total 401 for E84002 sex ALL does not equal the sum of its age bands \(400\)",
    )


def test_bad_date_missing_column_wrong_delimiter_negative_count(tmp_path, loaded_warehouse):
    rows = quinary_rows("E84002")
    rows[0] = rows[0].replace("01OCT2019", "2019-31-10")
    _refused(tmp_path, loaded_warehouse, rows, r"row 2, field extract_date: '2019-31-10' is not a date")
    _refused(
        tmp_path,
        loaded_warehouse,
        [r.rsplit(",", 1)[0] for r in quinary_rows("E84002")],
        r"row 1, field NUMBER_OF_PATIENTS: required column missing",
        header=HEADER.rsplit(",", 1)[0],
    )
    _refused(
        tmp_path,
        loaded_warehouse,
        [r.replace(",", "\t") for r in quinary_rows("E84002")],
        r"looks tab-delimited",
        header=HEADER.replace(",", "\t"),
    )
    rows = quinary_rows("E84002", with_totals=False)
    rows[3] = rows[3].rsplit(",", 1)[0] + ",-4"
    _refused(tmp_path, loaded_warehouse, rows, r"row 5, field patients: -4 is below the minimum of 0")


def test_duplicate_rows_are_refused(tmp_path, loaded_warehouse):
    rows = quinary_rows("E84002", with_totals=False)
    _refused(
        tmp_path,
        loaded_warehouse,
        [*rows, rows[0]],
        r"row 42, field extract_date, practice_code, sex, age_band: duplicate",
    )


def test_lists_need_the_reference_data_first(tmp_path, warehouse):
    path = write_csv(tmp_path / "lists.csv", HEADER, quinary_rows("E84002"))
    with pytest.raises(Exception, match=r"run `pbc reference load`"):
        load_list_sizes(warehouse, path)
