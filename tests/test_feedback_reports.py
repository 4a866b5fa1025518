"""The feedback reports (marts/reporting/rpt_*) on the tiny demo run, each recomputed here in pandas
from the CRM staging tables, the score ledger, the scores and the stage history: the reports'
own SQL is never reused."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
import yaml

from leadscore.warehouse import connect
from tests.conftest import REPO_ROOT

VARS = yaml.safe_load((REPO_ROOT / "dbt_project" / "dbt_project.yml").read_text())["vars"]
WINDOW = timedelta(days=VARS["report_window_days"])
HORIZON = timedelta(days=VARS["conversion_horizon_days"])
CHAMPION = VARS["champion_rulebook"]


class Warehouse:
    def __init__(self, con):
        self.con = con

    def df(self, sql: str) -> pd.DataFrame:
        return self.con.execute(sql).df()


@pytest.fixture(scope="module")
def warehouse(first_run, demo_settings):
    assert first_run.success
    with connect(demo_settings.warehouse, read_only=True) as con:
        yield Warehouse(con)


@pytest.fixture(scope="module")
def as_of(warehouse) -> datetime:
    return warehouse.df("select as_of from intermediate.int_scoring_as_of")["as_of"][0]


@pytest.fixture(scope="module")
def person_opportunities(warehouse) -> pd.DataFrame:
    """person_id, opportunity_id, created_at: contacts on the deal and the lead converted into it."""
    people = warehouse.df("select crm_id, person_id from intermediate.int_people")
    roles = warehouse.df("""select opportunity_id, contact_id as crm_id
        from staging.stg_crm__opportunity_contact_roles where not is_deleted""")
    converted = warehouse.df("""select converted_opportunity_id as opportunity_id, lead_id as crm_id
        from staging.stg_crm__leads where converted_opportunity_id is not null""")
    links = pd.concat([roles, converted]).merge(people, on="crm_id")[["person_id", "opportunity_id"]].drop_duplicates()
    deals = warehouse.df("select opportunity_id, created_at from staging.stg_crm__opportunities where not is_deleted")
    return links.merge(deals, on="opportunity_id")


def first_opportunity_at(opportunities: pd.DataFrame, people: pd.Series) -> pd.Series:
    """Each person's first opportunity (NaT when none): their conversion."""
    return people.map(opportunities.groupby("person_id").created_at.min())


def not_converted_yet(starts: pd.DataFrame, opportunities: pd.DataFrame) -> pd.DataFrame:
    """The rows of `starts` whose person had no opportunity at or before started_at: people in a
    deal already, or customers, cannot convert for the first time."""
    first = first_opportunity_at(opportunities, starts.person_id)
    return starts[first.isna() | (first > starts.started_at)].copy()


def converted_people(starts: pd.DataFrame, opportunities: pd.DataFrame, as_of: datetime) -> set:
    """The (key..., person_id) rows of `starts` whose person's first opportunity was created
    after started_at, within the horizon and by as_of."""
    first = first_opportunity_at(opportunities, starts.person_id)
    hit = starts[(first > starts.started_at) & (first <= starts.started_at + HORIZON) & (first <= as_of)]
    return set(map(tuple, hit[[c for c in starts.columns if c != "started_at"]].drop_duplicates().values))


def test_campaign_conversion_counts_match_the_crm(warehouse, as_of, person_opportunities):
    start, end = as_of - WINDOW - HORIZON, as_of - HORIZON
    people = warehouse.df("select crm_id, person_id from intermediate.int_people")
    members = warehouse.df("""select m.campaign_id, coalesce(m.contact_id, m.lead_id) as crm_id, m.created_at
        from staging.stg_crm__campaign_members m
        join staging.stg_crm__campaigns c on c.campaign_id = m.campaign_id and not c.is_deleted
        where not m.is_deleted""").merge(people, on="crm_id")
    members = members.rename(columns={"campaign_id": "key", "created_at": "touched_at"}).assign(kind="campaign")
    ledger = warehouse.df(f"""select rule_id as key, person_id, event_at as touched_at
        from marts.fct_score_ledger where rulebook_id = '{CHAMPION}' and source_type in ('activity', 'inactivity')""")
    touches = pd.concat([members[["kind", "key", "person_id", "touched_at"]], ledger.assign(kind="rule")])
    touches = touches[(touches.touched_at >= start) & (touches.touched_at < end)]
    starts = touches.groupby(["kind", "key", "person_id"], as_index=False).touched_at.min()
    starts = not_converted_yet(starts.rename(columns={"touched_at": "started_at"}), person_opportunities)
    converted = converted_people(starts, person_opportunities, as_of)
    starts["converted"] = [(k, c, p) in converted for k, c, p in starts[["kind", "key", "person_id"]].values]
    expected = starts.groupby(["kind", "key"]).agg(touched=("person_id", "size"), converted=("converted", "sum"))

    report = warehouse.df("select * from marts.rpt_campaign_conversion").set_index(["kind", "campaign_or_rule"])
    assert len(report) == len(expected) > 10
    assert {"campaign", "rule"} == set(report.index.get_level_values(0))
    for (kind, key), row in expected.iterrows():
        got = report.loc[(kind, key)]
        assert (got.people_touched, got.people_converted) == (row.touched, row.converted), (kind, key)
        assert got.conversion_ratio == pytest.approx(row.converted / row.touched)
    assert report.people_converted.sum() > 0
    assert report.label.notna().all()


def test_score_distribution_bands_anomalies_and_fences(warehouse):
    scores = warehouse.df(
        "select person_id, rulebook_id, total_score, grade, segment, as_of from marts.fct_lead_scores")
    scores["total_score"] = scores.total_score.astype(float)
    report = warehouse.df("select * from marts.rpt_score_distribution")
    k = VARS["score_outlier_iqr_multiplier"]
    for rulebook, group in scores.groupby("rulebook_id"):
        rows = report[report.rulebook_id == rulebook]
        bands = (np.floor(group.total_score / 10) * 10).astype(int).value_counts()
        got_bands = rows[rows.section == "score_band"].set_index("group_order").people
        assert got_bands.sort_index().to_dict() == bands.sort_index().to_dict()
        for section in ("grade", "segment"):
            got = rows[rows.section == section].set_index("group_value").people.to_dict()
            assert got == group[section].value_counts().to_dict()
        q1, q3 = np.quantile(group.total_score, [0.25, 0.75])
        high = (group.total_score > q3 + k * (q3 - q1)).sum()
        low = (group.total_score < q1 - k * (q3 - q1)).sum()
        anomalies = rows[rows.section == "anomaly"].groupby("group_value").people.sum().to_dict()
        assert anomalies.get("high_outlier", 0) == high
        assert anomalies.get("low_outlier", 0) == low
        assert anomalies.get("negative_score", 0) == (group.total_score < 0).sum()
        assert rows.outlier_high_fence.iloc[0] == pytest.approx(q3 + k * (q3 - q1))
        assert rows[rows.section == "anomaly"].rule_id.notna().all()
    assert (report[report.section == "anomaly"].group_value == "negative_score").any()


def test_never_decaying_engagement_is_found_in_the_ledger(warehouse, as_of):
    ledger = warehouse.df("""select person_id, rulebook_id, points_after_cap * weight as undecayed, points_as_of,
        event_at
        from marts.fct_score_ledger where source_type = 'activity' and component = 'engagement'""")
    ledger["points_as_of"] = ledger.points_as_of.astype(float)
    per_person = ledger.groupby(["person_id", "rulebook_id"]).agg(
        undecayed=("undecayed", "sum"), now=("points_as_of", "sum"), last=("event_at", "max"))
    stale = per_person[(per_person.undecayed > 0) & (per_person.now >= per_person.undecayed - 1e-6)
                       & (per_person["last"] < as_of - timedelta(days=VARS["score_decay_check_days"]))]
    expected = stale.groupby("rulebook_id").size().to_dict()
    report = warehouse.df("""select rulebook_id, sum(people) as people from marts.rpt_score_distribution
        where section = 'anomaly' and group_value = 'never_decaying' group by rulebook_id""")
    assert dict(zip(report.rulebook_id, report.people, strict=True)) == expected


def test_won_lost_review_against_the_stage_history_and_crm(warehouse, as_of, person_opportunities):
    start = as_of - WINDOW
    visits = warehouse.df(
        "select person_id, visit_number, stage, entered_at, entry_total_score from marts.fct_lead_stage_history")
    report = warehouse.df("select * from marts.rpt_won_lost_review")

    def section(name):
        rows = report[report.section == name]
        return dict(zip(rows.group_value, rows.group_size, strict=True))

    following = visits.assign(visit_number=visits.visit_number - 1)[["person_id", "visit_number", "stage"]]
    mqls = visits[(visits.stage == "mql") & (visits.entered_at >= start) & (visits.entered_at <= as_of)]
    mqls = mqls.merge(following.rename(columns={"stage": "next_stage"}), on=["person_id", "visit_number"], how="left")
    steps = mqls.next_stage.map(lambda s: "accepted" if s in ("sal", "opportunity") else s).fillna("awaiting")
    assert section("sales_acceptance") == steps.value_counts().to_dict()

    wins = visits[(visits.stage == "won") & (visits.entered_at >= start) & (visits.entered_at <= as_of)]
    opened = wins.assign(visit_number=wins.visit_number - 1)[["person_id", "visit_number"]].merge(
        visits, on=["person_id", "visit_number"], how="left")
    threshold = float(warehouse.df(
        f"select mql_threshold from seeds.rulebooks where rulebook_id = '{CHAMPION}'").mql_threshold[0])
    classes = opened.entry_total_score.map(
        lambda s: "unknown" if pd.isna(s) else "below_threshold" if float(s) < threshold else "at_or_above_threshold")
    assert section("low_score_won") == classes.value_counts().to_dict()

    scores = warehouse.df(f"select person_id from marts.fct_lead_scores where rulebook_id = '{CHAMPION}' and is_mql")
    opened_at = person_opportunities.created_at
    recent = person_opportunities[(opened_at >= start) & (opened_at <= as_of)]
    idle = scores[~scores.person_id.isin(recent.person_id)]
    current = visits.sort_values("visit_number").groupby("person_id").stage.last()
    assert section("high_score_not_converted") == idle.person_id.map(current).fillna("none").value_counts().to_dict()

    history = warehouse.df("select lead_id, field_name, new_value, changed_at from staging.stg_crm__lead_history")
    reasons = history[history.field_name.str.lower().isin(
        [f.lower() for f in VARS["crm_disqualification_reason_fields"]]) & history.new_value.notna()]
    reasons = reasons.groupby(["lead_id", "changed_at"]).new_value.max().rename("reason").reset_index()
    changes = warehouse.df("""select crm_id as lead_id, changed_at from intermediate.int_lead_status_changes
        where new_status_category = 'disqualified'""")
    changes = changes[(changes.changed_at >= start) & (changes.changed_at <= as_of)]
    reason_counts = changes.merge(reasons, on=["lead_id", "changed_at"], how="left").reason.fillna("no reason given")
    assert section("disqualification_reason") == reason_counts.value_counts().to_dict()
    assert sum(section("disqualification_reason").values()) > 0

    entries = report[report.section == "entry_score_by_outcome"]
    assert set(entries.stage) <= {"mql", "sal", "opportunity"}
    for stage, rows in entries.groupby("stage"):
        in_window = visits[(visits.stage == stage) & (visits.entered_at >= start) & (visits.entered_at <= as_of)]
        assert rows.group_size.sum() == len(in_window)


def test_rule_effectiveness_counts_lift_and_interval(warehouse, as_of, person_opportunities):
    start, end = as_of - WINDOW - HORIZON, as_of - HORIZON
    ledger = warehouse.df("""select rulebook_id, rule_id, source_type, person_id, event_at
        from marts.fct_score_ledger where source_type in ('profile', 'activity', 'inactivity')""")
    in_window = (ledger.event_at >= start) & (ledger.event_at < end)
    active = ledger[ledger.source_type.isin(["activity", "inactivity"]) & in_window]
    first_active = active.groupby(["rulebook_id", "person_id"]).event_at.min()
    report = warehouse.df("select * from marts.rpt_rule_effectiveness")
    checked = 0
    for row in report[report.is_champion & (report.motion == "new_business")].itertuples():
        population = first_active.loc[row.rulebook_id]
        # Everyone active in the window and not converted before their first activity there.
        starts = not_converted_yet(pd.DataFrame({"person_id": population.index, "started_at": population.values}),
                                   person_opportunities)
        if row.rule_kind == "profile":
            holders = set(ledger[(ledger.rulebook_id == row.rulebook_id) & (ledger.rule_id == row.rule_id)].person_id)
            starts["triggered"] = starts.person_id.isin(holders)
        else:
            # Triggered: a first hit before any conversion, counted from that hit; a person who
            # converted before triggering the rule counts as not triggered, from their first activity.
            hits = active[(active.rulebook_id == row.rulebook_id) & (active.rule_id == row.rule_id)]
            first_hit = hits.groupby("person_id", as_index=False).event_at.min()
            first_hit = first_hit.rename(columns={"event_at": "started_at"})
            triggered = not_converted_yet(first_hit, person_opportunities).set_index("person_id").started_at
            starts["triggered"] = starts.person_id.isin(triggered.index)
            first = triggered.to_dict()
            starts["started_at"] = pd.to_datetime(
                [first.get(person, since) for person, since in zip(starts.person_id, starts.started_at, strict=True)])
        converted = converted_people(starts[["person_id", "started_at"]], person_opportunities, as_of)
        starts["converted"] = [(p,) in converted for p in starts.person_id]
        n1, a = starts.triggered.sum(), starts[starts.triggered].converted.sum()
        n0, c = (~starts.triggered).sum(), starts[~starts.triggered].converted.sum()
        assert (row.people_triggered, row.converted_triggered, row.people_not_triggered, row.converted_not_triggered) \
            == (n1, a, n0, c), row.rule_id
        if a and c:
            lift = (a / n1) / (c / n0)
            se = math.sqrt(1 / a - 1 / n1 + 1 / c - 1 / n0)
            assert row.lift == pytest.approx(lift)
            assert row.lift_ci_lower == pytest.approx(lift * math.exp(-1.96 * se))
            assert row.lift_ci_upper == pytest.approx(lift * math.exp(1.96 * se))
            checked += 1
        else:
            assert pd.isna(row.lift_ci_lower)
    assert checked > 0

    # The suggested points keep the rulebook's average |points| over the rules with enough people.
    enough = report[report.weighting != "too_few_people"]
    for rulebook, rows in enough.groupby(["motion", "rulebook_id"]):
        a, c = rows.converted_triggered + 0.5, rows.converted_not_triggered + 0.5
        b = rows.people_triggered - rows.converted_triggered + 0.5
        d = rows.people_not_triggered - rows.converted_not_triggered + 0.5
        log_odds = np.log(a * d / (b * c))
        scale = rows.points.abs().mean() / log_odds.abs().mean()
        assert rows.suggested_points.to_numpy() == pytest.approx((log_odds * scale).round(1).to_numpy(), abs=0.051)
        gap = rows.points - rows.suggested_points
        tolerance = VARS["rule_points_tolerance"]
        expected = np.where(gap > tolerance, "over_weighted",
                            np.where(-gap > tolerance, "under_weighted", "about_right"))
        assert list(rows.weighting) == list(expected), rulebook


def test_rule_effectiveness_of_customer_rules_counts_accounts(warehouse, as_of):
    """The repurchase motion, recomputed from the repurchase score's terms and the CRM's deals:
    customer accounts with a term starting in the window, from their first; those in an open deal
    at their start left out; converted when the account opens a deal within the horizon."""
    start, end = as_of - WINDOW - HORIZON, as_of - HORIZON
    terms = warehouse.df("""select rulebook_id, rule_id, account_id, starts_at
        from intermediate.int_repurchase_score_events""")
    terms = terms[(terms.starts_at >= start) & (terms.starts_at < end)]
    deals = warehouse.df("""select account_id, created_at, is_closed, close_date
        from staging.stg_crm__opportunities where not is_deleted and account_id is not null""")
    deals["closed_at"] = np.maximum(pd.to_datetime(deals.close_date), deals.created_at)

    def in_deal(account: str, at) -> bool:
        mine = deals[deals.account_id == account]
        return bool(((mine.created_at <= at) & ~(mine.is_closed & (mine.closed_at <= at))).any())

    def converts(account: str, at) -> bool:
        mine = deals[deals.account_id == account]
        return bool(((mine.created_at > at) & (mine.created_at <= min(at + HORIZON, as_of))).any())

    report = warehouse.df("select * from marts.rpt_rule_effectiveness where motion = 'repurchase'")
    customer_rules = warehouse.df("select rulebook_id, rule_id from seeds.customer_rules")
    assert len(report) == len(customer_rules) and set(report.rule_kind) == {"customer"}
    for row in report.itertuples():
        mine = terms[terms.rulebook_id == row.rulebook_id]
        population = {account: first for account, first in mine.groupby("account_id").starts_at.min().items()
                      if not in_deal(account, first)}
        firsts = mine[mine.rule_id == row.rule_id].groupby("account_id").starts_at.min()
        triggered = {account: first for account, first in firsts.items()
                     if account in population and not in_deal(account, first)}
        n1, a = len(triggered), sum(converts(account, at) for account, at in triggered.items())
        others = {account: at for account, at in population.items() if account not in triggered}
        n0, c = len(others), sum(converts(account, at) for account, at in others.items())
        assert (row.people_triggered, row.converted_triggered, row.people_not_triggered, row.converted_not_triggered) \
            == (n1, a, n0, c), (row.rulebook_id, row.rule_id)
    assert report.people_triggered.sum() > 0


def test_roi_before_and_after(warehouse, as_of):
    length = timedelta(days=VARS["roi_period_days"])
    # Without a change date the comparison ends at as_of.
    change = datetime.fromisoformat(VARS["roi_change_date"]) if VARS["roi_change_date"] else as_of - length
    deals = warehouse.df("""select opportunity_id, amount, is_won, created_at, close_date
        from staging.stg_crm__opportunities where not is_deleted and is_closed""")
    deals["closed_at"] = np.maximum(pd.to_datetime(deals.close_date), deals.created_at)
    deals = deals[deals.closed_at <= as_of]
    visits = warehouse.df("select person_id, visit_number, stage, entered_at from marts.fct_lead_stage_history")
    following = visits.assign(visit_number=visits.visit_number - 1)[["person_id", "visit_number", "stage"]]
    mqls = visits[visits.stage == "mql"].merge(
        following.rename(columns={"stage": "next_stage"}), on=["person_id", "visit_number"], how="left")
    report = warehouse.df("select * from marts.rpt_roi").set_index("period")
    assert set(report.index) == {"before", "after"}
    last_mql = visits[visits.stage == "mql"][["person_id", "visit_number", "entered_at"]]
    wins = visits[visits.stage == "won"].merge(last_mql, on="person_id", suffixes=("", "_mql"))
    wins = wins[wins.visit_number_mql < wins.visit_number]
    wins = wins.groupby(["person_id", "visit_number", "entered_at"], as_index=False).entered_at_mql.max()
    wins["days"] = (wins.entered_at - wins.entered_at_mql).dt.total_seconds() / 86400
    for period, (low, high) in {"before": (change - length, change), "after": (change, change + length)}.items():
        row = report.loc[period]
        closed = deals[(deals.closed_at >= low) & (deals.closed_at < high)]
        won = closed[closed.is_won]
        assert (row.deals_closed, row.deals_won) == (len(closed), len(won))
        assert row.total_revenue == pytest.approx(won.amount.sum())
        assert row.revenue_per_deal == pytest.approx(won.amount.mean(), nan_ok=True)
        cycle = (closed.closed_at - closed.created_at).dt.total_seconds() / 86400
        assert row.avg_sales_cycle_days == pytest.approx(cycle.mean(), nan_ok=True)
        assert row.median_sales_cycle_days == pytest.approx(cycle.median(), nan_ok=True)
        handed = mqls[(mqls.entered_at >= low) & (mqls.entered_at < high) & (mqls.entered_at <= as_of)]
        accepted = handed.next_stage.isin(["sal", "opportunity"]).sum()
        assert (row.leads_passed_to_sales, row.leads_accepted) == (len(handed), accepted)
        won_after_mql = wins[(wins.entered_at >= low) & (wins.entered_at < high)]
        assert row.wins_after_mql == len(won_after_mql)
        assert row.avg_days_mql_to_won == pytest.approx(won_after_mql.days.mean(), nan_ok=True)
        assert row.is_complete == (high <= as_of)
    assert report.deals_closed.sum() > 0


def test_mql_entries_are_real_crossings_over_the_whole_history(warehouse, as_of):
    """Every MQL stage entry is an instant where one of the person's champion terms started or
    ended (or the record was created), with the champion score at or over the threshold and the
    minimum fit right after it and under them just before it; MQLs exist long before the daily
    trend's window; every visit from the record's creation on has its entry scores."""
    rulebook = warehouse.df(f"select * from seeds.rulebooks where rulebook_id = '{CHAMPION}'").iloc[0]
    mqls = warehouse.df("select person_id, entered_at from marts.fct_lead_stage_history where stage = 'mql'")
    assert len(mqls) > 0
    instants = warehouse.df(f"""
        select person_id, starts_at as instant from intermediate.int_score_events
            where rulebook_id = '{CHAMPION}'
        union select person_id, ends_at from intermediate.int_score_events
            where rulebook_id = '{CHAMPION}' and ends_at is not null
        union select person_id, person_created_at from intermediate.int_people where is_master""")
    found = mqls.merge(instants, left_on=["person_id", "entered_at"], right_on=["person_id", "instant"], how="left")
    assert found.instant.notna().all(), found[found.instant.isna()]
    # The timeline row starting at the entry qualifies; the one before it did not at that instant
    # (the champion has no decaying terms, so its score is constant between change points).
    timeline = warehouse.df(f"""select person_id, changed_at, valid_until, total_score, fit_score
        from marts.fct_score_timeline where rulebook_id = '{CHAMPION}'""")
    after = mqls.merge(timeline, left_on=["person_id", "entered_at"], right_on=["person_id", "changed_at"])
    before = mqls.merge(timeline, left_on=["person_id", "entered_at"], right_on=["person_id", "valid_until"],
                        how="left")
    assert len(after) == len(mqls) == len(before)
    assert ((after.total_score >= rulebook.mql_threshold) & (after.fit_score >= rulebook.mql_min_fit)).all()
    qualified_before = (before.total_score >= rulebook.mql_threshold) & (before.fit_score >= rulebook.mql_min_fit)
    assert not qualified_before.any()
    assert (mqls.entered_at < as_of - timedelta(days=VARS["score_history_days"])).any()
    visits = warehouse.df("""select h.stage, h.entry_total_score, h.entry_grade from marts.fct_lead_stage_history h
        join intermediate.int_people p on p.person_id = h.person_id and p.is_master
        where h.entered_at >= p.person_created_at""")
    assert visits.entry_total_score.notna().all() and visits.entry_grade.notna().all()
