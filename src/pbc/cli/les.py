"""`pbc les`: incentive schemes (Local Enhanced Services): cost a scheme, keep its registers, and say what is owed."""

from __future__ import annotations

from pathlib import Path

import click
import pyarrow as pa

from pbc.cli.output import check_output, json_option, pounds, print_json, print_table, say, write_table
from pbc.engines import connect
from pbc.incentives.estimate import estimate
from pbc.incentives.facts import gather_facts
from pbc.incentives.payments import Payment, payments
from pbc.incentives.registers import REGISTERS, load_register
from pbc.incentives.scheme import find_scheme, read_incentive_scheme, shipped_schemes
from pbc.settings import load_settings
from pbc.warehouse import Warehouse

SCHEME_HELP = f"A shipped scheme ({', '.join(shipped_schemes())}) or a scheme file."


@click.group()
def les() -> None:
    """Incentive schemes: cost them, record sign-ups, reports and levels, and work out payments."""


@les.command("schemes")
@json_option
def list_schemes(as_json: bool) -> None:
    """The schemes shipped with pbc."""
    rows = []
    for name, path in shipped_schemes().items():
        scheme, _ = read_incentive_scheme(path)
        rows.append({"scheme": name, "name": scheme.name, "year": scheme.financial_year, "file": str(path)})
    if as_json:
        print_json(rows)
        return
    print_table(rows, title="shipped incentive schemes")


@les.command("estimate")
@click.option("--scheme", "scheme_name", required=True, help=SCHEME_HELP)
@click.option("--population", type=click.IntRange(min=0), required=True, help="Registered population.")
@click.option("--localities", type=click.IntRange(min=0), default=1, show_default=True)
@click.option("--level", type=click.IntRange(min=1), default=1, show_default=True, help="Locality operating level.")
@json_option
def estimate_cost(scheme_name: str, population: int, localities: int, level: int, as_json: bool) -> None:
    """What the scheme would cost in a year, by component: the figures for a scheme paper."""
    scheme, _ = read_incentive_scheme(find_scheme(scheme_name))
    try:
        components = estimate(scheme, population, localities, level)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--level") from error
    if as_json:
        print_json(
            {
                "scheme": scheme.id,
                "population": population,
                "localities": localities,
                "level": level,
                "components": [c.to_dict() for c in components],
            }
        )
        return
    print_table(
        [{"component": c.component, "per year": pounds(c.pence), "basis": c.basis} for c in components],
        title=f"{scheme.name}: {population:,} patients, {localities} localities at level {level}",
    )


@les.command("register")
@click.argument("kind", type=click.Choice(list(REGISTERS)))
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def record(kind: str, path: Path) -> None:
    """Record a register file: sign-ups, report deliveries or level decisions (CSV, checked row by row)."""
    settings = load_settings()
    rows = load_register(Warehouse(settings.warehouse_dir), kind, path)
    say(f"{rows:,} {kind.replace('_', ' ')} recorded from {path.name}")


def _table(rows: list[Payment]) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                "PAYEE_KIND": p.payee_kind,
                "PAYEE": p.payee,
                "COMPONENT": p.component,
                "DUE": p.due,
                "PENCE": p.pence,
                "WITHHELD_PENCE": p.withheld_pence,
                "RULE": p.rule,
                "REASON": p.reason,
            }
            for p in rows
        ]
    )


@les.command("payments")
@click.option("--scheme", "scheme_name", required=True, help=SCHEME_HELP)
@click.option("--commissioner", required=True, help="The commissioner whose practices the scheme covers (5K5).")
@click.option("--payee", help="A statement for one practice or locality only.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the schedule (.csv/.parquet).")
@json_option
def schedule(scheme_name: str, commissioner: str, payee: str | None, out: Path | None, as_json: bool) -> None:
    """The payment schedule (or one payee's statement): what is due, when, under which rule, what was withheld."""
    if out is not None:
        check_output(out)
    scheme, _ = read_incentive_scheme(find_scheme(scheme_name))
    settings = load_settings()
    con, warehouse = connect(settings), Warehouse(settings.warehouse_dir)
    practices, localities = gather_facts(con, warehouse, settings, scheme, commissioner.upper())
    rows = payments(scheme, practices, localities, commissioner.upper())
    if payee:
        rows = [p for p in rows if p.payee == payee]
        if not rows:
            raise click.BadParameter(f"{payee} has no payments under {scheme.id}", param_hint="--payee")
    table = _table(rows)
    if out is not None:
        write_table(table, out)
    due, withheld = sum(p.pence for p in rows), sum(p.withheld_pence for p in rows)
    if as_json:
        print_json({"scheme": scheme.id, "due_pence": due, "withheld_pence": withheld, "payments": table.to_pylist()})
        return
    if payee:
        print_table(
            [
                {
                    "due": p.due,
                    "component": p.component,
                    "amount": pounds(p.pence),
                    "withheld": pounds(p.withheld_pence) if p.withheld_pence else "",
                    "rule": p.rule,
                    "why withheld": p.reason,
                }
                for p in rows
            ],
            title=f"{scheme.name}: statement for {payee}",
        )
    else:
        totals: dict[tuple[str, str], list[int]] = {}
        for p in rows:
            t = totals.setdefault((p.payee_kind, p.component), [0, 0, 0])
            t[0] += p.pence
            t[1] += p.withheld_pence
            t[2] += 1
        print_table(
            [
                {"payee": k[0], "component": k[1], "lines": v[2], "due": pounds(v[0]), "withheld": pounds(v[1])}
                for k, v in sorted(totals.items())
            ],
            title=f"{scheme.name}: payment schedule for {commissioner.upper()}",
        )
    say(f"due {pounds(due)}; withheld {pounds(withheld)}" + (f"; written to {out}" if out else ""))
