"""Errors that pbc reports to its users.

Every error a user can cause carries enough to fix it: the file, the row and the field for bad input, or the
setting and how to set it. The command line prints these messages as they are, without a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


class PbcError(Exception):
    """An error with a message meant for the person running pbc."""

    exit_code = 1


class SettingsError(PbcError):
    """A setting is missing or wrong; the message says how to fix it."""

    exit_code = 78  # EX_CONFIG


class NotLoadedError(PbcError):
    """Something pbc needs has not been loaded into the warehouse yet."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, located as precisely as the file allows."""

    file: str
    row: int | None
    field: str | None
    reason: str

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.field is not None:
            where.append(f"field {self.field}")
        return f"{', '.join(where)}: {self.reason}"


class InputError(PbcError):
    """One or more problems with input files; nothing was stored.

    All problems found are kept (so a user can fix a file in one pass); the message shows the first few.
    """

    exit_code = 65  # EX_DATAERR
    shown = 20

    def __init__(self, problems: list[Problem]) -> None:
        if not problems:
            raise ValueError("InputError needs at least one problem")
        self.problems = list(problems)
        lines = [str(p) for p in self.problems[: self.shown]]
        if len(self.problems) > self.shown:
            lines.append(f"... and {len(self.problems) - self.shown} more problems")
        lines.append("Nothing was stored.")
        super().__init__("\n".join(lines))

    @classmethod
    def one(cls, file: str, row: int | None, field: str | None, reason: str) -> InputError:
        """Build an error for a single problem."""
        return cls([Problem(file, row, field, reason)])
