"""Incentive schemes: worked examples from the scheme rules, a plain reference on generated practices, registers."""

import datetime as dt
import json
import random
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from click.testing import CliRunner

from pbc.cli import main
from pbc.errors import InputError
from pbc.incentives.estimate import estimate
from pbc.incentives.payments import LevelDecision, LocalityFacts, PracticeFacts, payments
from pbc.incentives.registers import load_register, register
from pbc.incentives.scheme import find_scheme, read_incentive_scheme, shipped_schemes
from pbc.phasing import financial_months

HERTS = "herts_pbc_les_2007_08"
MONTHS = financial_months("2007/08")


def herts():
    return read_incentive_scheme(find_scheme(HERTS))[0]


def totals(rows):
    out = defaultdict(lambda: [0, 0])
    for p in rows:
        out[(p.payee, p.component)][0] += p.pence
        out[(p.payee, p.component)][1] += p.withheld_pence
    return {k: tuple(v) for k, v in out.items()}


def test_every_shipped_scheme_reads():
    assert {HERTS, "data_validation_les", "half_savings_to_practices"} <= set(shipped_schemes())
    for path in shipped_schemes().values():
        scheme, digest = read_incentive_scheme(path)
        assert scheme.financial_year == "2007/08"
        assert len(digest) == 64


def test_a_level_one_locality_of_100000_gets_52_sessions_at_300_pounds():
    by = {c.component: c.pence for c in estimate(herts(), 100_000, 1, 1)}
    assert by["locality_gp_sessions"] == 15_600_00
    assert "locality_staff_hours" not in by
    level_two = {c.component: c.pence for c in estimate(herts(), 100_000, 1, 2)}
    assert level_two["locality_gp_sessions"] == 3 * 52 * 300_00
    assert level_two["locality_staff_hours"] == 10 * 52 * 30_00
    level_three = {c.component: c.pence for c in estimate(herts(), 250_000, 3, 3)}
    assert level_three["locality_gp_sessions"] == 6 * 52 * 300_00 * 25 // 10
    assert level_three["sign_up"] == 250_000_00
    assert level_three["information"] == 125_000_00
    # level 1 is flat per locality whatever its size
    assert {c.component: c.pence for c in estimate(herts(), 7_000, 4, 1)}["locality_gp_sessions"] == 4 * 15_600_00


def test_a_level_decision_changes_the_allowance_from_its_month():
    decision = LevelDecision("L1", dt.date(2007, 10, 1), 2, "GC minute 7")
    rows = payments(herts(), [], [LocalityFacts("L1", 100_000, (decision,))], "PCT")
    sessions = [p for p in rows if p.component == "locality_gp_sessions"]
    staff = [p for p in rows if p.component == "locality_staff_hours"]
    assert len(sessions) == 12
    assert sum(p.pence for p in sessions) == 15_600_00 // 2 + 46_800_00 // 2
    assert sum(p.pence for p in staff) == 15_600_00 // 2
    assert {p.detail["level"] for p in sessions if p.due >= dt.date(2007, 10, 1)} == {2}
    assert "GC minute 7" in sessions[-1].rule


def practice(patients, budget, outturn, signed=dt.date(2007, 4, 20), delivered=MONTHS):
    return PracticeFacts("P1", "L1", patients, signed, frozenset(delivered), budget, outturn)


def test_the_reward_cap_binds_for_a_small_practice_with_large_savings():
    rows = totals(payments(herts(), [practice(2_000, 1_000_000_00, 700_000_00)], [], "PCT"))
    assert rows[("P1", "savings_reward")] == (2_000_00, 28_000_00)  # 10% = £30,000, capped at £1 x 2,000
    assert rows[("L1", "savings_locality")] == (208_600_00, 0)  # 70% of £298,000
    assert rows[("PCT", "savings_commissioner")] == (89_400_00, 0)


def test_the_reward_cap_does_not_bind_for_a_large_practice_with_small_savings():
    rows = totals(payments(herts(), [practice(15_000, 1_000_000_00, 950_000_00)], [], "PCT"))
    assert rows[("P1", "savings_reward")] == (5_000_00, 0)
    assert rows[("L1", "savings_locality")] == (31_500_00, 0)
    assert rows[("PCT", "savings_commissioner")] == (13_500_00, 0)


def test_an_overspending_practice_gets_no_reward():
    rows = payments(herts(), [practice(5_000, 1_000_000_00, 1_000_000_01)], [], "PCT")
    reward = [p for p in rows if p.component == "savings_reward"]
    assert [p.pence for p in reward] == [0]
    assert "overspent by £0.01" in reward[0].reason
    assert not [p for p in rows if p.component.startswith("savings_") and p.component != "savings_reward"]


def test_the_literal_reading_splits_ninety_percent_and_returns_the_cap_remainder(tmp_path):
    text = find_scheme(HERTS).read_text().replace('split = "split_after_reward"', 'split = "literal"')
    path = tmp_path / "literal.toml"
    path.write_text(text)
    scheme, _ = read_incentive_scheme(path)
    rows = totals(payments(scheme, [practice(2_000, 1_000_000_00, 700_000_00)], [], "PCT"))
    assert rows[("P1", "savings_reward")][0] == 2_000_00
    assert rows[("L1", "savings_locality")][0] == 189_000_00  # 70% of 90% of £300,000
    assert rows[("PCT", "savings_commissioner")][0] == 109_000_00  # 30% of 90%, plus £28,000 above the cap


def test_sign_up_deadline_and_undelivered_reports():
    late = practice(1_000, None, None, signed=dt.date(2007, 5, 1), delivered=MONTHS[:9])
    rows = totals(payments(herts(), [late], [], "PCT"))
    assert rows[("P1", "sign_up")] == (0, 1_000_00)
    # £500 in twelve instalments to the penny: eight of 4,167p and four of 4,166p; April to December delivered
    assert rows[("P1", "information")] == (8 * 4_167 + 4_166, 3 * 4_166)
    unsigned = PracticeFacts("P2", "L1", 1_000, None, frozenset(MONTHS), 100, 50)
    rows = totals(payments(herts(), [unsigned], [], "PCT"))
    assert rows[("P2", "information")] == (0, 500_00)
    assert rows[("P2", "savings_reward")][0] == 0


def reference(scheme, practices, localities, commissioner):
    """The Hertfordshire-style rules worked plainly, per payee and component: (due, withheld)."""
    out = defaultdict(lambda: [0, 0])
    for p in practices:
        for rule in scheme.per_patient:
            total = p.patients * rule.pence_per_patient
            if rule.condition == "signed_by":
                ok = p.signed_on is not None and p.signed_on <= rule.signed_by
                out[(p.practice, rule.id)][0 if ok else 1] += total
            elif rule.requires_signing and p.signed_on is None:
                out[(p.practice, rule.id)][1] += total
            else:
                months = [total // 12 + (1 if i < total % 12 else 0) for i in range(12)]
                earned = sum(m for m, month in zip(months, MONTHS, strict=True) if month in p.reports_delivered)
                out[(p.practice, rule.id)][0] += earned
                out[(p.practice, rule.id)][1] += total - earned
        s = scheme.savings
        if s is None or p.budget_pence is None:
            continue
        saving = p.budget_pence - p.outturn_pence
        if saving <= 0:
            out[(p.practice, "savings_reward")][0] += 0
            continue
        pct = Decimal(s.reward_percent) / 100
        share = int((saving * pct).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        cap = None if s.reward_cap_pence_per_patient is None else p.patients * s.reward_cap_pence_per_patient
        reward = share if cap is None else min(share, cap)
        if s.requires_signing and p.signed_on is None:
            reward = 0
        out[(p.practice, "savings_reward")][0] += reward
        out[(p.practice, "savings_reward")][1] += share - reward
        locality = int(((saving - reward) * Decimal(s.locality_percent) / 100).quantize(Decimal(1), ROUND_HALF_UP))
        if locality:
            out[(p.locality, "savings_locality")][0] += locality
        if saving - reward - locality:
            out[(commissioner, "savings_commissioner")][0] += saving - reward - locality
    if scheme.locality is not None:
        f = scheme.locality
        for loc in localities:
            for component, rate, attr in (
                ("locality_gp_sessions", f.gp_session_pence, "gp_sessions_per_week"),
                ("locality_staff_hours", f.staff_hour_pence, "staff_hours_per_week"),
            ):
                year = Fraction(0)
                for month in MONTHS:
                    made = [d for d in loc.decisions if d.effective_from <= month]
                    number = max(made, key=lambda d: d.effective_from).level if made else f.starting_level
                    level = next(x for x in f.levels if x.level == number)
                    scale = 1 if level.flat else Fraction(loc.patients, f.per_population)
                    year += Fraction(Decimal(getattr(level, attr))) * f.weeks_per_year * rate * scale / 12
                pence = int(year + Fraction(1, 2))
                if pence:
                    out[(loc.locality, component)][0] += pence
    return {k: tuple(v) for k, v in out.items()}


@pytest.mark.parametrize("scheme_id", [HERTS, "data_validation_les", "half_savings_to_practices"])
def test_payments_match_the_plain_reference_on_generated_practices(scheme_id):
    scheme = read_incentive_scheme(find_scheme(scheme_id))[0]
    rng = random.Random(5)
    localities = [f"L{i}" for i in range(4)]
    practices = []
    for i in range(150):
        budget = rng.randrange(100_000_00, 3_000_000_00)
        practices.append(
            PracticeFacts(
                f"P{i:03d}",
                rng.choice(localities),
                rng.randrange(500, 20_000),
                rng.choice([None, dt.date(2007, 4, rng.randrange(1, 31)), dt.date(2007, 5, rng.randrange(1, 31))]),
                frozenset(rng.sample(MONTHS, rng.randrange(0, 13))),
                budget,
                budget + rng.randrange(-300_000_00, 300_000_00),
            )
        )
    places = []
    for code in localities:
        patients = sum(p.patients for p in practices if p.locality == code)
        decisions = tuple(
            LevelDecision(code, rng.choice(MONTHS), rng.randrange(1, 4), f"GC {n}") for n in range(rng.randrange(0, 3))
        )
        places.append(LocalityFacts(code, patients, decisions))
    got = totals(payments(scheme, practices, places, "PCT"))
    expected = reference(scheme, practices, places, "PCT")
    assert {k: v for k, v in got.items() if v != (0, 0)} == {k: v for k, v in expected.items() if v != (0, 0)}


def test_changing_the_scheme_file_changes_the_payments(tmp_path):
    text = find_scheme(HERTS).read_text().replace("pence_per_patient = 100 ", "pence_per_patient = 150 ")
    path = tmp_path / "richer.toml"
    path.write_text(text)
    richer = read_incentive_scheme(path)[0]
    facts = [practice(4_000, None, None)]
    assert totals(payments(richer, facts, [], "PCT"))[("P1", "sign_up")] == (6_000_00, 0)
    assert totals(payments(herts(), facts, [], "PCT"))[("P1", "sign_up")] == (4_000_00, 0)
    broken = tmp_path / "broken.toml"
    broken.write_text(text.replace('split = "split_after_reward"', 'split = "half"'))
    with pytest.raises(InputError) as caught:
        read_incentive_scheme(broken)
    assert "broken.toml" in str(caught.value)
    assert "savings.split" in str(caught.value)


def test_registers_are_checked_and_reloading_never_doubles(tmp_path, warehouse):
    good = tmp_path / "signups.csv"
    good.write_text(
        "Practice code,Financial year,Signed on,GPs\nE84002,2007/08,2007-04-12,3\nE84003,2007/08,2007-05-02,\n"
    )
    assert load_register(warehouse, "signups", good, "pcm") == 2
    assert load_register(warehouse, "signups", good, "pcm") == 2
    rows = register(warehouse, "signups")
    assert len(rows) == 2
    assert rows[0]["RECORDED_BY"] == "pcm"
    bad = tmp_path / "bad_levels.csv"
    bad.write_text("Locality code,Effective from,Level,Minute reference\n5K5-WEMBLEY,01/10/2007,0,GC 4\n")
    with pytest.raises(InputError) as caught:
        load_register(warehouse, "level_decisions", bad)
    text = str(caught.value)
    assert "bad_levels.csv, row 2, field effective_from" in text
    assert "field level" in text
    assert register(warehouse, "level_decisions") == []


def test_les_commands(finance_home, tmp_path):
    env = {"PBC_HOME": str(finance_home.home)}
    runner = CliRunner()
    estimated = runner.invoke(
        main,
        ["les", "estimate", "--scheme", HERTS, "--population", "100000", "--localities", "1", "--level", "1", "--json"],
        env=env,
    )
    assert estimated.exit_code == 0, estimated.output
    components = {c["component"]: c["pence"] for c in json.loads(estimated.output)["components"]}
    assert components["locality_gp_sessions"] == 1_560_000
    signups = tmp_path / "signups.csv"
    signups.write_text("Practice code,Financial year,Signed on,GPs\nE84002,2007/08,2007-04-12,3\n")
    recorded = runner.invoke(main, ["les", "register", "signups", str(signups)], env=env)
    assert recorded.exit_code == 0, recorded.output
    out = tmp_path / "schedule.csv"
    paid = runner.invoke(
        main, ["les", "payments", "--scheme", HERTS, "--commissioner", "5K5", "--out", str(out), "--json"], env=env
    )
    assert paid.exit_code == 0, paid.output
    schedule = json.loads(paid.output)["payments"]
    sign_ups = [p for p in schedule if p["COMPONENT"] == "sign_up" and p["PENCE"] > 0]
    assert [p["PAYEE"] for p in sign_ups] == ["E84002"]
    assert any(p["COMPONENT"] == "locality_gp_sessions" for p in schedule)
    assert out.exists()
    statement = runner.invoke(
        main, ["les", "payments", "--scheme", HERTS, "--commissioner", "5K5", "--payee", "E84002"], env=env
    )
    assert statement.exit_code == 0, statement.output
    assert "statement for E84002" in statement.output
    unknown = runner.invoke(main, ["les", "estimate", "--scheme", "nonsense", "--population", "1"], env=env)
    assert unknown.exit_code == 65
    assert "neither a scheme file nor a shipped scheme" in unknown.output
