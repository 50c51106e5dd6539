"""The pages: commissioner overview, cluster, practice, validation worklist, clearing house, contracts, audit log.

Each view asks `scope(request)` what the user may see before it reads anything, and reads only precomputed
figures (`pbc.web.data`). A table shown on a page downloads as CSV or XLSX with `?download=csv|xlsx&table=NAME`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from pbc.challenges import ACCEPTED, OPEN, Ledger
from pbc.finance.marts import MARTS
from pbc.indicators.spc import xmr
from pbc.web import data, uploads
from pbc.web.charts import budget_chart, funnel_chart, trend_chart
from pbc.web.models import AuditEvent
from pbc.web.roles import (
    AUDIT,
    BUDGETS,
    CHALLENGE,
    CONTRACTS,
    DECIDE,
    IDENTIFIABLE,
    INCENTIVES,
    UPLOAD,
    VIEW_CLUSTER,
    VIEW_COMMISSIONER,
    VIEW_PRACTICE,
    WORKLIST,
)
from pbc.web.scope import scope
from pbc.web.tables import Column, Table
from pbc.web.worklist import worklist_lines

MONEY_COLUMNS = (
    Column("ytd_budget", "YTD budget", "money"),
    Column("ytd_actual", "YTD actual", "money"),
    Column("ytd_variance", "YTD variance", "money"),
    Column("ytd_variance_percent", "%", "percent"),
    Column("annual", "Annual budget", "money"),
    Column("forecast_seasonal", "Forecast outturn", "money"),
    Column("forecast_variance", "Forecast variance", "money"),
)
INDICATORS = (
    ("emergency_admissions", "Emergency admissions per 1,000 weighted patients", "decrease"),
    ("acsc_admissions", "ACSC emergency admissions per 1,000 weighted patients", "decrease"),
    ("ae_attendances", "A&E attendances per 1,000 weighted patients", "decrease"),
    ("follow_up_ratio", "Outpatient follow-ups per first attendance", "decrease"),
)


def audit(request: HttpRequest, action: str, target: str = "", **detail: Any) -> None:
    """Keep an audit record of something a person did."""
    AuditEvent.objects.create(username=request.user.get_username(), action=action, target=target, detail=detail)


def _page(request: HttpRequest, template: str, tables: list[Table], **context: Any) -> HttpResponse:
    """Render a page, or download one of its tables when asked."""
    wanted = request.GET.get("download")
    if wanted in ("csv", "xlsx"):
        name = request.GET.get("table", "")
        for table in tables:
            if table.name == name:
                audit(request, "download", name, format=wanted)
                return table.download(wanted)
        raise Http404(f"no table {name!r} on this page")
    tree = data.tree()
    return render(
        request,
        template,
        {
            "tables": {t.name: t for t in tables},
            "scope": scope(request),
            "tree": tree,
            "as_at": data.as_at(tree.year),
            **context,
        },
    )


def _named(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """Rows with the organisation's name beside its code."""
    tree = data.tree()
    return [
        {**r, "NAME": tree.name(r[key]).title() if tree.name(r[key]).isupper() else tree.name(r[key])} for r in rows
    ]


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send each user to the page of their organisation."""
    s = scope(request)
    if s.role is None:
        raise PermissionDenied("your account has no role yet: ask an administrator")
    target = {"commissioner": "commissioner", "locality": "cluster", "practice": "practice"}[s.role.level]
    return redirect(target, code=s.organisation)


def _indicators(year: str, level: str, code: str) -> list[dict[str, Any]]:
    """Each key indicator's latest value with its SPC variation, as the MDC icons read (made once per month run)."""
    return data.cached(
        MARTS, ("indicators", year, level, code, data.as_at(year)), lambda: _make_indicators(year, level, code)
    )


def warm_indicators(tree: data.Tree) -> None:
    """Build the commissioner's and clusters' indicator charts before serving.

    A practice's are built on its first visit: there are many practices and each page is opened by few people.
    """
    _indicators(tree.year, "commissioner", tree.commissioner)
    for locality in tree.localities():
        _indicators(tree.year, "cluster", locality)


def _make_indicators(year: str, level: str, code: str) -> list[dict[str, Any]]:
    out = []
    month = data.as_at(year)
    for indicator, title, improvement in INDICATORS:
        series = [p for p in data.trends(year, level, code, indicator) if p["month"] <= month]
        if len(series) < 2:
            continue
        ratio = indicator == "follow_up_ratio"
        values = [
            (p["count"] / p["denominator"] if ratio else p["count"] * 1000 / p["denominator"])
            if p["denominator"]
            else 0
            for p in series
        ]
        chart = xmr(values, improvement=improvement)
        latest = chart.points[-1]
        out.append(
            {
                "indicator": indicator,
                "title": title,
                "latest": f"{values[-1]:.2f}",
                "variation": latest.variation.replace("_", " "),
                "icon": chart.variation_icon,
                "signals": ", ".join(latest.rules).replace("_", " "),
                "spec": trend_chart(series, values, chart, title),
            }
        )
    return out


@login_required
def commissioner(request: HttpRequest, code: str) -> HttpResponse:
    """Budget against actual by cluster, forecast outturn, key indicators with SPC, data quality."""
    s = scope(request)
    s.check(VIEW_COMMISSIONER, s.commissioner(code))
    tree = data.tree()
    keep = s.keeps()
    clusters = Table(
        "clusters",
        "Budget against actual by cluster",
        (Column("LOCALITY", "Cluster"), Column("NAME", "Name"), *MONEY_COLUMNS),
        _named(data.monitoring(tree.year, ["LOCALITY"], keep), "LOCALITY"),
        links={"LOCALITY": "/cluster/{value}/"},
    )
    pods = data.monitoring(tree.year, ["POD"], keep)
    quality = data.quality(tree.practices())
    dq = Table(
        "quality",
        "Data quality: lines flagged by the rules",
        (Column("practice", "Practice"), Column("lines", "Lines", "number"), Column("flagged", "Flagged", "number")),
        sorted(quality, key=lambda r: -r["flagged"])[:10],
        links={"practice": "/practice/{value}/"},
    )
    return _page(
        request,
        "pbc/commissioner.html",
        [clusters, dq],
        code=code,
        title=tree.name(code),
        chart=budget_chart(pods, "Year to date by point of delivery"),
        indicators=_indicators(tree.year, "commissioner", code),
    )


@login_required
def cluster(request: HttpRequest, code: str) -> HttpResponse:
    """A cluster: activity and finance on one screen, its practices compared, indicators."""
    s = scope(request)
    s.check(VIEW_CLUSTER, s.locality(code))
    tree = data.tree()

    def keep(row: dict[str, Any]) -> bool:
        return row.get("LOCALITY") == code

    practices = Table(
        "practices",
        "Practices compared",
        (Column("PRACTICE", "Practice"), Column("NAME", "Name"), *MONEY_COLUMNS),
        _named(data.monitoring(tree.year, ["PRACTICE"], keep), "PRACTICE"),
        links={"PRACTICE": "/practice/{value}/"},
    )
    specialties = Table(
        "specialties",
        "Spend by specialty, year to date",
        (Column("SPECIALTY", "Specialty"), Column("activity", "Activity", "number"), Column("pence", "Cost", "money")),
        data.spend(tree.year, ["SPECIALTY"], keep)[:15],
    )
    units, curve = data.benchmark(tree.year, "emergency_admissions")
    funnel = data.cached(
        MARTS,
        ("funnel", tree.year, code),
        lambda: funnel_chart(
            units,
            curve,
            set(tree.practices(code)),
            "Emergency admissions, observed/expected x 100, by practice: the cluster against the commissioner",
        ),
    )
    return _page(
        request,
        "pbc/cluster.html",
        [practices, specialties],
        code=code,
        title=tree.name(code),
        chart=budget_chart(data.monitoring(tree.year, ["POD"], keep), "Year to date by point of delivery"),
        funnel=funnel,
        indicators=_indicators(tree.year, "cluster", code),
    )


@login_required
def practice(request: HttpRequest, code: str) -> HttpResponse:
    """A practice: spend against budget by POD and specialty, providers, indicators, and its worklist."""
    s = scope(request)
    s.check(VIEW_PRACTICE, s.practice(code))
    tree = data.tree()

    def keep(row: dict[str, Any]) -> bool:
        return row.get("PRACTICE") == code

    pods = Table(
        "pods",
        "Budget against actual by point of delivery",
        (Column("POD", "POD"), *MONEY_COLUMNS),
        data.monitoring(tree.year, ["POD"], keep),
    )
    specialties = Table(
        "specialties",
        "Spend by specialty, year to date",
        (Column("SPECIALTY", "Specialty"), Column("activity", "Activity", "number"), Column("pence", "Cost", "money")),
        data.spend(tree.year, ["SPECIALTY"], keep),
    )
    providers = Table(
        "providers",
        "Spend by provider, year to date",
        (Column("PROCODE", "Provider"), Column("activity", "Activity", "number"), Column("pence", "Cost", "money")),
        data.spend(tree.year, ["PROCODE"], keep),
    )
    referrals = Table(
        "referrals",
        "GP referrals by specialty, year to date",
        (
            Column("specialty", "Specialty"),
            Column("referrals", "Referrals", "number"),
            Column("per_1000", "Per 1,000 weighted patients"),
        ),
        data.referrals(tree.year, code),
    )
    return _page(
        request,
        "pbc/practice.html",
        [pods, specialties, providers, referrals],
        code=code,
        title=tree.name(code),
        locality=tree.locality_of.get(code),
        chart=budget_chart(pods.rows, "Year to date by point of delivery"),
        indicators=_indicators(tree.year, "practice", code),
    )


@login_required
@require_http_methods(["GET", "POST"])
def worklist(request: HttpRequest, code: str) -> HttpResponse:
    """A practice's lines for a month and data set, flags, and challenges (one or many) with a reason."""
    s = scope(request)
    s.check(WORKLIST, s.practice(code))
    tree = data.tree()
    month = request.GET.get("month") or f"{data.as_at(tree.year):%Y-%m}"
    dataset = request.GET.get("dataset", "apc")
    if dataset not in ("apc", "op", "ae"):
        raise Http404("unknown data set")
    try:
        dt.datetime.strptime(month, "%Y-%m")
    except ValueError as error:
        raise Http404("month must be YYYY-MM") from error
    ledger = Ledger(data.settings().home)
    if request.method == "POST":
        s.require(CHALLENGE)
        keys = request.POST.getlist("line")
        reason = request.POST.get("reason", "").strip()
        if not keys or not reason:
            messages.error(request, "Choose at least one line and give a reason.")
        else:
            known = {f"{r['PROCODE']}|{r['RECORD_KEY']}" for r in worklist_lines(code, month, dataset, False)}
            for key in keys:
                if key not in known:
                    raise PermissionDenied("that line is not one of this practice's")
                procode, record = key.split("|", 1)
                raised = ledger.raise_challenge(dataset, procode, record, code, reason, request.user.get_username())
                audit(request, "challenge", f"{dataset}/{procode}/{record}", challenge=raised.id, reason=reason)
            messages.success(request, f"{len(keys)} line(s) challenged.")
        return redirect(f"{request.path}?month={month}&dataset={dataset}")
    identifiable = s.can(IDENTIFIABLE)
    lines = worklist_lines(code, month, dataset, identifiable)
    if identifiable:
        audit(request, "view_identifiable", f"{code}/{dataset}/{month}", lines=len(lines))
    table = Table(
        "worklist",
        f"{dataset.upper()} lines for {month}",
        (
            Column("PROCODE", "Provider"),
            Column("RECORD_KEY", "Record"),
            *([Column("NHS_NUMBER", "NHS number")] if identifiable else []),
            Column("ACTIVITY_DATE", "Date"),
            Column("DETAIL", "Detail"),
            Column("FLAGS", "Flags"),
            Column("STATUS", "Challenge"),
        ),
        lines,
    )
    return _page(
        request,
        "pbc/worklist.html",
        [table],
        code=code,
        title=tree.name(code),
        month=month,
        dataset=dataset,
        can_challenge=s.can(CHALLENGE),
    )


@login_required
@require_http_methods(["GET", "POST"])
def clearing_house(request: HttpRequest) -> HttpResponse:
    """Open challenges from the commissioner's practices; accept or reject each with a reason."""
    s = scope(request)
    s.check(DECIDE, s.commissioner(data.tree().commissioner))
    ledger = Ledger(data.settings().home)
    if request.method == "POST":
        challenge_id = request.POST.get("challenge", "")
        decision = request.POST.get("decision")
        reason = request.POST.get("reason", "").strip()
        if decision not in ("accept", "reject") or not reason:
            messages.error(request, "Choose accept or reject and give a reason.")
        else:
            decided = ledger.decide(challenge_id, decision == "accept", reason, request.user.get_username())
            audit(request, "decide", challenge_id, decision=decision, reason=reason)
            messages.success(request, f"Challenge {decided.id[:8]} {decided.status}.")
        return redirect("clearing_house")
    keep = s.keeps()
    rows = [
        {
            "id": c.id,
            "short": c.id[:8],
            "practice": c.practice,
            "line": f"{c.dataset}/{c.procode}/{c.record_key}",
            "reason": c.reason,
            "raised_by": c.raised_by,
            "raised_at": c.raised_at[:16],
            "status": c.status,
        }
        for c in ledger.challenges().values()
        if keep({"PRACTICE": c.practice})
    ]
    table = Table(
        "challenges",
        "Challenges",
        (
            Column("short", "Id"),
            Column("practice", "Practice"),
            Column("line", "Line"),
            Column("reason", "Reason"),
            Column("raised_by", "By"),
            Column("raised_at", "When"),
            Column("status", "Status"),
        ),
        sorted(rows, key=lambda r: (r["status"] != OPEN, r["raised_at"])),
    )
    return _page(
        request,
        "pbc/clearing_house.html",
        [table],
        title="Clearing house",
        open_rows=[r for r in rows if r["status"] == OPEN],
        accepted=ACCEPTED,
    )


@login_required
def contracts(request: HttpRequest) -> HttpResponse:
    """Each provider's contract: plan against actual, year to date."""
    s = scope(request)
    s.check(CONTRACTS, s.commissioner(data.tree().commissioner))
    from pbc.web.contracts import contract_rows

    table = Table(
        "contracts",
        "Contracts: plan against actual, year to date",
        (
            Column("PROCODE", "Provider"),
            Column("POD", "POD"),
            Column("YTD_PLAN_PENCE", "YTD plan", "money"),
            Column("YTD_ACTUAL_PENCE", "YTD actual", "money"),
            Column("YTD_VARIANCE_PENCE", "Variance", "money"),
            Column("YTD_VARIANCE_PERCENT", "%", "percent"),
            Column("ANNUAL_PLAN_PENCE", "Annual plan", "money"),
        ),
        contract_rows(data.tree().year),
    )
    return _page(request, "pbc/table_page.html", [table], title="Provider contracts")


@login_required
def budgets(request: HttpRequest) -> HttpResponse:
    """The latest budget run: its scheme and parameters, and budgets by cluster and practice."""
    s = scope(request)
    tree = data.tree()
    s.check(BUDGETS, s.commissioner(tree.commissioner))
    run, rows = data.budget_run()
    columns = (
        Column("BASELINE_PENCE", "Baseline", "money"),
        Column("HISTORIC_SHARE_PENCE", "Historic share", "money"),
        Column("FAIR_SHARE_PENCE", "Fair share", "money"),
        Column("BUDGET_PENCE", "Budget", "money"),
    )
    clusters = Table(
        "clusters",
        "Budgets by cluster",
        (Column("LOCALITY", "Cluster"), *columns),
        data.sum_by(rows, "LOCALITY"),
        links={"LOCALITY": "/cluster/{value}/"},
    )
    practices = Table(
        "practices",
        "Budgets by practice",
        (
            Column("PRACTICE", "Practice"),
            Column("LOCALITY", "Cluster"),
            Column("LIST_SIZE", "List", "number"),
            *columns,
        ),
        data.sum_by(rows, "PRACTICE", "LOCALITY"),
        links={"PRACTICE": "/practice/{value}/"},
    )
    return _page(request, "pbc/budgets.html", [clusters, practices], title="Indicative budgets", run=run)


@login_required
def incentives(request: HttpRequest) -> HttpResponse:
    """What the incentive scheme owes, per payee and component (the Hertfordshire 2007/08 LES by default)."""
    s = scope(request)
    tree = data.tree()
    s.check(INCENTIVES, s.commissioner(tree.commissioner))
    scheme_id = request.GET.get("scheme", "herts_pbc_les_2007_08")
    from pbc.incentives.scheme import shipped_schemes

    if scheme_id not in shipped_schemes():
        raise Http404("unknown scheme")
    rows = data.incentive_payments(scheme_id, tree.commissioner)
    table = Table(
        "payments",
        "Payments due and withheld",
        (
            Column("payee_kind", "Payee"),
            Column("payee", "Code"),
            Column("component", "Component"),
            Column("lines", "Lines", "number"),
            Column("pence", "Due", "money"),
            Column("withheld", "Withheld", "money"),
        ),
        rows,
    )
    return _page(request, "pbc/table_page.html", [table], title=f"Incentives: {scheme_id.replace('_', ' ')}")


@login_required
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest) -> HttpResponse:
    """Upload extracts (CSV) to be ingested in the background; the latest uploads and their outcome."""
    s = scope(request)
    s.check(UPLOAD, s.commissioner(data.tree().commissioner))
    if request.method == "POST":
        files = request.FILES.getlist("extracts")
        if not files:
            messages.error(request, "Choose one or more extract files.")
            return redirect("upload")
        upload_id = uploads.start(files, request.user.get_username())
        audit(request, "upload", upload_id, files=[f.name for f in files])
        return redirect("upload_status", upload_id=upload_id)
    return render(request, "pbc/upload.html", {"scope": s, "title": "Upload extracts", "recent": uploads.recent()})


@login_required
def upload_status(request: HttpRequest, upload_id: str) -> HttpResponse:
    """One upload's progress (the page refreshes itself while the ingest runs)."""
    s = scope(request)
    s.check(UPLOAD, s.commissioner(data.tree().commissioner))
    found = uploads.status(upload_id)
    if found is None:
        raise Http404("no such upload")
    return render(request, "pbc/upload_status.html", {"scope": s, "title": "Upload", "upload": found})


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    """The latest audit records (administrators)."""
    s = scope(request)
    s.check(AUDIT, s.commissioner(data.tree().commissioner))
    rows = [
        {"at": e.at.strftime("%Y-%m-%d %H:%M:%S"), "user": e.username, "action": e.action, "target": e.target}
        for e in AuditEvent.objects.all()[:500]
    ]
    table = Table(
        "audit",
        "Audit log",
        (Column("at", "When"), Column("user", "Who"), Column("action", "What"), Column("target", "On")),
        rows,
    )
    return _page(request, "pbc/table_page.html", [table], title="Audit log")
