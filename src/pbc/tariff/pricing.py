"""Price every admitted-care, outpatient and A&E line at the tariff of its year, explaining each price.

A commissioner recomputes the provider's claim independently (DOMAIN.md section 3), so this module never borrows
the provider's pricing code: it is written from the rules, as ibis expressions (joins, case expressions and
integer arithmetic) that run unchanged on DuckDB and Spark. Each line keeps its own columns and gains its
breakdown: tariff year, POD, currency, base price, trim point, excess bed days, long-stay payment, short-stay
reduction, MFF, price, whether it could be priced and the rule applied. A line that cannot be priced (no tariff
for its year, currency or provider) is priced at 0 and flagged, never dropped, so totals always reconcile to the
lines sent.

Money is integer pence and the MFF an integer in ten-thousandths. The price is
`(pence * mff_e4 + 5000) // 10000`, half up. The engines divide integers as doubles, so the remainder is taken
off first: the division is then exact and no float rounding can move a penny.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis
from ibis import _

from pbc.activity import activity
from pbc.tariff.model import tariff_tables
from pbc.warehouse import Warehouse

if TYPE_CHECKING:
    from ibis.backends import BaseBackend
    from ibis.common.deferred import Deferred

OUTPUT_COLUMNS = (
    "TARIFF_YEAR",
    "POD",
    "CURRENCY",
    "BASE_PENCE",
    "TRIM_DAYS",
    "EXCESS_DAYS",
    "LONG_STAY_PENCE",
    "SHORT_STAY_REDUCTION_PENCE",
    "MFF_E4",
    "PRICE_PENCE",
    "PRICED",
    "PRICE_RULE",
)
DATASETS = ("apc", "op", "ae")
ELECTIVE_ADMIMETH = ("11", "12", "13")  # data dictionary: elective admission methods
FIRST_ATTENDANCE = ("1", "3")  # first attendance, face to face or by telephone
FOLLOW_UP = ("2", "4")
PAYABLE_ATTENDED = ("5", "6")  # seen, on time or late
DID_NOT_ATTEND = ("3", "7")  # did not attend; arrived too late to be seen
TARIFF_DATE = {"apc": "DISDATE", "op": "APPTDATE", "ae": "ARRIVALDATE"}
REQUIRED = {
    "apc": ("PROCODE", "STARTAGE", "ADMIDATE", "DISDATE", "ADMIMETH", "SUSHRG"),
    "op": ("PROCODE", "APPTDATE", "FIRSTATT", "ATTENDED", "TRETSPEF"),
    "ae": ("PROCODE", "ARRIVALDATE", "AEDEPTTYPE", "SUSHRG"),
}


def financial_year(date: ibis.DateValue) -> ibis.StringValue:
    """The financial year (April to March) a date falls in, written like '2007/08'."""
    start = ibis.ifelse(date.month() >= 4, date.year(), date.year() - 1)
    return start.cast("string") + "/" + ((start + 1) % 100).cast("string").lpad(2, "0")


def times_mff(pence: ibis.IntegerValue, mff_e4: ibis.IntegerValue) -> ibis.IntegerValue:
    """Pence times the MFF, rounded half up to the penny, exactly (see the module docstring)."""
    scaled = pence * mff_e4 + 5000
    return ((scaled - scaled % 10000) // 10000).cast("int64")


def price(
    con: BaseBackend,
    warehouse: Warehouse,
    dataset: str,
    lines: ibis.Table | None = None,
    at_year: str | None = None,
) -> ibis.Table:
    """Every line of an APC, OP or A&E table priced at the tariff of its year, with its breakdown.

    `lines` defaults to the stored activity of the data set. Any table with the contract's typed columns may be
    given instead (a provider's file, a what-if), and its columns are kept. Columns already named like the
    breakdown (a table priced before) are replaced. The result has one row per line and the OUTPUT_COLUMNS added.
    `at_year` ('2008/09') reprices every line at that year's tariff instead of its own: a historic budget or a
    contract baseline is last year's activity at this year's prices.
    """
    if dataset not in DATASETS:
        raise ValueError(f"pbc prices {', '.join(DATASETS)} lines, not {dataset!r}")
    return price_with(
        tariff_tables(con, warehouse),
        dataset,
        activity(con, warehouse, dataset) if lines is None else lines,
        at_year,
    )


def price_with(
    tariff: dict[str, ibis.Table], dataset: str, lines: ibis.Table, at_year: str | None = None
) -> ibis.Table:
    """`price` with a tariff already read by `tariff_tables` (to price several tables with one load)."""
    if dataset not in DATASETS:
        raise ValueError(f"pbc prices {', '.join(DATASETS)} lines, not {dataset!r}")
    missing = [c for c in REQUIRED[dataset] if c not in lines.columns]
    if missing:
        raise ValueError(f"{dataset} lines need the column(s) {', '.join(missing)} to be priced")
    stale = [c for c in OUTPUT_COLUMNS if c in lines.columns]
    if stale:
        lines = lines.drop(*stale)
    # The tariff year is chosen here, once, so that _apc, _op and _ae price alike whether repricing or not.
    year = financial_year(lines[TARIFF_DATE[dataset]]) if at_year is None else ibis.literal(at_year, "string")
    priced = {"apc": _apc, "op": _op, "ae": _ae}[dataset](lines.mutate(TARIFF_YEAR=year), tariff)
    return priced.select(*lines.columns, *OUTPUT_COLUMNS)


def _joined(t: ibis.Table, tariff: dict[str, ibis.Table]) -> ibis.Table:
    """The year's rules, the provider's MFF and its local price for the line's POD and currency, side by side."""
    r, m, lp = tariff["year_rules"], tariff["mff"], tariff["local_prices"]
    r = r.select(_R_FY=r.financial_year, _R_SSE=r.sse, _R_MAX=r.sse_max_days, _R_MIN=r.sse_min_age)
    m = m.select(_M_FY=m.financial_year, _M_PRO=m.provider_code, _M_MFF=m.mff_e4)
    lp = lp.select(_L_FY=lp.financial_year, _L_PRO=lp.provider_code, _L_POD=lp.pod, _L_CUR=lp.currency, _L=lp.pence)
    return (
        t.left_join(r, t.TARIFF_YEAR == r._R_FY)
        .left_join(m, [t.TARIFF_YEAR == m._M_FY, t.PROCODE == m._M_PRO])
        .left_join(lp, [t.TARIFF_YEAR == lp._L_FY, t.PROCODE == lp._L_PRO, t.POD == lp._L_POD, t.CURRENCY == lp._L_CUR])
    )


def _unpriced_reasons(dataset: str, found: Deferred, what: str) -> list[tuple[Deferred, Deferred | str]]:
    """Why a line cannot be priced, in the order they are told: date, year, price, MFF.

    `found` says whether a base price was found; `what` names the currency ('HRG' or 'TFC').
    """
    year = _.TARIFF_YEAR
    return [
        (year.isnull(), f"unpriced: no {TARIFF_DATE[dataset]} to choose the tariff year"),
        (_._R_FY.isnull(), "unpriced: no tariff for " + year),
        (~found, f"unpriced: no tariff for {what} " + _.CURRENCY.fill_null("(none)") + " in " + year),
        (_._M_MFF.isnull(), "unpriced: no MFF for provider " + _.PROCODE.fill_null("(none)") + " in " + year),
    ]


def _finish(t: ibis.Table, priced: Deferred, rule: Deferred) -> ibis.Table:
    """Price = (base + long stay - short-stay reduction) x MFF where the line could be priced, else 0."""
    t = t.mutate(PRICED=priced.fill_null(False), PRICE_RULE=rule, MFF_E4=_._M_MFF.cast("int64"))
    net = _.BASE_PENCE + _.LONG_STAY_PENCE - _.SHORT_STAY_REDUCTION_PENCE
    return t.mutate(PRICE_PENCE=ibis.ifelse(_.PRICED & _.MFF_E4.notnull(), times_mff(net, _.MFF_E4), 0).cast("int64"))


def _apc(lines: ibis.Table, tariff: dict[str, ibis.Table]) -> ibis.Table:
    """Spell price for the POD, excess bed days beyond the trim point, or the reduced short-stay emergency price."""
    elective = lines.ADMIMETH.isin(ELECTIVE_ADMIMETH).fill_null(False)
    t = lines.mutate(
        POD=ibis.ifelse(elective, "APC_EL", "APC_NE"),
        CURRENCY=lines.SUSHRG,
        _LOS=lines.DISDATE.delta(lines.ADMIDATE, unit="day"),
    )
    a = tariff["apc"]
    a = a.select(
        _A_FY=a.financial_year,
        _A_HRG=a.hrg,
        _A_EL=a.elective_pence,
        _A_EL_TRIM=a.elective_trim_days,
        _A_NE=a.nonelective_pence,
        _A_NE_TRIM=a.nonelective_trim_days,
        _A_PER_DAY=a.per_day_pence,
        _A_SSE_ON=a.sse_applicable == "Yes",
        _A_SSE_PCT=a.sse_percent,
        _A_SSE=a.sse_pence,
    )
    t = _joined(t, tariff).left_join(a, [t.TARIFF_YEAR == a._A_FY, t.CURRENCY == a._A_HRG])
    el = _.POD == "APC_EL"
    t = t.mutate(_NAT=ibis.ifelse(el, _._A_EL, _._A_NE), _TRIM=ibis.ifelse(el, _._A_EL_TRIM, _._A_NE_TRIM))
    short_stay = (
        (_.POD == "APC_NE")
        & _._NAT.notnull()
        & _._R_SSE
        & (_._LOS <= _._R_MAX)
        & (_.STARTAGE >= _._R_MIN)
        & _._A_SSE_ON
        & _._A_SSE.notnull()
    )
    t = t.mutate(_SSE=short_stay.fill_null(False))
    long_stay = _._NAT.notnull() & _._TRIM.notnull() & ~_._SSE
    t = t.mutate(
        BASE_PENCE=ibis.coalesce(_._NAT, _._L, 0).cast("int64"),
        TRIM_DAYS=ibis.ifelse(_._NAT.notnull(), _._TRIM, ibis.null("int64")).cast("int64"),
        EXCESS_DAYS=ibis.ifelse(long_stay, ibis.greatest(_._LOS - _._TRIM, 0), 0).fill_null(0).cast("int64"),
    )
    t = t.mutate(
        LONG_STAY_PENCE=(_.EXCESS_DAYS * _._A_PER_DAY.fill_null(0)).cast("int64"),
        SHORT_STAY_REDUCTION_PENCE=ibis.ifelse(_._SSE, _._A_NE - _._A_SSE, 0).cast("int64"),
    )
    found = _._NAT.notnull() | _._L.notnull()
    excess = ibis.ifelse(
        _.EXCESS_DAYS > 0,
        " with "
        + _.EXCESS_DAYS.cast("string")
        + ibis.ifelse(_.EXCESS_DAYS == 1, " excess bed day", " excess bed days"),
        "",
    )
    sse_percent = " (" + _._A_SSE_PCT.cast("string") + "%)"
    reasons = _unpriced_reasons("apc", found, "HRG")
    rule = ibis.cases(
        *reasons[:2],
        (_._LOS < 0, "unpriced: discharged before admitted"),
        *reasons[2:],
        (_._SSE, "reduced short-stay emergency" + ibis.ifelse(_._A_SSE_PCT.notnull(), sse_percent, "")),
        (_._NAT.isnull(), "local price"),
        (_.POD == "APC_EL", "national elective spell" + excess),
        else_="national non-elective spell" + excess,
    )
    priced = _._R_FY.notnull() & (_._LOS >= 0) & found & _._M_MFF.notnull()
    return _finish(t, priced, rule)


def _no_stay(t: ibis.Table) -> ibis.Table:
    """Outpatient and A&E prices have no trim point, long stay or short-stay reduction."""
    return t.mutate(
        TRIM_DAYS=ibis.null("int64"),
        EXCESS_DAYS=ibis.literal(0, "int64"),
        LONG_STAY_PENCE=ibis.literal(0, "int64"),
        SHORT_STAY_REDUCTION_PENCE=ibis.literal(0, "int64"),
    )


def _op(lines: ibis.Table, tariff: dict[str, ibis.Table]) -> ibis.Table:
    """First or follow-up price of the treatment function, for attended appointments only."""
    t = lines.mutate(
        POD=ibis.cases(
            (lines.FIRSTATT.isin(FIRST_ATTENDANCE), "OP_FIRST"),
            (lines.FIRSTATT.isin(FOLLOW_UP), "OP_FU"),
            else_=ibis.null("string"),
        ),
        CURRENCY=lines.TRETSPEF,
    )
    o = tariff["op"]
    o = o.select(_O_FY=o.financial_year, _O_TFC=o.tfc, _O_FIRST=o.first_pence, _O_FU=o.followup_pence)
    t = _joined(t, tariff).left_join(o, [t.TARIFF_YEAR == o._O_FY, t.CURRENCY == o._O_TFC])
    national = ibis.cases((_.POD == "OP_FIRST", _._O_FIRST), (_.POD == "OP_FU", _._O_FU), else_=ibis.null("int64"))
    t = t.mutate(_PAY=_.ATTENDED.isin(PAYABLE_ATTENDED).fill_null(False), _NAT=national)
    t = t.mutate(_FOUND=ibis.coalesce(_._NAT, _._L))
    t = _no_stay(t).mutate(BASE_PENCE=ibis.ifelse(_._PAY, _._FOUND.fill_null(0), 0).cast("int64"))
    reasons = _unpriced_reasons("op", _._FOUND.notnull(), "TFC")
    firstatt = "unpriced: FIRSTATT " + _.FIRSTATT.fill_null("(none)") + " is neither a first nor a follow-up attendance"
    rule = ibis.cases(
        (~_._PAY & _.ATTENDED.isin(DID_NOT_ATTEND).fill_null(False), "did not attend: no charge"),
        (~_._PAY, "not attended: no charge"),
        *reasons[:2],
        (_.POD.isnull(), firstatt),
        *reasons[2:],
        (_._NAT.isnull(), "local price"),
        (_.POD == "OP_FIRST", "outpatient first attendance"),
        else_="outpatient follow-up attendance",
    )
    priced = ~_._PAY | (_._R_FY.notnull() & _._FOUND.notnull() & _._M_MFF.notnull())
    t = _finish(t, priced, rule)
    return t.mutate(PRICE_PENCE=ibis.ifelse(_._PAY, _.PRICE_PENCE, 0).cast("int64"))


def _ae(lines: ibis.Table, tariff: dict[str, ibis.Table]) -> ibis.Table:
    """The HRG's price, or the year's lowest A&E price at the department types its rules call minor."""
    t = lines.mutate(POD=ibis.literal("AE"), CURRENCY=lines.SUSHRG)
    e, d = tariff["ae"], tariff["ae_minor_departments"]
    low = e.group_by(_E_LOW_FY=e.financial_year).aggregate(_LOW=e.pence.min())
    e = e.select(_E_FY=e.financial_year, _E_HRG=e.hrg, _E_PENCE=e.pence)
    d = d.select(_D_FY=d.financial_year, _D_TYPE=d.dept_type)
    t = (
        _joined(t, tariff)
        .left_join(e, [t.TARIFF_YEAR == e._E_FY, t.CURRENCY == e._E_HRG])
        .left_join(low, t.TARIFF_YEAR == low._E_LOW_FY)
        .left_join(d, [t.TARIFF_YEAR == d._D_FY, t.AEDEPTTYPE == d._D_TYPE])
    )
    t = t.mutate(_MINOR=_._D_FY.notnull())
    t = t.mutate(_FOUND=ibis.ifelse(_._MINOR, _._LOW, ibis.coalesce(_._E_PENCE, _._L)))
    t = _no_stay(t).mutate(BASE_PENCE=_._FOUND.fill_null(0).cast("int64"))
    reasons = _unpriced_reasons("ae", _._FOUND.notnull(), "HRG")
    rule = ibis.cases(
        *reasons[:2],
        (_._MINOR & _._LOW.isnull(), "unpriced: no national A&E price in " + _.TARIFF_YEAR + " for a minor department"),
        *reasons[2:],
        (_._MINOR, "A&E minor department: lowest price"),
        (_._E_PENCE.isnull(), "local price"),
        else_="national A&E price",
    )
    priced = _._R_FY.notnull() & _._FOUND.notnull() & _._M_MFF.notnull()
    return _finish(t, priced, rule)
