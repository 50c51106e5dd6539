"""The Django app config."""

from django.apps import AppConfig


class WebConfig(AppConfig):
    """pbc's web application."""

    name = "pbc.web"
    label = "pbc_web"
    default_auto_field = "django.db.models.BigAutoField"
