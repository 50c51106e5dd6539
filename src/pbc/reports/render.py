"""Rendering: the Jinja2 templates the web pages share, charts as figures, and HTML printed to PDF.

Reports are HTML first. The same templates (`src/pbc/templates/`) and the same chart specs (`pbc.charts`) serve
the web pages and the printed reports, so a figure reads the same on screen and on paper. For paper, each chart is
rendered to SVG (vl-convert) and embedded in the page, and WeasyPrint prints the page to an A4 PDF whose page
layout (margins, running header and footer, page numbers) is in the print style sheet.

The filters here are the only place a report turns a figure into text: money through `pbc.money.pounds`, counts
with a mark for a suppressed figure, percentages to one decimal place.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
import multiprocessing
import re
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import jinja2
from markupsafe import Markup

from pbc import __version__
from pbc.errors import PbcError
from pbc.money import pounds

if TYPE_CHECKING:
    import altair as alt

SUPPRESSED = "*"  # how a suppressed count is shown; the report's notes say what it means
REPORT_SUFFIXES = (".pdf", ".html")


@dataclass(frozen=True)
class Figure:
    """A chart ready for a page: its SVG for print, its Vega-Lite spec for the web, and words for a screen reader."""

    title: str
    svg: str
    spec: dict[str, Any]
    alt: str

    @property
    def data_uri(self) -> str:
        """The SVG as a data URI, so the HTML file and the PDF carry their charts inside them."""
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg.encode("utf-8")).decode("ascii")

    @property
    def spec_json(self) -> Markup:
        """The spec as JSON for vega-embed on a web page (safe inside a script element)."""
        text = json.dumps(self.spec).replace("</", "<\\/")
        return Markup(text)


def figure(chart: alt.TopLevelMixin, title: str, alt_text: str) -> Figure:
    """Render an Altair chart once, keeping both forms (SVG for print, spec for the web)."""
    import vl_convert

    spec = chart.to_dict()
    return Figure(title=title, svg=vl_convert.vegalite_to_svg(spec), spec=spec, alt=alt_text)


def signed_pounds(pence: int | None) -> str:
    """A variance in pounds with its sign always shown: '+£1,234.56', '-£12.00', '£0.00'."""
    if pence is None:
        return ""
    return ("+" if pence > 0 else "") + pounds(pence)


def percent(value: float | None, places: int = 1, signed: bool = False) -> str:
    """A percentage to `places` decimals ('12.3%', '+4.0%' when signed); blank for no figure."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = f"{value:+,.{places}f}%" if signed else f"{value:,.{places}f}%"
    return text


def count(value: float | None) -> str:
    """A count for people: '1,234'; a suppressed (missing) count as the suppression mark."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return SUPPRESSED
    return f"{round(value):,}"


def figure_text(value: float | None) -> str:
    """A rate or ratio: two decimals below 10, one from 10 (as `pbc benchmark` prints them); blank for none."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value:,.2f}" if abs(value) < 10 else f"{value:,.1f}"


def month_name(value: dt.date | None, short: bool = False) -> str:
    """A month as 'December 2007' (or 'Dec 2007')."""
    if value is None:
        return ""
    return value.strftime("%b %Y" if short else "%B %Y")


ACRONYMS = {"NHS", "PCT", "GP", "GPS", "UK", "HRG", "OP", "APC", "LLP", "PLC", "II", "III"}
_WORD = re.compile(r"[A-Za-z][A-Za-z']*")


def display_name(name: str | None) -> str:
    """An ODS name (written in capitals) in title case, keeping acronyms; a mixed-case name is left as it is.

    "ST GEORGE'S NHS TRUST (BRENT)" becomes "St George's NHS Trust (Brent)".
    """
    if not name:
        return ""
    if name != name.upper():
        return name
    return _WORD.sub(lambda m: m.group(0) if m.group(0) in ACRONYMS else m.group(0).capitalize(), name)


@cache
def environment() -> jinja2.Environment:
    """The Jinja2 environment over pbc's templates, with the report filters (one per process)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("pbc", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "jinja"), default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        pounds=pounds,
        signed_pounds=signed_pounds,
        percent=percent,
        count=count,
        figure=figure_text,
        month=month_name,
        display_name=display_name,
    )
    env.globals.update(pbc_version=__version__, suppressed_mark=SUPPRESSED)
    return env


def render(template: str, **context: Any) -> str:
    """A template rendered to HTML text."""
    made = dt.datetime.now().replace(microsecond=0)
    return environment().get_template(template).render(made_at=made, **context)


def check_out(out: Path, suffixes: tuple[str, ...] = REPORT_SUFFIXES) -> None:
    """Refuse an output file of a kind this report cannot write, before any work is done."""
    if out.suffix.lower() not in suffixes:
        raise PbcError(f"--out {out}: name a {' or '.join(suffixes)} file")


def write(html: str, out: Path) -> Path:
    """Write a rendered page as HTML, or print it to PDF, by the file's suffix; returns the file written."""
    check_out(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".html":
        out.write_text(html, encoding="utf-8")
        return out
    import weasyprint

    weasyprint.HTML(string=html, base_url=str(out.parent)).write_pdf(out)
    return out


def _warm_up() -> None:
    """Load WeasyPrint and lay out a line of text, so a printing process is ready before its first page arrives."""
    import weasyprint

    weasyprint.HTML(string="<p>pbc</p>").render()


class Printer:
    """Writes rendered pages, printing PDFs in a background process when many reports are made in one go.

    Printing a pack is pure-Python layout work (WeasyPrint) while gathering the next pack's figures is mostly engine
    work, so with `background=True` the two overlap: the page just rendered is printed by a worker process (started
    with "spawn", never forked from a process whose engine threads are running) while the next one is gathered.
    Without it, each page is written before `submit` returns. Either way `submit` gives a future for the file.
    """

    def __init__(self, background: bool = False, workers: int = 2) -> None:
        self.background = background
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> Printer:
        """Start the worker processes, if printing in the background, and have them load WeasyPrint at once.

        Loading WeasyPrint and its fonts takes seconds; done now, it overlaps the first report's gathering instead
        of delaying its printing.
        """
        if self.background:
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"))
            for _ in range(self.workers):
                self._pool.submit(_warm_up)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        """Wait for every page submitted to be written, then stop the worker."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=error is not None)
            self._pool = None

    def submit(self, html: str, out: Path, done: Callable[[Future[Path]], None] | None = None) -> Future[Path]:
        """Write one page (HTML at once, PDF in the background when enabled); `done` is called when it is written."""
        if self._pool is not None and out.suffix.lower() == ".pdf":
            future = self._pool.submit(write, html, out)
        else:
            future: Future[Path] = Future()
            try:
                future.set_result(write(html, out))
            except Exception as error:  # handed to the caller through the future, as the worker would
                future.set_exception(error)
        if done is not None:
            future.add_done_callback(done)
        return future
