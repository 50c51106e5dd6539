"""Helpers for the report tests: the `pbc report` verbs under pbc's own error handling, and text from a PDF."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from pbc.cli import PbcGroup
from pbc.cli.report import report
from pbc.settings import Settings

# `pbc report` as the command line will have it once registered, with pbc's error handling.
cli = PbcGroup(commands={"report": report})


def run(settings: Settings, *args: str) -> Result:
    """Run `pbc report ...` against a home, as a user would."""
    return CliRunner().invoke(cli, ["report", *args], env={"PBC_HOME": str(settings.home)})


def pdf_pages(path: Path) -> list[str]:
    """The text of each page of a PDF."""
    import pypdfium2

    document = pypdfium2.PdfDocument(str(path))
    try:
        return [document[i].get_textpage().get_text_range() for i in range(len(document))]
    finally:
        document.close()
