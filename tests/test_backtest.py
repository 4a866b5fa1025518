"""Backtests and the test bench on the tiny demo run, checked against numbers recomputed here from
the CRM opportunities and the score history: people, positives, AUC by counting pairs, MQL
precision and recall, bands; plus the small functions on hand-made values."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from assets.feedback import backtest
from assets.warehouse import connect


def pair_count_auc(positive_scores: list[float], negative_scores: list[float]) -> float:
    """The share of (positive, negative) pairs ranked the right way, ties counting half."""
    wins = sum((p > n) + 0.5 * (p == n) for p in positive_scores for n in negative_scores)
    return wins / (len(positive_scores) * len(negative_scores))


@pytest.fixture(scope="module")
def tables(first_run, demo_settings) -> dict[str, pd.DataFrame]:
    assert first_run.success
    with connect(demo_settings.warehouse, read_only=True) as con:
        return {
            "backtest": con.execute("select * from feedback.rpt_backtest").df(),
            "bands": con.execute("select * from feedback.rpt_backtest_bands").df(),
            "bench": con.execute("select * from feedback.rpt_test_bench").df(),
            "daily": con.execute(
                "select crm_id, rulebook_id, score_date, total_score, fit_score from marts.fct_score_snapshots"
            ).df(),
            "snapshot_days": con.execute(
                "select distinct score_date, horizon_days, horizon_reduced from marts.fct_score_snapshots order by 1"
            ).fetchall(),
            "as_of": con.execute("select as_of from intermediate.int_scoring_as_of").fetchone()[0],
            "rulebooks": con.execute("select rulebook_id, mql_threshold, mql_min_fit from seeds.rulebooks").df(),
            "scores": con.execute("select crm_id, rulebook_id, is_mql, as_of from marts.fct_lead_scores").df(),
            # The CRM's opportunities and who they belong to, from staging (not int_person_opportunities).
            "opportunities": con.execute(
                "select opportunity_id, created_at from staging.stg_crm__opportunities where not is_deleted"
            ).df(),
            "roles": con.execute(
                "select opportunity_id, contact_id as record_id from staging.stg_crm__opportunity_contact_roles "
                "where not is_deleted"
            ).df(),
            "converted": con.execute(
                "select converted_opportunity_id as opportunity_id, lead_id as record_id from staging.stg_crm__leads "
                "where converted_opportunity_id is not null"
            ).df(),
            "records": con.execute("select crm_id as record_id, person_id from intermediate.int_people").df(),
        }


def first_opportunity_by_person(tables) -> pd.Series:
    links = pd.concat([tables["roles"], tables["converted"]]).merge(tables["records"], on="record_id")
    dated = links.merge(tables["opportunities"], on="opportunity_id")
    return dated.groupby("person_id")["created_at"].min()


def test_every_rulebook_row_matches_a_recomputation(tables):
    rows = tables["backtest"]
    rulebook_rows = rows[rows["scorer_kind"] == "rulebook"]
    assert len(rulebook_rows) == 3 * rows["as_of_date"].nunique() and len(rulebook_rows) > 0
    first = first_opportunity_by_person(tables)
    daily = tables["daily"].merge(tables["rulebooks"], on="rulebook_id")
    for row in rulebook_rows.itertuples():
        start = datetime.combine(row.as_of_date + timedelta(days=1), datetime.min.time())
        day = daily[(daily["rulebook_id"] == row.scorer) & (daily["score_date"] == row.as_of_date)]
        opened = day["crm_id"].map(first)
        day = day[opened.isna() | (opened > start)]
        opened = day["crm_id"].map(first)
        positive = opened.notna() & (opened <= start + timedelta(days=int(row.horizon_days)))
        mql = (day["total_score"] >= day["mql_threshold"]) & (day["fit_score"] >= day["mql_min_fit"])
        assert (row.people, row.positives) == (len(day), int(positive.sum()))
        assert row.mql_count == int(mql.sum())
        assert row.mql_positives == int((mql & positive).sum())
        if mql.any():
            assert row.mql_precision == pytest.approx((mql & positive).sum() / mql.sum())
        if positive.any():
            assert row.mql_recall == pytest.approx((mql & positive).sum() / positive.sum())
        if positive.any() and not positive.all():
            scores = day["total_score"].astype(float)
            assert row.auc == pytest.approx(pair_count_auc(scores[positive].tolist(), scores[~positive].tolist()))
        else:
            assert pd.isna(row.auc)


def test_the_model_is_measured_on_the_same_people_and_passes_as_many_as_the_champion(tables):
    rows = tables["backtest"]
    model_rows = rows[rows["scorer_kind"] == "model"]
    assert len(model_rows) == rows["as_of_date"].nunique()
    for row in model_rows.itertuples():
        champion = rows[(rows["as_of_date"] == row.as_of_date) & rows["is_champion"]].iloc[0]
        assert (row.people, row.positives, row.mql_count) == (champion.people, champion.positives, champion.mql_count)
        assert not row.is_champion
    assert rows["is_champion"].sum() == rows["as_of_date"].nunique()


def test_bands_split_each_scorer_exactly(tables):
    bands = tables["bands"].groupby(["scorer", "as_of_date"])[["people", "positives"]].sum()
    rows = tables["backtest"].set_index(["scorer", "as_of_date"])[["people", "positives"]]
    pd.testing.assert_frame_equal(bands.sort_index(), rows.sort_index(), check_dtype=False)


def test_bench_shares_match_the_sampled_scores(tables):
    bench = tables["bench"].set_index("rulebook_id")
    scores = tables["scores"]
    people = sorted(scores["crm_id"].unique())
    sample = backtest.bench_sample(people, 500, 20240601)
    assert sample == backtest.bench_sample(list(reversed(people)), 500, 20240601)  # order of input is irrelevant
    for rulebook_id, group in scores.groupby("rulebook_id"):
        sampled = group[group["crm_id"].isin(sample)]
        assert bench.loc[rulebook_id, "sample_size"] == len(sampled) == min(500, len(people))
        assert bench.loc[rulebook_id, "qualified_share"] == pytest.approx(sampled["is_mql"].mean())


def test_dates_step_back_from_the_horizon_over_the_history_not_a_window(tables):
    """The demo's as_of is on 2026-06-30: the last midnight with a 90-day horizon is 2026-04-01,
    the latest on the 14-day grid (day numbers since 1970 that are multiples of 14) before it is
    03-26 (day 20538, score day 03-25), then every 14 days back to 2026-01-01, the last within
    180 days before 03-26's horizon end, outside the 120 days of the daily trend."""
    as_of = tables["as_of"]
    assert as_of.date() == date(2026, 6, 30)
    assert (date(2026, 3, 26) - date(1970, 1, 1)).days == 20538 == 14 * 1467
    expected = [date(2026, 3, 25) - timedelta(days=14 * k) for k in range(7)]
    assert tables["snapshot_days"] == [(day, 90, False) for day in sorted(expected)]
    assert sorted(pd.to_datetime(tables["backtest"]["as_of_date"]).dt.date.unique()) == sorted(expected)
    assert min(expected) < (as_of - timedelta(days=120)).date()


def test_top_k_hits_share_ties_at_the_boundary():
    score = np.array([9.0, 5.0, 5.0, 5.0, 1.0])
    positive = np.array([False, True, True, False, True])
    # The best is a miss; two of the three tied at 5 are hits and two of them fit in k = 3.
    assert backtest.expected_top_k_hits(score, positive, 3) == pytest.approx(2 * 2 / 3)
    assert backtest.expected_top_k_hits(score, positive, 10) == 3


def test_evaluate_scorer_on_a_hand_made_frame():
    scored = pd.DataFrame({
        "score": [0.9, 0.8, 0.3, 0.3, 0.1],
        "positive": [True, False, True, False, False],
        "is_mql": [True, True, False, False, False],
    })
    metrics = backtest.evaluate_scorer(scored, backtest.BacktestSettings(sales_capacity=2))
    assert metrics["auc"] == pytest.approx(pair_count_auc([0.9, 0.3], [0.8, 0.3, 0.1]))
    assert (metrics["mql_count"], metrics["mql_precision"], metrics["mql_recall"]) == (2, 0.5, 0.5)
    assert (metrics["top_k"], metrics["top_k_hit_rate"]) == (2, 0.5)
