"""What the web application keeps itself: each user's role and organisation, and the audit log."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from pbc.web.roles import ROLES


class Membership(models.Model):
    """A user's role and the organisation (commissioner, cluster or practice code) it applies to."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership")
    role = models.CharField(max_length=40, choices=[(k, r.title) for k, r in ROLES.items()])
    organisation = models.CharField(max_length=40)

    def __str__(self) -> str:
        return f"{self.user} ({self.role}, {self.organisation})"


class AuditEvent(models.Model):
    """Something a person did that must be answerable for: a sign-in, a view of identifiable lines, a decision."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    username = models.CharField(max_length=150)
    action = models.CharField(max_length=60)
    target = models.CharField(max_length=200, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:  # noqa: D106
        ordering = ("-at",)

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.action} {self.target}"
