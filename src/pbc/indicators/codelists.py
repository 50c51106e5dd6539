"""Code lists: named sets of ICD-10 diagnosis prefixes that indicator definitions select spells by.

A code list is reviewed data (`codelists/*.toml`), like the indicator definitions that use it: clinicians can
read and correct it without touching code, and each list cites the publication it follows. A list holds
conditions, each in a group (for ACSCs: chronic, acute, vaccine-preventable), with its diagnosis prefixes and,
optionally, procedure prefixes that take a spell out again (the cardiac procedures of angina). Codes are written
without the dot and matched against the spell's code with its dot removed, so `J45` matches `J45.9` and `J459`.
"""

from __future__ import annotations

import re
import tomllib
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import ibis
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pbc.errors import InputError, Problem

_CODE = r"^[A-Z][0-9A-Z]{0,4}$"
_ID = r"^[a-z][a-z0-9_]*$"


class Condition(BaseModel):
    """One condition of a code list: the diagnosis prefixes that select a spell and the procedures that exclude it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=_ID)
    name: str = Field(min_length=1)
    group: str = Field(min_length=1)
    codes: tuple[str, ...] = Field(min_length=1)
    exclude_procedures: tuple[str, ...] = ()


class Codelist(BaseModel):
    """A named, cited list of conditions; `column` is the diagnosis field it reads, `procedure_column` the procedure."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=_ID)
    title: str = Field(min_length=1)
    source: str = Field(min_length=1)
    column: str = Field(min_length=1)
    procedure_column: str = "OPERTN_01"
    groups: tuple[str, ...] = Field(min_length=1)
    condition: tuple[Condition, ...] = Field(min_length=1)
    file: str = ""

    def conditions(self, groups: Iterable[str] = ()) -> tuple[Condition, ...]:
        """The conditions of the chosen groups (all of them when none is chosen)."""
        chosen = set(groups)
        return tuple(c for c in self.condition if not chosen or c.group in chosen)


def validation_problems(file: str, error: ValidationError) -> list[Problem]:
    """A pydantic error as pbc problems naming the file and the field (dotted path), with what was found."""
    problems = []
    for item in error.errors():
        field = ".".join(str(p) for p in item["loc"]) or None
        reason = item["msg"]
        if item["type"] not in ("missing", "extra_forbidden"):
            reason += f" (found {item['input']!r})"
        elif item["type"] == "extra_forbidden":
            reason = "is not a field pbc knows (check the spelling)"
        problems.append(Problem(file, None, field, reason))
    return problems


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML file's content, or an `InputError` naming the file and saying where it does not parse."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        line = re.search(r"at line (\d+)", str(error))
        raise InputError.one(path.name, int(line[1]) if line else None, None, f"is not valid TOML: {error}") from None
    except UnicodeDecodeError:
        raise InputError.one(path.name, None, None, "is not UTF-8 text") from None


def parse_codelist(path: Path) -> Codelist:
    """Read and check one code list file; every problem found is reported with the file and field."""
    data = read_toml(path)
    if "file" in data:
        raise InputError.one(path.name, None, "file", "is set by pbc, not in the file")
    try:
        codelist = Codelist.model_validate({**data, "file": path.name})
    except ValidationError as error:
        raise InputError(validation_problems(path.name, error)) from None
    problems: list[Problem] = []
    seen: set[str] = set()
    for number, condition in enumerate(codelist.condition):
        where = f"condition.{number}"
        if condition.id in seen:
            problems.append(Problem(path.name, None, f"{where}.id", f"condition {condition.id!r} is listed twice"))
        seen.add(condition.id)
        if condition.group not in codelist.groups:
            problems.append(
                Problem(path.name, None, f"{where}.group", f"{condition.group!r} is not one of the file's groups")
            )
        for field, codes in (("codes", condition.codes), ("exclude_procedures", condition.exclude_procedures)):
            for code in codes:
                if not re.match(_CODE, code):
                    problems.append(
                        Problem(
                            path.name,
                            None,
                            f"{where}.{field}",
                            f"{code!r} is not a code prefix: capital letter then up to four letters or digits, no dot",
                        )
                    )
    if problems:
        raise InputError(problems)
    return codelist


def load_codelists(folders: Iterable[Path]) -> dict[str, Codelist]:
    """Every code list in the folders, by id; a later folder's list replaces an earlier one with the same id."""
    found: dict[str, Codelist] = {}
    for folder in folders:
        here: dict[str, str] = {}
        for path in sorted(folder.glob("*.toml")):
            codelist = parse_codelist(path)
            if codelist.id in here:
                raise InputError.one(path.name, None, "id", f"code list {codelist.id!r} is also in {here[codelist.id]}")
            here[codelist.id] = path.name
            found[codelist.id] = codelist
    return found


def _normalised(value: ibis.StringValue) -> ibis.StringValue:
    """A code as the lists write it: no dot, no spaces, capitals."""
    return value.replace(".", "").replace(" ", "").upper()


def _matches(code: ibis.StringValue, prefixes: Iterable[str]) -> ibis.BooleanValue:
    """Whether a normalised code starts with one of the prefixes: one `isin` per prefix length, not one test each."""
    by_length: dict[int, set[str]] = defaultdict(set)
    for prefix in prefixes:
        by_length[len(prefix)].add(prefix)
    tests = [code.substr(0, length).isin(sorted(group)) for length, group in sorted(by_length.items())]
    result = tests[0]
    for test in tests[1:]:
        result = result | test
    return result.fill_null(False)


def selects(table: ibis.Table, codelist: Codelist, groups: Iterable[str] = ()) -> ibis.BooleanValue:
    """Whether each spell is one of the chosen conditions: its diagnosis matches and no excluding procedure does.

    Conditions that share the same exclusions are tested together, so a list of 19 conditions makes a handful of
    `isin` tests, which both engines run as one pass.
    """
    diagnosis = _normalised(table[codelist.column])
    procedure = _normalised(table[codelist.procedure_column])
    by_exclusion: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for condition in codelist.conditions(groups):
        by_exclusion[tuple(sorted(condition.exclude_procedures))] += condition.codes
    tests = []
    for exclusions, codes in sorted(by_exclusion.items()):
        test = _matches(diagnosis, codes)
        if exclusions:
            test = test & ~_matches(procedure, exclusions)
        tests.append(test)
    result = tests[0]
    for test in tests[1:]:
        result = result | test
    return result
