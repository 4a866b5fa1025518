"""The feedback steps keep their stored results while what they depend on is unchanged: on a copy
of the tiny demo warehouse, a run with as_of a day later reuses the backtest and the predictive
fit and gives the tables a fresh computation gives; a new opportunity inside a horizon, a changed
setting, an edited rulebook or edited result tables make them compute again, with the expected
effect on the numbers; changes outside the ranges they read do not. What late data moves at past
snapshots (activity counts, rulebook scores) keeps the stored results for REFIT_AFTER_DAYS days of
as_of, and recomputes at once when that is 0."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta

import duckdb
import pandas as pd
import pytest

from leadscore.feedback import backtest, predictive
from leadscore.warehouse import connect
from tests.test_predictive import rebuild_feature_marts


@pytest.fixture()
def con(first_run, demo_settings, tmp_path) -> duckdb.DuckDBPyConnection:
    """A writable copy of the demo warehouse (with the results and digests the run stored)."""
    assert first_run.success
    path = tmp_path / "copy.duckdb"
    shutil.copy(demo_settings.warehouse, path)
    connection = connect(path)
    yield connection
    connection.close()


def stored(con, table: str, order: str) -> pd.DataFrame:
    return con.execute(f"select * from feedback.{table} order by {order}").df()


def through_duckdb(con, frame: pd.DataFrame, order: str) -> pd.DataFrame:
    """A computed frame as it reads back from a table, to compare with a stored one."""
    con.register("computed", frame)
    try:
        return con.execute(f"select * from computed order by {order}").df()
    finally:
        con.unregister("computed")


def move_as_of(con, days: int) -> duckdb.DuckDBPyConnection:
    """As a dbt build as of `days` later would: the feature marts recomputed at the new as_of."""
    con.execute("update intermediate.int_scoring_as_of set as_of = as_of + to_days(?)", [days])
    return rebuild_feature_marts(con)


def latest_backtest_snapshot(con) -> datetime:
    return con.execute("select max(snapshot_at) from marts.fct_score_snapshots").fetchone()[0]


def row_at(tables: backtest.BacktestTables, snapshot: datetime, scorer: str) -> pd.Series:
    rows = tables.backtest
    day = (snapshot - timedelta(days=1)).date()
    return rows[(pd.to_datetime(rows["as_of_date"]).dt.date == day) & (rows["scorer"] == scorer)].iloc[0]


def champion(con) -> str:
    return con.execute("select distinct rulebook_id from marts.fct_score_snapshots where is_champion").fetchone()[0]


def person_without_opportunity(con, snapshot: datetime, horizon_days: int, extra: str = "true") -> str:
    """A master person created before `snapshot` whose first opportunity (if any) is after its horizon."""
    return con.execute(
        f"""select people.person_id from intermediate.int_people as people
        where people.is_master and people.person_created_at < ? and {extra}
          and not exists (select 1 from intermediate.int_person_opportunities as o
                          where o.person_id = people.person_id and o.created_at <= ?)
        order by people.person_id limit 1""",
        [snapshot, snapshot + timedelta(days=horizon_days)],
    ).fetchone()[0]


def add_opportunity(con, person_id: str, created_at: datetime) -> duckdb.DuckDBPyConnection:
    """A new CRM opportunity, and the feature marts rebuilt from it (the connection to use next)."""
    con.execute(
        """insert into intermediate.int_person_opportunities (person_id, opportunity_id, created_at)
        values (?, 'added-' || ?, ?)""",
        [person_id, person_id, created_at],
    )
    return rebuild_feature_marts(con)


def add_pricing_view(con, person_id: str, at: datetime) -> duckdb.DuckDBPyConnection:
    """A new pricing page view, and the feature marts rebuilt from it (the connection to use next)."""
    con.execute(
        """insert into intermediate.int_activities (activity_id, person_id, activity_type, activity_at, page_category)
        values ('added-view', ?, 'web_page_view', ?, 'pricing')""",
        [person_id, at],
    )
    return rebuild_feature_marts(con)


def test_a_day_later_both_steps_reuse_and_match_a_fresh_computation(con):
    con = move_as_of(con, 1)
    run = backtest.refresh_backtest(con)
    assert run.reused, run.reason
    fresh = backtest.run_backtest(con)
    pd.testing.assert_frame_equal(stored(con, "rpt_backtest", "as_of_date, scorer"),
                                  through_duckdb(con, fresh.backtest, "as_of_date, scorer"))
    pd.testing.assert_frame_equal(stored(con, "rpt_backtest_bands", "as_of_date, scorer, band_order"),
                                  through_duckdb(con, fresh.bands, "as_of_date, scorer, band_order"))

    fit = predictive.refresh_predictive(con)
    assert fit.reused, fit.reason
    fresh = predictive.train_and_score(con)
    for table, frame, order in (("predictive_scores", fresh.scores, "person_id"),
                                ("predictive_coefficients", fresh.coefficients, "feature"),
                                ("predictive_calibration", fresh.calibration, "bin")):
        pd.testing.assert_frame_equal(stored(con, table, order), through_duckdb(con, frame, order))
    assert (stored(con, "predictive_scores", "person_id")["as_of"] == predictive.effective_as_of(con)).all()


def test_the_predictive_grid_moves_only_when_its_next_midnight_is_labelled():
    # Day 20544 (2026-04-01) is the last labelled midnight on 06-30; 20524 (03-12) the last
    # multiple of 28 before it, until the horizon of 20552 (04-09) ends at 07-08 00:00.
    assert predictive.latest_grid_midnight(datetime(2026, 6, 30, 22, 32, 48), 90, 28) == datetime(2026, 3, 12)
    assert predictive.latest_grid_midnight(datetime(2026, 7, 7, 23, 59, 59), 90, 28) == datetime(2026, 3, 12)
    assert predictive.latest_grid_midnight(datetime(2026, 7, 8), 90, 28) == datetime(2026, 4, 9)


def test_a_new_opportunity_inside_a_horizon_computes_again_and_counts(con):
    snapshot = latest_backtest_snapshot(con)
    before = backtest.refresh_backtest(con).tables
    person = person_without_opportunity(
        con, snapshot, 90,
        f"people.person_id in (select person_id from marts.fct_score_snapshots where snapshot_at = '{snapshot}')",
    )
    con = add_opportunity(con, person, snapshot + timedelta(days=10))
    run = backtest.refresh_backtest(con)
    assert not run.reused and "conversions" in run.reason
    for scorer in (champion(con), predictive.MODEL_NAME):
        old, new = row_at(before, snapshot, scorer), row_at(run.tables, snapshot, scorer)
        assert (new.people, new.positives) == (old.people, old.positives + 1)


def test_a_first_opportunity_after_the_last_horizon_changes_nothing_stored(con):
    snapshot = latest_backtest_snapshot(con)
    as_of = predictive.effective_as_of(con)
    assert backtest.refresh_backtest(con).reused
    assert predictive.refresh_predictive(con).reused
    con = add_opportunity(con, person_without_opportunity(con, snapshot, 90), snapshot + timedelta(days=91))
    assert snapshot + timedelta(days=91) <= as_of
    assert backtest.refresh_backtest(con).reused
    assert predictive.refresh_predictive(con).reused


def test_a_new_opportunity_in_the_validation_horizon_refits(con):
    settings = predictive.model_settings(con)
    validation = predictive.validation_snapshot_of(predictive.effective_as_of(con), settings)
    before = predictive.refresh_predictive(con).tables.calibration
    con = add_opportunity(con, person_without_opportunity(con, validation, 90), validation + timedelta(days=10))
    run = predictive.refresh_predictive(con)
    assert not run.reused and "conversions" in run.reason
    assert run.tables.calibration["people"].sum() == before["people"].sum()
    assert run.tables.calibration["positives"].sum() == before["positives"].sum() + 1


def test_a_changed_score_at_a_snapshot_computes_the_backtest_again(con):
    snapshot = latest_backtest_snapshot(con)
    rulebook = champion(con)
    before = backtest.refresh_backtest(con).tables
    (person,) = con.execute(
        """select snapshots.person_id from marts.fct_score_snapshots as snapshots
        where snapshots.snapshot_at = ? and snapshots.rulebook_id = ? and not snapshots.is_mql
          and not exists (select 1 from intermediate.int_person_opportunities as o
                          where o.person_id = snapshots.person_id and o.created_at <= ?)
        order by snapshots.person_id limit 1""",
        [snapshot, rulebook, snapshot],
    ).fetchone()
    con.execute(
        """update marts.fct_score_snapshots set total_score = 1000, is_mql = true
        where person_id = ? and rulebook_id = ? and snapshot_at = ?""",
        [person, rulebook, snapshot],
    )
    run = backtest.refresh_backtest(con, refit_after_days=0)
    assert not run.reused and "rulebook scores" in run.reason
    # One more MQL for the champion, and so for the model, which passes as many.
    for scorer in (rulebook, predictive.MODEL_NAME):
        assert row_at(run.tables, snapshot, scorer).mql_count == row_at(before, snapshot, scorer).mql_count + 1


def test_a_score_moved_by_late_data_keeps_the_backtest_but_an_edited_rulebook_does_not(con):
    snapshot = latest_backtest_snapshot(con)
    rulebook = champion(con)
    before = backtest.refresh_backtest(con).tables
    con.execute(
        """update marts.fct_score_snapshots set total_score = total_score + 1
        where rulebook_id = ? and snapshot_at = ?""",
        [rulebook, snapshot],
    )
    kept = backtest.refresh_backtest(con)
    assert kept.reused and "rulebook scores at the snapshots moved" in kept.reason
    pd.testing.assert_frame_equal(kept.tables.backtest.drop(columns="as_of"), before.backtest.drop(columns="as_of"))
    # The same scores with the rulebook's seeds edited (the build fingerprints them): computed again.
    con.execute("update intermediate.int_rulebook_fingerprints set fingerprint = 'edited' where rulebook_id = ?",
                [rulebook])
    run = backtest.refresh_backtest(con)
    assert not run.reused and "rulebook definitions" in run.reason


def test_a_repurchase_score_moved_by_late_data_is_kept_but_an_edited_repurchase_rule_is_not(con):
    before = backtest.refresh_backtest(con).tables
    con.execute("update marts.fct_account_repurchase_snapshots set repurchase_score = repurchase_score + 1")
    kept = backtest.refresh_backtest(con)
    assert kept.reused and "repurchase scores at the snapshots moved" in kept.reason
    pd.testing.assert_frame_equal(kept.tables.backtest.drop(columns="as_of"), before.backtest.drop(columns="as_of"))
    con.execute("update seeds.customer_rules set points = points + 1 where rule_type = 'purchase_cycle'")
    run = backtest.refresh_backtest(con)
    assert not run.reused and "repurchase rules" in run.reason


def test_a_changed_setting_computes_again(con):
    run = backtest.refresh_backtest(con, backtest.BacktestSettings(sales_capacity=7))
    assert not run.reused and "settings" in run.reason
    # Sales capacity 7: the top 7 of every population, or all of a smaller one (a few customers).
    bt = run.tables.backtest
    assert (bt["top_k"] == bt["people"].clip(upper=7)).all()
    assert (bt.loc[bt["motion"] == "new_business", "top_k"] == 7).all()
    assert backtest.refresh_backtest(con, backtest.BacktestSettings(sales_capacity=7)).reused

    fit = predictive.refresh_predictive(con, predictive.model_settings(con, regularization_c=0.05))
    assert not fit.reused and "settings" in fit.reason


def test_only_activities_before_the_last_training_snapshot_refit(con):
    as_of = predictive.effective_as_of(con)
    validation = predictive.validation_snapshot_of(as_of, predictive.model_settings(con))
    person = person_without_opportunity(con, validation, 90)
    assert predictive.refresh_predictive(con, refit_after_days=0).reused
    con = add_pricing_view(con, person, validation + timedelta(hours=1))
    assert predictive.refresh_predictive(con, refit_after_days=0).reused
    con = add_pricing_view(con, person, validation - timedelta(hours=1))
    run = predictive.refresh_predictive(con, refit_after_days=0)
    assert not run.reused and "activities" in run.reason


def test_a_late_activity_keeps_the_fit_for_refit_after_days_of_as_of(con):
    as_of = predictive.effective_as_of(con)
    validation = predictive.validation_snapshot_of(as_of, predictive.model_settings(con))
    stored_coefficients = stored(con, "predictive_coefficients", "feature")
    # A view before the validation snapshot, loaded late (its visitor identified since).
    con = add_pricing_view(con, person_without_opportunity(con, validation, 90), validation - timedelta(hours=1))
    con = move_as_of(con, predictive.REFIT_AFTER_DAYS - 1)
    kept = predictive.refresh_predictive(con)
    assert kept.reused and "activity counts" in kept.reason and "6.0 days ago" in kept.reason
    pd.testing.assert_frame_equal(stored(con, "predictive_coefficients", "feature"), stored_coefficients)
    # Everyone is scored again at the new as_of with the kept fit.
    assert (stored(con, "predictive_scores", "person_id")["as_of"] == as_of + timedelta(days=6)).all()
    # A week of as_of after the fit, it is refitted on the late activity.
    con = move_as_of(con, 1)
    run = predictive.refresh_predictive(con)
    assert not run.reused and "activities" in run.reason and "computed 7.0 days of as_of ago" in run.reason
    fresh = predictive.train_and_score(con)
    pd.testing.assert_frame_equal(stored(con, "predictive_coefficients", "feature"),
                                  through_duckdb(con, fresh.coefficients, "feature"))


def stored_state(parts: dict[str, str], computed_as_of: datetime | None) -> predictive.StoredState:
    return predictive.StoredState(parts=parts, outputs="tables", values={"computed_as_of": computed_as_of})


@pytest.mark.parametrize(("changed", "computed_days_ago", "refit_after_days", "reused"), [
    ({}, 30, 0, True),  # nothing changed: kept whatever its age
    ({"activities": "b"}, 6.9, 7, True),
    ({"activities": "b", "scores": "b", "champion": "b"}, 0, 7, True),
    ({"activities": "b"}, 7, 7, False),  # a week old
    ({"activities": "b"}, 0, 0, False),  # late data tolerated for no day
    ({"activities": "b"}, -1, 7, False),  # as_of moved back before it
    ({"activities": "b"}, None, 7, False),  # stored by a version without the instant
    ({"activities": "b", "labels": "b"}, 1, 7, False),
    ({"rulebooks": "b"}, 1, 7, False),
    ({"repurchase_scores": "b"}, 1, 7, True),
    ({"repurchase_rules": "b"}, 1, 7, False),
    ({"custom_fields": "b"}, 1, 7, False),
])
def test_reuse_verdict_tolerates_only_late_data_and_only_for_a_while(changed, computed_days_ago, refit_after_days,
                                                                      reused):
    as_of = datetime(2026, 6, 30, 12)
    parts = {"activities": "a", "scores": "a", "champion": "a", "labels": "a", "rulebooks": "a", "custom_fields": "a",
             "repurchase_scores": "a", "repurchase_rules": "a"}
    computed = None if computed_days_ago is None else as_of - timedelta(days=computed_days_ago)
    inputs = predictive.InputsDigest({**parts, **changed})
    verdict = predictive.reuse_verdict(stored_state(parts, computed), inputs, "tables", as_of, refit_after_days)
    assert verdict.reused == reused, verdict.reason
    # Other stored tables than the ones stored with the digest are never reused.
    assert not predictive.reuse_verdict(stored_state(parts, computed), inputs, "other", as_of, refit_after_days).reused


def test_edited_result_tables_are_not_reused(con):
    con.execute("update feedback.rpt_backtest set auc = 0.5")
    run = backtest.refresh_backtest(con)
    assert not run.reused and "stored tables" in run.reason
    assert (run.tables.backtest["auc"] != 0.5).any()

    con.execute("drop table feedback.predictive_calibration")
    fit = predictive.refresh_predictive(con)
    assert not fit.reused and "stored tables" in fit.reason
    assert stored(con, "predictive_calibration", "bin")["people"].sum() > 0


def test_the_feature_digest_covers_every_column_the_features_read(con):
    read = {*predictive.FEATURE_INPUTS, *predictive.count_columns()}
    digested = {column for columns in predictive.DIGEST_COLUMNS.values() for column in columns}
    assert digested == read
    # And the features read every column of the mart but the two that tell its incremental runs
    # what changed: a column dbt adds is either read or noticed here.
    mart = {name for (name,) in con.execute(
        """select column_name from information_schema.columns
        where table_schema = 'marts' and table_name = 'fct_person_features'"""
    ).fetchall()}
    assert mart - {"_inputs_digest", "_settings_fingerprint"} == read
    assert {"_inputs_digest", "_settings_fingerprint"} <= mart
