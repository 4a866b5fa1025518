"""Backtests and the pre-deployment test bench: how each rulebook and the predictive model would
have ranked people at past dates, against the CRM opportunities that followed.

The dates and the rulebooks' scores come from `marts.fct_score_snapshots` (read off the score
timeline; its dbt vars backtest_horizon_days, backtest_step_days and backtest_history_days set
the dates): each score day d's scores hold at the snapshot s = d + 1 day, which starts the
horizon. When the history is shorter than the horizon, the one snapshot has the horizon cut to
the whole days left before as_of, and `horizon_reduced` says so.

The snapshots sit on a fixed grid, so between two daily runs the backtest's inputs are usually
the same: a digest of everything the result depends on (the scores read, the first opportunities
up to the last horizon end, the feature rows (marts.fct_person_features) at every snapshot the
models train or score on, the settings and the code) is stored with it, and a run with the same
digest keeps the stored tables.

Two motions, on separate rows (`motion`):
- new_business: every scorer is measured on the same people: those with a score on d and no
  opportunity at or before s. Positives: a first opportunity in (s, s + horizon]. A rulebook's
  MQLs at d are people at or above its threshold with the minimum fit. The predictive model has
  no threshold of its own: it passes to sales as many people as the champion's MQLs that day
  (its top probabilities).
- repurchase: each rulebook's repurchase score of customer accounts at s
  (marts.fct_account_repurchase_snapshots), accounts with an opportunity open at s left out (in
  a deal already). Positives: the account opens an opportunity in (s, s + horizon]. "MQLs" are
  the repurchase-qualified accounts; `people` counts accounts.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

import duckdb
import numpy as np
import pandas as pd

from leadscore.feedback import evaluation, predictive

# Share of people (by descending score) that bound each band; ties share the band of their mean rank.
BAND_EDGES = ((0.01, "top 1%"), (0.05, "1-5%"), (0.10, "5-10%"), (0.25, "10-25%"), (0.50, "25-50%"),
              (1.00, "50-100%"))


@dataclass(frozen=True)
class BacktestSettings:
    # How many people sales can work in a horizon: the top-k measured for every scorer.
    sales_capacity: int = 200
    bench_sample_size: int = 500
    bench_seed: int = 20240601


@dataclass(frozen=True)
class BacktestDate:
    score_date: date
    snapshot: datetime  # the midnight after score_date, when its scores are read
    horizon_days: int
    horizon_reduced: bool


def backtest_dates(con: duckdb.DuckDBPyConnection) -> list[BacktestDate]:
    """The score days of fct_score_snapshots, oldest first, with their snapshots and horizons."""
    rows = con.execute(
        """select distinct score_date, snapshot_at, horizon_days, horizon_reduced
        from marts.fct_score_snapshots order by 1"""
    ).fetchall()
    return [BacktestDate(day, snapshot, int(horizon), bool(reduced)) for day, snapshot, horizon, reduced in rows]


def rulebook_scores(con: duckdb.DuckDBPyConnection, score_date: date) -> pd.DataFrame:
    """Each rulebook's scores on one day with its MQL flag."""
    return con.execute(
        """select person_id, rulebook_id as scorer, is_champion, cast(total_score as double) as score, is_mql
        from marts.fct_score_snapshots
        where score_date = ?
        order by rulebook_id, person_id""",
        [score_date],
    ).df()


def repurchase_scores(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Each rulebook's repurchase score of customer accounts not in a deal at each snapshot, and
    whether the account opened an opportunity within the horizon."""
    # The account takes the people's key column, so both motions go through the same scorer loop.
    frame = con.execute(
        """select score_date, account_id as person_id, rulebook_id as scorer, is_champion, repurchase_score as score,
               is_repurchase_qualified as is_mql,
               coalesce(next_opportunity_opened_at <= snapshot_at + to_days(horizon_days), false) as positive
        from marts.fct_account_repurchase_snapshots
        where not has_open_opportunity
        order by score_date, rulebook_id, account_id"""
    ).df()
    frame["score_date"] = pd.to_datetime(frame["score_date"]).dt.date
    return frame


def outcomes(opportunities: pd.DataFrame, people: pd.Series, snapshot: datetime, horizon_days: int) -> pd.DataFrame:
    """The people without an opportunity at the snapshot, and whether one followed within the horizon."""
    frame = pd.DataFrame({"person_id": people.drop_duplicates().sort_values()})
    frame = frame.merge(opportunities, on="person_id", how="left")
    first = frame["converted_at"]
    frame = frame[first.isna() | (first > snapshot)].copy()
    end = snapshot + timedelta(days=horizon_days)
    frame["positive"] = frame["converted_at"].notna() & (frame["converted_at"] <= end)
    return frame[["person_id", "positive"]].reset_index(drop=True)


def expected_top_k_hits(score: np.ndarray, positive: np.ndarray, k: int) -> float:
    """Positives among the k best scores; people tied at the k-th score count pro rata (any order
    of the tie is as likely)."""
    if k <= 0 or len(score) == 0:
        return 0.0
    k = min(k, len(score))
    kth = np.sort(score)[::-1][k - 1]
    above = score > kth
    tied = score == kth
    slots = k - int(above.sum())
    return float(positive[above].sum() + slots * positive[tied].sum() / tied.sum())


def score_bands(scored: pd.DataFrame) -> pd.Series:
    """Band of each person by descending score rank; ties take the band of their average rank."""
    share = scored["score"].rank(ascending=False, method="average") / len(scored)
    edges = [edge for edge, _ in BAND_EDGES]
    names = [name for _, name in BAND_EDGES]
    index = np.searchsorted(edges, share.to_numpy(), side="left")
    return pd.Series(np.array(names, dtype=object)[np.minimum(index, len(names) - 1)], index=scored.index)


def evaluate_scorer(scored: pd.DataFrame, settings: BacktestSettings) -> dict:
    """Ranking and MQL quality of one scorer: `scored` has score, is_mql and positive per person."""
    positive = scored["positive"].to_numpy(dtype=bool)
    score = scored["score"].to_numpy(dtype=float)
    mql = scored["is_mql"].to_numpy(dtype=bool)
    k = min(settings.sales_capacity, len(scored))
    hits = expected_top_k_hits(score, positive, k)
    mql_positives = int((mql & positive).sum())
    positives = int(positive.sum())
    auc = predictive.auc_or_none(positive, score)
    auc_lower, auc_upper = evaluation.hanley_mcneil_interval(auc, positives, len(scored) - positives)
    precision_lower, precision_upper = evaluation.wilson_interval(mql_positives, int(mql.sum()))
    recall_lower, recall_upper = evaluation.wilson_interval(mql_positives, positives)
    return {
        "people": len(scored),
        "positives": positives,
        "auc": auc,
        "auc_ci_lower": auc_lower,
        "auc_ci_upper": auc_upper,
        "mql_count": int(mql.sum()),
        "mql_positives": mql_positives,
        "mql_precision": mql_positives / mql.sum() if mql.any() else None,
        "mql_precision_ci_lower": precision_lower,
        "mql_precision_ci_upper": precision_upper,
        "mql_recall": mql_positives / positive.sum() if positive.any() else None,
        "mql_recall_ci_lower": recall_lower,
        "mql_recall_ci_upper": recall_upper,
        "top_k": k,
        "top_k_positives": hits,
        "top_k_hit_rate": hits / k if k else None,
    }


def band_conversion(scored: pd.DataFrame) -> list[dict]:
    """Per score-rank band: conversion with its Wilson interval, and the lift over the scorer's
    whole population (the interval's bounds over the overall rate, which is taken as known: it
    rests on every band, so it varies far less than one band's rate)."""
    banded = scored.assign(band=score_bands(scored))
    overall = float(scored["positive"].mean()) if len(scored) else None
    rows = []
    for band_order, (_, band) in enumerate(BAND_EDGES, start=1):
        in_band = banded[banded["band"] == band]
        positives = int(in_band["positive"].sum())
        rate = positives / len(in_band) if len(in_band) else None
        lower, upper = evaluation.wilson_interval(positives, len(in_band))

        def lift(value: float | None) -> float | None:
            return value / overall if value is not None and overall else None

        rows.append({
            "band": band, "band_order": band_order, "people": len(in_band), "positives": positives,
            "conversion_rate": rate, "conversion_rate_ci_lower": lower, "conversion_rate_ci_upper": upper,
            "lift": lift(rate), "lift_ci_lower": lift(lower), "lift_ci_upper": lift(upper),
        })
    return rows


def predictive_mql(probability: np.ndarray, person_ids: pd.Series, count: int) -> np.ndarray:
    """The `count` highest probabilities (ties broken by person_id, so the count is exact)."""
    order = pd.DataFrame({"p": probability, "person_id": person_ids.to_numpy()}).sort_values(
        ["p", "person_id"], ascending=[False, True], kind="stable"
    )
    flags = np.zeros(len(probability), dtype=bool)
    flags[order.index[:count]] = True
    return flags


def model_grids(dates: list[BacktestDate], base: predictive.ModelSettings
                ) -> dict[int, tuple[predictive.ModelSettings, list[datetime]]]:
    """Per horizon, the model settings with that horizon and the grid its dates' models train on
    (dbt lists the same midnights in dim_feature_snapshots)."""
    grids = {}
    for horizon in sorted({d.horizon_days for d in dates}):
        settings = dataclasses.replace(base, horizon_days=horizon)
        cutoffs = [d.snapshot for d in dates if d.horizon_days == horizon]
        grids[horizon] = (settings, predictive.training_grid(max(cutoffs), settings, min(cutoffs)))
    return grids


def feature_instants(dates: list[BacktestDate], grids: dict[int, tuple[predictive.ModelSettings, list[datetime]]]
                     ) -> list[datetime]:
    """Every instant the backtest reads features at: the training grids and the dates."""
    return sorted({s for _, points in grids.values() for s in points} | {d.snapshot for d in dates})


@dataclass
class BacktestTables:
    backtest: pd.DataFrame
    bands: pd.DataFrame


def run_backtest(
    con: duckdb.DuckDBPyConnection,
    settings: BacktestSettings | None = None,
    model_settings: predictive.ModelSettings | None = None,
) -> BacktestTables:
    settings = settings or BacktestSettings()
    as_of = predictive.effective_as_of(con)
    dates = backtest_dates(con)
    opportunities = predictive.conversions(con)
    rows, band_rows = [], []

    def record(scorer: str, is_champion: bool, motion: str, when: BacktestDate, scored: pd.DataFrame,
               mql_rule: str, model=None) -> None:
        """One scorer's row on one date, and its bands."""
        rows.append({
            "scorer": scorer, "scorer_kind": "rulebook" if model is None else "model", "motion": motion,
            "is_champion": is_champion, "as_of_date": when.score_date, "horizon_days": when.horizon_days,
            "horizon_reduced": when.horizon_reduced, **evaluate_scorer(scored, settings), "mql_rule": mql_rule,
            "training_rows": None if model is None else model.rows,
            "training_positives": None if model is None else model.positives, "as_of": as_of,
        })
        band_rows.extend({"scorer": scorer, "motion": motion, "as_of_date": when.score_date,
                          "horizon_days": when.horizon_days, **band} for band in band_conversion(scored))
    data = grid = previous_model = None
    # The fit of each (horizon, training snapshots): dates 14 days apart on a 28-day grid train on
    # the same snapshots every other date, and so on the same rows and labels.
    fits: dict[tuple[int, tuple[datetime, ...]], predictive.FittedModel] = {}
    if dates:
        base = model_settings or predictive.model_settings(con)
        predictive.check_settings(con, base)
        grid = model_grids(dates, base)
        data = predictive.load_snapshots(con, feature_instants(dates, grid))
    for when in dates:
        scored_days = rulebook_scores(con, when.score_date)
        population = outcomes(opportunities, scored_days["person_id"], when.snapshot, when.horizon_days)
        scorers = []
        for (scorer, is_champion), scores in scored_days.groupby(["scorer", "is_champion"], sort=True):
            scorers.append((scorer, bool(is_champion), population.merge(scores, on="person_id", how="inner")))
        champion_mqls = sum(int(s["is_mql"].sum()) for _, champion, s in scorers if champion)
        model_settings_h, points = grid[when.horizon_days]
        trained_on = (when.horizon_days, tuple(predictive.training_snapshots(points, when.snapshot, model_settings_h)))
        if trained_on in fits:
            model = dataclasses.replace(fits[trained_on], cutoff=when.snapshot)
        else:
            # Each date's fit starts where the previous date's ended: their training rows overlap.
            model = predictive.fit_at_cutoff(data, points, when.snapshot, model_settings_h, start=previous_model)
            fits[trained_on] = model
        previous_model = model if model.fitted else previous_model
        features = predictive.at_snapshot(data, when.snapshot)
        modelled = population.merge(
            pd.DataFrame({"person_id": features["person_id"], "score": model.probability(features)}), on="person_id",
            how="inner",
        ).sort_values("person_id", kind="stable").reset_index(drop=True)
        modelled["is_mql"] = predictive_mql(modelled["score"].to_numpy(), modelled["person_id"], champion_mqls)
        scorers.append((predictive.MODEL_NAME, False, modelled))
        for scorer, is_champion, scored in scorers:
            is_model = scorer == predictive.MODEL_NAME
            record(scorer, is_champion, NEW_BUSINESS, when, scored,
                   "same count as the champion's MQLs" if is_model else "total >= mql_threshold and fit >= mql_min_fit",
                   model if is_model else None)
    accounts = repurchase_scores(con) if dates else None
    for when in dates:
        on_date = accounts[accounts["score_date"] == when.score_date]
        for (scorer, is_champion), scored in on_date.groupby(["scorer", "is_champion"], sort=True):
            record(scorer, bool(is_champion), REPURCHASE, when, scored.reset_index(drop=True),
                   "repurchase_score >= repurchase_threshold")
    backtest = pd.DataFrame(rows, columns=BACKTEST_COLUMNS)
    bands = pd.DataFrame(band_rows, columns=BAND_COLUMNS)
    return BacktestTables(
        backtest=backtest.sort_values(["as_of_date", "motion", "scorer"], kind="stable").reset_index(drop=True),
        bands=bands.sort_values(["as_of_date", "motion", "scorer", "band_order"], kind="stable"
                                ).reset_index(drop=True),
    )


NEW_BUSINESS = "new_business"
REPURCHASE = "repurchase"
BACKTEST_COLUMNS = [
    "scorer", "scorer_kind", "motion", "is_champion", "as_of_date", "horizon_days", "horizon_reduced", "people",
    "positives", "auc", "auc_ci_lower", "auc_ci_upper", "mql_count", "mql_positives", "mql_precision",
    "mql_precision_ci_lower", "mql_precision_ci_upper", "mql_recall", "mql_recall_ci_lower", "mql_recall_ci_upper",
    "top_k", "top_k_positives", "top_k_hit_rate", "mql_rule", "training_rows", "training_positives", "as_of",
]
BAND_COLUMNS = ["scorer", "motion", "as_of_date", "horizon_days", "band", "band_order", "people", "positives",
                "conversion_rate", "conversion_rate_ci_lower", "conversion_rate_ci_upper", "lift", "lift_ci_lower",
                "lift_ci_upper"]


def bench_sample(person_ids: list[str], size: int, seed: int) -> list[str]:
    """A seeded random sample of CRM people, the same for the same people and seed."""
    ordered = sorted(person_ids)
    if len(ordered) <= size:
        return ordered
    picks = np.random.default_rng(seed).choice(len(ordered), size=size, replace=False)
    return sorted(ordered[i] for i in picks)


def pre_deployment_bench(con: duckdb.DuckDBPyConnection, settings: BacktestSettings | None = None) -> pd.DataFrame:
    """The guide's pre-deployment bench: the share of a random sample of CRM people each rulebook
    would pass to sales at as_of, overall and among the sample's people with an opportunity."""
    settings = settings or BacktestSettings()
    scores = con.execute(
        """select person_id, rulebook_id, is_champion, is_mql, as_of from marts.fct_lead_scores
        order by rulebook_id, person_id"""
    ).df()
    sample = bench_sample(scores["person_id"].drop_duplicates().tolist(), settings.bench_sample_size,
                         settings.bench_seed)
    with_opportunity = set(predictive.conversions(con)["person_id"])
    rows = []
    for (rulebook_id, is_champion), group in scores.groupby(["rulebook_id", "is_champion"], sort=True):
        sampled = group[group["person_id"].isin(sample)]
        opportunity = sampled["person_id"].isin(with_opportunity)
        rows.append({
            "rulebook_id": rulebook_id,
            "is_champion": bool(is_champion),
            "as_of": group["as_of"].max(),
            "sample_seed": settings.bench_seed,
            "sample_size": len(sampled),
            "qualified": int(sampled["is_mql"].sum()),
            "qualified_share": float(sampled["is_mql"].mean()) if len(sampled) else None,
            "sample_with_opportunity": int(opportunity.sum()),
            "qualified_with_opportunity": int((sampled["is_mql"] & opportunity).sum()),
            "qualified_share_with_opportunity": float(sampled.loc[opportunity, "is_mql"].mean())
            if opportunity.any() else None,
            "qualified_share_without_opportunity": float(sampled.loc[~opportunity, "is_mql"].mean())
            if (~opportunity).any() else None,
        })
    # Named columns even with no row (nobody scored, as in a deals-only export): a table needs them.
    return pd.DataFrame(rows, columns=BENCH_COLUMNS)


BENCH_COLUMNS = ["rulebook_id", "is_champion", "as_of", "sample_seed", "sample_size", "qualified", "qualified_share",
                 "sample_with_opportunity", "qualified_with_opportunity", "qualified_share_with_opportunity",
                 "qualified_share_without_opportunity"]


def write_backtest_tables(con: duckdb.DuckDBPyConnection, tables: BacktestTables) -> None:
    predictive.write_table(con, "rpt_backtest", tables.backtest)
    predictive.write_table(con, "rpt_backtest_bands", tables.bands)


BACKTEST_STATE = "backtest_inputs"
# Result tables the stored digest stands for; as_of is rewritten when they are reused.
BACKTEST_OUTPUTS = {"rpt_backtest": ("as_of",), "rpt_backtest_bands": ()}
REPURCHASE_RULE_SEEDS = ("seeds.customer_rules", "seeds.purchase_cycle_defaults")
REPURCHASE_COLUMNS = ("score_date", "snapshot_at", "horizon_days", "account_id", "rulebook_id", "is_champion",
                      "repurchase_score", "is_repurchase_qualified", "has_open_opportunity",
                      "next_opportunity_opened_at")
SCORE_COLUMNS = ("score_date", "snapshot_at", "horizon_days", "horizon_reduced", "person_id", "rulebook_id",
                 "is_champion", "total_score", "is_mql")


@dataclass
class BacktestRun:
    tables: BacktestTables
    reused: bool
    reason: str


def backtest_inputs(
    con: duckdb.DuckDBPyConnection, settings: BacktestSettings, model_settings: predictive.ModelSettings
) -> predictive.InputsDigest:
    """Everything run_backtest's result depends on besides as_of. Its features are read at the
    dates and at the training snapshots before them, its labels end by the last horizon end."""
    dates = backtest_dates(con)
    instants = feature_instants(dates, model_grids(dates, model_settings)) if dates else []
    labels_until = max((d.snapshot + timedelta(days=d.horizon_days) for d in dates), default=predictive.EPOCH)
    parts = predictive.feature_source_digests(con, instants, labels_until)
    # The outcomes: every scored person's conversion, by the last horizon end.
    parts["opportunities"] = predictive.row_digest(
        con, predictive.CONVERSIONS, ("person_id", "converted_at"), "converted_at <= ?",
        [labels_until],
    )
    # The models at the dates read the people's custom fields too.
    parts["custom_fields"] = predictive.custom_fields_digest(con, instants)
    parts["rulebooks"] = predictive.rulebooks_digest(con)
    parts["schema"] = predictive.schema_digest(
        con, [tuple(name.split(".")) for name in (predictive.FEATURES, predictive.CONVERSIONS)]
        + [("marts", "fct_score_snapshots")]
    )
    parts["dates"] = ",".join(f"{d.snapshot.isoformat()}+{d.horizon_days}" for d in dates)
    parts["scores"] = predictive.row_digest(con, "marts.fct_score_snapshots", SCORE_COLUMNS, "true")
    parts["repurchase_scores"] = predictive.row_digest(
        con, "marts.fct_account_repurchase_snapshots", REPURCHASE_COLUMNS, "true")
    # What defines the repurchase scores besides the rulebooks (their fingerprints leave these out):
    # an edit recomputes at once, while the scores themselves move with late data too.
    parts["repurchase_rules"] = ";".join(
        predictive.row_digest(con, f"(select seed as seed_row from {seed} as seed)", ("seed_row",), "true")
        for seed in REPURCHASE_RULE_SEEDS)
    parts["settings"] = json.dumps({"backtest": asdict(settings), "model": asdict(model_settings)}, sort_keys=True)
    parts["code"] = predictive.code_digest(__file__, predictive.__file__, evaluation.__file__)
    return predictive.InputsDigest(parts)


def read_backtest_tables(con: duckdb.DuckDBPyConnection) -> BacktestTables:
    return BacktestTables(
        backtest=con.execute(
            f"select * from {predictive.SCHEMA}.rpt_backtest order by as_of_date, motion, scorer").df(),
        bands=con.execute(
            f"select * from {predictive.SCHEMA}.rpt_backtest_bands order by as_of_date, motion, scorer, band_order"
        ).df(),
    )


def refresh_backtest(
    con: duckdb.DuckDBPyConnection,
    settings: BacktestSettings | None = None,
    model_settings: predictive.ModelSettings | None = None,
    refit_after_days: int = predictive.REFIT_AFTER_DAYS,
) -> BacktestRun:
    """Keep the stored backtest when its inputs' digest is unchanged, or only late data moved it
    for `refit_after_days` days of as_of (see `predictive.reuse_verdict`); only as_of is rewritten.
    Else run it and write the tables with the digest."""
    settings = settings or BacktestSettings()
    model_settings = model_settings or predictive.model_settings(con)
    predictive.check_settings(con, model_settings)
    as_of = predictive.effective_as_of(con)
    inputs = backtest_inputs(con, settings, model_settings)
    stored = predictive.read_state(con, BACKTEST_STATE)
    verdict = predictive.reuse_verdict(stored, inputs, predictive.tables_digest(con, BACKTEST_OUTPUTS), as_of,
                                       refit_after_days)
    if verdict.reused:
        with predictive.transaction(con):
            con.execute(f"update {predictive.SCHEMA}.rpt_backtest set as_of = ?", [as_of])
        return BacktestRun(read_backtest_tables(con), True, verdict.reason)
    tables = run_backtest(con, settings, model_settings)
    with predictive.transaction(con):
        write_backtest_tables(con, tables)
        predictive.write_state(con, BACKTEST_STATE, inputs, predictive.tables_digest(con, BACKTEST_OUTPUTS),
                               [("computed_as_of", "timestamp", as_of)])
    return BacktestRun(tables, False, verdict.reason)
