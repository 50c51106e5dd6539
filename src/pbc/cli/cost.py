"""`pbc cost EXTRACT --out FILE`: price a provider's extract line by line at the tariff, without storing it.

A commissioner often wants to see what a file is worth before (or instead of) loading it: to check a month's
invoice, or to try a what-if. The file is read and typed with the same contract checks as `pbc ingest`, so a row
that breaks the contract is reported with its row, field and reason and is not priced; every other row is
priced with its breakdown (docs/costing.md). The breakdown file never holds NHS numbers: the column is dropped,
because the output is meant to be shared and nothing here needs the patient.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import ibis
import pyarrow as pa
import pyarrow.compute as pc

from pbc.cli.output import check_output, json_option, pounds, print_json, print_table, say, write_table
from pbc.engines import connect
from pbc.errors import InputError, NotLoadedError, PbcError
from pbc.ingest.checks import check
from pbc.ingest.contracts import recognise
from pbc.ingest.load import header_of, read_extract
from pbc.settings import load_settings
from pbc.tariff.model import NO_TARIFF, has_tariff
from pbc.tariff.pricing import DATASETS, price
from pbc.warehouse import Warehouse

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

SHOWN_PROBLEMS = 20


@dataclass
class Costed:
    """An extract priced: its lines with their breakdown, and the rows refused by the contract checks."""

    path: Path
    dataset: str
    rows_in: int
    lines: pa.Table
    problems: pa.Table  # ROW_NUMBER, FIELD, REASON
    rejected: int

    def totals(self) -> dict[str, Any]:
        """Counts and money (integer pence) for the summary."""
        claimed = pc.sum(self.lines["CLAIMED_PRICE_PENCE"]).as_py() or 0
        recomputed = pc.sum(self.lines["PRICE_PENCE"]).as_py() or 0
        priced = pc.sum(self.lines["PRICED"]).as_py() or 0
        differ = pc.sum(pc.not_equal(self.lines["CLAIMED_PRICE_PENCE"], self.lines["PRICE_PENCE"])).as_py() or 0
        return {
            "file": str(self.path),
            "dataset": self.dataset,
            "rows_in": self.rows_in,
            "rejected": self.rejected,
            "lines": self.lines.num_rows,
            "priced": priced,
            "unpriced": self.lines.num_rows - priced,
            "differing_lines": differ,
            "claimed_pence": claimed,
            "recomputed_pence": recomputed,
            "difference_pence": claimed - recomputed,
            "tariff_years": sorted(y for y in pc.unique(self.lines["TARIFF_YEAR"]).to_pylist() if y),
        }


def _public(table: pa.Table) -> pa.Table:
    """Drop ingest's working columns (named with a leading underscore)."""
    return table.drop_columns([c for c in table.column_names if c.startswith("_")])


def cost_extract(con: BaseBackend, warehouse: Warehouse, path: Path) -> Costed:
    """Read, check and price one APC, OP or A&E extract file; nothing is stored."""
    if not has_tariff(warehouse):
        raise NotLoadedError(NO_TARIFF)
    header = header_of(path)
    contract = recognise(header, path.name)
    if contract is None or contract.dataset not in DATASETS:
        raise InputError.one(
            path.name, 1, None, "is not an APC, OP or A&E extract (see docs/ingest.md for their columns)"
        )
    raw, row_numbers = read_extract(path, contract, header)  # the ingest reader: the same structural refusals
    if raw.num_rows == 0:
        raise InputError.one(path.name, None, None, "has no rows")
    checked = check(contract, raw, row_numbers)
    good = _public(checked.good).drop_columns([contract.nhs_number])
    priced = price(con, warehouse, contract.dataset, ibis.memtable(good)).order_by("ROW_NUMBER").to_pyarrow()
    problems = _public(checked.problems).sort_by([("ROW_NUMBER", "ascending")])
    return Costed(path, contract.dataset, raw.num_rows, priced, problems, checked.failed_rows)


@click.command("cost")
@click.argument("extract", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where to write every line with its price breakdown: .csv or .parquet.",
)
@json_option
def cost(extract: Path, out: Path, as_json: bool) -> None:
    """Price a provider's APC, OP or A&E extract at the tariff in the warehouse, without storing it.

    Rows that break the data set's contract are reported, not priced. The breakdown file has no NHS numbers.
    Totals compare what the provider claimed with pbc's price.
    """
    check_output(out)
    if out.exists() and out.resolve() == extract.resolve():
        raise PbcError(f"--out {out} is the extract itself: write the breakdown to another file")
    settings = load_settings()
    costed = cost_extract(connect(settings), Warehouse(settings.warehouse_dir), extract)
    write_table(costed.lines, out)
    totals = {**costed.totals(), "out": str(out)}
    problems = costed.problems.to_pylist()
    if as_json:
        shown = [{"row": p["ROW_NUMBER"], "field": p["FIELD"], "reason": p["REASON"]} for p in problems]
        print_json({**totals, "problems": shown})
        return
    years = ", ".join(totals["tariff_years"])
    tariff = f" at the {years} tariff" if years else ""
    say(f"{extract.name}: {totals['lines']:,} {costed.dataset} line(s){tariff}, written to {out}")
    say(
        f"  priced {totals['priced']:,}, unpriced {totals['unpriced']:,}, "
        f"rejected {totals['rejected']:,} (rows that break the contract, not priced)"
    )
    say(
        f"  claimed {pounds(totals['claimed_pence'])}, recomputed {pounds(totals['recomputed_pence'])}, "
        f"difference {pounds(totals['difference_pence'])} (claimed minus recomputed); "
        f"{totals['differing_lines']:,} line(s) differ"
    )
    if totals["unpriced"]:
        unpriced = costed.lines.filter(pc.invert(costed.lines["PRICED"]))
        counts = unpriced.group_by("PRICE_RULE").aggregate([("PRICE_RULE", "count")]).to_pylist()
        print_table([{"rule": c["PRICE_RULE"], "lines": c["PRICE_RULE_count"]} for c in counts], title="unpriced")
    if problems:
        rows = [{"row": p["ROW_NUMBER"], "field": p["FIELD"], "reason": p["REASON"]} for p in problems]
        more = f" (first {SHOWN_PROBLEMS} of {len(rows)})" if len(rows) > SHOWN_PROBLEMS else ""
        print_table(rows[:SHOWN_PROBLEMS], title=f"rows not priced{more}")
