"""A transparent predictive score: a logistic regression of "first opportunity within the horizon"
on features any past date can be described with, retrained from the warehouse at each run.

A snapshot is an instant s (a midnight, or as_of itself). At s a person is described only by what
was known before s: activity counts per kind in the 7, 30 and 90 days before s, days since their
last activity and since their first CRM record, and profile attributes that do not come from
sales work. The label is a first opportunity created in (s, s + horizon]; people with an
opportunity at or before s are left out, as in `demo/evaluate.py`.

Training at a cutoff c uses only snapshots whose labels are known by c (s + horizon <= c): the
latest `training_snapshots` midnights of a grid stepping back `snapshot_step_days` from the
latest labelled midnight before as_of. The same function trains the published model (cutoff =
as_of) and the model each backtest date gets (cutoff = that date), so a backtest never sees data
after its date.

Fields a person's CRM record only gets during sales work (person type, lead status, purchase
timeline, decision maker, budget, current solution, customer flag) are left out: the CRM export
holds today's values, so at a past snapshot they would tell the model the future.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pandas as pd

# scikit-learn is imported where a model is fitted or scored: importing it takes about a second,
# which every run would pay at startup, including the ones with nothing to do.
if TYPE_CHECKING:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

SCHEMA = "feedback"
MODEL_NAME = "predictive_logit"
WINDOWS_DAYS = (7, 30, 90)
RECENCY_CAP_DAYS = 400
# Rows read from DuckDB at a time when loading snapshots, in vectors of 2,048 rows.
FETCH_VECTORS = 50
TOP_FEATURES = 3
CALIBRATION_BINS = 10

# Activity kinds counted per window: name -> (condition on int_activities, description).
PERSON_ACTIVITY_KINDS: dict[str, tuple[str, str]] = {
    "page_view": ("activity_type = 'web_page_view'", "web page views"),
    "pricing_page": ("activity_type = 'web_page_view' and page_category = 'pricing'", "pricing page views"),
    "demo_contact_page": (
        "activity_type = 'web_page_view' and page_category in ('demo_request', 'contact')",
        "demo request or contact page views",
    ),
    "evaluation_page": (
        "activity_type = 'web_page_view' and page_category in "
        "('product', 'case_study', 'buying_guide', 'data_sheet', 'rfp_template', 'docs', 'video')",
        "product, case study, buying guide, data sheet, RFP, docs or video page views",
    ),
    "off_target_page": (
        "activity_type = 'web_page_view' and page_category in ('careers', 'investors', 'press', 'team')",
        "careers, investors, press or team page views",
    ),
    "web_visit": ("activity_type = 'web_visit'", "web visits"),
    "email_open": ("activity_type = 'email_event' and email_event_type = 'open'", "email opens"),
    "email_click": ("activity_type = 'email_event' and email_event_type = 'click'", "email clicks"),
    "email_negative": (
        "activity_type = 'email_event' and email_event_type in ('unsubscribe', 'bounce', 'spam_report')",
        "unsubscribes, bounces and spam reports",
    ),
    "campaign_response": ("activity_type = 'campaign_response'", "campaign responses"),
    "webinar_attended": (
        "activity_type = 'campaign_response' and member_status_category = 'attended'", "webinars attended",
    ),
    "sales_call": ("activity_type = 'sales_task' and task_activity_type = 'call'", "sales calls"),
    "sales_meeting": ("activity_type = 'sales_task' and task_activity_type = 'meeting'", "sales meetings"),
    "sales_email": ("activity_type = 'sales_task' and task_activity_type = 'email'", "sales emails"),
    "form_fill": ("activity_type = 'form_submission'", "form submissions"),
    "high_intent_form": (
        "activity_type = 'form_submission' and form_name in "
        "('demo-request', 'contact-us', 'pricing-quote', 'rfp-template-download')",
        "demo, contact, pricing quote or RFP form submissions",
    ),
}

# Account signals at the company of the person's work email (as the company_signal rules match).
COMPANY_SIGNAL_KINDS: dict[str, tuple[str, str]] = {
    "company_intent": (
        "signal_type = 'intent_topic' and signal_strength >= 60", "strong intent signals at the person's company",
    ),
    "company_signal": ("true", "account signals of any kind at the person's company"),
}

# Profile attributes set when the record is created or from the person's title and company.
PROFILE_ATTRIBUTES = (
    "seniority", "job_role", "industry", "employee_band", "revenue_band", "is_served_country",
    "is_english_speaking_country", "is_free_mail", "lead_source", "name_has_digits", "is_isp_company",
)


@dataclass(frozen=True)
class ModelSettings:
    horizon_days: int = 90
    training_snapshots: int = 8
    snapshot_step_days: int = 28
    # Inverse L2 strength; small data needs the shrinkage, large data barely feels it.
    regularization_c: float = 0.5


@dataclass
class FittedModel:
    """Standardization and logistic regression fitted at one cutoff, with what it was trained on."""

    cutoff: datetime
    features: list[str]
    snapshots: list[datetime]
    rows: int
    positives: int
    scaler: StandardScaler | None = None
    regression: LogisticRegression | None = None
    base_rate: float = 0.0

    def probability(self, frame: pd.DataFrame) -> np.ndarray:
        if self.regression is None:
            # No positive (or no negative) to learn from: everyone gets the base rate.
            return np.full(len(frame), self.base_rate)
        return self.regression.predict_proba(self.standardized(frame))[:, 1]

    def standardized(self, frame: pd.DataFrame) -> np.ndarray:
        return self.scaler.transform(frame[self.features].to_numpy(dtype=float))


@dataclass
class SnapshotData:
    """Features of every person without an opportunity at each snapshot, and their first opportunity."""

    frame: pd.DataFrame
    features: list[str]
    descriptions: dict[str, str] = field(default_factory=dict)


def person_activity_kinds_sql() -> str:
    branches = [
        f"select person_id, activity_at, '{kind}' as kind from intermediate.int_activities "
        f"where person_id is not null and {condition}"
        for kind, (condition, _) in PERSON_ACTIVITY_KINDS.items()
    ]
    branches += [
        f"""select people.person_id, signals.activity_at, '{kind}' as kind
        from intermediate.int_activities as signals
        inner join intermediate.int_people as people on signals.company_domain = people.email_domain
        where signals.activity_type = 'account_signal' and people.is_master
            and not coalesce(people.is_free_mail, false) and {condition}"""
        for kind, (condition, _) in COMPANY_SIGNAL_KINDS.items()
    ]
    return "\nunion all\n".join(branches)


def window_feature(kind: str, days: int) -> str:
    return f"{kind}_{days}d"


def first_opportunities(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Each person's first opportunity (whichever of their records carries it)."""
    return con.execute(
        """select person_id as crm_id, min(created_at) as first_opportunity_at
        from intermediate.int_person_opportunities group by person_id order by person_id"""
    ).df()


def load_snapshots(con: duckdb.DuckDBPyConnection, snapshots: list[datetime]) -> SnapshotData:
    """Features at each snapshot instant for the master people known then without an opportunity."""
    instants = sorted(set(snapshots))
    con.execute("create or replace temp table feedback_snapshots (snapshot_at timestamp)")
    con.executemany("insert into feedback_snapshots values (?)", [[s] for s in instants])
    profile = ", ".join(f"cast(people.{a} as varchar) as {a}" for a in PROFILE_ATTRIBUTES)
    con.execute(
        f"""create or replace temp table feedback_population as
        with opportunities as (
            select person_id, min(created_at) as first_opportunity_at
            from intermediate.int_person_opportunities group by person_id
        )
        select snapshots.snapshot_at, people.person_id as crm_id, people.person_created_at,
            opportunities.first_opportunity_at, {profile}
        from feedback_snapshots as snapshots
        inner join intermediate.int_people as people
            on people.person_created_at < snapshots.snapshot_at
        left join opportunities on opportunities.person_id = people.person_id
        where people.is_master
            and (opportunities.first_opportunity_at is null
                 or opportunities.first_opportunity_at > snapshots.snapshot_at)"""
    )
    longest = max(WINDOWS_DAYS)
    kinds = [*PERSON_ACTIVITY_KINDS, *COMPANY_SIGNAL_KINDS]
    counts = ",\n".join(
        f"count(*) filter (where kinds.kind = '{kind}' and kinds.activity_at >= population.snapshot_at "
        f"- to_days({days})) as {window_feature(kind, days)}"
        for kind in kinds for days in WINDOWS_DAYS
    )
    profile_values = {
        attribute: [value for (value,) in con.execute(
            f"select distinct coalesce({attribute}, 'unknown') from feedback_population order by 1").fetchall()]
        for attribute in PROFILE_ATTRIBUTES
    }
    frame = con.execute(
        f"""with kinds as ({person_activity_kinds_sql()}),
        windowed as (
            select population.snapshot_at, population.crm_id, {counts}
            from feedback_population as population
            inner join kinds
                on kinds.person_id = population.crm_id
                and kinds.activity_at < population.snapshot_at
                and kinds.activity_at >= population.snapshot_at - to_days({longest})
            group by all
        ),
        person_times as (
            select person_id, activity_at from intermediate.int_activities where person_id is not null
        ),
        last_activity as (
            select population.snapshot_at, population.crm_id, person_times.activity_at as last_activity_at
            from feedback_population as population
            asof left join person_times
                on population.crm_id = person_times.person_id
                and population.snapshot_at > person_times.activity_at
        )
        select population.*, last_activity.last_activity_at, windowed.* exclude (snapshot_at, crm_id)
        from feedback_population as population
        left join windowed using (snapshot_at, crm_id)
        left join last_activity using (snapshot_at, crm_id)
        order by population.snapshot_at, population.crm_id"""
    )
    # Read and turned into features a chunk at a time: the loaded columns (profile values as
    # Python strings) of every person at every snapshot would hold several times the memory of
    # the features.
    chunks = [build_features(frame.fetch_df_chunk(FETCH_VECTORS), profile_values)]
    while len(chunk := frame.fetch_df_chunk(FETCH_VECTORS)):
        chunks.append(build_features(chunk, profile_values))
    return SnapshotData(
        frame=pd.concat([chunk.frame for chunk in chunks], ignore_index=True),
        features=chunks[0].features,
        descriptions=chunks[0].descriptions,
    )


def build_features(frame: pd.DataFrame, profile_values: dict[str, list[str]]) -> SnapshotData:
    """Model features (log counts, log recency, one-hot profile over `profile_values`, each
    attribute's values in the whole population) from the loaded columns, as 32-bit floats."""
    descriptions: dict[str, str] = {}
    features: dict[str, pd.Series] = {}
    labels = {**PERSON_ACTIVITY_KINDS, **COMPANY_SIGNAL_KINDS}
    for kind, (_, label) in labels.items():
        for days in WINDOWS_DAYS:
            name = window_feature(kind, days)
            features[name] = np.log1p(frame[name].fillna(0).astype(float))
            descriptions[name] = f"{label} in the {days} days before the date, log(1 + count)"
    day = pd.Timedelta(days=1)
    since_last = ((frame["snapshot_at"] - frame["last_activity_at"]) / day).clip(upper=RECENCY_CAP_DAYS)
    features["days_since_last_activity"] = np.log1p(since_last.fillna(RECENCY_CAP_DAYS))
    descriptions["days_since_last_activity"] = (
        f"days since the person's last activity (at most {RECENCY_CAP_DAYS}, also when none), log(1 + days)"
    )
    features["never_active"] = frame["last_activity_at"].isna().astype(float)
    descriptions["never_active"] = "no activity at all before the date"
    since_created = ((frame["snapshot_at"] - frame["person_created_at"]) / day).clip(lower=0)
    features["days_since_first_record"] = np.log1p(since_created)
    descriptions["days_since_first_record"] = "days since the person's first CRM record, log(1 + days)"
    for attribute in PROFILE_ATTRIBUTES:
        values = frame[attribute].fillna("unknown")
        for value in profile_values[attribute]:
            name = f"{attribute}={value}"
            features[name] = (values == value).astype(float)
            descriptions[name] = f"{attribute} is {value}"
    feature_frame = pd.DataFrame(features).astype(np.float32)
    keys = frame[["snapshot_at", "crm_id", "first_opportunity_at"]].reset_index(drop=True)
    return SnapshotData(
        frame=pd.concat([keys, feature_frame.reset_index(drop=True)], axis=1),
        features=list(feature_frame.columns),
        descriptions=descriptions,
    )


def latest_labelled_midnight(cutoff: datetime, horizon_days: int) -> datetime:
    """The latest midnight s with s + horizon <= cutoff."""
    latest = cutoff - timedelta(days=horizon_days)
    return datetime(latest.year, latest.month, latest.day)


def training_grid(as_of: datetime, settings: ModelSettings, earliest_cutoff: datetime) -> list[datetime]:
    """Midnights stepping back from the latest labelled one, far enough for every cutoff's training."""
    top = latest_labelled_midnight(as_of, settings.horizon_days)
    bottom = latest_labelled_midnight(earliest_cutoff, settings.horizon_days)
    grid, point = [], top
    step = timedelta(days=settings.snapshot_step_days)
    while point > bottom:
        grid.append(point)
        point -= step
    grid += [point - step * k for k in range(settings.training_snapshots)]
    return sorted(grid)


def training_snapshots(grid: list[datetime], cutoff: datetime, settings: ModelSettings) -> list[datetime]:
    """The latest grid snapshots whose labels are known at the cutoff."""
    known = [s for s in grid if s + timedelta(days=settings.horizon_days) <= cutoff]
    return known[-settings.training_snapshots:]


def labels(frame: pd.DataFrame, horizon_days: int) -> np.ndarray:
    """First opportunity in (snapshot, snapshot + horizon]; the frame holds only people without one before."""
    end = frame["snapshot_at"] + pd.Timedelta(days=horizon_days)
    return (frame["first_opportunity_at"].notna() & (frame["first_opportunity_at"] <= end)).to_numpy()


def fit_at_cutoff(data: SnapshotData, grid: list[datetime], cutoff: datetime, settings: ModelSettings) -> FittedModel:
    snapshots = training_snapshots(grid, cutoff, settings)
    train = data.frame[data.frame["snapshot_at"].isin(snapshots)]
    y = labels(train, settings.horizon_days)
    model = FittedModel(cutoff=cutoff, features=data.features, snapshots=snapshots, rows=len(train),
                        positives=int(y.sum()), base_rate=float(y.mean()) if len(y) else 0.0)
    if 0 < model.positives < len(y):
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler

        model.scaler = StandardScaler().fit(train[data.features].to_numpy(dtype=float))
        model.regression = LogisticRegression(
            C=settings.regularization_c, l1_ratio=0, max_iter=2000, random_state=0
        ).fit(model.standardized(train), y)
    return model


def at_snapshot(data: SnapshotData, snapshot: datetime) -> pd.DataFrame:
    return data.frame[data.frame["snapshot_at"] == snapshot].reset_index(drop=True)


def top_contributions(model: FittedModel, frame: pd.DataFrame, descriptions: dict[str, str]) -> list[str]:
    """Per person, the features that raise the log-odds most above the average trained-on person."""
    if model.regression is None or frame.empty:
        return [""] * len(frame)
    contributions = model.standardized(frame) * model.regression.coef_[0]
    # Stable sort on the negated values: ties keep the features' order, so the text is deterministic.
    order = np.argsort(-contributions, axis=1, kind="stable")[:, :TOP_FEATURES]
    names = np.array(model.features)
    texts = []
    for row, picks in zip(contributions, order, strict=True):
        parts = [f"{names[j]} ({row[j]:+.2f})" for j in picks if row[j] > 0]
        texts.append("; ".join(parts))
    return texts


def percentile_score(probability: np.ndarray) -> np.ndarray:
    """0-100: the share of scored people with a lower or equal probability (ties share a score)."""
    if len(probability) == 0:
        return np.array([], dtype=int)
    ranks = pd.Series(probability).rank(method="max", pct=True).to_numpy()
    return np.rint(100 * ranks).astype(int)


def calibration_bins(probability: np.ndarray, outcome: np.ndarray) -> pd.DataFrame:
    """Equal-count bins of the predicted probability with the observed rate in each."""
    frame = pd.DataFrame({"p": probability, "y": outcome.astype(float)})
    frame = frame.sort_values("p", kind="stable").reset_index(drop=True)
    bins = min(CALIBRATION_BINS, len(frame)) or 1
    frame["bin"] = (np.arange(len(frame)) * bins // max(len(frame), 1)) + 1
    grouped = frame.groupby("bin").agg(people=("y", "size"), positives=("y", "sum"),
                                       mean_predicted=("p", "mean"), observed_rate=("y", "mean"))
    grouped["positives"] = grouped["positives"].astype(int)
    return grouped.reset_index()


def auc_or_none(outcome: np.ndarray, score: np.ndarray) -> float | None:
    if outcome.all() or not outcome.any():
        return None
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(outcome, score))


@dataclass
class PredictiveTables:
    scores: pd.DataFrame
    coefficients: pd.DataFrame
    calibration: pd.DataFrame
    validation_auc: float | None
    brier_score: float | None
    validation_snapshot: datetime
    model: FittedModel


def effective_as_of(con: duckdb.DuckDBPyConnection) -> datetime:
    """The as_of the dbt build scored at (a run parameter, or the end of the loaded data)."""
    value = con.execute("select max(as_of) from intermediate.int_scoring_as_of").fetchone()[0]
    if value is None:
        raise ValueError("intermediate.int_scoring_as_of is empty: run the dbt build first")
    return value


def train_and_score(con: duckdb.DuckDBPyConnection, settings: ModelSettings | None = None) -> PredictiveTables:
    """Validate the recipe on the latest labelled snapshot, then fit at as_of and score everyone."""
    settings = settings or ModelSettings()
    as_of = effective_as_of(con)
    validation_snapshot = latest_labelled_midnight(as_of, settings.horizon_days)
    grid = training_grid(as_of, settings, validation_snapshot)
    data = load_snapshots(con, [*grid, as_of])
    validation_model = fit_at_cutoff(data, grid, validation_snapshot, settings)
    validation = at_snapshot(data, validation_snapshot)
    outcome = labels(validation, settings.horizon_days)
    predicted = validation_model.probability(validation)
    calibration = calibration_bins(predicted, outcome)
    from sklearn.metrics import brier_score_loss

    brier = float(brier_score_loss(outcome, predicted)) if len(outcome) else None
    calibration.insert(0, "model_name", MODEL_NAME)
    calibration.insert(1, "as_of", as_of)
    calibration.insert(2, "validation_date", validation_snapshot)
    calibration["brier_score"] = brier

    model = fit_at_cutoff(data, grid, as_of, settings)
    current = at_snapshot(data, as_of)
    probability = model.probability(current)
    scores = pd.DataFrame({
        "crm_id": current["crm_id"],
        "as_of": as_of,
        "model_name": MODEL_NAME,
        "probability": probability,
        "predictive_score": percentile_score(probability),
        "top_features": top_contributions(model, current, data.descriptions),
    })
    return PredictiveTables(
        scores=scores.sort_values("crm_id", kind="stable").reset_index(drop=True),
        coefficients=coefficient_table(model, data.descriptions),
        calibration=calibration,
        validation_auc=auc_or_none(outcome, predicted),
        brier_score=brier,
        validation_snapshot=validation_snapshot,
        model=model,
    )


def coefficient_table(model: FittedModel, descriptions: dict[str, str]) -> pd.DataFrame:
    """One row per feature (and the intercept), on the standardized scale the model uses."""
    if model.regression is None:
        coefficients = np.zeros(len(model.features))
        intercept = float(np.log(model.base_rate / (1 - model.base_rate))) if 0 < model.base_rate < 1 else 0.0
        means = stds = np.full(len(model.features), np.nan)
    else:
        coefficients = model.regression.coef_[0]
        intercept = float(model.regression.intercept_[0])
        means, stds = model.scaler.mean_, model.scaler.scale_
    table = pd.DataFrame({
        "model_name": MODEL_NAME,
        "feature": ["(intercept)", *model.features],
        "coefficient": [intercept, *coefficients],
        "odds_ratio": np.exp([intercept, *coefficients]),
        "training_mean": [np.nan, *means],
        "training_std": [np.nan, *stds],
        "description": [
            "log-odds of a person at the training mean of every feature", *(descriptions[f] for f in model.features)
        ],
    })
    return table


def write_table(con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame) -> None:
    con.execute(f"create schema if not exists {SCHEMA}")
    con.register("feedback_frame", frame)
    try:
        con.execute(f"create or replace table {SCHEMA}.{name} as select * from feedback_frame")
    finally:
        con.unregister("feedback_frame")


def write_predictive_tables(con: duckdb.DuckDBPyConnection, tables: PredictiveTables) -> None:
    write_table(con, "predictive_scores", tables.scores)
    write_table(con, "predictive_coefficients", tables.coefficients)
    write_table(con, "predictive_calibration", tables.calibration)
