"""The challenge ledger: a practice challenges a line, the clearing house accepts or rejects it, for the record.

The ledger is append-only (`PBC_HOME/ledger/challenges.jsonl`): each event (raised, decided) is a line with who
and when, and nothing is ever rewritten, so the history of every challenge can be shown to a practice, a provider
or an auditor. A challenge's state is the fold of its events. Accepted lines leave the practice's costed activity at
the next monthly run and are listed as challenges to the provider. Appends are serialised with a file lock.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from pbc.errors import PbcError

OPEN, ACCEPTED, REJECTED = "open", "accepted", "rejected"


@dataclass
class Challenge:
    """A challenge and what has happened to it."""

    id: str
    dataset: str
    procode: str
    record_key: str
    practice: str
    reason: str
    raised_by: str
    raised_at: str
    status: str = OPEN
    decision_reason: str | None = None
    decided_by: str | None = None
    decided_at: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)


class Ledger:
    """The append-only challenge ledger under PBC_HOME."""

    def __init__(self, home: Path) -> None:
        self.path = Path(home) / "ledger" / "challenges.jsonl"

    def _append(self, event: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.write(json.dumps(event, sort_keys=True) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
            fcntl.flock(handle, fcntl.LOCK_UN)

    def events(self) -> list[dict[str, Any]]:
        """Every event, oldest first."""
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]

    def challenges(self) -> dict[str, Challenge]:
        """Every challenge's current state, by id."""
        found: dict[str, Challenge] = {}
        for event in self.events():
            if event["event"] == "raised":
                found[event["challenge"]] = Challenge(
                    id=event["challenge"],
                    dataset=event["dataset"],
                    procode=event["procode"],
                    record_key=event["record_key"],
                    practice=event["practice"],
                    reason=event["reason"],
                    raised_by=event["by"],
                    raised_at=event["at"],
                )
            elif event["event"] == "decided":
                challenge = found[event["challenge"]]
                challenge.status = event["decision"]
                challenge.decision_reason, challenge.decided_by = event["reason"], event["by"]
                challenge.decided_at = event["at"]
            found[event["challenge"]].history.append(event)
        return found

    def raise_challenge(
        self, dataset: str, procode: str, record_key: str, practice: str, reason: str, by: str
    ) -> Challenge:
        """Record a practice's challenge to a line (one live challenge per line)."""
        if not reason.strip():
            raise PbcError("a challenge needs a reason the clearing house can act on")
        for existing in self.challenges().values():
            same = (existing.dataset, existing.procode, existing.record_key) == (dataset, procode, record_key)
            if same and existing.status in (OPEN, ACCEPTED):
                raise PbcError(
                    f"line {dataset} {procode} {record_key} already has challenge {existing.id} ({existing.status})"
                )
        event = {
            "event": "raised",
            "challenge": uuid.uuid4().hex[:12],
            "dataset": dataset,
            "procode": procode,
            "record_key": record_key,
            "practice": practice,
            "reason": reason.strip(),
            "by": by,
            "at": dt.datetime.now(dt.UTC).isoformat(),
        }
        self._append(event)
        return self.challenges()[event["challenge"]]

    def decide(self, challenge_id: str, accept: bool, reason: str, by: str) -> Challenge:
        """The clearing house's decision on an open challenge."""
        challenge = self.challenges().get(challenge_id)
        if challenge is None:
            raise PbcError(f"no challenge {challenge_id!r}: `pbc challenge list` shows them")
        if challenge.status != OPEN:
            raise PbcError(f"challenge {challenge_id} was already {challenge.status} by {challenge.decided_by}")
        if not reason.strip():
            raise PbcError("a decision needs a reason the practice can read")
        self._append(
            {
                "event": "decided",
                "challenge": challenge_id,
                "decision": ACCEPTED if accept else REJECTED,
                "reason": reason.strip(),
                "by": by,
                "at": dt.datetime.now(dt.UTC).isoformat(),
            }
        )
        return self.challenges()[challenge_id]

    def accepted_lines(self) -> pa.Table:
        """The lines whose challenges were accepted: they leave the practice's costed activity."""
        rows = [c for c in self.challenges().values() if c.status == ACCEPTED]
        return pa.table(
            {
                "DATASET": pa.array([c.dataset for c in rows], pa.string()),
                "PROCODE": pa.array([c.procode for c in rows], pa.string()),
                "RECORD_KEY": pa.array([c.record_key for c in rows], pa.string()),
                "CHALLENGE": pa.array([c.id for c in rows], pa.string()),
                "DECIDED_AT": pa.array([c.decided_at for c in rows], pa.string()),
            }
        )
