"""The HTTP API: the figures analysts pull into their own tools, as JSON or CSV, scoped like the pages.

`/api/openapi.json` describes every endpoint (OpenAPI 3.1). Every call needs a signed-in session (401 otherwise)
and sees only the rows of the user's organisation.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from pbc.web import data
from pbc.web.roles import API
from pbc.web.scope import scope

LEVELS = {"commissioner": ["COMMISSIONER"], "cluster": ["LOCALITY"], "practice": ["LOCALITY", "PRACTICE"]}
SPEND_BY = ("POD", "SPECIALTY", "PROCODE", "PRACTICE", "LOCALITY")


def _respond(request: HttpRequest, rows: list[dict[str, Any]], **meta: Any) -> HttpResponse:
    if request.GET.get("format") == "csv":
        text = io.StringIO()
        if rows:
            writer = csv.DictWriter(text, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        return HttpResponse(text.getvalue(), content_type="text/csv; charset=utf-8")
    return JsonResponse({**meta, "rows": rows}, json_dumps_params={"default": str})


def _bad(message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=400)


def monitoring(request: HttpRequest) -> HttpResponse:
    """Budget against actual by level (and POD), year to date, with forecasts."""
    s = scope(request)
    s.require(API)
    level = request.GET.get("level", "cluster")
    if level not in LEVELS:
        return _bad(f"level must be one of {', '.join(LEVELS)}")
    by = LEVELS[level] + (["POD"] if request.GET.get("by_pod") == "1" else [])
    tree = data.tree()
    rows = data.monitoring(tree.year, by, s.keeps())
    return _respond(request, rows, year=tree.year, as_at=data.as_at(tree.year).isoformat(), level=level)


def spend(request: HttpRequest) -> HttpResponse:
    """Year-to-date activity and cost by POD, specialty, provider, practice or cluster."""
    s = scope(request)
    s.require(API)
    by = [b for b in request.GET.get("by", "POD").split(",") if b]
    if not by or any(b not in SPEND_BY for b in by):
        return _bad(f"by must name columns among {', '.join(SPEND_BY)}")
    tree = data.tree()
    return _respond(request, data.spend(tree.year, by, s.keeps()), year=tree.year, by=by)


def trends(request: HttpRequest) -> HttpResponse:
    """One organisation's monthly series of a trend indicator."""
    s = scope(request)
    s.require(API)
    code, indicator = request.GET.get("code", ""), request.GET.get("indicator", "emergency_admissions")
    tree = data.tree()
    if s.practice(code):
        level = "practice"
    elif s.locality(code):
        level = "cluster"
    elif s.commissioner(code):
        level = "commissioner"
    else:
        return JsonResponse({"error": f"{code!r} is not an organisation you can see"}, status=403)
    rows = [{**p, "month": p["month"].isoformat()} for p in data.trends(tree.year, level, code, indicator)]
    return _respond(request, rows, code=code, indicator=indicator, level=level)


def openapi(request: HttpRequest) -> JsonResponse:
    """The OpenAPI description of the API."""
    fmt = {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json", "csv"]}}
    ok = {"200": {"description": "the rows you may see"}, "401": {"description": "not signed in"}}
    return JsonResponse(
        {
            "openapi": "3.1.0",
            "info": {"title": "pbc API", "version": "1", "description": "Figures scoped to your organisation."},
            "components": {"securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": "sessionid"}}},
            "security": [{"session": []}],
            "paths": {
                "/api/monitoring": {
                    "get": {
                        "summary": "Budget against actual, year to date, with forecast outturn",
                        "parameters": [
                            {"name": "level", "in": "query", "schema": {"type": "string", "enum": list(LEVELS)}},
                            {"name": "by_pod", "in": "query", "schema": {"type": "string", "enum": ["0", "1"]}},
                            fmt,
                        ],
                        "responses": {**ok, "400": {"description": "a parameter is wrong"}},
                    }
                },
                "/api/spend": {
                    "get": {
                        "summary": "Year-to-date activity and cost by the columns asked for",
                        "parameters": [{"name": "by", "in": "query", "schema": {"type": "string"}}, fmt],
                        "responses": {**ok, "400": {"description": "a parameter is wrong"}},
                    }
                },
                "/api/trends": {
                    "get": {
                        "summary": "A trend indicator's monthly series for a practice, cluster or commissioner",
                        "parameters": [
                            {"name": "code", "in": "query", "required": True, "schema": {"type": "string"}},
                            {"name": "indicator", "in": "query", "schema": {"type": "string"}},
                            fmt,
                        ],
                        "responses": {**ok, "403": {"description": "not an organisation you can see"}},
                    }
                },
            },
        }
    )
