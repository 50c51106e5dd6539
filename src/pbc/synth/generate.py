"""`pbc synth`: make a synthetic commissioner from a seed and write it in the formats pbc ingests.

Each commissioner is simulated with its own random streams (derived from the seed and its position), so the
result does not depend on anything but the options. Progress is reported per step through a callback.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from pbc import __version__
from pbc.calendar import financial_year_bounds, folder_name
from pbc.reference.list_sizes import AGE_BANDS
from pbc.reference.load import bundled_reference_dir
from pbc.reference.london import read_historic_trusts
from pbc.reference.ods import read_epraccur
from pbc.synth import emergency, extracts, outpatients
from pbc.synth.activity import Context
from pbc.synth.catalogue import load_catalogue
from pbc.synth.config import SynthConfig
from pbc.synth.faults import Injector
from pbc.synth.population import CONDITIONS, STILL_REGISTERED, Population, day_number, simulate
from pbc.synth.practices import PracticeSet, choose_practices, provider_shares
from pbc.synth.tariff import build_tariff, write_tariff
from pbc.synth.writer import CSV_OPTIONS, write_csv, write_extracts, write_json

Progress = Callable[[str], None]
HIGH_REFERRER_SHARE = 0.1
HIGH_REFERRER_FACTOR = 1.3
_STREAMS = {"practices": 1, "factors": 2, "population": 3, "activity": 4, "faults": 5, "writer": 6}


def _rng(seed: int, stream: str, *more: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, _STREAMS[stream], *more]))


def _quarter_days(years: tuple[str, ...]) -> list[dt.date]:
    days = []
    for year in years:
        first = financial_year_bounds(year)[0]
        days += [first, first.replace(month=7), first.replace(month=10), dt.date(first.year + 1, 1, 1)]
    return days


def _list_rows(counts: np.ndarray, practices: PracticeSet, day: dt.date) -> dict[str, list[Any]]:
    """The quinary list file rows for one extract date (with the ALL totals the published file has)."""
    rows: dict[str, list[Any]] = {
        k: []
        for k in (
            "PUBLICATION",
            "EXTRACT_DATE",
            "ORG_TYPE",
            "ORG_CODE",
            "ONS_CODE",
            "POSTCODE",
            "SEX",
            "AGE_GROUP_5",
            "NUMBER_OF_PATIENTS",
        )
    }
    stamp = day.strftime("%d%b%Y").upper()

    def add(p: int, sex: str, band: str, n: int) -> None:
        for key, value in zip(
            rows,
            ("GP_REG_PAT_PRAC_QUIN_AGE", stamp, "GP", practices.code[p], "", practices.postcode[p], sex, band, int(n)),
            strict=True,
        ):
            rows[key].append(value)

    for p in range(len(practices)):
        for s, sex in enumerate(("MALE", "FEMALE")):
            for b, band in enumerate(AGE_BANDS):
                add(p, sex, band, counts[p, s, b])
            add(p, sex, "ALL", counts[p, s].sum())
        add(p, "ALL", "ALL", counts[p].sum())
    return rows


def _register_rows(counts: np.ndarray, practices: PracticeSet, day: dt.date) -> dict[str, list[Any]]:
    rows: dict[str, list[Any]] = {
        k: [] for k in ("EXTRACT_DATE", "PRACTICE_CODE", "CONDITION", "SEX", "AGE_GROUP_5", "REGISTER_COUNT")
    }
    for p, s, b, c in zip(*np.nonzero(counts), strict=True):
        for key, value in zip(
            rows,
            (
                day.isoformat(),
                practices.code[p],
                CONDITIONS[c],
                ("MALE", "FEMALE")[s],
                AGE_BANDS[b],
                int(counts[p, s, b, c]),
            ),
            strict=True,
        ):
            rows[key].append(value)
    return rows


def _registration_rows(pop: Population, practices: PracticeSet, first_day: int) -> pa.Table:
    """The commissioner's patient register (NHAIS-style): every registration open on or after the first day.

    Registrations that began before the simulation show its first day as their start ("registered on or before").
    """
    live = pop.reg_end > first_day
    patient = pop.reg_patient[live]
    ended = pop.reg_reason[live] != STILL_REGISTERED
    end = np.where(ended, pop.reg_end[live] - 1, 0)
    return pa.table(
        {
            "NHS_NUMBER": pa.array(pop.nhs[patient]).cast(pa.string()),
            "PRACTICE_CODE": pa.array(practices.code[pop.reg_practice[live]], pa.string()),
            "COMMISSIONER_CODE": pa.array([pop.commissioner] * int(live.sum()), pa.string()),
            "DATE_OF_BIRTH": pa.array(pop.dob[patient].astype(np.int32), pa.int32()).cast(pa.date32()),
            "SEX": pa.array(pop.sex[patient].astype(np.int64)).cast(pa.string()),
            "REGISTRATION_DATE": pa.array(pop.reg_start[live].astype(np.int32), pa.int32()).cast(pa.date32()),
            "DEREGISTRATION_DATE": pa.array(end.astype(np.int32), pa.int32(), mask=~ended).cast(pa.date32()),
            "DEREGISTRATION_REASON": pa.array(
                np.array(["", "MOVED_AWAY", "TRANSFERRED", "DIED"], dtype=object)[pop.reg_reason[live]], pa.string()
            ),
        }
    )


def _commissioner_activity(
    config: SynthConfig, ctx: Context, practices: PracticeSet, tariffs: dict[str, Any], uid_offset: int
) -> dict[str, dict[str, np.ndarray]]:
    refs = outpatients.referrals(ctx)
    firsts = outpatients.first_attendances(ctx, refs)
    fups = outpatients.follow_ups(ctx, firsts)
    appts = outpatients.outpatients(ctx, firsts, fups)
    planned = outpatients.electives(ctx, firsts)
    ae = emergency.ae_attendances(ctx)
    unplanned = emergency.emergency_admissions(ctx, ae)
    return {
        "apc": extracts.apc_rows(
            ctx, practices, [(planned, "elective"), (unplanned, "emergency")], tariffs, uid_offset
        ),
        "op": extracts.op_rows(ctx, practices, appts, tariffs, uid_offset),
        "ae": extracts.ae_rows(ctx, practices, ae, tariffs, uid_offset),
        "referrals": extracts.referral_rows(ctx, practices, refs, uid_offset),
    }


def _with_keys(rows: dict[str, np.ndarray], dataset: str) -> dict[str, np.ndarray]:
    """Sort rows on fixed columns and number them: the record keys of the provider's file."""
    date = {"apc": "DISDATE", "op": "APPTDATE", "ae": "ARRIVALDATE", "referrals": "REFERRAL_DATE"}[dataset]
    owner = "PURCODE" if dataset == "referrals" else "PROCODE"
    order = np.lexsort((rows["_patient"], rows[date], rows[owner]))
    rows = {k: v[order] for k, v in rows.items()}
    key = {"apc": "PROVSPNO", "op": "ATTENDKEY", "ae": "AEKEY", "referrals": "REFERRAL_ID"}[dataset]
    rows[key] = np.arange(1, len(order) + 1, dtype=np.int64)
    return rows


def generate(config: SynthConfig, out: Path, progress: Progress = lambda _: None) -> dict[str, Any]:
    """Make the synthetic commissioner described by `config` in folder `out`; returns the manifest."""
    out.mkdir(parents=True, exist_ok=True)
    reference = bundled_reference_dir()
    commissioners, practices = choose_practices(
        config.scope, config.simulation_start, config.scale, _rng(config.seed, "practices"), reference
    )
    factors = _rng(config.seed, "factors")
    high = factors.random(len(practices)) < HIGH_REFERRER_SHARE
    referral_factor = factors.lognormal(0, 0.12, len(practices)) * np.where(high, HIGH_REFERRER_FACTOR, 1.0)
    emergency_factor = factors.lognormal(0, 0.10, len(practices))

    catalogue = load_catalogue()
    names = dict(
        zip(
            *(read_historic_trusts(reference / "london_trusts_2006.csv").columns[c] for c in ("code", "provider")),
            strict=True,
        )
    )
    shares = {c.code: provider_shares(c.code) for c in commissioners}
    provider_codes = sorted({p for s in shares.values() for p in s[2]})
    tariffs = {
        y: build_tariff(catalogue, y, [(p, str(names.get(p, p))) for p in provider_codes], config.seed)
        for y in config.years
    }
    progress(
        f"{len(commissioners)} commissioner(s), {len(practices)} practices, {int(practices.list_size.sum()):,} "
        f"registered patients, {len(config.years)} financial year(s)"
    )

    begin, first_day = day_number(config.simulation_start), day_number(config.start)
    end = day_number(config.end) + 1
    data: dict[str, list[dict[str, np.ndarray]]] = {"apc": [], "op": [], "ae": [], "referrals": []}
    lists: dict[dt.date, np.ndarray] = {
        d: np.zeros((len(practices), 2, len(AGE_BANDS)), np.int64) for d in _quarter_days(config.years)
    }
    register_days = [financial_year_bounds(y)[1] for y in config.years]
    registers = {d: np.zeros((len(practices), 2, len(AGE_BANDS), len(CONDITIONS)), np.int64) for d in register_days}
    population: dict[str, dict[str, float]] = {
        y: {"registrations": 0, "deregistrations": 0, "mean_list": 0.0} for y in config.years
    }
    register_path = out / "reference" / "registrations.csv"
    register_path.parent.mkdir(parents=True, exist_ok=True)
    register_writer: pacsv.CSVWriter | None = None  # written per commissioner: London's register is ~10M rows
    register_rows = 0
    uid_offset = 0
    for number, commissioner in enumerate(commissioners):
        index = practices.of(commissioner.code)
        pop: Population = simulate(
            commissioner.code,
            index,
            practices.list_size[index],
            config.simulation_start,
            config.end,
            _rng(config.seed, "population", number),
        )
        home, home_p, everyone, everyone_p = shares[commissioner.code]
        ctx = Context(
            rng=_rng(config.seed, "activity", number),
            pop=pop,
            years=config.years,
            begin=begin,
            first_day=first_day,
            end=end,
            catalogue=catalogue,
            home_providers=home,
            home_shares=home_p,
            providers=everyone,
            provider_shares=everyone_p,
            referral_factor=referral_factor,
            emergency_factor=emergency_factor,
        )
        for name, rows in _commissioner_activity(config, ctx, practices, tariffs, uid_offset).items():
            data[name].append(rows)
        for day in lists:
            lists[day] += pop.counts_on(day_number(day), len(practices))
        for day in registers:
            registers[day] += pop.counts_on(day_number(day), len(practices), by_condition=True)
        register = _registration_rows(pop, practices, first_day)
        if register_writer is None:
            register_writer = pacsv.CSVWriter(register_path, register.schema, write_options=CSV_OPTIONS)
        register_writer.write_table(register)
        register_rows += register.num_rows
        del register
        for year in config.years:
            for key, value in pop.year_stats(year).items():
                population[year][key] += value
        uid_offset += len(pop.nhs)
        progress(f"simulated {commissioner.name} ({commissioner.code}): {len(pop.nhs):,} patients")

    if register_writer is not None:
        register_writer.close()
    combined = {}
    for name in list(data):
        parts = data.pop(name)  # let each commissioner's arrays go as soon as they are combined
        combined[name] = _with_keys({k: np.concatenate([p[k] for p in parts]) for k in parts[0]}, name)
        del parts
    injector = Injector(
        _rng(config.seed, "faults"),
        combined,
        config.fault_rates,
        practices,
        set(read_epraccur(reference / "ods" / "epraccur.csv")["code"].to_pylist()),
        history_from=first_day + 365,
    )
    injector.invalid_nhs_numbers()
    injector.unknown_practices()
    injector.not_registered()
    injector.followups_without_first(
        np.asarray(catalogue.specialties["tfc"].to_pylist(), dtype=object),
        lambda op, rows: extracts.price_op_rows(op, rows, tariffs, config.years),
    )
    injector.day_cases_as_ordinary()
    injector.wrong_prices()
    injector.duplicates("duplicate_spell", "apc")
    injector.duplicates("duplicate_attendance", "op")
    injector.duplicates("ae_duplicate", "ae")
    resubmit = injector.resubmissions()
    progress("injected faults: " + ", ".join(f"{k} {v:g}" for k, v in sorted(config.fault_rates.items())))

    files: dict[str, int] = {}
    writer_rng = _rng(config.seed, "writer")
    del combined
    for name in list(injector.data):
        rows = injector.data.pop(name)  # each data set's arrays go once written
        write_extracts(out, name, rows, resubmit.get(name, set()), writer_rng, config.parquet, files)
        progress(f"wrote {name}: {len(rows[next(iter(rows))]):,} rows")
        del rows
    for day, counts in lists.items():
        path = out / "reference" / "lists" / f"list_sizes_{day.isoformat()}.csv"
        files[str(path.relative_to(out))] = write_csv(pa.table(_list_rows(counts, practices, day)), path)
    for day, counts in registers.items():
        path = out / "reference" / "registers" / f"registers_{day.isoformat()}.csv"
        files[str(path.relative_to(out))] = write_csv(pa.table(_register_rows(counts, practices, day)), path)
    files[str(register_path.relative_to(out))] = register_rows
    practice_table = practices.to_arrow()
    files["reference/practices.csv"] = write_csv(practice_table, out / "reference" / "practices.csv")
    clustered = practices.locality != ""
    memberships = pa.table(
        {
            "practice_code": practices.code[clustered],
            "locality_code": practices.locality[clustered],
            "effective_from": np.full(clustered.sum(), config.simulation_start.isoformat(), dtype=object),
            "effective_to": np.full(clustered.sum(), "", dtype=object),
        }
    )
    files["reference/locality_memberships.csv"] = write_csv(memberships, out / "reference" / "locality_memberships.csv")
    for year, tariff in tariffs.items():
        for path in write_tariff(tariff, out / "tariff" / folder_name(year)):
            files[str(path.relative_to(out))] = -1
    truth = injector.truth_rows()
    truth_table = pa.table(
        {
            name: [t[i] for t in truth]
            for i, name in enumerate(("fault_type", "dataset", "procode", "month", "record_key"))
        }
        | {"file": [f"{t[1]}_{t[2]}_{t[3]}.csv" if t[0] != "resubmission" else t[4] for t in truth]},
        schema=pa.schema(
            [(n, pa.string()) for n in ("fault_type", "dataset", "procode", "month", "record_key", "file")]
        ),
    )
    files["truth/faults.csv"] = write_csv(truth_table, out / "truth" / "faults.csv")
    progress("wrote reference files, tariffs and the ground truth")

    manifest = {
        "pbc_version": __version__,
        "synthetic": True,
        "note": "Synthetic data made by pbc synth: no real patient. Practices are real ODS practices; their 2005 "
        "clusters, list sizes and everything about their patients are invented.",
        "scope": config.scope,
        "seed": config.seed,
        "scale": config.scale,
        "financial_years": list(config.years),
        "commissioners": [c.__dict__ for c in commissioners],
        "fault_rates": config.fault_rates,
        "high_referrers": sorted(practices.code[high].tolist()),
        "population": population,
        "files": {k: v for k, v in sorted(files.items()) if v >= 0},
        "tariff_files": sorted(k for k, v in files.items() if v < 0),
        "rows": {
            name: int(sum(v for k, v in files.items() if k.startswith(f"extracts/{name}/")))
            for name in ("apc", "op", "ae", "referrals")
        },
    }
    write_json(out / "manifest.json", manifest)
    return manifest
