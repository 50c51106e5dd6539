"""Indicator definitions: reviewed, schema-checked TOML files, one per indicator, shipped in `definitions/`.

OpenPrescribing keeps its measures as reviewed files rather than code, and so does pbc: an indicator says what it
counts (numerator), over what (denominator), how it is computed (method and standardisation), which direction is
better, and when it must next be reviewed. A commissioner can add or replace indicators with a folder of its own
files (`--definitions DIR`). Every file is checked when it is loaded, so a wrong data set, column, code or
combination of method and denominator stops pbc with the file and field named, rather than giving figures that
mean something else. docs/indicators.md describes every field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pbc.errors import InputError, PbcError, Problem
from pbc.indicators.codelists import Codelist, load_codelists, read_toml, validation_problems
from pbc.ingest.contracts import load_contracts
from pbc.ingest.reference_files import CONDITIONS

ACTIVITY = ("apc", "op", "ae", "referrals")
REGISTERS = "registers"
POPULATION = "population"
Dataset = Literal["apc", "op", "ae", "referrals", "registers", "population"]
Method = Literal["rate", "proportion"]
Standardisation = Literal["none", "direct", "indirect"]
Polarity = Literal["low_is_good", "high_is_good", "neither"]
Basis = Literal["year_average", "year_end"]

# The disease register file's columns as an indicator names them (its header), with the values each may take.
REGISTER_COLUMNS: dict[str, frozenset[str] | None] = {
    "CONDITION": frozenset(CONDITIONS),
    "SEX": frozenset({"MALE", "FEMALE"}),
    "AGE_GROUP_5": None,
}


class Measure(BaseModel):
    """What a numerator or denominator counts: a data set's lines (filtered), register counts, or the population.

    `where` keeps lines whose column holds one of the listed codes; `codelist` (admitted care only) keeps spells
    whose primary diagnosis is in the named list's conditions of `codelist_groups` (all groups when empty). The
    registered population is counted over the year (`at = "year_average"`, the mean of the year's quarterly
    lists: person-years) or at its end (`"year_end"`, the year's last list, for point-in-time counts like
    disease registers).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    dataset: Dataset
    where: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    codelist: str | None = None
    codelist_groups: tuple[str, ...] = ()
    at: Basis | None = None

    @property
    def basis(self) -> Basis:
        """How the population is counted (year average unless the file says otherwise)."""
        return self.at or "year_average"


class Definition(BaseModel):
    """One indicator, as its file defines it (docs/indicators.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str = Field(min_length=1)
    description: str = Field(min_length=1)
    numerator: Measure
    denominator: Measure
    method: Method
    standardisation: Standardisation = "none"
    multiplier: float = Field(gt=0)
    unit: str = Field(min_length=1)
    polarity: Polarity
    breakdown: str | None = None
    review_date: dt.date
    references: tuple[str, ...] = ()
    file: str = ""

    @property
    def statistic(self) -> str:
        """The statistic computed: crude_rate, proportion, dsr (direct) or isr (indirect)."""
        if self.method == "proportion":
            return "proportion"
        return {"none": "crude_rate", "direct": "dsr", "indirect": "isr"}[self.standardisation]

    @property
    def breakdown_applies_to_denominator(self) -> bool:
        """A breakdown splits a denominator of lines too (follow-ups per first, by specialty), not a population."""
        return self.breakdown is not None and self.denominator.dataset != POPULATION


def _columns(dataset: str) -> dict[str, frozenset[str] | None]:
    """The columns an indicator may filter or break down a data set by, with their allowed codes if fixed."""
    if dataset == REGISTERS:
        return REGISTER_COLUMNS
    if dataset == POPULATION:
        return {}
    return {f.name: f.values for f in load_contracts()[dataset].fields}


def _check_measure(file: str, name: str, measure: Measure, codelists: Mapping[str, Codelist]) -> list[Problem]:
    problems: list[Problem] = []
    columns = _columns(measure.dataset)
    if measure.dataset == POPULATION:
        for field, given in (("where", measure.where), ("codelist", measure.codelist)):
            if given:
                problems.append(Problem(file, None, f"{name}.{field}", "the registered population cannot be filtered"))
    elif measure.at is not None:
        problems.append(Problem(file, None, f"{name}.at", "only a population denominator is counted at a time"))
    for column, values in measure.where.items():
        where = f"{name}.where.{column}"
        if column not in columns:
            known = ", ".join(sorted(columns)) or "none"
            problems.append(Problem(file, None, where, f"{measure.dataset} has no column {column} (it has: {known})"))
            continue
        if not values:
            problems.append(Problem(file, None, where, "lists no codes: a filter that keeps nothing"))
        allowed = columns[column]
        wrong = sorted(v for v in values if allowed is not None and v not in allowed)
        if wrong:
            problems.append(
                Problem(
                    file,
                    None,
                    where,
                    f"{', '.join(wrong)} not among the codes {column} takes ({', '.join(sorted(allowed or ()))})",
                )
            )
    if measure.codelist is not None:
        codelist = codelists.get(measure.codelist)
        if codelist is None:
            known = ", ".join(sorted(codelists)) or "none"
            problems.append(
                Problem(file, None, f"{name}.codelist", f"no code list {measure.codelist!r} (known: {known})")
            )
        elif codelist.column not in columns or codelist.procedure_column not in columns:
            problems.append(
                Problem(
                    file,
                    None,
                    f"{name}.codelist",
                    f"code list {codelist.id!r} reads {codelist.column} and {codelist.procedure_column}, "
                    f"which {measure.dataset} lines do not have",
                )
            )
        else:
            unknown = sorted(set(measure.codelist_groups) - set(codelist.groups))
            if unknown:
                problems.append(
                    Problem(
                        file,
                        None,
                        f"{name}.codelist_groups",
                        f"{', '.join(unknown)} not among the groups of {codelist.id!r} ({', '.join(codelist.groups)})",
                    )
                )
    elif measure.codelist_groups:
        problems.append(Problem(file, None, f"{name}.codelist_groups", "groups are given but no codelist"))
    return problems


def _check(definition: Definition, codelists: Mapping[str, Codelist]) -> list[Problem]:
    """Checks that span fields: what pydantic's per-field types cannot see."""
    file = definition.file
    num, den = definition.numerator, definition.denominator
    problems = _check_measure(file, "numerator", num, codelists) + _check_measure(file, "denominator", den, codelists)
    if num.dataset == POPULATION:
        problems.append(Problem(file, None, "numerator.dataset", "the numerator must count lines or registers"))
    if definition.breakdown is not None:
        if definition.breakdown not in _columns(num.dataset):
            problems.append(Problem(file, None, "breakdown", f"{num.dataset} has no column {definition.breakdown}"))
        elif definition.breakdown_applies_to_denominator and definition.breakdown not in _columns(den.dataset):
            problems.append(
                Problem(
                    file, None, "breakdown", f"the denominator ({den.dataset}) has no column {definition.breakdown}"
                )
            )
    if definition.standardisation != "none" and den.dataset != POPULATION:
        problems.append(
            Problem(file, None, "standardisation", "standardised rates need the registered population as denominator")
        )
    if definition.method == "proportion":
        if definition.standardisation != "none":
            problems.append(Problem(file, None, "standardisation", "a proportion is not standardised: use none"))
        if den.dataset != num.dataset:
            problems.append(
                Problem(
                    file, None, "denominator.dataset", "a proportion's denominator must count the numerator's lines"
                )
            )
        else:
            for column, values in den.where.items():
                if column not in num.where or not set(num.where[column]) <= set(values):
                    problems.append(
                        Problem(
                            file,
                            None,
                            f"numerator.where.{column}",
                            "a proportion's numerator must be a subset of its denominator: it keeps codes the "
                            "denominator does not",
                        )
                    )
            if den.codelist is not None and (num.codelist, num.codelist_groups) != (den.codelist, den.codelist_groups):
                problems.append(
                    Problem(
                        file,
                        None,
                        "numerator.codelist",
                        "a proportion's numerator must use the denominator's code list",
                    )
                )
        if definition.multiplier not in (1, 100):
            problems.append(
                Problem(file, None, "multiplier", "a proportion is shown as a fraction (1) or percent (100)")
            )
    if num.dataset == REGISTERS and (den.dataset != POPULATION or den.basis != "year_end"):
        problems.append(
            Problem(
                file,
                None,
                "denominator.at",
                "a register is counted on one day, so its denominator is the population at year_end",
            )
        )
    return problems


def parse_definition(path: Path, codelists: Mapping[str, Codelist]) -> Definition:
    """Read and check one definition file; its id must be its file name, so a file is easy to find from an id."""
    data = read_toml(path)
    if "file" in data:
        raise InputError.one(path.name, None, "file", "is set by pbc, not in the file")
    try:
        definition = Definition.model_validate({**data, "file": path.name})
    except ValidationError as error:
        raise InputError(validation_problems(path.name, error)) from None
    problems = _check(definition, codelists)
    if definition.id != path.stem:
        problems.insert(
            0, Problem(path.name, None, "id", f"{definition.id!r} differs from the file name {path.stem!r}")
        )
    if problems:
        raise InputError(problems)
    return definition


def shipped_folder() -> Path:
    """The definitions shipped inside pbc."""
    return Path(str(resources.files("pbc.indicators") / "definitions"))


def shipped_codelists() -> Path:
    """The code lists shipped inside pbc."""
    return Path(str(resources.files("pbc.indicators") / "codelists"))


def _load(folders: tuple[Path, ...]) -> dict[str, Definition]:
    codelist_folders = [shipped_codelists(), *(f / "codelists" for f in folders[1:] if (f / "codelists").is_dir())]
    codelists = load_codelists(codelist_folders)
    definitions: dict[str, Definition] = {}
    problems: list[Problem] = []
    for folder in folders:
        if not folder.is_dir():
            raise InputError.one(str(folder), None, None, "is not a folder of indicator definitions")
        for path in sorted(folder.glob("*.toml")):
            try:
                definition = parse_definition(path, codelists)
            except InputError as error:
                problems += error.problems
                continue
            definitions[definition.id] = definition
    if problems:
        raise InputError(problems)
    return definitions


@cache
def _shipped() -> dict[str, Definition]:
    return _load((shipped_folder(),))


def load_definitions(extra: Path | None = None) -> dict[str, Definition]:
    """The shipped definitions, plus (adding, or replacing by id) those in a folder of the commissioner's own."""
    if extra is None:
        return dict(_shipped())
    return _load((shipped_folder(), Path(extra)))


def codelists_for(extra: Path | None = None) -> dict[str, Codelist]:
    """The code lists definitions may name: pbc's, plus those in the extra folder's `codelists/`."""
    folders = [shipped_codelists()]
    if extra is not None and (Path(extra) / "codelists").is_dir():
        folders.append(Path(extra) / "codelists")
    return load_codelists(folders)


def choose(definitions: Mapping[str, Definition], ids: Iterable[str]) -> list[Definition]:
    """The named definitions in the order given (all of them, sorted by id, when none is named)."""
    ids = list(ids)
    unknown = [i for i in ids if i not in definitions]
    if unknown:
        raise PbcError(f"no indicator {', '.join(unknown)}: `pbc benchmark indicators` lists them")
    return [definitions[i] for i in ids] if ids else [definitions[k] for k in sorted(definitions)]
