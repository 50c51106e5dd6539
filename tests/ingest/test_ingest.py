"""Ingest: once only, resubmissions, killed loads, broken files, and the privacy of NHS numbers."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pbc.ingest.store import ActivityStore
from pbc.warehouse import Warehouse


def _state(home) -> dict[str, str]:
    """The stored activity as readers see it: the catalog and every file it references."""
    store = ActivityStore(Warehouse(home.warehouse_dir))
    files = {"catalog": json.dumps(store.catalog()["partitions"], sort_keys=True)}
    for kind in ("rows", "quarantine", "identities"):
        for path in store.files(kind):
            files[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return files


def _one(folder: Path, dataset: str, index: int = 0) -> Path:
    return sorted((folder / "extracts" / dataset).glob("*.csv"))[index]


def test_a_file_is_stored_with_every_row_accounted_for(small_brent, ingest, home):
    path = _one(small_brent, "apc")
    [result] = ingest(path)
    rows = sum(1 for _ in path.open()) - 1
    assert (result.outcome, result.rows_in, result.stored + result.quarantined) == ("stored", rows, rows)
    stored = pq.read_table(ActivityStore(Warehouse(home.warehouse_dir)).files("rows", "apc")[0])
    assert "NEWNHSNO" not in stored.column_names
    assert stored.num_rows == result.stored
    assert set(stored["ROW_NUMBER"].to_pylist()) == set(range(2, rows + 2))


def test_the_same_file_twice_changes_nothing(small_brent, ingest, home):
    path = _one(small_brent, "op")
    ingest(path)
    before = _state(home)
    [again] = ingest(path)
    assert again.outcome == "already loaded"
    assert _state(home) == before
    log = ActivityStore(Warehouse(home.warehouse_dir)).log()
    assert [e["outcome"] for e in log] == ["stored", "already loaded"]


def test_a_resubmission_replaces_exactly_its_provider_month(small_brent, ingest, home):
    first = sorted((small_brent / "extracts" / "resubmissions").glob("*_r2.csv"))[0]
    dataset, procode, month = first.stem.split("_")[:3]
    original = small_brent / "extracts" / dataset / f"{dataset}_{procode}_{month}.csv"
    neighbour = next(p for p in sorted((small_brent / "extracts" / dataset).glob("*.csv")) if p != original)
    ingest(original, neighbour)
    store = ActivityStore(Warehouse(home.warehouse_dir))
    before = {k: v["submission"] for k, v in store.catalog()["partitions"].items()}
    [result] = ingest(first)
    assert result.outcome == "replaced"
    after = {k: v["submission"] for k, v in store.catalog()["partitions"].items()}
    changed = [k for k in after if after[k] != before[k]]
    assert changed == [f"{dataset}|{procode}|{month}"]
    rows = sum(1 for _ in first.open()) - 1
    assert store.catalog()["partitions"][changed[0]]["rows_in"] == rows
    assert len(store.files("rows", dataset)) == 2


def test_a_resubmission_after_the_freeze_needs_a_recorded_reason(small_brent, ingest, home):
    r2 = sorted((small_brent / "extracts" / "resubmissions").glob("*_r2.csv"))[0]
    dataset, procode, month = r2.stem.split("_")[:3]
    original = small_brent / "extracts" / dataset / f"{dataset}_{procode}_{month}.csv"
    ingest(original)
    before = _state(home)
    [refused] = ingest(r2, received="2026-01-01")
    assert refused.outcome == "refused"
    assert "after the freeze date" in refused.message
    assert "--force --reason" in refused.message
    assert _state(home) == before
    [forced] = ingest(r2, received="2026-01-01", force_reason="corrected HRG grouping agreed at the SLA meeting")
    assert forced.outcome == "replaced"
    entry = ActivityStore(Warehouse(home.warehouse_dir)).log()[-1]
    assert entry["forced_reason"] == "corrected HRG grouping agreed at the SLA meeting"


def test_a_killed_load_leaves_the_warehouse_as_it_was(small_brent, ingest, home, monkeypatch):
    ingest(_one(small_brent, "ae", 0))
    before = _state(home)
    from pbc.ingest.store import Run

    real_add = Run.add
    calls = []

    def killed(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:  # killed half way through storing the batch
            raise KeyboardInterrupt("killed")
        return real_add(self, *args, **kwargs)

    monkeypatch.setattr(Run, "add", killed)
    with pytest.raises(KeyboardInterrupt):
        ingest(*sorted((small_brent / "extracts" / "ae").glob("*.csv"))[1:6])
    assert len(calls) == 3
    assert _state(home) == before
    monkeypatch.setattr(Run, "add", real_add)
    results = ingest(*sorted((small_brent / "extracts" / "ae").glob("*.csv"))[1:6])
    assert {r.outcome for r in results} == {"stored"}


def _write_broken(tmp_path: Path, source: Path, change) -> Path:
    lines = source.read_text().splitlines()
    target = tmp_path / source.name
    target.write_text("\n".join(change(lines)) + "\n")
    return target


def _drop_column(lines, name):
    header = next(csv.reader([lines[0]]))
    at = header.index(f"{name}")
    out = []
    for line in lines:
        cells = next(csv.reader([line]))
        del cells[at]
        out.append(",".join(f'"{c}"' for c in cells))
    return out


def _save(path: Path, content: str | bytes) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


BROKEN = [
    ("binary", lambda p, t: _save(t / "apc_RV8_2007-04.csv", b"PK\x03\x04\x00\x00binary"), "is not a CSV text file"),
    (
        "semicolons",
        lambda p, t: _write_broken(t, p, lambda ls: [x.replace(",", ";") for x in ls]),
        "semicolon-delimited",
    ),
    (
        "missing column",
        lambda p, t: _write_broken(t, p, lambda ls: _drop_column(ls, "ADMIDATE")),
        "ADMIDATE: required column missing",
    ),
    ("no rows", lambda p, t: _write_broken(t, p, lambda ls: ls[:1]), "has no rows"),
    (
        "mixed providers",
        lambda p, t: _write_broken(t, p, lambda ls: [ls[0], ls[1], ls[2].replace('"RV8"', '"RAL"', 1)]),
        "holds rows from 2 providers",
    ),
    (
        "wrong name",
        lambda p, t: _save(t / "apc_RAL_2007-04.csv", p.read_text()),
        "named for RAL but its rows are from RV8",
    ),
    (
        "ragged rows",
        lambda p, t: _write_broken(t, p, lambda ls: [ls[0], ls[1] + ',"extra"', *ls[2:]]),
        "wrong number of fields",
    ),
    ("unknown data set", lambda p, t: _save(t / "x.csv", "a,b\n1,2\n"), "is not a data set pbc recognises"),
]


@pytest.mark.parametrize(("kind", "make", "message"), BROKEN, ids=[b[0] for b in BROKEN])
def test_a_broken_file_is_refused_and_stores_nothing(small_brent, ingest, home, tmp_path, kind, make, message):
    source = next(p for p in sorted((small_brent / "extracts" / "apc").glob("apc_RV8_2007-04.csv")))
    ingest(_one(small_brent, "op"))
    before = _state(home)
    broken = make(source, tmp_path)
    [result] = ingest(broken)
    assert result.outcome == "refused"
    assert message in result.message
    assert _state(home) == before
    assert ActivityStore(Warehouse(home.warehouse_dir)).log()[-1]["outcome"] == "refused"


def _largest(folder: Path, dataset: str) -> Path:
    return max(sorted((folder / "extracts" / dataset).glob("*.csv")), key=lambda p: p.stat().st_size)


def _rewrite(source: Path, target: Path, changes: dict[int, dict[str, str]]) -> Path:
    """Copy a CSV, changing fields of some data rows (by spreadsheet row number, 2 = first data row)."""
    with source.open(newline="") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    for number, fields in changes.items():
        for name, value in fields.items():
            rows[number - 1][header.index(name)] = value
    with target.open("w", newline="") as handle:
        csv.writer(handle, quoting=csv.QUOTE_ALL).writerows(rows)
    return target


def test_bad_rows_are_quarantined_with_row_field_and_reason(small_brent, ingest, home, tmp_path):
    source = _largest(small_brent, "apc")
    target = _rewrite(source, tmp_path / source.name, {4: {"ADMIMETH": "ZZ"}, 6: {"DISDATE": "2007-02-30"}})
    [result] = ingest(target)
    assert result.quarantined == 2
    quarantine = pq.read_table(ActivityStore(Warehouse(home.warehouse_dir)).files("quarantine")[0]).to_pylist()
    assert {q["ROW_NUMBER"] for q in quarantine} == {4, 6}
    assert any(q["FIELD"] == "DISDATE" and "'2007-02-30' is not a date" in q["REASON"] for q in quarantine)
    assert any(q["FIELD"] == "ADMIMETH" and "'ZZ' is not one of the allowed codes" in q["REASON"] for q in quarantine)
    assert all("NEWNHSNO" not in q and q["PATIENT_ID"] for q in quarantine)


def test_no_raw_nhs_number_anywhere_under_pbc_home(small_brent, ingest, home):
    ingest(small_brent)
    numbers = set()
    for path in (small_brent / "extracts").rglob("*.csv"):
        with path.open() as handle:
            numbers.update(row["NEWNHSNO"] for row in csv.DictReader(handle) if row.get("NEWNHSNO"))
    with (small_brent / "reference" / "registrations.csv").open() as handle:
        numbers.update(row["NHS_NUMBER"] for row in csv.DictReader(handle))
    assert len(numbers) > 1000
    encoded = [n.encode() for n in numbers]
    checked = 0
    for path in home.home.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        assert not any(n in data for n in encoded[:5000]), path
        if path.suffix == ".parquet":
            table = pq.read_table(path)
            for column in table.column_names:
                if str(table.schema.field(column).type) in ("string", "large_string"):
                    assert not numbers & set(table[column].to_pylist()), (path, column)
            checked += 1
    assert checked > 10


def test_identities_decrypt_to_the_patients_number(small_brent, ingest, home):
    from pbc.ingest.pseudonymise import decrypt
    from pbc.keys import load_key

    ingest(small_brent / "reference" / "registrations.csv")
    warehouse = Warehouse(home.warehouse_dir)
    identities = warehouse.read("registrations", "identities").slice(0, 50).to_pylist()
    with (small_brent / "reference" / "registrations.csv").open() as handle:
        numbers = {row["NHS_NUMBER"] for row in csv.DictReader(handle)}
    key = load_key(home, "encryption")
    assert all(decrypt(key, i["PATIENT_ID"], i["NONCE"], i["CIPHERTEXT"]) in numbers for i in identities)
    moved = identities[0]
    with pytest.raises(Exception):  # noqa: B017, PT011 - any authentication failure will do
        decrypt(key, identities[1]["PATIENT_ID"], moved["NONCE"], moved["CIPHERTEXT"])


def test_a_folder_skips_files_that_are_not_data_sets(small_brent, ingest, tmp_path):
    folder = tmp_path / "drop"
    folder.mkdir()
    shutil.copy(_one(small_brent, "referrals"), folder)
    (folder / "notes.csv").write_text("note,author\nhello,me\n")
    results = {Path(r.path).name: r.outcome for r in ingest(folder)}
    assert results == {_one(small_brent, "referrals").name: "stored", "notes.csv": "skipped"}


def test_worker_processes_store_exactly_what_one_process_does(small_brent, reference_warehouse, tmp_path, monkeypatch):
    import pbc.ingest.load as load_module
    from pbc.ingest.load import Ingest
    from pbc.keys import ensure_keys
    from pbc.settings import Settings

    monkeypatch.setattr(load_module, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(load_module, "BATCH_ROWS", 2_000)
    pools = []

    class CountedPool(load_module.ProcessPoolExecutor):
        def __init__(self, *args, **kwargs):
            pools.append(args)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(load_module, "ProcessPoolExecutor", CountedPool)
    keys = tmp_path / "keys"
    outcomes = {}
    for workers in (1, 2):
        settings = Settings(
            home=tmp_path / f"w{workers}",
            ingest_workers=workers,
            pseudonymisation_key_file=keys / "p.key",
            encryption_key_file=keys / "e.key",
        )
        shutil.copytree(reference_warehouse.root, settings.warehouse_dir)
        ensure_keys(settings)
        results = Ingest(settings, Warehouse(settings.warehouse_dir), "on-time").run([small_brent / "extracts" / "op"])
        store = ActivityStore(Warehouse(settings.warehouse_dir))
        rows = sorted(
            tuple(r.values())
            for path in store.files("rows")
            for r in pq.read_table(path).drop_columns(["SUBMISSION"]).to_pylist()
        )
        identities = sorted(
            i for path in store.files("identities") for i in pq.read_table(path)["PATIENT_ID"].to_pylist()
        )
        outcomes[workers] = ([(Path(r.path).name, r.outcome, r.stored) for r in results], rows, identities)
    assert len(pools) == 1  # only the two-worker run started a pool
    assert outcomes[1] == outcomes[2]
    assert len(outcomes[2][2]) == len(set(outcomes[2][2]))  # one identity per patient, whoever hashed it


def test_reloading_a_tariff_year_or_register_date_replaces_it(small_brent, ingest, home, tmp_path):
    warehouse = Warehouse(home.warehouse_dir)
    tariff = small_brent / "tariff"
    registers = sorted((small_brent / "reference" / "registers").glob("*.csv"))
    ingest(tariff, *registers)
    counts = {name: warehouse.read("tariff", name).num_rows for name in ("apc", "op", "mff", "rules")}
    held = warehouse.read("registers", "register_counts").num_rows
    changed = tmp_path / "tariff_copy" / "2007_08"
    shutil.copytree(tariff / "2007_08", changed)
    (changed / "rules.csv").write_text((changed / "rules.csv").read_text() + "\n")  # same rules, other bytes
    ingest(changed, *registers)
    assert {name: warehouse.read("tariff", name).num_rows for name in counts} == counts
    assert warehouse.read("registers", "register_counts").num_rows == held
