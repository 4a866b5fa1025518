"""Feedback loop assets: the predictive score, backtests of every scorer and the test bench."""

from __future__ import annotations

import math
import time

import dagster as dg
import duckdb
from dagster_dbt import get_asset_key_for_model

from leadscore.feedback import backtest, evaluation, predictive
from leadscore.orchestration.dbt import dbt_models
from leadscore.orchestration.ingestion import WAREHOUSE_POOL, WARNS_ONLY
from leadscore.orchestration.resources import WarehouseResource

# The dbt marts the feedback assets read: features, their snapshot grid (with as_of and the
# model's settings), custom fields and conversions. Python reads marts only; what the features mean is
# defined in dbt.
FEATURE_SOURCES = [
    get_asset_key_for_model([dbt_models], name)
    for name in ("fct_person_features", "dim_feature_snapshots", "dim_person_custom_fields", "fct_conversions")
]
# The champion's scores the predictive fit must beat on held-out data.
CHAMPION_SOURCES = [dg.AssetKey(["marts", name]) for name in ("fct_lead_score_daily", "fct_lead_scores")]
CONVERSIONS = get_asset_key_for_model([dbt_models], "fct_conversions")
SCORE_SOURCES = [dg.AssetKey(["marts", name]) for name in ("fct_score_snapshots", "fct_lead_scores")]
# The customer accounts' repurchase scores at the same past dates (the backtest's repurchase motion).
REPURCHASE_SNAPSHOTS = get_asset_key_for_model([dbt_models], "fct_account_repurchase_snapshots")
RULEBOOKS = dg.AssetKey(["seeds", "rulebooks"])
# DuckDB's cap in the feedback steps, which also hold every person's features at every snapshot
# in pandas and fit on them in the same process: together they stay within the run's budget.
FEEDBACK_DUCKDB_MEMORY_LIMIT = "1GB"

PREDICTIVE_SCORES = dg.AssetKey(["feedback", "predictive_scores"])
PREDICTIVE_COEFFICIENTS = dg.AssetKey(["feedback", "predictive_coefficients"])
PREDICTIVE_CALIBRATION = dg.AssetKey(["feedback", "predictive_calibration"])
BACKTEST = dg.AssetKey(["feedback", "rpt_backtest"])
BACKTEST_BANDS = dg.AssetKey(["feedback", "rpt_backtest_bands"])
TEST_BENCH = dg.AssetKey(["feedback", "rpt_test_bench"])


class FeedbackConfigResource(dg.ConfigurableResource):
    """Settings of the feedback assets (defaults: sales capacity 200, a refit a week). The predictive model's
    horizon, training snapshots and grid step are the dbt vars predictive_*, and the backtest's
    dates and horizon the dbt vars backtest_*: dbt computes the features and scores at those
    dates, so the settings are read from the warehouse rather than set twice.

    refit_after_days: for how many days of as_of the stored fit and backtest are kept when only
    late data (visitors identified since, credited with their earlier browsing) moved the
    activity counts and rulebook scores at their past snapshots; 0 recomputes on every change.
    New labels, dates, rulebooks, settings or code always recompute."""

    regularization_c: float = 0.5
    refit_after_days: int = predictive.REFIT_AFTER_DAYS
    sales_capacity: int = 200
    bench_sample_size: int = 500
    bench_seed: int = 20240601

    def model_settings(self, con: duckdb.DuckDBPyConnection) -> predictive.ModelSettings:
        return predictive.model_settings(con, self.regularization_c)

    def backtest_settings(self) -> backtest.BacktestSettings:
        return backtest.BacktestSettings(
            sales_capacity=self.sales_capacity,
            bench_sample_size=self.bench_sample_size, bench_seed=self.bench_seed,
        )


def finite(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


@dg.multi_asset(
    specs=[
        dg.AssetSpec(PREDICTIVE_SCORES, deps=[*FEATURE_SOURCES, *CHAMPION_SOURCES],
                     description="Probability of a first opportunity within the horizon for each person "
                     "without one at as_of, a 0-100 percentile score and the features that raise it most."),
        dg.AssetSpec(PREDICTIVE_COEFFICIENTS, deps=FEATURE_SOURCES,
                     description="The logistic regression's coefficients on standardized features, odds "
                     "ratios and what each feature means."),
        dg.AssetSpec(PREDICTIVE_CALIBRATION, deps=[*FEATURE_SOURCES, *CHAMPION_SOURCES],
                     description="Reliability bins and Brier score on the latest labelled snapshot of the "
                     "training grid, from the same recipe trained only on labels known then."),
    ],
    check_specs=[
        dg.AssetCheckSpec("probabilities_in_range", asset=PREDICTIVE_SCORES,
                          description="Every probability is a number in [0, 1].", blocking=True),
        dg.AssetCheckSpec("coefficients_finite", asset=PREDICTIVE_COEFFICIENTS,
                          description="No coefficient is NaN or infinite.", blocking=True),
        dg.AssetCheckSpec("published", asset=PREDICTIVE_SCORES,
                          description="The fit beats the base rate and the champion rulebook on held-out data "
                          "(the validation snapshot, or cross-validation in snapshot mode) with enough "
                          "training rows and positives, so its predictive scores are published; a "
                          "warning otherwise, with the reason." + WARNS_ONLY),
    ],
    pool=WAREHOUSE_POOL,
    group_name="feedback",
)
def predictive_score(warehouse: WarehouseResource, feedback: FeedbackConfigResource):
    started = time.monotonic()
    with warehouse.connection(memory_limit=FEEDBACK_DUCKDB_MEMORY_LIMIT) as con:
        run = predictive.refresh_predictive(con, feedback.model_settings(con), feedback.refit_after_days)
    tables = run.tables
    seconds = round(time.monotonic() - started, 2)
    probability = tables.scores["probability"]
    reuse = {"fit_reused": run.reused, "fit_reason": run.reason}
    decision = tables.decision
    yield dg.MaterializeResult(asset_key=PREDICTIVE_SCORES, metadata={
        "rows": len(tables.scores), "as_of": str(tables.model.cutoff),
        "training_rows": tables.model.rows, "training_positives": tables.model.positives, "seconds": seconds,
        "is_published": decision.published, "publish_reason": decision.reason, **reuse,
    })
    yield dg.MaterializeResult(asset_key=PREDICTIVE_COEFFICIENTS, metadata={
        "features": len(tables.model.features), **reuse,
    })
    yield dg.MaterializeResult(asset_key=PREDICTIVE_CALIBRATION, metadata={
        "validation_date": str(tables.validation_snapshot),
        "validation_auc": finite(tables.validation_auc), "brier_score": finite(tables.brier_score), **reuse,
    })
    yield dg.AssetCheckResult(
        check_name="probabilities_in_range", asset_key=PREDICTIVE_SCORES,
        passed=bool(probability.notna().all() and probability.between(0, 1).all()),
    )
    yield dg.AssetCheckResult(
        check_name="published", asset_key=PREDICTIVE_SCORES, passed=decision.published,
        severity=dg.AssetCheckSeverity.WARN, description=decision.reason,
        metadata={"reason": decision.reason},
    )
    coefficients = tables.coefficients["coefficient"]
    yield dg.AssetCheckResult(
        check_name="coefficients_finite", asset_key=PREDICTIVE_COEFFICIENTS,
        passed=bool(coefficients.map(math.isfinite).all()),
    )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(BACKTEST, deps=[*FEATURE_SOURCES, *SCORE_SOURCES, REPURCHASE_SNAPSHOTS, RULEBOOKS],
                     description="Champion, challengers and the predictive model on the same past dates: "
                     "AUC, MQL precision and recall, top-k hit rate for opportunities within the horizon."),
        dg.AssetSpec(BACKTEST_BANDS, deps=[*FEATURE_SOURCES, *SCORE_SOURCES, REPURCHASE_SNAPSHOTS, RULEBOOKS],
                     description="Conversion to opportunity by score-rank band, per scorer and backtest date."),
    ],
    check_specs=[
        dg.AssetCheckSpec("auc_defined", asset=BACKTEST,
                          description="AUC is a number wherever a date has both positives and negatives.",
                          blocking=True),
        dg.AssetCheckSpec("enough_positives", asset=BACKTEST,
                          description=f"Every backtest date has at least {evaluation.MIN_POSITIVES} positives and "
                          "the model at each date trained on as many; a warning naming the dates otherwise."
                          + WARNS_ONLY),
    ],
    pool=WAREHOUSE_POOL,
    group_name="feedback",
)
def scorer_backtest(warehouse: WarehouseResource, feedback: FeedbackConfigResource):
    started = time.monotonic()
    with warehouse.connection(memory_limit=FEEDBACK_DUCKDB_MEMORY_LIMIT) as con:
        model_settings = feedback.model_settings(con)
        run = backtest.refresh_backtest(con, feedback.backtest_settings(), model_settings, feedback.refit_after_days)
    tables = run.tables
    seconds = round(time.monotonic() - started, 2)
    rows = tables.backtest
    reuse = {"reused": run.reused, "reason": run.reason}
    warnings = evaluation.backtest_warnings(rows, predictive.MODEL_NAME, model_settings.snapshot_mode)
    metadata = {"rows": len(rows), "dates": rows["as_of_date"].nunique(), "seconds": seconds,
                "warnings": "\n".join(warnings) or "none", **reuse}
    latest = rows[rows["as_of_date"] == rows["as_of_date"].max()] if len(rows) else rows
    for _, row in latest.iterrows():
        metadata[f"auc {row['scorer']}"] = finite(row["auc"])
        metadata[f"auc 95% interval {row['scorer']}"] = (
            f"{row['auc_ci_lower']:.3f} to {row['auc_ci_upper']:.3f}" if finite(row["auc_ci_lower"]) is not None
            else "undefined")
    yield dg.MaterializeResult(asset_key=BACKTEST, metadata=metadata)
    yield dg.MaterializeResult(asset_key=BACKTEST_BANDS, metadata={"rows": len(tables.bands), **reuse})
    measurable = rows[(rows["positives"] > 0) & (rows["positives"] < rows["people"])]
    yield dg.AssetCheckResult(
        check_name="auc_defined", asset_key=BACKTEST,
        passed=bool(measurable["auc"].notna().all()),
        metadata={"dates": len(rows["as_of_date"].unique()), "measurable_rows": len(measurable)},
    )
    yield dg.AssetCheckResult(
        check_name="enough_positives", asset_key=BACKTEST, passed=not warnings,
        severity=dg.AssetCheckSeverity.WARN, description=" ".join(warnings) or None,
        metadata={"warnings": "\n".join(warnings) or "none"},
    )


@dg.asset(
    key=TEST_BENCH, deps=[*SCORE_SOURCES, CONVERSIONS],
    pool=WAREHOUSE_POOL,
    group_name="feedback",
    description="The guide's pre-deployment bench: the share of a seeded random sample of CRM people each "
    "rulebook would pass to sales at as_of, overall and among those with an opportunity.",
)
def pre_deployment_bench(warehouse: WarehouseResource, feedback: FeedbackConfigResource) -> dg.MaterializeResult:
    with warehouse.connection(memory_limit=FEEDBACK_DUCKDB_MEMORY_LIMIT) as con:
        bench = backtest.pre_deployment_bench(con, feedback.backtest_settings())
        predictive.write_table(con, "rpt_test_bench", bench)
    return dg.MaterializeResult(metadata={"rows": len(bench)})


FEEDBACK_ASSETS = [predictive_score, scorer_backtest, pre_deployment_bench]
