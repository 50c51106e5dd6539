"""Roles: what each kind of user may do, and at which level of the tree their organisation sits.

A role is a set of capabilities; views ask for a capability, never for a role, so a new role is a line here.
"""

from __future__ import annotations

from dataclasses import dataclass

VIEW_COMMISSIONER = "view_commissioner"
VIEW_CLUSTER = "view_cluster"
VIEW_PRACTICE = "view_practice"
WORKLIST = "worklist"
CHALLENGE = "challenge"
IDENTIFIABLE = "identifiable"
DECIDE = "decide"
CONTRACTS = "contracts"
BUDGETS = "budgets"
INCENTIVES = "incentives"
AUDIT = "audit"
API = "api"
UPLOAD = "upload"


@dataclass(frozen=True)
class Role:
    """A role: its name for people, the level its organisation sits at, and what it may do."""

    name: str
    title: str
    level: str  # commissioner, locality or practice
    capabilities: frozenset[str]


_COMMISSIONER_READ = frozenset({VIEW_COMMISSIONER, VIEW_CLUSTER, VIEW_PRACTICE, WORKLIST, API})
ROLES: dict[str, Role] = {
    r.name: r
    for r in (
        Role(
            "commissioner_analyst",
            "Commissioner analyst",
            "commissioner",
            _COMMISSIONER_READ | {CONTRACTS, BUDGETS, UPLOAD},
        ),
        Role("finance_lead", "Finance lead", "commissioner", _COMMISSIONER_READ | {CONTRACTS, BUDGETS, INCENTIVES}),
        Role("clearing_house", "Clearing house", "commissioner", _COMMISSIONER_READ | {DECIDE}),
        Role("governance_member", "Governance committee member", "commissioner", _COMMISSIONER_READ | {INCENTIVES}),
        Role(
            "administrator",
            "Administrator",
            "commissioner",
            _COMMISSIONER_READ | {CONTRACTS, BUDGETS, INCENTIVES, DECIDE, AUDIT, UPLOAD},
        ),
        Role("cluster_lead", "Cluster lead", "locality", frozenset({VIEW_CLUSTER, VIEW_PRACTICE, WORKLIST, API})),
        Role(
            "practice_user",
            "Practice user",
            "practice",
            frozenset({VIEW_PRACTICE, WORKLIST, CHALLENGE, IDENTIFIABLE, API}),
        ),
    )
}
