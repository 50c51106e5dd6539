"""The one place where what a user may see is decided: their role's capabilities and their organisation's reach.

Every view gets a `Scope` from the request and asks it: may this user do X (`require`), may they see this
practice, cluster or commissioner (`practice`, `locality`, `commissioner`), and which rows of a table are theirs
(`keeps`). A practice user reaches only their own practice; a cluster lead their cluster and its practices; the
commissioner's staff everything of their commissioner. Nothing is shown by default: a user with no membership
reaches nothing. `LoginRequiredMiddleware` refuses every page but the sign-in page to anyone not signed in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect

from pbc.web import data
from pbc.web.roles import ROLES, Role

OPEN_PATHS = ("/login/", "/static/", "/health")


@dataclass(frozen=True)
class Scope:
    """What one signed-in user may do and see."""

    username: str
    role: Role | None
    organisation: str

    @classmethod
    def of(cls, request: HttpRequest) -> Scope:
        """The scope of the request's user (no role: reaches nothing)."""
        user = request.user
        membership = getattr(user, "membership", None) if user.is_authenticated else None
        if membership is None:
            return cls(user.get_username() if user.is_authenticated else "", None, "")
        return cls(user.get_username(), ROLES.get(membership.role), membership.organisation)

    def can(self, capability: str) -> bool:
        """Whether the role has a capability."""
        return self.role is not None and capability in self.role.capabilities

    def require(self, capability: str) -> None:
        """Refuse (403) unless the role has the capability."""
        if not self.can(capability):
            raise PermissionDenied(f"{self.username} may not {capability.replace('_', ' ')}")

    def commissioner(self, code: str) -> bool:
        """Whether the user reaches the whole of a commissioner."""
        return self.role is not None and self.role.level == "commissioner" and self.organisation == code

    def locality(self, code: str) -> bool:
        """Whether the user reaches a cluster."""
        if self.role is None:
            return False
        tree = data.tree()
        if code not in tree.localities():
            return False
        if self.role.level == "commissioner":
            return self.organisation == tree.commissioner
        return self.role.level == "locality" and self.organisation == code

    def practice(self, code: str) -> bool:
        """Whether the user reaches a practice."""
        if self.role is None:
            return False
        tree = data.tree()
        if code not in tree.locality_of:
            return False
        if self.role.level == "practice":
            return self.organisation == code
        return self.locality(tree.locality_of[code])

    def keeps(self) -> Callable[[dict[str, Any]], bool]:
        """A row filter for tables with PRACTICE (and LOCALITY) columns: only the user's rows pass."""
        if self.role is None:
            return lambda row: False
        tree = data.tree()
        if self.role.level == "commissioner":
            ok = self.organisation == tree.commissioner
            return lambda row: ok
        if self.role.level == "locality":
            return lambda row: tree.locality_of.get(row.get("PRACTICE") or "", row.get("LOCALITY")) == self.organisation
        return lambda row: row.get("PRACTICE") == self.organisation

    def check(self, capability: str, allowed: bool) -> None:
        """`require` the capability and that the organisation asked for is within reach (else 403)."""
        self.require(capability)
        if not allowed:
            raise PermissionDenied(f"{self.username} may not see that organisation")


def scope(request: HttpRequest) -> Scope:
    """The request's scope, computed once per request."""
    found = getattr(request, "_pbc_scope", None)
    if found is None:
        found = Scope.of(request)
        request._pbc_scope = found  # type: ignore[attr-defined]
    return found


class LoginRequiredMiddleware:
    """Every page and API call needs a signed-in user; the API answers 401 JSON, pages redirect to sign in."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Answer for the anonymous, or pass the request on."""
        if not request.path.startswith(OPEN_PATHS) and not request.user.is_authenticated:
            if request.path.startswith("/api/"):
                return JsonResponse({"error": "sign in first"}, status=401)
            return redirect(f"{settings.LOGIN_URL}?next={request.path}")
        return self.get_response(request)
