"""`pbc synth`: make a synthetic commissioner, or report how realistic one is."""

from __future__ import annotations

import time
from pathlib import Path

import click

from pbc.calendar import financial_years_between
from pbc.cli.output import json_option, print_json, print_table, say
from pbc.errors import PbcError
from pbc.synth.config import DEFAULT_FAULT_RATES, DEFAULT_YEARS, SynthConfig


def _years(text: str) -> tuple[str, ...]:
    first, _, last = text.partition("-")
    return tuple(financial_years_between(first.strip(), (last or first).strip()))


def _fault_rates(pairs: tuple[str, ...]) -> dict[str, float]:
    rates = dict(DEFAULT_FAULT_RATES)
    for pair in pairs:
        name, _, value = pair.partition("=")
        try:
            rates[name.strip()] = float(value)
        except ValueError:
            raise PbcError(f"--fault-rate {pair!r}: write it as NAME=RATE, e.g. duplicate_spell=0.01") from None
    return rates


@click.command("synth")
@click.option(
    "--commissioner",
    type=click.Choice(["brent"]),
    default=None,
    help="Make one commissioner: Brent PCT and its five 2005 clusters (the default).",
)
@click.option("--region", type=click.Choice(["london"]), default=None, help="Make the 31 London PCTs instead.")
@click.option(
    "--years",
    default=f"{DEFAULT_YEARS[0]}-{DEFAULT_YEARS[-1]}",
    show_default=True,
    help="Financial years, e.g. 2007/08 or 2005/06-2007/08.",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same bytes.")
@click.option("--scale", type=float, default=1.0, show_default=True, help="Multiply every list size (benchmarks).")
@click.option(
    "--fault-rate",
    "fault_rates",
    multiple=True,
    metavar="NAME=RATE",
    help=f"Rate of an injected fault (repeatable); 0 turns it off. Names: {', '.join(DEFAULT_FAULT_RATES)}.",
)
@click.option("--parquet", is_flag=True, help="Also write each extract as Parquet.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Folder to write into.")
@click.option(
    "--report",
    "report_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Instead of making data, report a made folder's rates against their targets.",
)
@json_option
def synth(
    commissioner: str | None,
    region: str | None,
    years: str,
    seed: int,
    scale: float,
    fault_rates: tuple[str, ...],
    parquet: bool,
    out: Path | None,
    report_dir: Path | None,
    as_json: bool,
) -> None:
    """Make a realistic synthetic commissioner (population, activity, tariff, known faults) in pbc's formats.

    Everything made is synthetic except the practices, which are real ODS practices placed in 2005 PCTs and
    clusters. See docs/synthetic-data.md for the files and their fields.
    """
    if report_dir is not None:
        _report(report_dir, as_json)
        return
    if out is None:
        raise click.UsageError("give --out DIR to make data, or --report DIR to check made data")
    if commissioner and region:
        raise click.UsageError("choose --commissioner or --region, not both")
    if out.exists() and any(out.iterdir()):
        raise PbcError(f"{out} is not empty: choose a new folder, so that files from another run are not mixed in")
    try:
        config = SynthConfig(
            scope="london" if region else "brent",
            years=_years(years),
            seed=seed,
            scale=scale,
            fault_rates=_fault_rates(fault_rates),
            parquet=parquet,
        )
    except ValueError as error:
        raise PbcError(str(error)) from None
    from pbc.synth.generate import generate

    started = time.perf_counter()
    try:
        manifest = generate(config, out, progress=(lambda _: None) if as_json else lambda line: say(f"  {line}"))
    except ValueError as error:
        raise PbcError(f"cannot make the synthetic commissioner: {error}") from None
    seconds = round(time.perf_counter() - started, 1)
    if as_json:
        print_json(
            {
                "out": out,
                "seconds": seconds,
                "rows": manifest["rows"],
                "financial_years": manifest["financial_years"],
                "commissioners": [c["code"] for c in manifest["commissioners"]],
            }
        )
        return
    say(f"made {sum(manifest['rows'].values()):,} activity rows in {seconds} s into {out}")


def _report(folder: Path, as_json: bool) -> None:
    from pbc.synth.report import realism_report, report_rows

    try:
        report = realism_report(folder)
    except ValueError as error:
        raise PbcError(str(error)) from None
    if as_json:
        print_json(report)
        return
    print_table(report_rows(report), title=f"realism of {folder}: achieved against target (tolerance 15%)")
    say("all rates within tolerance" if report["all_within"] else "SOME RATES ARE OUTSIDE TOLERANCE")
