"""Backtests and the test bench on the tiny demo run, checked against numbers recomputed here from
the CRM opportunities and the score history: people, positives, AUC by counting pairs, MQL
precision and recall, bands, for new business (people) and repurchase (customer accounts); plus
the small functions on hand-made values."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from leadscore.feedback import backtest, evaluation, predictive
from leadscore.warehouse import connect


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
                "select person_id, rulebook_id, score_date, total_score, fit_score from marts.fct_score_snapshots"
            ).df(),
            "snapshot_days": con.execute(
                "select distinct score_date, horizon_days, horizon_reduced from marts.fct_score_snapshots order by 1"
            ).fetchall(),
            "as_of": con.execute("select as_of from intermediate.int_scoring_as_of").fetchone()[0],
            "rulebooks": con.execute("select rulebook_id, mql_threshold, mql_min_fit from seeds.rulebooks").df(),
            "scores": con.execute("select person_id, rulebook_id, is_mql, as_of from marts.fct_lead_scores").df(),
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
            "repurchase": con.execute(
                """select account_id, rulebook_id, score_date, snapshot_at, repurchase_score
                from marts.fct_account_repurchase_snapshots""").df(),
            "thresholds": con.execute("select rulebook_id, repurchase_threshold from seeds.rulebooks").df(),
            "account_deals": con.execute(
                """select account_id, created_at, is_closed, close_date from staging.stg_crm__opportunities
                where not is_deleted and account_id is not null""").df(),
        }


def new_business(rows: pd.DataFrame) -> pd.DataFrame:
    return rows[rows["motion"] == "new_business"]


def first_opportunity_by_person(tables) -> pd.Series:
    links = pd.concat([tables["roles"], tables["converted"]]).merge(tables["records"], on="record_id")
    dated = links.merge(tables["opportunities"], on="opportunity_id")
    return dated.groupby("person_id")["created_at"].min()


def test_every_rulebook_row_matches_a_recomputation(tables):
    rows = new_business(tables["backtest"])
    rulebook_rows = rows[rows["scorer_kind"] == "rulebook"]
    assert len(rulebook_rows) == 3 * rows["as_of_date"].nunique() and len(rulebook_rows) > 0
    first = first_opportunity_by_person(tables)
    daily = tables["daily"].merge(tables["rulebooks"], on="rulebook_id")
    for row in rulebook_rows.itertuples():
        start = datetime.combine(row.as_of_date + timedelta(days=1), datetime.min.time())
        day = daily[(daily["rulebook_id"] == row.scorer) & (daily["score_date"] == row.as_of_date)]
        opened = day["person_id"].map(first)
        day = day[opened.isna() | (opened > start)]
        opened = day["person_id"].map(first)
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


def test_every_repurchase_row_matches_a_recomputation(tables):
    """Customer accounts at each snapshot, recomputed from the CRM's deals: those with a deal open
    at the snapshot left out; positive when the account opens one within the horizon."""
    rows = tables["backtest"][tables["backtest"]["motion"] == "repurchase"]
    assert len(rows) == 3 * rows["as_of_date"].nunique() and len(rows) > 0
    assert set(rows["scorer_kind"]) == {"rulebook"}
    deals = tables["account_deals"]
    # A deal closes at its close date, never before it opened (int_account_opportunities' rule).
    closed_at = pd.concat([pd.to_datetime(deals["close_date"]), deals["created_at"]], axis=1).max(axis=1)
    snapshots = tables["repurchase"].merge(tables["thresholds"], on="rulebook_id")
    for row in rows.itertuples():
        day = snapshots[(snapshots["rulebook_id"] == row.scorer) & (snapshots["score_date"] == row.as_of_date)]
        start = datetime.combine(row.as_of_date + timedelta(days=1), datetime.min.time())
        end = start + timedelta(days=int(row.horizon_days))
        open_accounts = set(deals.loc[(deals["created_at"] <= start)
                                      & ~(deals["is_closed"] & (closed_at <= start)), "account_id"])
        opened = set(deals.loc[(deals["created_at"] > start) & (deals["created_at"] <= end), "account_id"])
        day = day[~day["account_id"].isin(open_accounts)]
        positive = day["account_id"].isin(opened)
        qualified = day["repurchase_score"] >= day["repurchase_threshold"]
        assert (row.people, row.positives) == (len(day), int(positive.sum()))
        assert (row.mql_count, row.mql_positives) == (int(qualified.sum()), int((qualified & positive).sum()))
        if positive.any() and not positive.all():
            scores = day["repurchase_score"].astype(float)
            assert row.auc == pytest.approx(pair_count_auc(scores[positive].tolist(), scores[~positive].tolist()))
        else:
            assert pd.isna(row.auc)


def test_the_model_is_measured_on_the_same_people_and_passes_as_many_as_the_champion(tables):
    rows = new_business(tables["backtest"])
    model_rows = rows[rows["scorer_kind"] == "model"]
    assert len(model_rows) == rows["as_of_date"].nunique()
    for row in model_rows.itertuples():
        champion = rows[(rows["as_of_date"] == row.as_of_date) & rows["is_champion"]].iloc[0]
        assert (row.people, row.positives, row.mql_count) == (champion.people, champion.positives, champion.mql_count)
        assert not row.is_champion
    assert rows["is_champion"].sum() == rows["as_of_date"].nunique()


def test_dates_training_on_the_same_snapshots_share_one_fit(first_run, demo_settings, monkeypatch):
    fitted = []
    fit_at_cutoff = predictive.fit_at_cutoff

    def recorded(data, grid, cutoff, settings, start=None):
        fitted.append((settings.horizon_days, tuple(predictive.training_snapshots(grid, cutoff, settings))))
        return fit_at_cutoff(data, grid, cutoff, settings, start)

    monkeypatch.setattr(predictive, "fit_at_cutoff", recorded)
    with connect(demo_settings.warehouse, read_only=True) as con:
        computed = backtest.run_backtest(con)
    # Every date has its model, but no training set is fitted twice: the demo's dates are 14 days
    # apart on a 28-day grid, so every other date trains on the snapshots of the date before.
    models = new_business(computed.backtest).query("scorer_kind == 'model'")
    assert len(fitted) == len(set(fitted)) < len(models)


def test_bands_split_each_scorer_exactly(tables):
    bands = tables["bands"].groupby(["motion", "scorer", "as_of_date"])[["people", "positives"]].sum()
    rows = tables["backtest"].set_index(["motion", "scorer", "as_of_date"])[["people", "positives"]]
    pd.testing.assert_frame_equal(bands.sort_index(), rows.sort_index(), check_dtype=False)


def test_bench_shares_match_the_sampled_scores(tables):
    bench = tables["bench"].set_index("rulebook_id")
    scores = tables["scores"]
    people = sorted(scores["person_id"].unique())
    sample = backtest.bench_sample(people, 500, 20240601)
    assert sample == backtest.bench_sample(list(reversed(people)), 500, 20240601)  # order of input is irrelevant
    for rulebook_id, group in scores.groupby("rulebook_id"):
        sampled = group[group["person_id"].isin(sample)]
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


def hand_made_scored() -> pd.DataFrame:
    """Five people: two positives (scores 0.9 and one of the tied 0.3), the top two are MQLs."""
    return pd.DataFrame({
        "score": [0.9, 0.8, 0.3, 0.3, 0.1],
        "positive": [True, False, True, False, False],
        "is_mql": [True, True, False, False, False],
    })


def test_evaluate_scorer_on_a_hand_made_frame():
    scored = hand_made_scored()
    metrics = backtest.evaluate_scorer(scored, backtest.BacktestSettings(sales_capacity=2))
    assert metrics["auc"] == pytest.approx(pair_count_auc([0.9, 0.3], [0.8, 0.3, 0.1]))
    assert (metrics["mql_count"], metrics["mql_precision"], metrics["mql_recall"]) == (2, 0.5, 0.5)
    assert (metrics["top_k"], metrics["top_k_hit_rate"]) == (2, 0.5)


def wilson_by_hand(successes: int, trials: int) -> tuple[float, float]:
    """Wilson's 95% score interval written out: (p + z²/2n ± z sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)."""
    z = 1.96
    p = successes / trials
    centre = p + z ** 2 / (2 * trials)
    spread = z * (p * (1 - p) / trials + z ** 2 / (4 * trials ** 2)) ** 0.5
    return (centre - spread) / (1 + z ** 2 / trials), (centre + spread) / (1 + z ** 2 / trials)


def test_wilson_interval_on_hand_made_counts():
    # 8 of 20: the textbook 95% interval 0.219 to 0.613.
    assert evaluation.wilson_interval(8, 20) == pytest.approx((0.2188, 0.6134), abs=1e-4)
    assert evaluation.wilson_interval(8, 20) == pytest.approx(wilson_by_hand(8, 20))
    # No success still has an upper bound above 0; all successes a lower bound below 1.
    lower, upper = evaluation.wilson_interval(0, 10)
    assert lower == 0 and upper == pytest.approx(wilson_by_hand(0, 10)[1]) and upper == pytest.approx(0.2775, abs=1e-4)
    assert evaluation.wilson_interval(10, 10)[0] == pytest.approx(0.7225, abs=1e-4)
    assert evaluation.wilson_interval(0, 0) == (None, None)


def test_hanley_mcneil_interval_on_a_hand_made_auc():
    # AUC 0.8 on 50 positives and 50 negatives: Q1 = 0.8 / 1.2, Q2 = 2 * 0.64 / 1.8,
    # variance = (0.16 + 49 (Q1 - 0.64) + 49 (Q2 - 0.64)) / 2500 = 0.0019804, se 0.044502.
    q1, q2 = 0.8 / 1.2, 1.28 / 1.8
    se = ((0.16 + 49 * (q1 - 0.64) + 49 * (q2 - 0.64)) / 2500) ** 0.5
    assert se == pytest.approx(0.044502, abs=1e-6)
    assert evaluation.hanley_mcneil_interval(0.8, 50, 50) == pytest.approx((0.8 - 1.96 * se, 0.8 + 1.96 * se))
    # Clipped to [0, 1], undefined without both classes.
    assert evaluation.hanley_mcneil_interval(0.99, 3, 3)[1] == 1.0
    assert evaluation.hanley_mcneil_interval(None, 0, 5) == (None, None)


def test_evaluate_scorer_gives_intervals_around_its_figures():
    scored = hand_made_scored()
    metrics = backtest.evaluate_scorer(scored, backtest.BacktestSettings(sales_capacity=2))
    # Precision 1 of 2 MQLs, recall 1 of 2 positives.
    assert (metrics["mql_precision_ci_lower"], metrics["mql_precision_ci_upper"]) == pytest.approx(wilson_by_hand(1, 2))
    assert (metrics["mql_recall_ci_lower"], metrics["mql_recall_ci_upper"]) == pytest.approx(wilson_by_hand(1, 2))
    auc = metrics["auc"]
    q1, q2 = auc / (2 - auc), 2 * auc ** 2 / (1 + auc)
    se = ((auc * (1 - auc) + (2 - 1) * (q1 - auc ** 2) + (3 - 1) * (q2 - auc ** 2)) / (2 * 3)) ** 0.5
    assert metrics["auc_ci_lower"] == pytest.approx(max(0.0, auc - 1.96 * se))
    assert metrics["auc_ci_upper"] == pytest.approx(min(1.0, auc + 1.96 * se))


def test_band_lift_is_the_wilson_interval_over_the_overall_rate():
    # 100 people, scores 100..1: the top 1% is one person, 1-5% four, 5-10% five, then 15, 25, 50.
    positive = [True] * 1 + [True, True, False, False] + [True] + [False] * 4 + [True] * 3 + [False] * 12 \
        + [True] * 2 + [False] * 23 + [True] * 3 + [False] * 47
    scored = pd.DataFrame({"score": np.arange(100, 0, -1, dtype=float), "positive": positive})
    bands = {row["band"]: row for row in backtest.band_conversion(scored)}
    overall = sum(positive) / 100
    assert [bands[name]["people"] for _, name in backtest.BAND_EDGES] == [1, 4, 5, 15, 25, 50]
    top = bands["10-25%"]
    assert (top["positives"], top["conversion_rate"]) == (3, pytest.approx(3 / 15))
    assert (top["conversion_rate_ci_lower"], top["conversion_rate_ci_upper"]) == pytest.approx(wilson_by_hand(3, 15))
    assert top["lift"] == pytest.approx((3 / 15) / overall)
    assert (top["lift_ci_lower"], top["lift_ci_upper"]) == pytest.approx(
        tuple(bound / overall for bound in wilson_by_hand(3, 15)))


def test_thin_backtest_dates_are_named_with_the_setting_to_change():
    # Repurchase rows count customer accounts: 2026-01-01 has 48 of 50 reordering (2 did not),
    # 2026-02-01 30 of 60; the people rows' thin date is not theirs, nor theirs the people's.
    rows = pd.DataFrame({
        "scorer": ["rb", "predictive_logit", "rb", "predictive_logit", "rb", "rb"],
        "motion": ["new_business"] * 4 + ["repurchase"] * 2,
        "as_of_date": [date(2026, 1, 1), date(2026, 1, 1), date(2026, 2, 1), date(2026, 2, 1), date(2026, 1, 1),
                       date(2026, 2, 1)],
        "people": [500, 500, 600, 600, 50, 60],
        "positives": [5, 5, 40, 40, 48, 30],
        "training_rows": [None, 0, None, 3000, None, None],
        "training_positives": [None, 0, None, 45, None, None],
    })
    warnings = evaluation.backtest_warnings(rows, "predictive_logit")
    assert len(warnings) == 3 and all("2026-01-01" in w and "2026-02-01" not in w for w in warnings)
    assert "2026-01-01 (5 of 500)" in warnings[0] and "backtest_horizon_days" in warnings[0]
    assert warnings[1].startswith("Repurchase backtest dates") and "2026-01-01 (48 of 50)" in warnings[1]
    assert "2026-01-01 (0 of 0)" in warnings[2] and "predictive_training_snapshots" in warnings[2]
    assert "backtest_history_days" in evaluation.backtest_warnings(rows.head(0), "predictive_logit")[0]


def test_every_interval_holds_its_figure(tables):
    rows = tables["backtest"]
    for figure in ("auc", "mql_precision", "mql_recall"):
        defined = rows[rows[figure].notna()]
        assert defined[f"{figure}_ci_lower"].le(defined[figure] + 1e-12).all()
        assert defined[f"{figure}_ci_upper"].ge(defined[figure] - 1e-12).all()
        assert rows.loc[rows[figure].isna(), f"{figure}_ci_lower"].isna().all()
    bands = tables["bands"][tables["bands"]["people"] > 0]
    assert (bands["conversion_rate_ci_lower"] <= bands["conversion_rate"] + 1e-12).all()
    assert (bands["conversion_rate_ci_upper"] >= bands["conversion_rate"] - 1e-12).all()
