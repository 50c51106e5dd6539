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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from pbc.errors import InputError, PbcError
from pbc.ingest import reference_files
from pbc.ingest.checks import check
from pbc.ingest.contracts import Contract, recognise
from pbc.ingest.pseudonymise import Pseudonymiser
from pbc.ingest.reference_files import REGISTRATIONS
from pbc.ingest.store import ActivityStore, Run, Submission, partition_key
from pbc.keys import load_key
from pbc.settings import Settings
from pbc.warehouse import Warehouse

_NAMED = re.compile(r"^(?P<dataset>[a-z]+)_(?P<code>[A-Z0-9]+)_(?P<month>\d{4}-\d{2})(?:_r\d+)?\.csv$")
Progress = Callable[[str], None]


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


def _read(path: Path, contract: Contract, header: list[str]) -> tuple[pa.Table, np.ndarray]:
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
        """Ingest every file; activity becomes visible at the end, all together."""
        results: list[FileResult] = []
        run = self.store.begin()
        try:
            for path, named in files_under(paths):
                result = self._one(run, path, named)
                results.append(result)
                if result.outcome != "skipped":
                    self.progress(
                        f"{result.outcome:>14}  {path}  ({result.stored:,} stored, "
                        f"{result.quarantined:,} quarantined){'  ' + result.message if result.message else ''}"
                    )
            run.commit()
        except BaseException:
            run.abort()
            raise
        return results

    def _one(self, run: Run, path: Path, named: bool) -> FileResult:
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
            return self._activity(run, path, contract, header)
        except InputError as error:
            run.note({"outcome": "refused", "source": str(path), "reason": str(error)})
            return FileResult(str(path), None, "refused", message=str(error))

    def _activity(self, run: Run, path: Path, contract: Contract, header: list[str]) -> FileResult:
        checksum = sha256_of(path)
        loaded = run.loaded_checksum(checksum)
        if loaded is not None:
            run.note({"outcome": "already loaded", "source": str(path), "sha256": checksum, "partition": loaded})
            return FileResult(str(path), contract.dataset, "already loaded", message=f"same content as {loaded}")
        raw, row_numbers = _read(path, contract, header)
        if raw.num_rows == 0:
            raise InputError.one(path.name, None, None, "has no rows")
        name = _NAMED.match(path.name)
        submitter = self._submitter(path, contract, raw, name)
        checked = check(contract, raw, row_numbers)
        good = checked.good
        month = name["month"] if name else _mode_month(good[contract.period]) if good.num_rows else None
        if month is None:
            raise InputError.one(path.name, None, None, "no row could be read, so its month is unknown")
        good = good.append_column("OUTSIDE_PERIOD", pc.not_equal(pc.strftime(good[contract.period], "%Y-%m"), month))
        received = self._received(month)
        forced = self._resubmission_allowed(run, contract.dataset, submitter, month, received, path)
        patients, identities = self.pseudonymiser.pseudonymise(
            pc.if_else(pc.equal(good[contract.nhs_number], ""), pa.scalar(None, pa.string()), good[contract.nhs_number])
        )
        good = good.drop_columns([contract.nhs_number]).append_column("PATIENT_ID", patients)
        quarantine = self._quarantine(contract, raw, row_numbers, checked.problems)
        submission = Submission(
            contract.dataset,
            submitter,
            month,
            str(path),
            checksum,
            raw.num_rows,
            good.num_rows,
            checked.failed_rows,
            received.isoformat(),
            forced,
        )
        good = good.append_column("SUBMISSION", pa.array([submission.id] * good.num_rows, pa.string()))
        previous = run.current(submission.key)
        run.add(submission, good, quarantine, identities)
        return FileResult(
            str(path),
            contract.dataset,
            "replaced" if previous else "stored",
            raw.num_rows,
            good.num_rows,
            checked.failed_rows,
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

    def _quarantine(self, contract: Contract, raw: pa.Table, row_numbers: np.ndarray, problems: pa.Table) -> pa.Table:
        """Problems with the failed rows' values, the NHS number replaced by its pseudonym."""
        if problems.num_rows == 0:
            return problems
        index = pc.index_in(problems["ROW_NUMBER"], value_set=pa.array(row_numbers))
        values = raw.take(index)
        nhs = pc.utf8_trim_whitespace(values[contract.nhs_number])
        patients = self.pseudonymiser.hash_only(pc.if_else(pc.equal(nhs, ""), pa.scalar(None, pa.string()), nhs))
        values = values.drop_columns([contract.nhs_number]).append_column("PATIENT_ID", patients)
        for column in problems.column_names:
            values = values.append_column(column, problems[column])
        return values


def _mode_month(dates: pa.ChunkedArray) -> str:
    counts = pc.value_counts(pc.strftime(dates, "%Y-%m")).to_pylist()
    return max(counts, key=lambda c: (c["counts"], c["values"]))["values"]
