"""The Jinja2 environment of the web pages: pbc's templates, then the NHS design system's (nhsuk-frontend-jinja)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nhsuk_frontend_jinja
from django.contrib.messages import get_messages
from django.templatetags.static import static
from django.urls import reverse
from jinja2 import ChainableUndefined, ChoiceLoader, Environment, FileSystemLoader, PackageLoader

from pbc.money import pounds


def _url(name: str, *args: Any, **kwargs: Any) -> str:
    return reverse(name, args=args or None, kwargs=kwargs or None)


def environment(**options: Any) -> Environment:
    """The environment Django's Jinja2 backend uses (settings.TEMPLATES)."""
    nhsuk = Path(nhsuk_frontend_jinja.__file__).parent / "templates"
    options["loader"] = ChoiceLoader(
        [*([options.pop("loader")] if "loader" in options else []), PackageLoader("pbc.web"), FileSystemLoader(nhsuk)]
    )
    # The NHS templates read nested parameters that may be absent (params.navigation.colour), as Nunjucks allows.
    options["undefined"] = ChainableUndefined
    env = Environment(**options)
    env.globals.update({"url": _url, "static": static, "get_messages": get_messages, "zip": zip})
    env.filters.update(
        {
            "pounds": pounds,
            "percent": lambda v: "" if v is None else f"{v:+.1f}%",
            "number": lambda v: "" if v is None else f"{v:,}",
            "tojson_spec": lambda spec: json.dumps(spec),
        }
    )
    return env
