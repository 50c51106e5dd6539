"""`pbc ingest PATH...`: recognise each file, check it, pseudonymise it and store it once.

Activity files (APC, OP, A&E, GP referrals) are checked row by row against their contract: good rows are stored,
broken rows are quarantined with their row, field and reason. A file that is structurally wrong (not CSV, missing
columns, no rows, more than one provider, a name that disagrees with its content) is refused whole. A file
already loaded (same content) changes nothing. A different file for a provider-month already held is a
resubmission: it replaces the earlier one if it arrived before that month's freeze date, and otherwise only when
forced with a recorded reason. All activity accepted in one run becomes visible together.

Reference files met on the way (registrations, list sizes, locality memberships, disease registers, tariffs) go to
their own loaders.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from pbc.errors import InputError, PbcError
from pbc.ingest import reference_files
from pbc.ingest.checks import check
from pbc.ingest.contracts import Contract, load_contracts, recognise
from pbc.ingest.pseudonymise import Hasher, Pseudonymiser
from pbc.ingest.reference_files import REGISTRATIONS
from pbc.ingest.store import ActivityStore, Run, Submission, partition_key
from pbc.keys import load_key
from pbc.settings import Settings
from pbc.warehouse import Warehouse

_NAMED = re.compile(r"^(?P<dataset>[a-z]+)_(?P<code>[A-Z0-9]+)_(?P<month>\d{4}-\d{2})(?:_r\d+)?\.csv$")
Progress = Callable[[str], None]
BATCH_ROWS = 250_000  # activity rows checked and pseudonymised together
PARALLEL_BYTES = 300 * 2**20  # below this, starting worker processes costs more than it saves (measured)


@dataclass
class _Prepared:
    """An activity file read and structurally checked, waiting for its batch."""

    path: Path
    contract: Contract
    raw: pa.Table
    row_numbers: np.ndarray
    month: str | None
    submitter: str
    checksum: str


@dataclass
class FileResult:
    """What happened to one file."""

    path: str
    dataset: str | None
    outcome: str  # stored, replaced, already loaded, refused, skipped
    rows_in: int = 0
    stored: int = 0
    quarantined: int = 0
    message: str = ""


def sha256_of(path: Path) -> str:
    """The checksum that identifies a file's content."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def files_under(paths: list[Path]) -> list[tuple[Path, bool]]:
    """Every CSV file named or under a named folder, with whether it was named explicitly."""
    found: list[tuple[Path, bool]] = []
    for path in paths:
        if path.is_dir():
            found += [(p, False) for p in sorted(path.rglob("*.csv"))]
        elif path.exists():
            found.append((path, True))
        else:
            raise PbcError(f"{path}: no such file or folder")
    return found


def header_of(path: Path) -> list[str]:
    """A file's header row, refusing files that are not comma-separated text."""
    with path.open("rb") as handle:
        start = handle.read(65536)
    if b"\x00" in start:
        raise InputError.one(path.name, None, None, "is not a CSV text file (it contains binary data)")
    try:
        first = start.decode("utf-8-sig").splitlines()[0] if start.strip() else ""
    except UnicodeDecodeError:
        raise InputError.one(path.name, 1, None, "is not UTF-8 text") from None
    if not first:
        raise InputError.one(path.name, None, None, "is empty")
    if "," not in first:
        for delimiter, name in ((";", "semicolon"), ("\t", "tab"), ("|", "pipe")):
            if delimiter in first:
                raise InputError.one(path.name, 1, None, f"looks {name}-delimited; pbc expects comma-separated values")
    return next(csv.reader(io.StringIO(first)))


def freeze_date(month: str, settings: Settings) -> dt.date:
    """The SUS freeze date of an activity month: after it, a resubmission needs a recorded reason."""
    year, number = (int(x) for x in month.split("-"))
    total = year * 12 + number - 1 + settings.freeze_months_after
    return dt.date(total // 12, total % 12 + 1, settings.freeze_day)


def on_time(month: str) -> dt.date:
    """When a month's file would normally arrive: the 10th of the following month (SUS flex)."""
    year, number = (int(x) for x in month.split("-"))
    return dt.date(year + number // 12, number % 12 + 1, 10)


def read_extract(path: Path, contract: Contract, header: list[str]) -> tuple[pa.Table, np.ndarray]:
    """Read a data set's file as text columns in contract order, with each row's number (the header is row 1).

    Refuses, storing nothing, a file missing a required column or with rows of the wrong number of fields; optional
    columns that are absent come back empty. Ingest and `pbc cost` both read through here, so both refuse alike.
    """
    missing = [f.name for f in contract.fields if f.required and f.name not in header]
    if missing:
        raise InputError.one(path.name, 1, ", ".join(missing), "required column missing from the header")
    bad_rows: list[int] = []

    def skip(row: pacsv.InvalidRow) -> str:
        bad_rows.append(row.number if row.number is not None else -1)
        return "skip"

    present = [n for n in contract.names if n in header]
    table = pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(encoding="utf-8", use_threads=True),
        parse_options=pacsv.ParseOptions(invalid_row_handler=skip, newlines_in_values=False),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(header, pa.string()),
            include_columns=present,
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    if bad_rows:
        numbers = ", ".join(str(n) for n in sorted(bad_rows)[:10])
        raise InputError.one(
            path.name,
            None,
            None,
            f"{len(bad_rows)} row(s) have the wrong number of fields (rows {numbers}); "
            "the file is not a well-formed CSV",
        )
    for name in contract.names:
        if name not in present:
            table = table.append_column(name, pa.array([""] * table.num_rows, pa.string()))
    return table.select(list(contract.names)), np.arange(2, table.num_rows + 2, dtype=np.int64)


class Ingest:
    """One `pbc ingest` run."""

    def __init__(
        self,
        settings: Settings,
        warehouse: Warehouse,
        received: str = "today",
        force_reason: str | None = None,
        progress: Progress = lambda _: None,
    ) -> None:
        self.settings, self.warehouse, self.progress = settings, warehouse, progress
        self.received, self.force_reason = received, force_reason
        self.store = ActivityStore(warehouse)
        self._pseudonymiser: Pseudonymiser | None = None
        self._batched: dict[str, str] = {}  # checksums of files prepared in this run, not yet stored

    @property
    def pseudonymiser(self) -> Pseudonymiser:
        """Created on first use: it needs both keys."""
        if self._pseudonymiser is None:
            known: set[str] = set()
            for path in self.store.files("identities"):
                known.update(pq.read_table(path, columns=["PATIENT_ID"])["PATIENT_ID"].to_pylist())
            if self.warehouse.has(REGISTRATIONS):
                known.update(self.warehouse.read(REGISTRATIONS, "identities")["PATIENT_ID"].to_pylist())
            self._pseudonymiser = Pseudonymiser(
                load_key(self.settings, "pseudonymisation"), load_key(self.settings, "encryption"), known
            )
        return self._pseudonymiser

    def _received(self, month: str) -> dt.date:
        if self.received == "on-time":
            return on_time(month)
        if self.received == "today":
            return dt.date.today()
        return dt.date.fromisoformat(self.received)

    def run(self, paths: list[Path]) -> list[FileResult]:
        """Ingest every file; activity becomes visible at the end, all together.

        Activity files are prepared one by one (structure, provider, checksum) and then checked and pseudonymised in
        batches of a data set, which is much faster for many small monthly files; each file still becomes its own
        submission, decided in the order the files were given.
        """
        results: list[FileResult] = []
        batches: dict[str, list[_Prepared]] = {}
        run = self.store.begin()
        files = files_under(paths)
        size = sum(path.stat().st_size for path, _ in files)
        workers = _Workers(self, run, lambda done: report(done), parallel=size >= PARALLEL_BYTES)

        def report(done: list[FileResult]) -> None:
            for result in done:
                results.append(result)
                if result.outcome != "skipped":
                    extra = f"  {result.message}" if result.message else ""
                    self.progress(
                        f"{result.outcome:>14}  {result.path}  ({result.stored:,} stored, "
                        f"{result.quarantined:,} quarantined){extra}"
                    )

        try:
            for path, named in files:
                prepared = self._one(run, path, named)
                if isinstance(prepared, FileResult):
                    report([prepared])
                    continue
                batch = batches.setdefault(prepared.contract.dataset, [])
                batch.append(prepared)
                if sum(p.raw.num_rows for p in batch) >= BATCH_ROWS:
                    workers.submit(batches.pop(prepared.contract.dataset), full=True)
            for dataset in list(batches):
                workers.submit(batches.pop(dataset), full=False)
            workers.drain(0)
            run.commit()
        except BaseException:
            run.abort()
            raise
        finally:
            workers.close()
        return results

    def _one(self, run: Run, path: Path, named: bool) -> FileResult | _Prepared:
        try:
            header = header_of(path)
            contract = recognise(header, path.name)
            if contract is None:
                loader = reference_files.recognise(header)
                if loader is None:
                    if named:
                        raise InputError.one(
                            path.name,
                            1,
                            None,
                            "is not a data set pbc recognises from its header "
                            "(see docs/ingest.md for the data sets and their columns)",
                        )
                    return FileResult(str(path), None, "skipped", message="not a data set pbc ingests")
                stored = loader.load(self, path)
                return FileResult(str(path), loader.name, "stored", stored, stored)
            if contract.dataset == "registrations":
                stored, quarantined = reference_files.load_registrations(self, path, contract)
                return FileResult(str(path), "registrations", "stored", stored + quarantined, stored, quarantined)
            return self._prepare(run, path, contract, header)
        except InputError as error:
            return self._refused(run, path, error)

    def _refused(self, run: Run, path: Path, error: InputError) -> FileResult:
        run.note({"outcome": "refused", "source": str(path), "reason": str(error)})
        return FileResult(str(path), None, "refused", message=str(error))

    def _prepare(self, run: Run, path: Path, contract: Contract, header: list[str]) -> FileResult | _Prepared:
        """Everything about a file that can be known alone: its content checksum, structure and provider."""
        checksum = sha256_of(path)
        loaded = run.loaded_checksum(checksum) or self._batched.get(checksum)
        if loaded is not None:
            run.note({"outcome": "already loaded", "source": str(path), "sha256": checksum, "partition": loaded})
            return FileResult(str(path), contract.dataset, "already loaded", message=f"same content as {loaded}")
        raw, row_numbers = read_extract(path, contract, header)
        if raw.num_rows == 0:
            raise InputError.one(path.name, None, None, "has no rows")
        name = _NAMED.match(path.name)
        submitter = self._submitter(path, contract, raw, name)
        self._batched[checksum] = str(path)
        return _Prepared(path, contract, raw, row_numbers, name["month"] if name else None, submitter, checksum)

    def _store_batch(self, run: Run, batch: list[_Prepared], checked: _BatchChecked) -> list[FileResult]:
        """Store each file of a checked batch as its own submission, in order, and the new patients' identities."""
        good, quarantine = checked.good, checked.quarantine
        identities = self.pseudonymiser.encryptor.identities(checked.fresh)
        good_source = good["_SOURCE"].to_numpy()
        bad_source = quarantine["_SOURCE"].to_numpy() if quarantine.num_rows else np.zeros(0, dtype=np.int64)
        results: list[FileResult] = []
        stored: list[pa.ChunkedArray] = []
        for index, prepared in enumerate(batch):
            lo, hi = np.searchsorted(good_source, [index, index + 1])
            mine = good.slice(lo, hi - lo).drop_columns(["_SOURCE"])
            rejected = (
                quarantine.filter(pa.array(bad_source == index)).drop_columns(["_SOURCE", "_POSITION"])
                if quarantine.num_rows
                else quarantine
            )
            try:
                results.append(self._store(run, prepared, mine, rejected))
                stored.append(mine["PATIENT_ID"])
            except InputError as error:
                results.append(self._refused(run, prepared.path, error))
        # keep the identities of patients whose rows were stored; a refused file stores nothing, not even those
        patients = pa.chunked_array([c for column in stored for c in column.chunks], pa.string())
        kept = pc.is_in(
            identities["PATIENT_ID"], value_set=pc.unique(patients) if len(patients) else pa.array([], pa.string())
        )
        run.add_identities(identities.filter(kept))
        self.pseudonymiser.forget(set(identities.filter(pc.invert(kept))["PATIENT_ID"].to_pylist()))
        return results

    def _store(self, run: Run, prepared: _Prepared, good: pa.Table, quarantine: pa.Table) -> FileResult:
        contract, path = prepared.contract, prepared.path
        month = prepared.month or (_mode_month(good[contract.period]) if good.num_rows else None)
        if month is None:
            raise InputError.one(path.name, None, None, "no row could be read, so its month is unknown")
        good = good.append_column("OUTSIDE_PERIOD", pc.not_equal(pc.strftime(good[contract.period], "%Y-%m"), month))
        received = self._received(month)
        forced = self._resubmission_allowed(run, contract.dataset, prepared.submitter, month, received, path)
        quarantined = len(set(quarantine["ROW_NUMBER"].to_pylist()))  # a row may break several fields
        submission = Submission(
            contract.dataset,
            prepared.submitter,
            month,
            str(path),
            prepared.checksum,
            prepared.raw.num_rows,
            good.num_rows,
            quarantined,
            received.isoformat(),
            forced,
        )
        good = good.append_column("SUBMISSION", pa.array([submission.id] * good.num_rows, pa.string()))
        previous = run.current(submission.key)
        run.add(submission, good, quarantine)
        return FileResult(
            str(path),
            contract.dataset,
            "replaced" if previous else "stored",
            prepared.raw.num_rows,
            good.num_rows,
            submission.quarantined,
            f"replaces the submission from {previous['source']}" if previous else "",
        )

    def _submitter(self, path: Path, contract: Contract, raw: pa.Table, name: re.Match[str] | None) -> str:
        if contract.submitter is None:
            return name["code"] if name else "ALL"
        codes = sorted(c for c in pc.unique(pc.utf8_trim_whitespace(raw[contract.submitter])).to_pylist() if c)
        if len(codes) != 1:
            shown = ", ".join(codes[:5]) or "none"
            raise InputError.one(
                path.name,
                None,
                contract.submitter,
                f"holds rows from {len(codes)} providers ({shown}): send one file per provider",
            )
        if name and name["code"] != codes[0]:
            raise InputError.one(
                path.name,
                None,
                contract.submitter,
                f"the file is named for {name['code']} but its rows are from {codes[0]}",
            )
        if name and name["dataset"] != contract.dataset:
            raise InputError.one(
                path.name,
                1,
                None,
                f"the file is named as {name['dataset']} but its columns are those of {contract.dataset}",
            )
        return codes[0]

    def _resubmission_allowed(
        self, run: Run, dataset: str, submitter: str, month: str, received: dt.date, path: Path
    ) -> str | None:
        """None for a first submission or one before the freeze; the recorded reason for a forced late one."""
        previous = run.current(partition_key(dataset, submitter, month))
        if previous is None:
            return None
        frozen = freeze_date(month, self.settings)
        if received <= frozen:
            return None
        if self.force_reason:
            return self.force_reason
        raise InputError.one(
            path.name,
            None,
            None,
            f"resubmits {dataset} {submitter} {month}, first loaded from {previous['source']}, but "
            f"arrived {received} after the freeze date {frozen}: to replace it anyway, run again "
            'with --force --reason "why"',
        )


@dataclass
class _BatchChecked:
    """A batch after checking and hashing: stored rows (pseudonymised), quarantine, first-met numbers."""

    good: pa.Table
    quarantine: pa.Table
    fresh: list[tuple[str, str]]


def check_batch(dataset: str, raws: list[pa.Table], row_numbers: list[np.ndarray], hasher: Hasher) -> _BatchChecked:
    """Check and pseudonymise a batch of one data set's files: the work a worker process does."""
    contract = load_contracts()[dataset]
    raw = pa.concat_tables(raws)
    source = np.repeat(np.arange(len(raws)), [r.num_rows for r in raws])
    checked = check(contract, raw, np.concatenate(row_numbers), source)
    nhs = checked.good[contract.nhs_number]
    patients, fresh = hasher.hash_column(pc.if_else(pc.equal(nhs, ""), pa.scalar(None, pa.string()), nhs))
    good = checked.good.drop_columns([contract.nhs_number]).append_column("PATIENT_ID", patients)
    problems = checked.problems
    if problems.num_rows:
        values = raw.take(problems["_POSITION"])
        number = pc.utf8_trim_whitespace(values[contract.nhs_number])
        hashed = hasher.hash_only(pc.if_else(pc.equal(number, ""), pa.scalar(None, pa.string()), number))
        quarantine = values.drop_columns([contract.nhs_number]).append_column("PATIENT_ID", hashed)
        for column in problems.column_names:
            quarantine = quarantine.append_column(column, problems[column])
    else:
        quarantine = problems
    return _BatchChecked(good, quarantine, fresh)


_WORKER_HASHER: Hasher | None = None


def _start_worker(key: bytes) -> None:
    global _WORKER_HASHER  # one hasher (and its cache) per worker process
    _WORKER_HASHER = Hasher(key)


def _check_in_worker(dataset: str, raws: list[pa.Table], row_numbers: list[np.ndarray]) -> _BatchChecked:
    assert _WORKER_HASHER is not None
    return check_batch(dataset, raws, row_numbers, _WORKER_HASHER)


class _Workers:
    """Checks batches in worker processes when a run is big, storing results in submission order.

    Only checking and hashing run in the workers; the decisions, the files and the catalog stay in this process, so
    a run behaves the same with one worker or several. Each worker hashes the patients it meets afresh and starting
    one takes seconds, so runs under PARALLEL_BYTES of files stay in this process (Brent's three years, 150 MB:
    157,000 rows/s alone against 131,000 with two workers; London's year, 1.3 GB: the other way round).
    """

    def __init__(self, ingest: Ingest, run: Run, report: Callable[[list[FileResult]], None], parallel: bool) -> None:
        self.ingest, self.run, self.report = ingest, run, report
        self.count = ingest.settings.ingest_workers if parallel else 1
        self.pool: ProcessPoolExecutor | None = None
        self.inflight: deque[tuple[list[_Prepared], Future[_BatchChecked]]] = deque()

    def submit(self, batch: list[_Prepared], full: bool) -> None:
        dataset = batch[0].contract.dataset
        raws, numbers = [p.raw for p in batch], [p.row_numbers for p in batch]
        if self.pool is None and full and self.count > 1:
            key = load_key(self.ingest.settings, "pseudonymisation")
            self.pool = ProcessPoolExecutor(
                self.count, mp_context=get_context("spawn"), initializer=_start_worker, initargs=(key,)
            )
        if self.pool is None:
            checked = check_batch(dataset, raws, numbers, self.ingest.pseudonymiser.hasher)
            self.report(self.ingest._store_batch(self.run, batch, checked))
            return
        self.inflight.append((batch, self.pool.submit(_check_in_worker, dataset, raws, numbers)))
        self.drain(self.count)

    def drain(self, keep: int) -> None:
        """Store finished batches, oldest first, until at most `keep` are still being checked."""
        while len(self.inflight) > keep:
            batch, future = self.inflight.popleft()
            self.report(self.ingest._store_batch(self.run, batch, future.result()))

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)


def _mode_month(dates: pa.ChunkedArray) -> str:
    counts = pc.value_counts(pc.strftime(dates, "%Y-%m")).to_pylist()
    return max(counts, key=lambda c: (c["counts"], c["values"]))["values"]
