"""Indicator definition and code list files: every shipped one loads; every mistake names its file and field."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import textwrap
from pathlib import Path

import ibis
import pytest

from pbc.errors import InputError, PbcError
from pbc.indicators.codelists import load_codelists, parse_codelist, selects
from pbc.indicators.definitions import (
    choose,
    codelists_for,
    load_definitions,
    parse_definition,
    shipped_codelists,
    shipped_folder,
)

SHIPPED = sorted(p.stem for p in shipped_folder().glob("*.toml"))

VALID = """
id = "mine"
title = "My indicator"
description = "Why it matters."
method = "rate"
standardisation = "none"
multiplier = 1000
unit = "per 1,000"
polarity = "low_is_good"
review_date = 2027-03-31

[numerator]
dataset = "apc"
where = { ADMIMETH = ["21", "22"] }

[denominator]
dataset = "population"
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.toml"
    path.write_text(textwrap.dedent(text))
    return path


def problems_of(error: InputError) -> list[tuple[str, str | None, str]]:
    return [(p.file, p.field, p.reason) for p in error.problems]


def test_every_shipped_definition_loads():
    definitions = load_definitions()
    assert sorted(definitions) == SHIPPED
    assert len(SHIPPED) >= 10
    for key, definition in definitions.items():
        assert definition.file == f"{key}.toml"
        assert definition.review_date > dt.date(2026, 1, 1)
        assert definition.description.strip()
    statistics = {d.statistic for d in definitions.values()}
    assert statistics == {"crude_rate", "proportion", "dsr", "isr"}


def test_the_issue_s_indicators_are_shipped():
    definitions = load_definitions()
    for key in (
        "referrals_by_specialty",
        "first_outpatient_attendances",
        "followup_to_first_ratio",
        "emergency_admissions",
        "acsc_admissions",
        "ae_attendances",
        "day_case_rate",
        "disease_prevalence",
    ):
        assert key in definitions
    assert definitions["emergency_admissions"].standardisation == "indirect"
    assert definitions["day_case_rate"].polarity == "high_is_good"


def test_shipped_acsc_list():
    [acsc] = load_codelists([shipped_codelists()]).values()
    assert acsc.id == "acsc"
    assert len(acsc.condition) == 19  # Purdy et al. 2009
    groups = {g: [c.id for c in acsc.conditions([g])] for g in acsc.groups}
    assert len(groups["chronic"]) == 8
    assert len(groups["acute"]) == 9
    assert len(groups["vaccine_preventable"]) == 2
    assert len(acsc.conditions()) == 19
    codes = [code for c in acsc.condition for code in c.codes]
    assert len(codes) == len(set(codes))  # a code belongs to one condition only
    assert all(re.fullmatch(r"[A-Z][0-9]{1,3}", code) for code in codes)


def test_codelist_selects_by_prefix_without_the_dot_and_honours_exclusions():
    spells = ibis.memtable(
        {
            "DIAG_01": ["J45.9", "J459", "I20.9", "I20.9", "I24.0", "I24.1", "E11.6", "E11.9", "A09.9", None, "j45.0"],
            "OPERTN_01": [None, "", "K40.1", "W37.1", None, None, "-", None, None, None, None],
        }
    )
    acsc = codelists_for()["acsc"]
    con = ibis.duckdb.connect()
    chosen = con.to_pyarrow(spells.mutate(ALL=selects(spells, acsc), CHRONIC=selects(spells, acsc, ["chronic"])))
    # Asthma with or without its dot; angina unless a cardiac (chapter K) procedure; I24.0 but not I24.1;
    # diabetes complication E11.6 but not uncomplicated E11.9; A09.9 is not on Purdy's list; lower case is read.
    assert chosen["ALL"].to_pylist() == [True, True, False, True, True, False, True, False, False, False, True]
    assert chosen["CHRONIC"].to_pylist() == chosen["ALL"].to_pylist()
    acute = con.to_pyarrow(spells.mutate(X=selects(spells, acsc, ["acute"])))["X"].to_pylist()
    assert not any(acute)


def test_a_folder_of_ones_own_adds_and_replaces(tmp_path):
    write(tmp_path, "mine", VALID)
    write(tmp_path, "referrals", VALID.replace('id = "mine"', 'id = "referrals"').replace("My indicator", "Local"))
    definitions = load_definitions(tmp_path)
    assert set(definitions) == {*SHIPPED, "mine"}
    assert definitions["referrals"].title == "Local"
    assert load_definitions()["referrals"].title != "Local"  # the shipped set is not changed


def test_own_code_lists(tmp_path):
    write(
        tmp_path / "codelists",
        "falls",
        """
        id = "falls"
        title = "Falls"
        source = "local"
        column = "DIAG_01"
        groups = ["all"]
        [[condition]]
        id = "fracture"
        name = "Hip fracture"
        group = "all"
        codes = ["S72"]
        """,
    )
    text = VALID.replace('where = { ADMIMETH = ["21", "22"] }', 'codelist = "falls"')
    write(tmp_path, "mine", text)
    assert load_definitions(tmp_path)["mine"].numerator.codelist == "falls"
    assert set(codelists_for(tmp_path)) == {"acsc", "falls"}


BROKEN = [
    ("id", 'id = "mine"', 'id = "Mine!"', "String should match pattern"),
    ("method", 'method = "rate"', 'method = "ratio"', "Input should be 'rate' or 'proportion'"),
    ("multiplier", "multiplier = 1000", "multiplier = 0", "greater than 0"),
    ("review_date", "review_date = 2027-03-31", 'review_date = "soon"', "valid date"),
    ("polarity", 'polarity = "low_is_good"', 'polarity = "low"', "Input should be"),
    ("title", 'title = "My indicator"', "", "Field required"),
    ("colour", 'unit = "per 1,000"', 'unit = "per 1,000"\ncolour = "red"', "not a field pbc knows"),
    ("numerator.dataset", 'dataset = "apc"', 'dataset = "hes"', "Input should be"),
    ("numerator.where.ADMIMETH", '"21", "22"', '"21", "2Z"', "2Z not among the codes ADMIMETH takes"),
    ("numerator.where.ADMIMETHOD", "ADMIMETH =", "ADMIMETHOD =", "apc has no column ADMIMETHOD"),
    ("numerator.where.ADMIMETH", '["21", "22"]', "[]", "lists no codes"),
    ("standardisation", 'standardisation = "none"', 'standardisation = "both"', "Input should be"),
    ("breakdown", 'polarity = "low_is_good"', 'polarity = "low_is_good"\nbreakdown = "SPECIALTY"', "no column"),
    ("numerator.codelist", '["21", "22"] }', '["21", "22"] }\ncodelist = "acs"', "no code list 'acs'"),
    (
        "numerator.codelist_groups",
        '["21", "22"] }',
        '["21", "22"] }\ncodelist = "acsc"\ncodelist_groups = ["chronc"]',
        "chronc not among the groups",
    ),
    ("numerator.codelist_groups", '["21", "22"] }', '["21", "22"] }\ncodelist_groups = ["chronic"]', "no codelist"),
    ("denominator.where", 'dataset = "population"', 'dataset = "population"\nwhere = { SEX = ["1"] }', "cannot"),
    ("numerator.at", '["21", "22"] }', '["21", "22"] }\nat = "year_end"', "only a population"),
    ("numerator.dataset", 'dataset = "apc"', 'dataset = "population"', "must count lines or registers"),
]


@pytest.mark.parametrize(("field", "old", "new", "reason"), BROKEN, ids=[f"{b[0]}-{i}" for i, b in enumerate(BROKEN)])
def test_a_broken_definition_names_its_file_and_field(tmp_path, field, old, new, reason):
    assert old in VALID
    path = write(tmp_path, "mine", VALID.replace(old, new, 1))
    with pytest.raises(InputError) as caught:
        parse_definition(path, codelists_for())
    found = problems_of(caught.value)
    assert any(f == "mine.toml" and fld == field and reason in why for f, fld, why in found), found
    assert "mine.toml" in str(caught.value)


def test_combinations_that_make_no_sense(tmp_path):
    def problems(text: str) -> list[tuple[str | None, str]]:
        with pytest.raises(InputError) as caught:
            parse_definition(write(tmp_path, "mine", text), codelists_for())
        return [(fld, why) for _, fld, why in problems_of(caught.value)]

    indirect = VALID.replace('standardisation = "none"', 'standardisation = "indirect"')
    over_lines = indirect.replace('dataset = "population"', 'dataset = "apc"')
    assert ("standardisation", "standardised rates need the registered population as denominator") in problems(
        over_lines
    )
    proportion = VALID.replace('method = "rate"', 'method = "proportion"').replace("1000", "100")
    found = problems(proportion)
    assert ("denominator.dataset", "a proportion's denominator must count the numerator's lines") in found
    wider = proportion.replace('dataset = "population"', 'dataset = "apc"\nwhere = { ADMIMETH = ["21"] }')
    assert any(fld == "numerator.where.ADMIMETH" and "subset" in why for fld, why in problems(wider))
    unfiltered = proportion.replace('dataset = "population"', 'dataset = "apc"\nwhere = { CLASSPAT = ["1", "2"] }')
    assert any(fld == "numerator.where.CLASSPAT" and "subset" in why for fld, why in problems(unfiltered))
    percent = wider.replace('ADMIMETH = ["21"]', 'ADMIMETH = ["21", "22"]').replace(
        "multiplier = 100", "multiplier = 7"
    )
    assert ("multiplier", "a proportion is shown as a fraction (1) or percent (100)") in problems(percent)
    registers = VALID.replace('dataset = "apc"\nwhere = { ADMIMETH = ["21", "22"] }', 'dataset = "registers"')
    assert any(fld == "denominator.at" for fld, _ in problems(registers))
    renamed = write(tmp_path, "other", VALID)
    with pytest.raises(InputError, match="'mine' differs from the file name 'other'"):
        parse_definition(renamed, codelists_for())


def test_not_toml_at_all(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('id = "mine"\ntitle = \n')
    with pytest.raises(InputError, match=r"mine.toml, row 2: is not valid TOML"):
        parse_definition(path, codelists_for())


def test_every_broken_file_in_a_folder_is_reported_together(tmp_path):
    write(tmp_path, "one", VALID.replace('id = "mine"', 'id = "one"').replace('method = "rate"', 'method = "x"'))
    write(tmp_path, "two", VALID.replace('id = "mine"', 'id = "two"').replace("multiplier = 1000", "multiplier = -1"))
    with pytest.raises(InputError) as caught:
        load_definitions(tmp_path)
    assert {(p.file, p.field) for p in caught.value.problems} == {("one.toml", "method"), ("two.toml", "multiplier")}
    with pytest.raises(InputError, match="is not a folder of indicator definitions"):
        load_definitions(tmp_path / "missing")


def test_broken_code_list(tmp_path):
    shutil.copy(shipped_codelists() / "acsc.toml", tmp_path / "acsc.toml")
    text = (tmp_path / "acsc.toml").read_text()
    (tmp_path / "acsc.toml").write_text(
        text.replace('"J45", "J46"', '"J45.9", "J46"').replace('group = "acute"', 'group = "acut"', 1)
    )
    with pytest.raises(InputError) as caught:
        parse_codelist(tmp_path / "acsc.toml")
    found = problems_of(caught.value)
    assert any(fld == "condition.1.codes" and "'J45.9' is not a code prefix" in why for _, fld, why in found)
    assert any(fld == "condition.8.group" and "'acut' is not one of the file's groups" in why for _, fld, why in found)
    duplicate = tmp_path / "twice"
    duplicate.mkdir()
    shutil.copy(shipped_codelists() / "acsc.toml", duplicate / "a.toml")
    shutil.copy(shipped_codelists() / "acsc.toml", duplicate / "b.toml")
    with pytest.raises(InputError, match=r"code list 'acsc' is also in a\.toml"):
        load_codelists([duplicate])


def test_choose():
    definitions = load_definitions()
    assert [d.id for d in choose(definitions, [])] == SHIPPED
    assert [d.id for d in choose(definitions, ["referrals", "day_case_rate"])] == ["referrals", "day_case_rate"]
    with pytest.raises(PbcError, match="no indicator nope: `pbc benchmark indicators` lists them"):
        choose(definitions, ["nope"])
