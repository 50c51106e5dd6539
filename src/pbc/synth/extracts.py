"""Turn simulated events into the rows providers and practices send, with HES field names and the provider's claim.

Rows stay numpy columns here (day numbers, integer pence, NHS numbers as int64) so that faults can be injected
quickly; the writer turns them into text. Only events inside the financial years are kept (an APC spell by its
discharge date, since that is the month it is submitted in). Each row also carries `_patient` (a number unique
across commissioners) for fault injection; it is never written.
"""

from __future__ import annotations

import numpy as np

from pbc.synth.activity import Context, Events
from pbc.synth.claims import price_ae, price_apc, price_op
from pbc.synth.practices import PracticeSet
from pbc.synth.sampling import financial_year_index
from pbc.synth.tariff import Tariff

Rows = dict[str, np.ndarray]


def _person(ctx: Context, practices: PracticeSet, patient: np.ndarray, reg: np.ndarray, uid_offset: int) -> Rows:
    pop = ctx.pop
    return {
        "NEWNHSNO": pop.nhs[patient],
        "DOB": pop.dob[patient],
        "SEX": pop.sex[patient].astype(np.int64),
        "GPPRAC": practices.code[pop.reg_practice[reg]],
        "PURCODE": np.full(len(patient), pop.commissioner, dtype=object),
        "_patient": patient.astype(np.int64) + uid_offset,
        "_practice": pop.reg_practice[reg],
    }


def _priced_by_year(
    day: np.ndarray, tariffs: dict[str, Tariff], years: tuple[str, ...], price: object, **columns: np.ndarray
) -> np.ndarray:
    """Price rows with the tariff of the financial year each falls in."""
    out = np.zeros(len(day), dtype=np.int64)
    year = financial_year_index(day, years)
    for i, label in enumerate(years):
        rows = year == i
        if rows.any():
            out[rows] = price(tariffs[label], **{k: v[rows] for k, v in columns.items()})  # type: ignore[operator]
    return out


def in_years(day: np.ndarray, years: tuple[str, ...]) -> np.ndarray:
    """Whether each day falls inside the financial years."""
    return financial_year_index(day, years) >= 0


def apc_rows(
    ctx: Context, practices: PracticeSet, spells: list[tuple[Events, str]], tariffs: dict[str, Tariff], uid_offset: int
) -> Rows:
    """Admitted patient care spells (elective and emergency), priced, kept by discharge date."""
    parts: list[Rows] = []
    for events, setting in spells:
        cases = ctx.catalogue.elective if setting == "elective" else ctx.catalogue.emergency
        case = events["case"]
        discharge = events["day"] + events["los"]
        keep = in_years(discharge, ctx.years)
        e = {k: v[keep] for k, v in events.items()}
        case, discharge = case[keep], discharge[keep]
        rows = _person(ctx, practices, e["patient"], e["reg"], uid_offset)
        rows.update(
            {
                "PROCODE": e["provider"],
                "STARTAGE": ctx.ages(e["patient"], e["day"]),
                "ADMIDATE": e["day"],
                "DISDATE": discharge,
                "ADMIMETH": e["admimeth"],
                "ADMISORC": np.full(len(case), "19", dtype=object),
                "DISMETH": e.get("dismeth", np.full(len(case), "1", dtype=object)),
                "CLASSPAT": e["classpat"],
                "TRETSPEF": e["tfc"],
                "DIAG_01": np.asarray(cases["diag"].to_pylist(), dtype=object)[case],
                "OPERTN_01": np.asarray(cases["opcs"].to_pylist(), dtype=object)[case],
                "SUSHRG": np.asarray(cases["hrg"].to_pylist(), dtype=object)[case],
            }
        )
        parts.append(rows)
    rows = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    rows["CLAIMED_PRICE"] = _priced_by_year(
        rows["DISDATE"],
        tariffs,
        ctx.years,
        price_apc,
        procode=rows["PROCODE"],
        hrg=rows["SUSHRG"],
        admimeth=rows["ADMIMETH"],
        los=rows["DISDATE"] - rows["ADMIDATE"],
        age=rows["STARTAGE"],
    )
    return rows


def op_rows(ctx: Context, practices: PracticeSet, appts: Events, tariffs: dict[str, Tariff], uid_offset: int) -> Rows:
    """Outpatient appointments in the years, priced (a DNA is free)."""
    e = ctx.keep(appts, in_years(appts["day"], ctx.years))
    rows = _person(ctx, practices, e["patient"], e["reg"], uid_offset)
    rows.update(
        {
            "PROCODE": e["provider"],
            "APPTAGE": ctx.ages(e["patient"], e["day"]),
            "APPTDATE": e["day"],
            "FIRSTATT": e["firstatt"],
            "ATTENDED": e["attended"],
            "REFSOURC": e["refsource"],
            "TRETSPEF": e["tfc"],
            "OUTCOME": e["outcome"],
        }
    )
    rows["CLAIMED_PRICE"] = _priced_by_year(
        rows["APPTDATE"],
        tariffs,
        ctx.years,
        price_op,
        procode=rows["PROCODE"],
        tfc=rows["TRETSPEF"],
        firstatt=rows["FIRSTATT"],
        attended=rows["ATTENDED"],
    )
    return rows


def ae_rows(ctx: Context, practices: PracticeSet, ae: Events, tariffs: dict[str, Tariff], uid_offset: int) -> Rows:
    """A&E attendances in the years, priced."""
    e = ctx.keep(ae, in_years(ae["day"], ctx.years))
    rows = _person(ctx, practices, e["patient"], e["reg"], uid_offset)
    rows.update(
        {
            "PROCODE": e["provider"],
            "ARRIVALAGE": ctx.ages(e["patient"], e["day"]),
            "ARRIVALDATE": e["day"],
            "ARRIVALTIME": e["arrival_minute"],
            "DEPTIME": e["departure_minute"],
            "AEDEPTTYPE": e["dept"],
            "AEATTENDCAT": e["category"],
            "AEATTENDDISP": e["disposal"],
            "SUSHRG": e["hrg"],
        }
    )
    rows["CLAIMED_PRICE"] = _priced_by_year(
        rows["ARRIVALDATE"],
        tariffs,
        ctx.years,
        price_ae,
        procode=rows["PROCODE"],
        hrg=rows["SUSHRG"],
        dept_type=rows["AEDEPTTYPE"],
    )
    return rows


def referral_rows(ctx: Context, practices: PracticeSet, refs: Events, uid_offset: int) -> Rows:
    """GP referrals made in the years."""
    e = ctx.keep(refs, in_years(refs["day"], ctx.years))
    rows = _person(ctx, practices, e["patient"], e["reg"], uid_offset)
    rows.update(
        {
            "REFERRAL_DATE": e["day"],
            "TRETSPEF": e["tfc"],
            "PROCODE": e["provider"],
            "PRIORITY": e["priority"].astype(str).astype(object),
            "REFSOURC": np.full(len(e["day"]), "03", dtype=object),
        }
    )
    return rows


def price_op_rows(rows: Rows, index: np.ndarray, tariffs: dict[str, Tariff], years: tuple[str, ...]) -> np.ndarray:
    """The correct claims of some outpatient rows as they now stand (after a fault changed them)."""
    return _priced_by_year(
        rows["APPTDATE"][index],
        tariffs,
        years,
        price_op,
        procode=rows["PROCODE"][index],
        tfc=rows["TRETSPEF"][index],
        firstatt=rows["FIRSTATT"][index],
        attended=rows["ATTENDED"][index],
    )
