"""The challenge ledger: raise, decide once, append-only, one live challenge per line."""

from __future__ import annotations

import pytest

from pbc.challenges import ACCEPTED, OPEN, REJECTED, Ledger
from pbc.errors import PbcError


def test_raise_and_accept(tmp_path):
    ledger = Ledger(tmp_path)
    made = ledger.raise_challenge("apc", "RV8", "0000000042", "E84002", "patient registered elsewhere", "gp1")
    assert made.status == OPEN
    decided = ledger.decide(made.id, True, "confirmed on the register", "clearing1")
    assert (decided.status, decided.decided_by, decided.decision_reason) == (
        ACCEPTED,
        "clearing1",
        "confirmed on the register",
    )
    accepted = ledger.accepted_lines().to_pylist()
    assert [(a["DATASET"], a["PROCODE"], a["RECORD_KEY"]) for a in accepted] == [("apc", "RV8", "0000000042")]


def test_the_ledger_is_append_only(tmp_path):
    ledger = Ledger(tmp_path)
    made = ledger.raise_challenge("op", "RV8", "1", "E84002", "duplicate", "gp1")
    first = ledger.path.read_text()
    ledger.decide(made.id, False, "not a duplicate: two clinics", "clearing1")
    assert ledger.path.read_text().startswith(first)
    assert [e["event"] for e in ledger.events()] == ["raised", "decided"]
    assert ledger.challenges()[made.id].status == REJECTED


def test_rules_of_the_ledger(tmp_path):
    ledger = Ledger(tmp_path)
    made = ledger.raise_challenge("ae", "RV8", "7", "E84002", "attended twice?", "gp1")
    with pytest.raises(PbcError, match="already has challenge"):
        ledger.raise_challenge("ae", "RV8", "7", "E84002", "again", "gp1")
    with pytest.raises(PbcError, match="needs a reason"):
        ledger.raise_challenge("ae", "RV8", "8", "E84002", "  ", "gp1")
    with pytest.raises(PbcError, match="needs a reason"):
        ledger.decide(made.id, True, "", "clearing1")
    ledger.decide(made.id, False, "separate attendances", "clearing1")
    with pytest.raises(PbcError, match="already rejected"):
        ledger.decide(made.id, True, "changed my mind", "clearing2")
    with pytest.raises(PbcError, match="no challenge 'nope'"):
        ledger.decide("nope", True, "x", "clearing1")
    again = ledger.raise_challenge("ae", "RV8", "7", "E84002", "new evidence", "gp1")
    assert again.status == OPEN
