"""`pbc report`: the printed reports, for one cluster or practice, or for every cluster of a commissioner at once.

- `cluster-summary`: a cluster's month on one A4 page (PDF or HTML);
- `cluster-pack`: a cluster's information pack for a financial year (PDF), `--external` for small-number suppression;
- `practice-monthly`: a practice's monthly information report (PDF, HTML, or an XLSX workbook).

With `--all --commissioner CODE --out-dir DIR`, the cluster reports are made for every cluster of the commissioner,
sharing the commissioner-wide figures, with a progress bar; PDFs are printed in a background process while the
next cluster's figures are gathered.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from pbc.calendar import folder_name
from pbc.cli.output import json_option, print_json, say
from pbc.errors import PbcError
from pbc.indicators.benchmark import check_year
from pbc.reports.cluster_pack import TEMPLATE as PACK_TEMPLATE
from pbc.reports.cluster_pack import pack_context
from pbc.reports.cluster_summary import TEMPLATE as SUMMARY_TEMPLATE
from pbc.reports.cluster_summary import summary_context
from pbc.reports.practice_monthly import SUFFIXES as MONTHLY_SUFFIXES
from pbc.reports.practice_monthly import parse_month, practice_monthly
from pbc.reports.render import REPORT_SUFFIXES, Printer, check_out, render, write
from pbc.reports.sources import Sources
from pbc.reports.units import Cluster, clusters_of, find_cluster
from pbc.settings import load_settings

cluster_option = click.option("--cluster", metavar="NAME_OR_CODE", help="The cluster, by name (Wembley) or code.")
all_option = click.option("--all", "every", is_flag=True, help="Every cluster of --commissioner, into --out-dir.")
commissioner_option = click.option("--commissioner", metavar="CODE", help="With --all: the commissioner, e.g. 5K5.")
out_option = click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="The file to write.")
out_dir_option = click.option(
    "--out-dir", type=click.Path(file_okay=False, path_type=Path), help="With --all: the folder to write into."
)


@click.group()
def report() -> None:
    """Printed reports: the one-page cluster summary, the cluster information pack, the practice monthly report."""


def _clusters(
    sources: Sources,
    cluster: str | None,
    every: bool,
    commissioner: str | None,
    out: Path | None,
    out_dir: Path | None,
    suffixes: tuple[str, ...],
) -> list[Cluster]:
    """The clusters asked for, after checking the options make sense together (before any work is done)."""
    if every:
        if cluster is not None or out is not None:
            raise click.UsageError("--all makes every cluster's report into --out-dir: leave out --cluster and --out")
        if commissioner is None or out_dir is None:
            raise click.UsageError("--all needs --commissioner CODE and --out-dir DIR")
        return clusters_of(sources, commissioner.strip().upper())
    if cluster is None or out is None:
        raise click.UsageError("name --cluster and --out FILE (or make every cluster's with --all)")
    if out_dir is not None or commissioner is not None:
        raise click.UsageError("--out-dir and --commissioner go with --all")
    check_out(out, suffixes)
    return [find_cluster(sources, cluster)]


def _make_all(
    clusters: list[Cluster],
    files: list[Path],
    render_one: Callable[[Cluster], str],
    what: str,
) -> list[dict[str, object]]:
    """Render each cluster's report and write it, with a progress bar; a failure is reported at the end, not at once.

    One report is simply made and written, and any error it meets is raised as it is.
    """
    if len(clusters) == 1:
        [cluster], [out] = clusters, files
        return [{"cluster": cluster.code, "file": str(write(render_one(cluster), out))}]
    made: list[dict[str, object]] = []
    failed: list[str] = []
    started = time.monotonic()
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    background = any(f.suffix.lower() == ".pdf" for f in files)
    with Progress(*columns, console=Console(stderr=True), transient=False) as progress:
        task = progress.add_task(f"{what}: starting", total=len(clusters))

        def finished(cluster: Cluster, out: Path) -> Callable[[Future[Path]], None]:
            def note(future: Future[Path]) -> None:
                error = future.exception()
                if error is None:
                    made.append({"cluster": cluster.code, "file": str(out)})
                else:
                    failed.append(f"{cluster.code}: {error}")
                progress.advance(task)

            return note

        with Printer(background=background) as printer:
            for cluster, out in zip(clusters, files, strict=True):
                progress.update(task, description=f"{what}: {cluster.name}")
                try:
                    html = render_one(cluster)
                except PbcError as error:
                    failed.append(f"{cluster.code}: {error}")
                    progress.advance(task)
                    continue
                printer.submit(html, out, finished(cluster, out))
            progress.update(task, description=f"{what}: printing")
            gathered = time.monotonic() - started
        progress.update(
            task, description=f"{what}: done in {time.monotonic() - started:.1f}s (figures gathered in {gathered:.1f}s)"
        )
    if failed:
        raise PbcError(f"{len(failed)} of {len(clusters)} reports were not made:\n" + "\n".join(failed))
    return sorted(made, key=lambda m: str(m["cluster"]))


def _files(
    out: Path | None, out_dir: Path | None, clusters: list[Cluster], name: Callable[[Cluster], str]
) -> list[Path]:
    """The file for each cluster: --out for one, else each cluster's own name in --out-dir."""
    if out is not None:
        return [out]
    if out_dir is None:  # _clusters has already refused this
        raise click.UsageError("--all needs --out-dir DIR")
    return [out_dir / name(c) for c in clusters]


def _done(made: list[dict[str, object]], as_json: bool) -> None:
    if as_json:
        print_json(made)
        return
    for m in made:
        say(f"{m['cluster']}: {m['file']}")


@report.command("cluster-summary")
@cluster_option
@click.option("--month", required=True, metavar="YYYY-MM", help="The month reported, e.g. 2007-12.")
@out_option
@all_option
@commissioner_option
@out_dir_option
@click.option(
    "--format",
    "kind",
    type=click.Choice(["pdf", "html"]),
    default="pdf",
    show_default=True,
    help="With --all: the kind of file to write.",
)
@json_option
def cluster_summary(
    cluster: str | None,
    month: str,
    out: Path | None,
    every: bool,
    commissioner: str | None,
    out_dir: Path | None,
    kind: str,
    as_json: bool,
) -> None:
    """A cluster's month on one A4 page (PDF or HTML), for one cluster or with --all for every one.

    Budget against actual to date and the forecast outturn by POD, the largest variances by practice and
    specialty, the key indicators with their SPC icons, and the data quality status. It reads the monitoring
    marts: run `pbc monitor run --year` for the month's year first.
    """
    when = parse_month(month)
    sources = Sources(load_settings())
    clusters = _clusters(sources, cluster, every, commissioner, out, out_dir, REPORT_SUFFIXES)
    files = _files(out, out_dir, clusters, lambda c: f"{c.slug}-summary-{when:%Y-%m}.{kind}")

    def one(c: Cluster) -> str:
        return render(SUMMARY_TEMPLATE, **summary_context(sources, c, when))

    _done(_make_all(clusters, files, one, "cluster summaries"), as_json)


@report.command("cluster-pack")
@cluster_option
@click.option("--year", required=True, metavar="YYYY/YY", help="The financial year, e.g. 2007/08.")
@out_option
@all_option
@commissioner_option
@out_dir_option
@click.option(
    "--external",
    is_flag=True,
    help="For readers outside the commissioner: counts of 1-7 suppressed, others rounded to 5, rates recomputed.",
)
@json_option
def cluster_pack(
    cluster: str | None,
    year: str,
    out: Path | None,
    every: bool,
    commissioner: str | None,
    out_dir: Path | None,
    external: bool,
    as_json: bool,
) -> None:
    """A cluster's information pack for a financial year (PDF), for one cluster or with --all for every one.

    Cover and contents, population pyramid, disease prevalence observed and expected, historic activity and cost,
    contract and cost summary, a page per practice, public health profile and glossary. --external protects
    small numbers for readers outside the commissioner.
    """
    year = check_year(year)
    sources = Sources(load_settings())
    clusters = _clusters(sources, cluster, every, commissioner, out, out_dir, REPORT_SUFFIXES)
    marked = "-external" if external else ""
    files = _files(out, out_dir, clusters, lambda c: f"{c.slug}-pack-{folder_name(year)}{marked}.pdf")

    def one(c: Cluster) -> str:
        return render(PACK_TEMPLATE, **pack_context(sources, c, year, external))

    _done(_make_all(clusters, files, one, "cluster packs"), as_json)


@report.command("practice-monthly")
@click.option("--practice", required=True, metavar="CODE", help="The practice code, e.g. E84002.")
@click.option("--month", required=True, metavar="YYYY-MM", help="The month, e.g. 2007-10.")
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="A .pdf, .html or .xlsx file."
)
@json_option
def practice_monthly_command(practice: str, month: str, out: Path, as_json: bool) -> None:
    """A practice's monthly information: referrals made, activity charged, validation status (PDF, HTML or XLSX)."""
    check_out(out, MONTHLY_SUFFIXES)
    when = parse_month(month)
    written = practice_monthly(Sources(load_settings()), practice, when, out)
    if as_json:
        print_json({"practice": practice, "month": f"{when:%Y-%m}", "file": str(written)})
        return
    say(f"{practice} {when:%B %Y}: {written}")
