"""The predictive score on the tiny demo run: its tables, features that see nothing after their
snapshot, dbt's snapshot grid against the one the fits train on, identical re-runs, coefficients
that reproduce the probabilities, and the small functions on hand-made frames."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from leadscore.feedback import backtest, predictive
from leadscore.warehouse import connect
from tests.dbt_runner import dbt_failure, run_dbt

FEATURE_MARTS = ("fct_conversions", "dim_feature_snapshots", "fct_person_features")


def rebuild_feature_marts(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """The feature marts rebuilt by dbt from the warehouse's (edited) intermediate tables, and a
    new connection to it: dbt opens the file itself, so the given connection is closed first."""
    (path,) = con.execute(
        "select path from duckdb_databases() where database_name = current_database()"
    ).fetchone()
    con.close()
    result = run_dbt(["run", "--quiet", "--select", *FEATURE_MARTS], path, Path(path).parent / "dbt_target")
    assert result.returncode == 0, dbt_failure(result)
    return connect(path)


@pytest.fixture()
def warehouse_copy(first_run, demo_settings, tmp_path) -> duckdb.DuckDBPyConnection:
    """A writable copy of the demo warehouse, so a test can edit it without touching the others."""
    assert first_run.success
    path = tmp_path / "copy.duckdb"
    shutil.copy(demo_settings.warehouse, path)
    con = connect(path)
    yield con
    con.close()


def test_tables_hold_one_probability_per_person_without_an_opportunity(first_run, demo_settings):
    with connect(demo_settings.warehouse, read_only=True) as con:
        scores = con.execute("select * from feedback.predictive_scores").df()
        (as_of,) = con.execute("select distinct as_of from marts.fct_lead_scores").fetchone()
        eligible = con.execute(
            """select count(*) from intermediate.int_people as people
            where people.is_master and people.person_created_at < ?
              and not exists (select 1 from intermediate.int_person_opportunities as o
                              where o.person_id = people.person_id and o.created_at <= ?)""",
            [as_of, as_of],
        ).fetchone()[0]
        calibration = con.execute("select * from feedback.predictive_calibration order by bin").df()
        coefficients = con.execute("select * from feedback.predictive_coefficients").df()
    assert len(scores) == eligible == scores["person_id"].nunique()
    assert (scores["as_of"] == as_of).all()  # the run's as_of, not the clock
    assert scores["probability"].between(0, 1).all()
    # A fit that does not beat the base rate keeps its probabilities but publishes no score.
    assert scores["is_published"].nunique() == 1 and scores["publish_reason"].str.len().gt(0).all()
    if scores["is_published"].all():
        assert scores["predictive_score"].between(0, 100).all()
    else:
        assert scores["predictive_score"].isna().all()
    assert (calibration["is_published"] == scores["is_published"].iloc[0]).all()
    assert {"feature", "coefficient", "odds_ratio", "description"} <= set(coefficients.columns)
    assert calibration["people"].sum() > 0 and calibration["observed_rate"].between(0, 1).all()
    assert calibration["brier_score"].nunique() == 1


def test_features_at_a_snapshot_ignore_everything_after_it(warehouse_copy):
    con = warehouse_copy
    # The newest midnight the published model trains on: dbt computed features there.
    snapshot = predictive.validation_snapshot_of(predictive.effective_as_of(con), predictive.model_settings(con))
    before = predictive.load_snapshots(con, [snapshot]).frame
    assert before[[c for c in before.columns if c.endswith("_90d")]].to_numpy().sum() > 0
    # Rewrite the future: drop later activities, add a burst of pricing views just after the
    # snapshot, and an opportunity for everyone a day after it.
    con.execute("delete from intermediate.int_activities where activity_at >= ?", [snapshot])
    con.execute(
        """insert into intermediate.int_activities (person_id, activity_type, activity_at, page_category)
        select person_id, 'web_page_view', ?::timestamp + interval 1 second, 'pricing'
        from intermediate.int_people where is_master""",
        [snapshot],
    )
    con.execute(
        """insert into intermediate.int_person_opportunities (person_id, opportunity_id, created_at)
        select person_id, 'future-' || person_id, ?::timestamp + interval 1 day
        from intermediate.int_people where is_master""",
        [snapshot],
    )
    con = rebuild_feature_marts(con)
    after = predictive.load_snapshots(con, [snapshot]).frame
    con.close()
    features = [c for c in before.columns if c not in ("converted_at", "is_converted")]  # the label
    pd.testing.assert_frame_equal(before[features], after[features])


def test_features_read_a_chunk_at_a_time_match_the_feature_mart_row_by_row(first_run, demo_settings, monkeypatch):
    """The features are read in chunks into preallocated blocks: every row, at every snapshot,
    must hold its own person's counts and profile, as computed here in SQL from the mart."""
    monkeypatch.setattr(predictive, "FETCH_VECTORS", 1)  # 2,048 rows a chunk: several chunks
    with connect(demo_settings.warehouse, read_only=True) as con:
        instants = [at for (at,) in con.execute(
            "select distinct snapshot_at from marts.fct_person_features order by 1").fetchall()]
        data = predictive.load_snapshots(con, instants)
        windows = [predictive.window_feature(kind, days) for kind in predictive.ACTIVITY_KINDS
                   for days in predictive.WINDOWS_DAYS]
        expected = con.execute(
            f"""select snapshot_at, person_id, last_activity_at is null as never_active,
                {", ".join(f"ln(1 + coalesce({name}, 0)) as {name}" for name in windows)},
                coalesce(seniority, 'unknown') as seniority, coalesce(industry, 'unknown') as industry
            from marts.fct_person_features order by snapshot_at, person_id"""
        ).df()
    frame = data.frame
    assert len(frame) == len(expected) > 2048  # more than one chunk
    assert frame["snapshot_at"].tolist() == expected["snapshot_at"].tolist()
    assert frame["person_id"].tolist() == expected["person_id"].tolist()
    assert frame["never_active"].tolist() == expected["never_active"].tolist()
    for name in windows:
        np.testing.assert_allclose(frame[name].to_numpy(dtype=float), expected[name], rtol=1e-6, err_msg=name)
    for attribute in ("seniority", "industry"):
        for feature in [f for f in data.features if f.startswith(f"{attribute}=")]:
            value = feature.split("=", 1)[1]
            assert frame[feature].tolist() == (expected[attribute] == value).tolist(), feature
    # Every feature reads as a number (flags as 0 and 1), also without asking for a type.
    matrix = frame[data.features].to_numpy()
    assert matrix.dtype.kind == "f" and np.isfinite(matrix).all()
    assert set(np.unique(frame[[f for f in data.features if "=" in f]].to_numpy())) <= {0, 1}


def test_dbt_computes_features_at_every_snapshot_the_fits_read_and_no_other(first_run, demo_settings):
    """dim_feature_snapshots (dbt) against the grids computed here from the same settings: the
    published fit's, each backtest horizon's, the backtest dates and as_of."""
    with connect(demo_settings.warehouse, read_only=True) as con:
        settings = predictive.model_settings(con)
        as_of = predictive.effective_as_of(con)
        dates = backtest.backtest_dates(con)
        built = con.execute(
            """select snapshot_at, is_training_snapshot, is_backtest_snapshot, is_as_of
            from marts.dim_feature_snapshots order by snapshot_at"""
        ).df()
        populated = {at for (at,) in con.execute(
            "select distinct snapshot_at from marts.fct_person_features").fetchall()}
    assert dates, "the demo data has backtest dates"
    training = set(predictive.fit_grid(as_of, settings))
    training |= {s for _, points in backtest.model_grids(dates, settings).values() for s in points}
    backtest_snapshots = {d.snapshot for d in dates}
    assert set(built["snapshot_at"]) == training | backtest_snapshots | {as_of}
    assert set(built.loc[built["is_training_snapshot"], "snapshot_at"]) == training
    assert set(built.loc[built["is_backtest_snapshot"], "snapshot_at"]) == backtest_snapshots
    assert built.loc[built["is_as_of"], "snapshot_at"].tolist() == [as_of]
    assert populated <= set(built["snapshot_at"]) and as_of in populated
    assert (settings.horizon_days, settings.training_snapshots, settings.snapshot_step_days) == (90, 8, 28)


def test_settings_other_than_the_dbt_vars_stop_the_fit(warehouse_copy):
    built = predictive.model_settings(warehouse_copy)
    other = predictive.ModelSettings(horizon_days=built.horizon_days + 1, training_snapshots=built.training_snapshots,
                                     snapshot_step_days=built.snapshot_step_days)
    with pytest.raises(ValueError, match="predictive_horizon_days"):
        predictive.train_and_score(warehouse_copy, other)
    with pytest.raises(ValueError, match="predictive_horizon_days"):
        predictive.refresh_predictive(warehouse_copy, other)
    with pytest.raises(ValueError, match="predictive_horizon_days"):
        backtest.refresh_backtest(warehouse_copy, model_settings=other)


def test_training_never_uses_a_label_unknown_at_the_cutoff():
    settings = predictive.ModelSettings(horizon_days=90, training_snapshots=3, snapshot_step_days=28)
    as_of = datetime(2026, 6, 30, 22, 32, 48)
    grid = predictive.training_grid(as_of, settings, datetime(2026, 3, 4))
    for cutoff in (as_of, datetime(2026, 3, 4), datetime(2026, 3, 18)):
        chosen = predictive.training_snapshots(grid, cutoff, settings)
        assert len(chosen) == 3
        assert all((cutoff - s).days >= 90 for s in chosen)
        # On the fixed grid: day numbers since 1970-01-01 that are multiples of 28.
        assert all((s - datetime(1970, 1, 1)).days % 28 == 0 for s in chosen)
    # 04-01 is the last labelled midnight; 03-12 (day 20524) the last grid midnight before it.
    assert predictive.training_snapshots(grid, as_of, settings) == [
        datetime(2026, 1, 15), datetime(2026, 2, 12), datetime(2026, 3, 12)]


def test_two_runs_give_identical_tables(first_run, demo_settings, warehouse_copy):
    first = predictive.train_and_score(warehouse_copy)
    second = predictive.train_and_score(warehouse_copy)
    for name in ("scores", "coefficients", "calibration"):
        pd.testing.assert_frame_equal(getattr(first, name), getattr(second, name))
    # And the same as what the Dagster asset wrote during the run.
    with connect(demo_settings.warehouse, read_only=True) as con:
        written = con.execute("select * from feedback.predictive_scores order by person_id").df()
    pd.testing.assert_frame_equal(written, first.scores, check_dtype=False)


def test_coefficient_table_reproduces_the_probabilities(warehouse_copy):
    tables = predictive.train_and_score(warehouse_copy)
    if not tables.model.fitted:
        pytest.skip("no positive to train on in this data")
    as_of = predictive.effective_as_of(warehouse_copy)
    values = predictive.profile_values_of(tables.model.features)
    current = predictive.at_snapshot(predictive.load_snapshots(warehouse_copy, [as_of], values), as_of)
    table = tables.coefficients.set_index("feature")
    intercept = table.loc["(intercept)", "coefficient"]
    rows = table.drop("(intercept)")
    standardized = (current[rows.index].to_numpy() - rows["training_mean"].to_numpy()) / rows["training_std"].to_numpy()
    log_odds = intercept + standardized @ rows["coefficient"].to_numpy()
    by_hand = pd.Series(1 / (1 + np.exp(-log_odds)), index=current["person_id"])
    published = tables.scores.set_index("person_id")["probability"]
    np.testing.assert_allclose(by_hand.loc[published.index].to_numpy(), published.to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(table["odds_ratio"], np.exp(table["coefficient"]))


def test_labels_count_a_first_opportunity_within_the_horizon_only():
    frame = pd.DataFrame({
        "snapshot_at": pd.to_datetime(["2026-01-01"] * 4),
        "converted_at": pd.to_datetime([None, "2026-01-02", "2026-04-01", "2026-04-02"]),
    })
    # 2026-04-01 is exactly 90 days later: inside; the day after: outside.
    assert predictive.labels(frame, 90).tolist() == [False, True, True, False]


def test_calibration_bins_and_percentile_scores_on_hand_made_values():
    probability = np.array([0.1, 0.2, 0.3, 0.4, 0.9, 0.9])
    outcome = np.array([0, 0, 1, 0, 1, 1])
    bins = predictive.calibration_bins(probability, outcome)
    assert bins["people"].tolist() == [1] * 6
    assert bins["observed_rate"].tolist() == [0, 0, 1, 0, 1, 1]
    assert predictive.percentile_score(probability).tolist() == [17, 33, 50, 67, 100, 100]


def hand_made_features(label_of, people: int = 400, seed: int = 7) -> tuple[predictive.SnapshotData, list, datetime,
                                                                           predictive.ModelSettings]:
    """One feature, `signal`, for `people` new people at every snapshot of the published model's
    grid and at as_of; `label_of(signal, rng)` says who gets an opportunity 10 days later."""
    settings = predictive.ModelSettings(horizon_days=90, training_snapshots=8, snapshot_step_days=28)
    as_of = datetime(2026, 6, 30)
    grid = predictive.fit_grid(as_of, settings)
    rng = np.random.default_rng(seed)
    frames = []
    for snapshot in [*grid, as_of]:
        signal = rng.normal(size=people)
        converts = label_of(signal, rng)
        frames.append(pd.DataFrame({
            "snapshot_at": snapshot,
            "person_id": [f"{snapshot:%Y%m%d}-{i}" for i in range(people)],
            "converted_at": pd.Series(pd.NaT, index=range(people)).where(
                ~converts, pd.Timestamp(snapshot) + pd.Timedelta(days=10)),
            "signal": signal.astype(np.float32),
        }))
    data = predictive.SnapshotData(frame=pd.concat(frames, ignore_index=True), features=["signal"],
                                   descriptions={"signal": "a hand-made feature"})
    return data, grid, as_of, settings


def test_a_model_that_learns_the_signal_is_published():
    data, grid, as_of, settings = hand_made_features(lambda signal, rng: signal + rng.normal(size=len(signal)) > 1.5)
    tables = predictive.fit_and_score(data, grid, as_of, settings)
    assert tables.decision.published, tables.decision.reason
    assert tables.validation_auc > 0.8
    assert tables.scores["is_published"].all() and tables.scores["predictive_score"].between(0, 100).all()
    assert tables.calibration["is_published"].all()
    assert (tables.calibration["log_loss"] < tables.calibration["base_rate_log_loss"]).all()


def test_a_model_on_random_labels_is_not_published():
    data, grid, as_of, settings = hand_made_features(lambda signal, rng: rng.random(len(signal)) < 0.1)
    tables = predictive.fit_and_score(data, grid, as_of, settings)
    # Enough rows and positives to fit, but held out it ranks like chance.
    assert tables.model.positives >= predictive.MIN_POSITIVES and tables.model.fitted
    assert not tables.decision.published
    assert "no better than chance" in tables.decision.reason or "log-loss" in tables.decision.reason
    assert tables.scores["predictive_score"].isna().all() and not tables.scores["is_published"].any()
    assert tables.scores["probability"].between(0, 1).all()
    assert (tables.calibration["publish_reason"] == tables.decision.reason).all()


def test_a_model_without_positives_is_not_published_and_says_which_vars_to_raise():
    data, grid, as_of, settings = hand_made_features(lambda signal, rng: np.zeros(len(signal), dtype=bool))
    tables = predictive.fit_and_score(data, grid, as_of, settings)
    assert not tables.model.fitted and not tables.decision.published
    reason = tables.decision.reason
    assert reason.startswith("only 0 positives") and "predictive_training_snapshots" in reason
    assert tables.scores["predictive_score"].isna().all()


def test_too_few_training_rows_are_not_published():
    data, grid, as_of, settings = hand_made_features(lambda signal, rng: signal > 1.0, people=10)
    tables = predictive.fit_and_score(data, grid, as_of, settings)
    assert tables.model.rows < predictive.MIN_TRAINING_ROWS
    assert not tables.decision.published and "training rows" in tables.decision.reason


def test_log_loss_by_hand():
    # -(ln 0.8 + ln 0.9) / 2 for a positive at 0.8 and a negative at 0.1.
    assert predictive.log_loss(np.array([1, 0]), np.array([0.8, 0.1])) == pytest.approx(
        -(np.log(0.8) + np.log(0.9)) / 2)
    assert predictive.log_loss(np.array([]), np.array([])) is None


def test_a_model_that_does_not_beat_the_champion_on_the_same_people_is_not_published():
    data, grid, as_of, settings = hand_made_features(lambda signal, rng: signal + rng.normal(size=len(signal)) > 1.5)
    validation = predictive.validation_snapshot_of(as_of, settings)
    people = predictive.at_snapshot(data, validation)
    # A champion that knows the outcome ranks perfectly: the model cannot beat it.
    oracle = pd.Series(predictive.labels(people, settings.horizon_days).astype(float), index=people["person_id"])
    tables = predictive.fit_and_score(data, grid, as_of, settings, champion=oracle)
    assert not tables.decision.published
    reason = tables.decision.reason
    assert "champion rulebook's 1.000" in reason and f"same {len(people):,} people" in reason
    assert tables.scores["predictive_score"].isna().all()
    # A champion that scores everyone alike ranks like chance: the model beats it and is published.
    flat = pd.Series(10.0, index=people["person_id"])
    tables = predictive.fit_and_score(data, grid, as_of, settings, champion=flat)
    assert tables.decision.published and "above the champion rulebook's 0.500" in tables.decision.reason
    assert tables.calibration["champion_auc"].eq(0.5).all()


def snapshot_export(people: int = 500, seed: int = 3) -> tuple[predictive.SnapshotData, datetime,
                                                             predictive.ModelSettings, np.ndarray]:
    """One snapshot at as_of: a `signal` feature and a converted flag drawn from it."""
    settings = predictive.ModelSettings(horizon_days=90, training_snapshots=8, snapshot_step_days=28,
                                        snapshot_mode=True)
    as_of = datetime(2026, 6, 30)
    rng = np.random.default_rng(seed)
    signal = rng.normal(size=people)
    converted = signal + rng.normal(size=people) > 1.0
    frame = pd.DataFrame({"snapshot_at": as_of, "person_id": [f"L{i:04d}" for i in range(people)],
                          "converted_at": pd.NaT, "is_converted": converted, "signal": signal.astype(np.float32)})
    data = predictive.SnapshotData(frame=frame, features=["signal"], descriptions={"signal": "a hand-made feature"})
    return data, as_of, settings, converted


def test_snapshot_mode_cross_validates_every_person_and_scores_them_all():
    data, as_of, settings, converted = snapshot_export()
    tables = predictive.fit_and_score(data, predictive.fit_grid(as_of, settings), as_of, settings)
    assert tables.calibration["validation_method"].eq("5-fold cross-validation at as_of").all()
    # Every person is predicted once, out of fold: the bins hold all of them and all positives.
    assert tables.calibration["people"].sum() == len(converted)
    assert tables.calibration["positives"].sum() == converted.sum()
    assert tables.model.rows == len(converted) and tables.model.positives == converted.sum()
    assert tables.decision.published and tables.validation_auc > 0.75
    assert len(tables.scores) == len(converted)
    # Out-of-fold AUC is below the in-sample AUC of the final fit, never above it by much.
    in_sample = predictive.auc_or_none(converted, tables.scores["probability"].to_numpy())
    assert tables.validation_auc <= in_sample + 0.01


def custom_values(**columns) -> pd.DataFrame:
    people = len(next(iter(columns.values())))
    return pd.DataFrame({"person_id": [f"P{i}" for i in range(people)], **columns})


def test_custom_fields_become_numbers_and_categories_with_rare_values_grouped():
    settings = predictive.ModelSettings(horizon_days=90, training_snapshots=8, snapshot_step_days=28,
                                        custom_fields_excluded='["Budget__c"]', min_category_people=2)
    values = custom_values(**{
        "Total Visits": ["3", "0", None, "12", "7"],
        "Lead Origin": ["API", "api", "Lead Add Form", "Lead Add Form", "Import"],
        "Last Seen": ["2026-01-02", "2026-02-03", None, "2026-03-04 10:00:00", "2026-05-01"],
        "Budget__c": ["Yes", "Yes", "No", "No", "No"],
        "Empty": [None, None, None, None, None],
    })
    specs, skipped = predictive.custom_field_specs(values, settings)
    assert specs == {
        "Lead Origin": predictive.CustomFieldSpec("category", ("api", "lead add form", "other")),
        "Total Visits": predictive.CustomFieldSpec("number", has_missing=True),
    }
    assert skipped == {"Budget__c": "excluded by predictive_excluded_fields or the outcome", "Empty": "always empty",
                       "Last Seen": "a date"}
    features, descriptions = predictive.custom_features(values, specs)
    assert list(features.columns) == ["custom_fields.Lead Origin=api", "custom_fields.Lead Origin=lead add form",
                                      "custom_fields.Lead Origin=other", "custom_fields.Total Visits",
                                      "custom_fields.Total Visits is missing"]
    assert features["custom_fields.Lead Origin=api"].tolist() == [1, 1, 0, 0, 0]  # case folded
    assert features["custom_fields.Lead Origin=other"].tolist() == [0, 0, 0, 0, 1]  # one person: rare
    assert features["custom_fields.Total Visits"].tolist() == pytest.approx(
        [np.log1p(3), 0, 0, np.log1p(12), np.log1p(7)])
    assert features["custom_fields.Total Visits is missing"].tolist() == [0, 0, 1, 0, 0]
    assert descriptions["custom_fields.Lead Origin=other"] == "custom field Lead Origin holds a value fewer people have"
    # A stored fit's feature names give back the same specs, so it scores people the same way.
    assert predictive.custom_specs_of(["seniority=vp", *features.columns]) == specs


def test_custom_fields_can_be_chosen_and_identifiers_are_left_out():
    people = 60
    values = custom_values(**{"Lead Number": [str(700000 + i) for i in range(people)],
                              "Score": [str(i % 7) for i in range(people)],
                              "Tag": ["a" if i % 2 else "b" for i in range(people)]})
    settings = predictive.ModelSettings(horizon_days=90, training_snapshots=8, snapshot_step_days=28)
    specs, skipped = predictive.custom_field_specs(values, settings)
    assert set(specs) == {"Score", "Tag"} and skipped["Lead Number"].startswith("an identifier")
    # A name repeats at scale, yet it is no category: past MAX_CATEGORIES values it is left out.
    names = custom_values(Name=[f"name {i % 40}" for i in range(400)])
    specs, skipped = predictive.custom_field_specs(names, settings)
    assert specs == {} and skipped["Name"].startswith("40 values held by 10 people or more (at most 30)")
    chosen = predictive.ModelSettings(horizon_days=90, training_snapshots=8, snapshot_step_days=28,
                                      custom_fields_used='["Tag"]')
    assert set(predictive.custom_field_specs(values, chosen)[0]) == {"Tag"}


def test_a_fit_restated_for_another_standardization_gives_the_same_log_odds():
    model = predictive.FittedModel(
        cutoff=datetime(2026, 1, 1), features=["a", "b"], snapshots=[], rows=10, positives=2,
        means=np.array([2.0, 10.0]), scales=np.array([0.5, 4.0]), coefficients=np.array([1.5, -0.8]),
        intercept=-2.0)
    means, scales = np.array([3.0, 6.0]), np.array([2.0, 1.0])
    coefficients, intercept = model.start_for(means, scales)
    raw = np.array([[2.0, 10.0], [0.0, 0.0], [7.5, -3.0]])
    # By hand, per raw unit: a is worth 1.5 / 0.5 = 3 and b -0.8 / 4 = -0.2 in log-odds.
    by_hand = -2.0 + 3.0 * (raw[:, 0] - 2.0) - 0.2 * (raw[:, 1] - 10.0)
    restated = intercept[0] + ((raw - means) / scales) @ coefficients[0]
    np.testing.assert_allclose(restated, by_hand)
    assert coefficients.shape == (1, 2) and intercept.shape == (1,)


def test_the_training_matrix_is_standardized_like_numpy_in_32_bits():
    frame = pd.DataFrame({
        "count": np.array([0.0, 1.0, 2.0, 5.0, 12.0], dtype=np.float32),
        "flag": np.array([1, 0, 0, 1, 1], dtype=np.uint8),
        "constant": np.array([3, 3, 3, 3, 3], dtype=np.uint8),
    })
    rows = np.array([True, True, False, True, True])
    matrix, means, scales = predictive.standardized_training_matrix(frame, ["count", "flag", "constant"], rows)
    kept = frame[rows].to_numpy(dtype=np.float64)
    np.testing.assert_allclose(means, kept.mean(axis=0))
    # Population standard deviations; a constant feature keeps a scale of 1, as StandardScaler.
    np.testing.assert_allclose(scales, [kept[:, 0].std(), kept[:, 1].std(), 1.0])
    assert matrix.dtype == np.float32 and matrix.flags["C_CONTIGUOUS"]
    np.testing.assert_allclose(matrix, (kept - means) / scales, rtol=1e-6, atol=1e-6)


def test_a_fit_started_from_a_nearby_fit_reaches_the_same_model_in_fewer_iterations():
    rng = np.random.default_rng(7)
    people = 20_000
    days = [datetime(2026, 1, d) for d in (1, 8, 15, 22)]
    signal, noise = rng.normal(size=people * len(days)), rng.normal(size=people * len(days))
    converts = 1.5 * signal - 0.7 * noise + rng.logistic(size=len(signal)) > 3.0
    frame = pd.DataFrame({
        "snapshot_at": np.repeat(days, people),
        "converted_at": pd.Series(pd.NaT, index=range(len(signal))).where(
            ~converts, pd.Series(np.repeat(days, people)) + pd.Timedelta(days=3)),
        "signal": signal.astype(np.float32), "noise": noise.astype(np.float32),
    })
    data = predictive.SnapshotData(frame=frame, features=["signal", "noise"])
    settings = predictive.ModelSettings(horizon_days=5, training_snapshots=3, snapshot_step_days=7)
    earlier = frame["snapshot_at"].isin(days[:3]).to_numpy()
    later = frame["snapshot_at"].isin(days[1:]).to_numpy()
    start = predictive.fit_rows(data, earlier, days[2], days[:3], settings)
    cold = predictive.fit_rows(data, later, days[3], days[1:], settings)
    warm = predictive.fit_rows(data, later, days[3], days[1:], settings, start=start)
    assert warm.iterations < cold.iterations
    # Both within the solver's tolerance of the optimum, found here by Newton's method run to
    # convergence on the same standardized rows in 64 bits.
    from sklearn.linear_model import LogisticRegression

    features = frame[later]
    standardized = (features[["signal", "noise"]].to_numpy(dtype=np.float64) - cold.means) / cold.scales
    y = predictive.labels(features, settings.horizon_days)
    optimum = LogisticRegression(C=settings.regularization_c, l1_ratio=0, solver="newton-cholesky", tol=1e-12,
                                 max_iter=100).fit(standardized, y).predict_proba(standardized)[:, 1]
    for fit in (cold, warm):
        np.testing.assert_allclose(fit.probability(features), optimum, atol=1e-3)
    # A start over other features is not used.
    other = predictive.SnapshotData(frame=frame, features=["noise", "signal"])
    assert predictive.fit_rows(other, later, days[3], days[1:], settings, start=start).iterations == cold.iterations
