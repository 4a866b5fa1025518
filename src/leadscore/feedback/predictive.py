"""A transparent predictive score: a logistic regression of "first opportunity within the horizon"
on features any past date can be described with, retrained from the warehouse at each run.

A snapshot is an instant s (a midnight, or as_of itself). At s a person is described only by what
was known before s: activity counts per kind in the 7, 30 and 90 days before s, days since their
last activity and since their first CRM record, and profile attributes that do not come from
sales work. The label is a first opportunity created in (s, s + horizon]; people with an
opportunity at or before s are left out, as in `src/leadscore/demo/evaluate.py`.

Training at a cutoff c uses only snapshots whose labels are known by c (s + horizon <= c): the
latest `training_snapshots` midnights of a fixed grid, the days whose day number (days since
1970-01-01) is a multiple of `snapshot_step_days`. Those three settings are the dbt vars
predictive_horizon_days, predictive_training_snapshots and predictive_snapshot_step_days: dbt
computes the features at the grid's midnights (marts.dim_feature_snapshots lists them with the
settings, marts.fct_person_features holds the counts, dates and profile per person), and this
module reads the settings from there (`model_settings`), so they are set in one place. The same
function trains the published model (cutoff = as_of) and the model each backtest date gets
(cutoff = that date), so a backtest never sees data after its date. As the grid does not follow
as_of, the training snapshots change once every step: between two daily runs the fit's inputs are
usually the same, and the stored fit (coefficients, standardization, calibration) is reused when
the digest of everything it was made from is unchanged, or for a week of as_of when only late
data moved it (`reuse_verdict`); only scoring at as_of runs every time.

What counts as each activity kind, the windows and who is in the population are business
logic and live in dbt (fct_person_features); the model's own transforms stay here: log counts,
capped recency, one-hot profile values, standardization and the fit.

The fit at as_of is published as the predictive score only when it had enough training rows and
positives and beats the base rate on the held-out validation snapshot (`publish_decision`);
otherwise the probabilities stay for inspection, without a predictive_score, and the reason is
written next to them.

Fields a person's CRM record only gets during sales work (person type, lead status, purchase
timeline, decision maker, budget, current solution, customer flag) are left out: the CRM export
holds today's values, so at a past snapshot they would tell the model the future.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from importlib import metadata
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from leadscore.feedback import evaluation

# scikit-learn is imported where a model is fitted: importing it takes about a second, which
# every run would pay at startup, including the ones that reuse the stored fit.

SCHEMA = "feedback"
# What the feedback steps were last computed from (digests and the fitted model): not published.
STATE_SCHEMA = "feedback_state"
EPOCH = datetime(1970, 1, 1)
MODEL_NAME = "predictive_logit"
WINDOWS_DAYS = (7, 30, 90)
RECENCY_CAP_DAYS = 400
# Rows read from DuckDB at a time when loading snapshots, in vectors of 2,048 rows.
FETCH_VECTORS = 50
TOP_FEATURES = 3
CALIBRATION_BINS = 10

# Activity kinds counted per window, in the column order of marts.fct_person_features, which
# defines them (a person's own activities, then account signals at their company): name ->
# description. The descriptions stay here, next to the transforms that turn the counts into
# features, as they are the text of the coefficient table this module writes; a kind the mart
# does not have stops the load (`check_feature_columns`).
ACTIVITY_KINDS: dict[str, str] = {
    "page_view": "web page views",
    "pricing_page": "pricing page views",
    "demo_contact_page": "demo request or contact page views",
    "evaluation_page": "product, case study, buying guide, data sheet, RFP, docs or video page views",
    "off_target_page": "careers, investors, press or team page views",
    "web_visit": "web visits",
    "email_open": "email opens",
    "email_click": "email clicks",
    "email_negative": "unsubscribes, bounces and spam reports",
    "campaign_response": "campaign responses",
    "webinar_attended": "webinars attended",
    "sales_call": "sales calls",
    "sales_meeting": "sales meetings",
    "sales_email": "sales emails",
    "form_fill": "form submissions",
    "high_intent_form": "demo, contact, pricing quote or RFP form submissions",
    "company_intent": "strong intent signals at the person's company",
    "company_signal": "account signals of any kind at the person's company",
}

# Profile attributes set when the record is created or from the person's title and company
# (text columns of fct_person_features).
PROFILE_ATTRIBUTES = (
    "seniority", "job_role", "industry", "employee_band", "revenue_band", "is_served_country",
    "is_english_speaking_country", "is_free_mail", "lead_source", "name_has_digits", "is_isp_company",
)


# The marts the features, the snapshot grid and the labels are read from.
FEATURES = "marts.fct_person_features"
SNAPSHOTS = "marts.dim_feature_snapshots"
CONVERSIONS = "marts.fct_conversions"
CUSTOM_FIELDS = "marts.dim_person_custom_fields"
# The champion rulebook's scores: at the end of each day (for a validation snapshot) and at as_of.
CHAMPION_DAILY = "marts.fct_lead_score_daily"
CHAMPION_NOW = "marts.fct_lead_scores"

# Custom fields (see `custom_field_specs`): a field is a number when this share of its values
# read as numbers, and is left out as a date when this share look like dates (today's date
# fields tell a past snapshot the future, and a date is no category).
CUSTOM_PREFIX = "custom_fields."
NUMBER_SHARE = 0.95
DATE_SHARE = 0.8
DATE_LIKE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d|$)|^\d{1,2}[/.]\d{1,2}[/.]\d{2,4}( |$)")
# A field with more values held by enough people than this is a name, free text or an
# identifier rather than a category (a person's name repeats at 100k people).
MAX_CATEGORIES = 30
# Cross-validation folds in snapshot mode.
FOLDS = 5


@dataclass(frozen=True)
class ModelSettings:
    """The grid settings are the dbt vars the features were built with: read them with
    `model_settings`; other values stop the fit (`check_settings`), as the mart would not hold
    their snapshots."""

    horizon_days: int
    training_snapshots: int
    snapshot_step_days: int
    # One export without event times: fit and evaluation by cross-validation at as_of.
    snapshot_mode: bool = False
    # The dbt vars predictive_custom_fields ("all" or a list) and predictive_excluded_fields
    # (with the outcome field), as JSON, and predictive_min_category_people.
    custom_fields_used: str = '"all"'
    custom_fields_excluded: str = "[]"
    min_category_people: int = 10
    # Inverse L2 strength; small data needs the shrinkage, large data barely feels it. Only the
    # fit reads it, so it is a setting of the feedback assets rather than a dbt var.
    regularization_c: float = 0.5


def model_settings(con: duckdb.DuckDBPyConnection, regularization_c: float = 0.5) -> ModelSettings:
    """The settings the dbt build computed the feature snapshots with."""
    rows = con.execute(
        f"""select distinct horizon_days, training_snapshot_count, snapshot_step_days, is_snapshot_mode,
            custom_fields_used, custom_fields_excluded, min_category_people from {SNAPSHOTS}"""
    ).fetchall()
    if len(rows) != 1:
        raise ValueError(f"{SNAPSHOTS} is empty: run the dbt build first")
    horizon, count, step, snapshot_mode, used, excluded, min_people = rows[0]
    return ModelSettings(horizon_days=int(horizon), training_snapshots=int(count), snapshot_step_days=int(step),
                         snapshot_mode=bool(snapshot_mode), custom_fields_used=used,
                         custom_fields_excluded=excluded, min_category_people=int(min_people),
                         regularization_c=regularization_c)


def check_settings(con: duckdb.DuckDBPyConnection, settings: ModelSettings) -> None:
    """Stop when the settings are not the dbt vars the features were built with."""
    built = model_settings(con, settings.regularization_c)
    if built != settings:
        raise ValueError(
            f"model settings {settings} differ from the dbt build's {built}: set the dbt vars "
            "(predictive_horizon_days, predictive_training_snapshots, predictive_snapshot_step_days, "
            "predictive_custom_fields, predictive_excluded_fields, predictive_min_category_people, "
            "snapshot_mode) and rebuild, rather than passing other values"
        )


@dataclass
class FittedModel:
    """Standardization and logistic regression fitted at one cutoff, with what it was trained on.
    Kept as plain arrays, so a fit read back from the warehouse scores exactly as a fresh one."""

    cutoff: datetime
    features: list[str]
    snapshots: list[datetime]
    rows: int
    positives: int
    base_rate: float = 0.0
    # None when there was no positive (or no negative) to learn from.
    means: np.ndarray | None = None
    scales: np.ndarray | None = None
    coefficients: np.ndarray | None = None
    intercept: float = 0.0
    # The solver's iterations (0 for a fit read back from the warehouse).
    iterations: int = 0

    @property
    def fitted(self) -> bool:
        return self.coefficients is not None

    def start_for(self, means: np.ndarray, scales: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """This fit's coefficients and intercept restated for another standardization (`means`,
        `scales`), with the same log-odds for every person: where a fit on similar rows starts."""
        coefficients = self.coefficients * scales / self.scales
        intercept = self.intercept + float(np.sum(self.coefficients * (means - self.means) / self.scales))
        return coefficients[np.newaxis, :], np.array([intercept])

    def probability(self, frame: pd.DataFrame) -> np.ndarray:
        if not self.fitted:
            return np.full(len(frame), self.base_rate)
        from scipy.special import expit

        return expit(self.standardized(frame) @ self.coefficients + self.intercept)

    def standardized(self, frame: pd.DataFrame) -> np.ndarray:
        return (frame[self.features].to_numpy(dtype=float) - self.means) / self.scales


@dataclass
class SnapshotData:
    """Features of every person without an opportunity at each snapshot, and their first opportunity."""

    frame: pd.DataFrame
    features: list[str]
    descriptions: dict[str, str] = field(default_factory=dict)


def window_feature(kind: str, days: int) -> str:
    return f"{kind}_{days}d"


def count_columns() -> list[str]:
    return [window_feature(kind, days) for kind in ACTIVITY_KINDS for days in WINDOWS_DAYS]


# The columns of fct_person_features the features are built from, in the order they are read.
KEY_COLUMNS = ("snapshot_at", "person_id", "converted_at", "is_converted")
FEATURE_INPUTS = ("snapshot_at", "person_id", "person_created_at", "converted_at", "is_converted",
                  *PROFILE_ATTRIBUTES, "last_activity_at")


def conversions(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Each person's first opportunity (whichever of their records carries it)."""
    return con.execute(
        f"select person_id, converted_at from {CONVERSIONS} order by person_id"
    ).df()


def check_feature_columns(con: duckdb.DuckDBPyConnection) -> None:
    """Stop, naming them, when the mart lacks columns the features read (a kind renamed in dbt
    but not here, or the other way round)."""
    schema, table = FEATURES.split(".")
    present = {name for (name,) in con.execute(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchall()}
    missing = [name for name in [*FEATURE_INPUTS, *count_columns()] if name not in present]
    if missing:
        raise ValueError(f"{FEATURES} lacks the columns {', '.join(missing)}: run the dbt build, or align "
                         "ACTIVITY_KINDS with the kinds the model defines")


def check_snapshots(con: duckdb.DuckDBPyConnection, instants: list[datetime]) -> None:
    """Stop when dbt computed no features at some instant (a mart built with other settings or
    another as_of): its people would silently be missing."""
    built = {at for (at,) in con.execute(f"select snapshot_at from {SNAPSHOTS}").fetchall()}
    missing = [at for at in instants if at not in built]
    if missing:
        raise ValueError(
            f"{SNAPSHOTS} has no features at {', '.join(str(at) for at in missing[:5])}: rebuild the dbt "
            "models with the settings and as_of used here"
        )


def load_snapshots(
    con: duckdb.DuckDBPyConnection,
    snapshots: list[datetime],
    profile_values: dict[str, list[str]] | None = None,
    profile_snapshots: list[datetime] | None = None,
    custom_specs: dict[str, CustomFieldSpec] | None = None,
    settings: ModelSettings | None = None,
) -> SnapshotData:
    """Features at each snapshot instant for the master people known then and not converted,
    from fct_person_features, with their custom fields (dim_person_custom_fields). The profile
    attributes are one-hot over `profile_values`, and the custom fields read as `custom_specs`,
    by default what the people at `profile_snapshots` (all the snapshots when not given) have,
    with the fields `settings` allows."""
    instants = sorted(set(snapshots))
    check_snapshots(con, instants)
    check_feature_columns(con)
    profiled = set(profile_snapshots if profile_snapshots is not None else instants)
    con.execute("create or replace temp table feedback_snapshots (snapshot_at timestamp, profiled boolean)")
    con.executemany("insert into feedback_snapshots values (?, ?)", [[s, s in profiled] for s in instants])
    if profile_values is None:
        profile_values = {
            attribute: [value for (value,) in con.execute(
                f"""select distinct coalesce({attribute}, 'unknown') from {FEATURES}
                where snapshot_at in (select snapshot_at from feedback_snapshots where profiled)
                order by 1""").fetchall()]
            for attribute in PROFILE_ATTRIBUTES
        }
    selected = f"from {FEATURES} where snapshot_at in (select snapshot_at from feedback_snapshots)"
    values = read_custom_fields(con)
    if custom_specs is None:
        in_profile = {person for (person,) in con.execute(
            f"""select distinct person_id from {FEATURES}
            where snapshot_at in (select snapshot_at from feedback_snapshots where profiled)""").fetchall()}
        custom_specs, _ = custom_field_specs(values[values["person_id"].isin(in_profile)],
                                             settings or model_settings(con))
    custom, custom_descriptions = custom_features(values, custom_specs)
    (rows,) = con.execute(f"select count(*) {selected}").fetchone()
    # The profile attributes arrive as their values' positions in `profile_values`: DuckDB
    # handing over a million strings per attribute to pandas took longer than the counts.
    read = [profile_code_sql(name) if name in PROFILE_ATTRIBUTES else name for name in FEATURE_INPUTS]
    cursor = con.execute(
        f"""select {", ".join([*read, *count_columns()])} {selected}
        order by snapshot_at, person_id""",
        [profile_values[name] for name in FEATURE_INPUTS if name in PROFILE_ATTRIBUTES],
    )
    # Read a chunk at a time into matrices sized from the count: the loaded columns (profile
    # values as Python strings) of every person at every snapshot would hold several times the
    # memory of the features, and joining chunks would hold the features twice. Most features
    # are yes/no flags (one-hot profile and custom values): a byte each, 0 or 1 (not booleans,
    # so all features read together as numbers); the others are 32-bit floats. Column-major, so
    # each feature is one contiguous array, as pandas holds a block.
    blocks: dict[np.dtype, tuple[list[str], np.ndarray]] = {}
    keys, start = [], 0
    while True:
        chunk = cursor.fetch_df_chunk(FETCH_VECTORS)
        columns, descriptions = feature_columns(chunk, profile_values)
        # The custom fields are the same at every snapshot: a CRM export holds today's values.
        # One lookup of the chunk's people, then each column taken by position (0 when absent).
        positions = custom.index.get_indexer(chunk["person_id"].to_numpy())
        found = positions >= 0
        for name in custom.columns:
            column = custom[name].to_numpy()
            columns[name] = np.where(found, column[positions], column.dtype.type(0))
        if not blocks:
            names = list(columns)
            for dtype in (np.dtype(np.uint8), np.dtype(np.float32)):
                kept = [name for name in names if storage_dtype(columns[name]) == dtype]
                blocks[dtype] = kept, np.empty((rows, len(kept)), dtype=dtype, order="F")
        if not len(chunk):
            break
        end = start + len(chunk)
        for block_names, matrix in blocks.values():
            for j, name in enumerate(block_names):
                matrix[start:end, j] = columns[name]
        keys.append(chunk[list(KEY_COLUMNS)])
        start = end
    if start != rows:
        raise RuntimeError(f"{FEATURES} changed while being read: {start:,} rows instead of {rows:,}")
    key_frame = pd.concat(keys, ignore_index=True) if keys else chunk[list(KEY_COLUMNS)].reset_index(drop=True)
    # Without a copy: pandas keeps each matrix as a block (so the columns are in block order;
    # `features` has the model's order).
    frame = pd.concat([key_frame, *(pd.DataFrame(matrix, columns=block_names, copy=False)
                                    for block_names, matrix in blocks.values())], axis=1)
    return SnapshotData(
        frame=frame,
        features=names,
        descriptions={**descriptions, **custom_descriptions},
    )


def profile_code_sql(attribute: str) -> str:
    """The select expression of a profile attribute read as the position from 0 of its value (an
    empty one is 'unknown') in the list bound to its parameter, -1 for any other value."""
    return (f"coalesce(list_position(?::varchar[], coalesce(cast({attribute} as varchar), 'unknown')), 0) - 1 "
            f"as {attribute}")


def storage_dtype(column: pd.Series | np.ndarray) -> np.dtype:
    """A byte for a yes/no feature, a 32-bit float for the others."""
    return np.dtype(np.uint8) if np.asarray(column).dtype == bool else np.dtype(np.float32)


# --- Custom fields: the CRM columns the mapping does not name --------------------------------


@dataclass(frozen=True)
class CustomFieldSpec:
    """How one custom field becomes features: a number (signed log, with a flag when missing)
    or categories (one-hot over the kept values, the rare ones as `other`, none as `unknown`)."""

    kind: str
    values: tuple[str, ...] = ()
    has_missing: bool = False


def read_custom_fields(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every master person's custom fields, one text column per field (None when empty)."""
    rows = con.execute(f"select person_id, custom_fields from {CUSTOM_FIELDS} order by person_id").fetchall()
    records = []
    for _, text in rows:
        fields = json.loads(text) if text else {}
        records.append({name: (None if value is None or str(value).strip() == "" else str(value).strip())
                        for name, value in (fields or {}).items()})
    frame = pd.DataFrame.from_records(records, index=pd.RangeIndex(len(rows)))
    frame.insert(0, "person_id", [person_id for person_id, _ in rows])
    return frame


def custom_field_specs(values: pd.DataFrame, settings: ModelSettings
                       ) -> tuple[dict[str, CustomFieldSpec], dict[str, str]]:
    """Which custom fields become features, and how, from the values of the people trained on;
    with the fields left out and why."""
    used = json.loads(settings.custom_fields_used)
    excluded = {name.lower() for name in json.loads(settings.custom_fields_excluded)}
    names = [name for name in values.columns if name != "person_id"]
    if used != "all":
        names = [name for name in names if name in set(used)]
    specs: dict[str, CustomFieldSpec] = {}
    skipped: dict[str, str] = {}
    for name in sorted(names):
        if name.lower() in excluded:
            skipped[name] = "excluded by predictive_excluded_fields or the outcome"
            continue
        column = values[name]
        present = column.dropna()
        if present.empty:
            skipped[name] = "always empty"
            continue
        if present.str.match(DATE_LIKE).mean() >= DATE_SHARE:
            skipped[name] = "a date"
            continue
        numbers = pd.to_numeric(present, errors="coerce")
        if numbers.notna().mean() >= NUMBER_SHARE:
            if present.nunique() == len(present) and (numbers.dropna() % 1 == 0).all() and len(present) > 50:
                skipped[name] = "an identifier (a distinct whole number per person)"
                continue
            specs[name] = CustomFieldSpec("number", has_missing=bool(column.isna().any()))
            continue
        counts = present.str.casefold().value_counts()
        kept = sorted(value for value, people in counts.items() if people >= settings.min_category_people)
        if not kept:
            skipped[name] = f"no value held by {settings.min_category_people} people or more"
            continue
        if len(kept) > MAX_CATEGORIES:
            skipped[name] = (f"{len(kept):,} values held by {settings.min_category_people} people or more (at most "
                             f"{MAX_CATEGORIES}): a name, free text or an identifier")
            continue
        rest = [*(["other"] if len(kept) < len(counts) else []), *(["unknown"] if column.isna().any() else [])]
        specs[name] = CustomFieldSpec("category", tuple(kept + [value for value in rest if value not in kept]))
    return specs, skipped


def custom_specs_of(features: list[str]) -> dict[str, CustomFieldSpec]:
    """The custom field specs behind a feature list, in its order (to score with a stored fit)."""
    specs: dict[str, CustomFieldSpec] = {}
    for feature in features:
        if not feature.startswith(CUSTOM_PREFIX):
            continue
        rest = feature[len(CUSTOM_PREFIX):]
        if rest.endswith(" is missing"):
            specs[rest[: -len(" is missing")]] = CustomFieldSpec("number", has_missing=True)
        elif "=" in rest:
            name, value = rest.split("=", 1)
            spec = specs.get(name, CustomFieldSpec("category"))
            specs[name] = CustomFieldSpec("category", (*spec.values, value))
        else:
            specs[rest] = CustomFieldSpec("number")
    return specs


def custom_features(values: pd.DataFrame, specs: dict[str, CustomFieldSpec]
                    ) -> tuple[pd.DataFrame, dict[str, str]]:
    """One row per person (indexed by person_id): each number as sign(x) log(1 + |x|) (0 and a
    flag when missing), each category one-hot (case folded, rare values as `other`, none as
    `unknown`)."""
    columns: dict[str, np.ndarray] = {}
    descriptions: dict[str, str] = {}
    for name, spec in specs.items():
        column = values[name] if name in values.columns else pd.Series(None, index=values.index, dtype=object)
        if spec.kind == "number":
            number = pd.to_numeric(column, errors="coerce").astype(float)
            feature = CUSTOM_PREFIX + name
            columns[feature] = (np.sign(number) * np.log1p(number.abs())).fillna(0).to_numpy()
            descriptions[feature] = f"custom field {name}, sign(x) log(1 + |x|), 0 when missing"
            if spec.has_missing:
                columns[f"{feature} is missing"] = number.isna().to_numpy()
                descriptions[f"{feature} is missing"] = f"custom field {name} is empty or not a number"
            continue
        folded = column.str.casefold()
        known = set(spec.values) - {"other", "unknown"}
        category = folded.where(folded.isin(known), "other").where(folded.notna(), "unknown")
        for value in spec.values:
            feature = f"{CUSTOM_PREFIX}{name}={value}"
            columns[feature] = (category == value).to_numpy(dtype=bool)
            descriptions[feature] = {
                "other": f"custom field {name} holds a value fewer people have",
                "unknown": f"custom field {name} is empty",
            }.get(value, f"custom field {name} is {value}")
    frame = pd.DataFrame({name: column if column.dtype == bool else column.astype(np.float32)
                          for name, column in columns.items()}, index=values["person_id"].to_numpy())
    return frame, descriptions


def feature_columns(frame: pd.DataFrame, profile_values: dict[str, list[str]]
                    ) -> tuple[dict[str, pd.Series], dict[str, str]]:
    """Model features (log counts, log recency, one-hot profile over `profile_values`) from the
    loaded columns, with their descriptions. A profile attribute's column holds the position of
    each row's value in `profile_values` (-1 for another value), as load_snapshots reads it."""
    descriptions: dict[str, str] = {}
    features: dict[str, pd.Series] = {}
    for kind, label in ACTIVITY_KINDS.items():
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
    features["never_active"] = frame["last_activity_at"].isna()
    descriptions["never_active"] = "no activity at all before the date"
    since_created = ((frame["snapshot_at"] - frame["person_created_at"]) / day).clip(lower=0)
    features["days_since_first_record"] = np.log1p(since_created)
    descriptions["days_since_first_record"] = "days since the person's first CRM record, log(1 + days)"
    for attribute in PROFILE_ATTRIBUTES:
        codes = frame[attribute].to_numpy()
        for code, value in enumerate(profile_values[attribute]):
            name = f"{attribute}={value}"
            features[name] = codes == code
            descriptions[name] = f"{attribute} is {value}"
    return features, descriptions


def profile_values_of(features: list[str]) -> dict[str, list[str]]:
    """The one-hot profile values behind a feature list, in its order."""
    return {
        attribute: [name.split("=", 1)[1] for name in features if name.startswith(f"{attribute}=")]
        for attribute in PROFILE_ATTRIBUTES
    }


def latest_labelled_midnight(cutoff: datetime, horizon_days: int) -> datetime:
    """The latest midnight s with s + horizon <= cutoff."""
    latest = cutoff - timedelta(days=horizon_days)
    return datetime(latest.year, latest.month, latest.day)


def latest_grid_midnight(cutoff: datetime, horizon_days: int, step_days: int) -> datetime:
    """The latest labelled midnight whose day number is a multiple of `step_days`."""
    labelled = latest_labelled_midnight(cutoff, horizon_days)
    return labelled - timedelta(days=(labelled - EPOCH).days % step_days)


def training_grid(as_of: datetime, settings: ModelSettings, earliest_cutoff: datetime) -> list[datetime]:
    """Grid midnights stepping back from the latest labelled one, far enough for every cutoff's
    training."""
    top = latest_grid_midnight(as_of, settings.horizon_days, settings.snapshot_step_days)
    bottom = latest_grid_midnight(earliest_cutoff, settings.horizon_days, settings.snapshot_step_days)
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


def labels(frame: pd.DataFrame, horizon_days: int, snapshot_mode: bool = False) -> np.ndarray:
    """A conversion in (snapshot, snapshot + horizon]; the frame holds only people not converted
    before. In snapshot mode, converted at all."""
    if snapshot_mode:
        return frame["is_converted"].to_numpy(dtype=bool)
    end = frame["snapshot_at"] + pd.Timedelta(days=horizon_days)
    return (frame["converted_at"].notna() & (frame["converted_at"] <= end)).to_numpy()


def standardized_training_matrix(frame: pd.DataFrame, features: list[str], rows: np.ndarray
                                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The training rows' features as one C-ordered float32 matrix, standardized, with the means
    and scales (population standard deviations, 1 for a constant feature, as scikit-learn's
    StandardScaler) computed in float64 a column at a time. Filled a column at a time and never
    copied: the solver would copy any other layout. 32-bit values halve the memory the solver
    reads at every iteration, which is most of its time; the coefficients they give differ from
    64-bit ones by far less than the solver's own tolerance."""
    selected = np.flatnonzero(rows)
    matrix = np.empty((len(selected), len(features)), dtype=np.float32)
    means, scales = np.zeros(len(features)), np.ones(len(features))
    for j, name in enumerate(features):
        column = frame[name].to_numpy()[selected].astype(np.float64)
        means[j] = column.mean()
        column -= means[j]
        scale = np.sqrt(np.dot(column, column) / len(column))
        scales[j] = scale if scale >= 10 * np.finfo(float).eps else 1.0
        matrix[:, j] = column / scales[j]
    return matrix, means, scales


def fit_at_cutoff(data: SnapshotData, grid: list[datetime], cutoff: datetime, settings: ModelSettings,
                  start: FittedModel | None = None) -> FittedModel:
    snapshots = training_snapshots(grid, cutoff, settings)
    rows = data.frame["snapshot_at"].isin(snapshots).to_numpy()
    return fit_rows(data, rows, cutoff, snapshots, settings, start)


def fit_rows(data: SnapshotData, rows: np.ndarray, cutoff: datetime, snapshots: list[datetime],
             settings: ModelSettings, start: FittedModel | None = None) -> FittedModel:
    """The standardization and regression fitted on the selected rows. A `start` fitted on
    similar rows (the previous date of a backtest, the validation fit for the fit at as_of)
    is where the solver starts: it then stops after a handful of iterations instead of thirty
    or more, at the same tolerance."""
    label_columns = ["is_converted"] if settings.snapshot_mode else ["snapshot_at", "converted_at"]
    y = labels(data.frame.loc[rows, label_columns], settings.horizon_days, settings.snapshot_mode)
    model = FittedModel(cutoff=cutoff, features=data.features, snapshots=snapshots, rows=len(y),
                        positives=int(y.sum()), base_rate=float(y.mean()) if len(y) else 0.0)
    if 0 < model.positives < len(y):
        from sklearn.linear_model import LogisticRegression

        matrix, model.means, model.scales = standardized_training_matrix(data.frame, data.features, rows)
        warm = start is not None and start.fitted and start.features == data.features
        regression = LogisticRegression(
            C=settings.regularization_c, l1_ratio=0, max_iter=2000, random_state=0, warm_start=warm
        )
        if warm:
            regression.coef_, regression.intercept_ = start.start_for(model.means, model.scales)
        regression.fit(matrix, y)
        model.coefficients = regression.coef_[0].astype(np.float64)
        model.intercept = float(regression.intercept_[0])
        model.iterations = int(regression.n_iter_[0])
    return model


def at_snapshot(data: SnapshotData, snapshot: datetime) -> pd.DataFrame:
    return data.frame[data.frame["snapshot_at"] == snapshot].reset_index(drop=True)


def top_contributions(model: FittedModel, frame: pd.DataFrame) -> list[str]:
    """Per person, the features that raise the log-odds most above the average trained-on person."""
    if not model.fitted or frame.empty:
        return [""] * len(frame)
    contributions = model.standardized(frame) * model.coefficients
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
    decision: PublishDecision


# The publish rule: a fit reaches predictive_scores only with enough to learn from, and when it
# ranks and predicts the held-out validation snapshot better than the base rate does.
MIN_TRAINING_ROWS = 200
MIN_POSITIVES = evaluation.MIN_POSITIVES
AUC_MARGIN = 0.02
# Probabilities are clipped this far from 0 and 1 in the log-loss, so one sure miss stays finite.
LOG_LOSS_EPSILON = 1e-15
# What the settings to change are, for a reason to say.
MORE_DATA = ("raise the dbt vars predictive_training_snapshots or predictive_horizon_days, or load a "
             "longer history")


@dataclass(frozen=True)
class PublishDecision:
    published: bool
    reason: str


@dataclass
class Validation:
    """The recipe trained on labels known at the validation snapshot, scored on that snapshot;
    in snapshot mode, out-of-fold predictions of a cross-validation at as_of. With the champion
    rulebook's AUC on the same people, where it scored them."""

    snapshot: datetime
    rows: int
    positives: int
    auc: float | None
    brier_score: float | None
    log_loss: float | None
    base_rate_log_loss: float | None
    calibration: pd.DataFrame
    method: str = "held-out snapshot"
    champion_people: int = 0
    champion_auc: float | None = None
    # The model's AUC on the people the champion scored (all of them, usually).
    model_auc_on_champion_people: float | None = None


def champion_scores(con: duckdb.DuckDBPyConnection, settings: ModelSettings, snapshot: datetime) -> pd.Series:
    """The champion rulebook's total score per person at a snapshot instant: at as_of in snapshot
    mode, else at the end of the day before the snapshot midnight (fct_lead_score_daily keeps
    score_history_days of them; none before)."""
    if settings.snapshot_mode:
        rows = con.execute(f"select person_id, total_score from {CHAMPION_NOW} where is_champion").fetchall()
    else:
        rows = con.execute(
            f"select person_id, total_score from {CHAMPION_DAILY} where is_champion and score_date = ?",
            [snapshot - timedelta(days=1)],
        ).fetchall()
    return pd.Series({person_id: float(score) for person_id, score in rows}, dtype=float)


def compare_with_champion(validation: Validation, frame: pd.DataFrame, outcome: np.ndarray,
                          predicted: np.ndarray, champion: pd.Series | None) -> Validation:
    """The model's and the champion's AUC on the validation people the champion scored."""
    if champion is None or champion.empty:
        return validation
    scores = frame["person_id"].map(champion)
    scored = scores.notna().to_numpy()
    validation.champion_people = int(scored.sum())
    if scored.any():
        validation.champion_auc = auc_or_none(outcome[scored], scores.to_numpy(dtype=float)[scored])
        validation.model_auc_on_champion_people = auc_or_none(outcome[scored], predicted[scored])
    return validation


def log_loss(outcome: np.ndarray, probability: np.ndarray) -> float | None:
    if len(outcome) == 0:
        return None
    p = np.clip(np.asarray(probability, dtype=float), LOG_LOSS_EPSILON, 1 - LOG_LOSS_EPSILON)
    y = np.asarray(outcome, dtype=float)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def validate(data: SnapshotData, model: FittedModel, validation_snapshot: datetime,
             settings: ModelSettings, champion: pd.Series | None = None) -> Validation:
    """The fit at the validation snapshot (`model`) measured on the people there."""
    frame = at_snapshot(data, validation_snapshot)
    outcome = labels(frame, settings.horizon_days)
    predicted = model.probability(frame)
    # The base rate the same training rows give: what a model must beat to be worth publishing.
    validation = held_out(validation_snapshot, outcome, predicted, np.full(len(outcome), model.base_rate),
                          f"held-out snapshot {validation_snapshot:%Y-%m-%d}")
    return compare_with_champion(validation, frame, outcome, predicted, champion)


def held_out(snapshot: datetime, outcome: np.ndarray, predicted: np.ndarray, base_rate: np.ndarray,
             method: str) -> Validation:
    brier = float(np.mean((predicted - outcome) ** 2)) if len(outcome) else None
    return Validation(
        snapshot=snapshot, rows=len(outcome), positives=int(outcome.sum()),
        auc=auc_or_none(outcome, predicted), brier_score=brier, log_loss=log_loss(outcome, predicted),
        base_rate_log_loss=log_loss(outcome, base_rate), calibration=calibration_bins(predicted, outcome),
        method=method,
    )


def cross_validate(data: SnapshotData, as_of: datetime, settings: ModelSettings,
                   champion: pd.Series | None = None) -> Validation:
    """Snapshot mode: every person at as_of is predicted by the recipe fitted on the other
    folds (stratified, FOLDS of them), and compared with the base rate of those folds."""
    frame = at_snapshot(data, as_of)
    outcome = labels(frame, settings.horizon_days, snapshot_mode=True)
    positives = int(outcome.sum())
    base = positives / len(outcome) if len(outcome) else 0.0
    predicted, base_rate = np.full(len(outcome), base), np.full(len(outcome), base)
    if min(positives, len(outcome) - positives) >= FOLDS:
        from sklearn.model_selection import StratifiedKFold

        fold_data = SnapshotData(frame=frame, features=data.features, descriptions=data.descriptions)
        # Each fold starts cold: a start fitted on another fold's rows would carry what this
        # fold holds out.
        folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=0)
        for train, test in folds.split(np.zeros(len(outcome)), outcome):
            rows = np.zeros(len(outcome), dtype=bool)
            rows[train] = True
            model = fit_rows(fold_data, rows, as_of, [as_of], settings)
            predicted[test] = model.probability(frame.iloc[test])
            base_rate[test] = model.base_rate
    validation = held_out(as_of, outcome, predicted, base_rate, f"{FOLDS}-fold cross-validation at as_of")
    return compare_with_champion(validation, frame, outcome, predicted, champion)


def publish_decision(model: FittedModel, validation: Validation) -> PublishDecision:
    """Whether the fit is published as the predictive score, and why (or why not)."""
    if model.rows < MIN_TRAINING_ROWS:
        return PublishDecision(False, f"only {model.rows:,} training rows (at least {MIN_TRAINING_ROWS:,} "
                                      f"needed): {MORE_DATA}")
    if model.positives < MIN_POSITIVES or not model.fitted:
        return PublishDecision(False, f"only {model.positives:,} positives among {model.rows:,} training rows "
                                      f"(at least {MIN_POSITIVES} needed): {MORE_DATA}")
    if validation.positives < MIN_POSITIVES or validation.positives == validation.rows:
        return PublishDecision(False, f"only {validation.positives:,} positives among {validation.rows:,} people "
                                      f"on the validation snapshot {validation.snapshot:%Y-%m-%d} (at least "
                                      f"{MIN_POSITIVES} needed to tell the model from chance): {MORE_DATA}")
    if validation.auc is None or validation.auc <= 0.5 + AUC_MARGIN:
        auc = "undefined" if validation.auc is None else f"{validation.auc:.3f}"
        return PublishDecision(False, f"held-out AUC {auc} is not above {0.5 + AUC_MARGIN:.2f}: the model ranks "
                                      "no better than chance")
    if validation.log_loss >= validation.base_rate_log_loss:
        return PublishDecision(False, f"held-out log-loss {validation.log_loss:.4f} is not below the base "
                                      f"rate's {validation.base_rate_log_loss:.4f}")
    on = f"({validation.method})"
    if validation.champion_auc is not None:
        mine = validation.model_auc_on_champion_people
        if mine is None or mine <= validation.champion_auc:
            mine_text = "undefined" if mine is None else f"{mine:.3f}"
            return PublishDecision(False, f"held-out AUC {mine_text} is not above the champion rulebook's "
                                          f"{validation.champion_auc:.3f} on the same {validation.champion_people:,} "
                                          f"people {on}: the champion's score stays the one to use")
        champion = (f"above the champion rulebook's {validation.champion_auc:.3f} on the same "
                    f"{validation.champion_people:,} people")
    else:
        champion = "(the champion had no scores there to compare)"
    return PublishDecision(True, f"held-out AUC {validation.auc:.3f} {on} above {0.5 + AUC_MARGIN:.2f} and "
                                 f"{champion}; log-loss {validation.log_loss:.4f} below the base rate's "
                                 f"{validation.base_rate_log_loss:.4f}")


def effective_as_of(con: duckdb.DuckDBPyConnection) -> datetime:
    """The as_of the dbt build scored at (a run parameter, or the end of the loaded data), as the
    feature snapshots have it."""
    value = con.execute(f"select max(snapshot_at) from {SNAPSHOTS} where is_as_of").fetchone()[0]
    if value is None:
        raise ValueError(f"{SNAPSHOTS} has no as_of: run the dbt build first")
    return value


def validation_snapshot_of(as_of: datetime, settings: ModelSettings) -> datetime:
    """The latest labelled grid midnight: where the recipe is validated, and the newest snapshot
    the model at as_of trains on. In snapshot mode, as_of (cross-validated)."""
    if settings.snapshot_mode:
        return as_of
    return latest_grid_midnight(as_of, settings.horizon_days, settings.snapshot_step_days)


def fit_grid(as_of: datetime, settings: ModelSettings) -> list[datetime]:
    """The snapshots the published model and its validation model train on (as_of alone in
    snapshot mode)."""
    if settings.snapshot_mode:
        return [as_of]
    return training_grid(as_of, settings, validation_snapshot_of(as_of, settings))


def train_and_score(con: duckdb.DuckDBPyConnection, settings: ModelSettings | None = None) -> PredictiveTables:
    """Validate the recipe on the latest labelled grid snapshot, then fit at as_of and score everyone."""
    settings = settings or model_settings(con)
    check_settings(con, settings)
    as_of = effective_as_of(con)
    grid = fit_grid(as_of, settings)
    # One-hot over the training people's values: the fit then depends on the training snapshots only.
    data = load_snapshots(con, sorted({*grid, as_of}), profile_snapshots=grid, settings=settings)
    champion = champion_scores(con, settings, validation_snapshot_of(as_of, settings))
    return fit_and_score(data, grid, as_of, settings, champion)


def fit_and_score(data: SnapshotData, grid: list[datetime], as_of: datetime, settings: ModelSettings,
                  champion: pd.Series | None = None) -> PredictiveTables:
    """Validation, the fit at as_of, the publish decision and the tables, from loaded features."""
    if settings.snapshot_mode:
        validation = cross_validate(data, as_of, settings, champion)
        model = fit_rows(data, (data.frame["snapshot_at"] == as_of).to_numpy(), as_of, [as_of], settings)
    else:
        validation_snapshot = validation_snapshot_of(as_of, settings)
        validation_model = fit_at_cutoff(data, grid, validation_snapshot, settings)
        validation = validate(data, validation_model, validation_snapshot, settings, champion)
        model = fit_at_cutoff(data, grid, as_of, settings, start=validation_model)
    decision = publish_decision(model, validation)
    return PredictiveTables(
        scores=score_table(model, at_snapshot(data, as_of), as_of, decision),
        coefficients=coefficient_table(model, data.descriptions),
        calibration=calibration_table(validation, as_of, decision),
        validation_auc=validation.auc,
        brier_score=validation.brier_score,
        validation_snapshot=validation.snapshot,
        model=model,
        decision=decision,
    )


def calibration_table(validation: Validation, as_of: datetime, decision: PublishDecision) -> pd.DataFrame:
    calibration = validation.calibration.copy()
    calibration.insert(0, "model_name", MODEL_NAME)
    calibration.insert(1, "as_of", as_of)
    calibration.insert(2, "validation_date", validation.snapshot)
    calibration["brier_score"] = validation.brier_score
    calibration["validation_auc"] = validation.auc
    calibration["log_loss"] = validation.log_loss
    calibration["base_rate_log_loss"] = validation.base_rate_log_loss
    calibration["validation_method"] = validation.method
    calibration["champion_auc"] = validation.champion_auc
    calibration["model_auc_on_champion_people"] = validation.model_auc_on_champion_people
    calibration["is_published"] = decision.published
    calibration["publish_reason"] = decision.reason
    return calibration


def score_table(model: FittedModel, current: pd.DataFrame, as_of: datetime, decision: PublishDecision
                ) -> pd.DataFrame:
    """Everyone's probability; the 0-100 predictive score only when the fit is published (the
    probability of an unpublished fit stays, to see what it would have said)."""
    probability = model.probability(current)
    score = percentile_score(probability) if decision.published else pd.array([pd.NA] * len(probability),
                                                                                dtype="Int64")
    scores = pd.DataFrame({
        "person_id": current["person_id"],
        "as_of": as_of,
        "model_name": MODEL_NAME,
        "probability": probability,
        "predictive_score": score,
        "top_features": top_contributions(model, current),
        "is_published": decision.published,
        "publish_reason": decision.reason,
    })
    return scores.sort_values("person_id", kind="stable").reset_index(drop=True)


def coefficient_table(model: FittedModel, descriptions: dict[str, str]) -> pd.DataFrame:
    """One row per feature (and the intercept), on the standardized scale the model uses."""
    if not model.fitted:
        coefficients = np.zeros(len(model.features))
        intercept = float(np.log(model.base_rate / (1 - model.base_rate))) if 0 < model.base_rate < 1 else 0.0
        means = stds = np.full(len(model.features), np.nan)
    else:
        coefficients, intercept = model.coefficients, model.intercept
        means, stds = model.means, model.scales
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


# --- Reuse: digests of what a result was computed from, stored next to it ---------------------

LIBRARIES = ("duckdb", "numpy", "pandas", "scikit-learn", "scipy")

# How many days of as_of a stored fit or backtest is kept while only late data moved its inputs:
# a refit a week, as the CRM vendors' predictive scores retrain on a schedule (0: recompute on
# every change).
REFIT_AFTER_DAYS = 7
# The parts data arriving late moves at past snapshots: a visitor identified today is credited
# with their earlier browsing, which changes activity counts, rulebook scores and customers'
# repurchase scores back then. Labels, population, profiles, dates, rulebooks and repurchase rules,
# settings and code changing always recompute.
LATE_DATA_PARTS = frozenset({"activities", "champion", "scores", "repurchase_scores"})

# What each part of a digest covers, to say what changed.
PART_NAMES = {
    "activities": "activity counts and latest activities at the snapshots",
    "people": "people and their profiles at the snapshots",
    "labels": "conversions (up to the last horizon end) of the people at the snapshots",
    "opportunities": "conversions up to the last horizon end",
    "custom_fields": "people's custom fields",
    "champion": "the champion rulebook's scores the fit is compared with",
    "schema": "columns of the input tables",
    "settings": "settings",
    "code": "code or library versions",
    "grid": "training snapshots",
    "dates": "snapshot dates",
    "scores": "rulebook scores at the snapshots",
    "rulebooks": "rulebook definitions (seeds) or the champion",
    "repurchase_scores": "customer accounts' repurchase scores at the snapshots",
    "repurchase_rules": "repurchase rules (seeds customer_rules and purchase_cycle_defaults)",
}


def row_digest(con: duckdb.DuckDBPyConnection, relation: str, columns: tuple[str, ...] | list[str], where: str,
               params: list | None = None) -> str:
    """Order-free digest of the rows: count, and xor and sum of row hashes (a sum, so duplicated rows
    do not cancel out)."""
    count, xor, total = con.execute(
        f"""select count(*), bit_xor(row_hash), sum(row_hash::hugeint)
        from (select hash({", ".join(columns)}) as row_hash from {relation} where {where})""",
        params or [],
    ).fetchone()
    return f"{count}/{xor}/{total}"


def schema_digest(con: duckdb.DuckDBPyConnection, tables: list[tuple[str, str]]) -> str:
    rows = con.execute(
        """select table_schema, table_name, column_name, data_type from information_schema.columns
        where list_contains(?, table_schema || '.' || table_name) order by all""",
        [[f"{schema}.{table}" for schema, table in tables]],
    ).fetchall()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def code_digest(*files: str | Path) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(Path(path).read_bytes())
    for library in LIBRARIES:
        digest.update(f"{library}={metadata.version(library)}".encode())
    return digest.hexdigest()


# The fct_person_features columns each part of a feature digest covers: together, every column
# the features and labels read, keyed by the snapshot and the person.
DIGEST_COLUMNS = {
    "people": ("snapshot_at", "person_id", "person_created_at", *PROFILE_ATTRIBUTES),
    "activities": ("snapshot_at", "person_id", "last_activity_at", *count_columns()),
    "labels": ("snapshot_at", "person_id", "converted_at", "is_converted"),
}


def rulebooks_digest(con: duckdb.DuckDBPyConnection) -> str:
    """Each rulebook's fingerprint (every seed row that changes its scores) and which is champion:
    an edited rule moves the scores at past snapshots as late data does, but always recomputes."""
    return row_digest(
        con, f"(select distinct rulebook_id, rulebook_fingerprint, is_champion from {CHAMPION_DAILY})",
        ("rulebook_id", "rulebook_fingerprint", "is_champion"), "true",
    )


def custom_fields_digest(con: duckdb.DuckDBPyConnection, snapshots: Sequence[datetime]) -> str:
    """The custom fields of the people in the feature rows at `snapshots`, the only ones a fit
    reads (people created since are scored at as_of, which runs every time)."""
    return row_digest(
        con, CUSTOM_FIELDS, ("person_id", "custom_fields"),
        f"person_id in (select person_id from {FEATURES} where snapshot_at in (select unnest(?::timestamp[])))",
        [sorted(set(snapshots))],
    )


def feature_source_digests(con: duckdb.DuckDBPyConnection, snapshots: Sequence[datetime], labels_until: datetime
                           ) -> dict[str, str]:
    """Digests of the fct_person_features rows a fit reads: every row at `snapshots`, in parts
    (who and their profile, their activity, their label), so a change can be named. A first
    conversion after `labels_until` counts as none, as no label reads it."""
    rows = "snapshot_at in (select unnest(?::timestamp[]))"
    instants = sorted(set(snapshots))
    # The label as the fits can see it: null past the last horizon end.
    labelled = f"""(select * replace (
            case when converted_at <= ? then converted_at end as converted_at,
            is_converted and (converted_at is null or converted_at <= ?) as is_converted)
        from {FEATURES})"""
    parts = {
        part: row_digest(con, labelled, columns, rows, [labels_until, labels_until, instants])
        for part, columns in DIGEST_COLUMNS.items()
    }
    parts["schema"] = schema_digest(con, [tuple(FEATURES.split("."))])
    return parts


@dataclass(frozen=True)
class InputsDigest:
    """Digests of everything a result depends on, part by part, so a change can be named."""

    parts: dict[str, str]

    @property
    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.parts, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class StoredState:
    parts: dict[str, str]
    outputs: str | None
    values: dict[str, object]


@dataclass(frozen=True)
class Verdict:
    reused: bool
    reason: str


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    return con.execute(
        "select count(*) from duckdb_tables() where schema_name = ? and table_name = ? and not temporary",
        [schema, name],
    ).fetchone()[0] > 0


def read_state(con: duckdb.DuckDBPyConnection, name: str) -> StoredState | None:
    if not table_exists(con, STATE_SCHEMA, name):
        return None
    cursor = con.execute(f"select * from {STATE_SCHEMA}.{name}")
    rows = cursor.fetchall()
    values = dict(zip([column[0] for column in cursor.description], rows[0], strict=True)) if len(rows) == 1 else {}
    try:
        parts = json.loads(values.pop("parts"))
    except (KeyError, TypeError, ValueError):
        return None
    return StoredState(parts=parts, outputs=values.pop("outputs", None), values=values)


def write_state(con: duckdb.DuckDBPyConnection, name: str, inputs: InputsDigest, outputs: str | None,
                values: Sequence[tuple[str, str, object]] = ()) -> None:
    """One row: the inputs' digest, the result tables' digest, and `values` as (column, type, value)."""
    columns = [("digest", "varchar", inputs.digest), ("parts", "varchar", json.dumps(inputs.parts, sort_keys=True)),
               ("outputs", "varchar", outputs), *values]
    con.execute(f"create schema if not exists {STATE_SCHEMA}")
    con.execute(
        f"create or replace table {STATE_SCHEMA}.{name} as select "
        + ", ".join(f"?::{kind} as {column}" for column, kind, _ in columns),
        [value for _, _, value in columns],
    )


def tables_digest(con: duckdb.DuckDBPyConnection, tables: dict[str, tuple[str, ...]]) -> str | None:
    """Digest of stored result tables, leaving out the columns a reuse rewrites; None when one is missing."""
    parts = []
    for table, rewritten in tables.items():
        if not table_exists(con, SCHEMA, table):
            return None
        exclude = f" exclude ({', '.join(rewritten)})" if rewritten else ""
        count, xor = con.execute(
            f"select count(*), bit_xor(hash(result)) from (select *{exclude} from {SCHEMA}.{table}) as result"
        ).fetchone()
        parts.append(f"{table}:{count}/{xor}")
    return ";".join(parts)


def computed_days_ago(stored: StoredState, as_of: datetime | None) -> float | None:
    """Days of as_of since the stored result was computed; None when unknown or as_of moved back."""
    computed = stored.values.get("computed_as_of")
    if as_of is None or not isinstance(computed, datetime) or as_of < computed:
        return None
    return (as_of - computed) / timedelta(days=1)


def reuse_verdict(stored: StoredState | None, inputs: InputsDigest, outputs: str | None,
                  as_of: datetime | None = None, refit_after_days: int = 0) -> Verdict:
    """Reuse when the stored tables are those stored with the digest and either every part of the
    digest matches, or only parts late data moves (LATE_DATA_PARTS) changed and the result was
    computed less than `refit_after_days` days of as_of ago."""
    if stored is None:
        return Verdict(False, "computed: no stored result to reuse")
    changed = sorted(part for part in set(stored.parts) | set(inputs.parts)
                     if stored.parts.get(part) != inputs.parts.get(part))
    named = ", ".join(PART_NAMES.get(part, part) for part in changed)
    days_ago = computed_days_ago(stored, as_of)
    late_only = bool(changed) and set(changed) <= LATE_DATA_PARTS and days_ago is not None
    if changed and not (late_only and days_ago < refit_after_days):
        age = f" (computed {days_ago:.1f} days of as_of ago, kept up to {refit_after_days})" if late_only else ""
        return Verdict(False, f"recomputed: {named} changed since the stored result{age}")
    if outputs is None or outputs != stored.outputs:
        return Verdict(False, "recomputed: the stored tables are missing or not the ones stored with the digest")
    if changed:
        return Verdict(True, f"reused the result computed at as_of {stored.values['computed_as_of']:%Y-%m-%d %H:%M} "
                       f"({days_ago:.1f} days ago, kept up to {refit_after_days}): only {named} moved since, "
                       "as late data does")
    unchanged = ", ".join(PART_NAMES.get(part, part) for part in sorted(inputs.parts))
    return Verdict(True, f"reused the stored result (inputs digest {inputs.digest[:12]}): unchanged {unchanged}")


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Results and their digest are written together, so a digest never describes other tables."""
    con.begin()
    try:
        yield
    except BaseException:
        con.rollback()
        raise
    con.commit()


# --- The published model, refitted only when its training inputs changed -----------------------

FIT_STATE = "predictive_fit"
# Result tables the stored fit stands for; as_of is rewritten when it is reused.
FIT_OUTPUTS = {"predictive_coefficients": (), "predictive_calibration": ("as_of",)}


@dataclass
class PredictiveRun:
    tables: PredictiveTables
    reused: bool
    reason: str


def fit_inputs(con: duckdb.DuckDBPyConnection, settings: ModelSettings, as_of: datetime) -> InputsDigest:
    """Everything the fit and the calibration depend on: the training grid (its newest snapshot is
    the validation snapshot), the feature rows at its snapshots and their labels, the settings
    and the code."""
    grid = fit_grid(as_of, settings)
    parts = feature_source_digests(con, grid, max(grid) + timedelta(days=settings.horizon_days))
    parts["grid"] = ",".join(point.isoformat() for point in grid)
    parts["custom_fields"] = custom_fields_digest(con, grid)
    parts["rulebooks"] = rulebooks_digest(con)
    if settings.snapshot_mode:
        parts["champion"] = row_digest(con, CHAMPION_NOW, ("person_id", "total_score"), "is_champion")
    else:
        parts["champion"] = row_digest(con, CHAMPION_DAILY, ("person_id", "total_score"),
                                       "is_champion and score_date = ?",
                                       [validation_snapshot_of(as_of, settings) - timedelta(days=1)])
    parts["settings"] = json.dumps(asdict(settings), sort_keys=True)
    parts["code"] = code_digest(__file__, evaluation.__file__)
    return InputsDigest(parts)


def fit_state_values(tables: PredictiveTables, as_of: datetime) -> list[tuple[str, str, object]]:
    model = tables.model

    def floats(values: np.ndarray | None) -> list[float] | None:
        return None if values is None else [float(v) for v in values]

    return [
        ("features", "varchar[]", list(model.features)),
        ("means", "double[]", floats(model.means)),
        ("scales", "double[]", floats(model.scales)),
        ("coefficients", "double[]", floats(model.coefficients)),
        ("intercept", "double", model.intercept),
        ("base_rate", "double", model.base_rate),
        ("training_rows", "bigint", model.rows),
        ("training_positives", "bigint", model.positives),
        ("training_snapshots", "timestamp[]", list(model.snapshots)),
        ("validation_snapshot", "timestamp", tables.validation_snapshot),
        ("validation_auc", "double", tables.validation_auc),
        ("brier_score", "double", tables.brier_score),
        ("is_published", "boolean", tables.decision.published),
        ("publish_reason", "varchar", tables.decision.reason),
        ("computed_as_of", "timestamp", as_of),
    ]


def stored_model(values: dict[str, object], as_of: datetime) -> FittedModel:
    def array(name: str) -> np.ndarray | None:
        return None if values[name] is None else np.array(values[name], dtype=float)

    return FittedModel(
        cutoff=as_of, features=list(values["features"]), snapshots=list(values["training_snapshots"]),
        rows=int(values["training_rows"]), positives=int(values["training_positives"]),
        base_rate=float(values["base_rate"]), means=array("means"), scales=array("scales"),
        coefficients=array("coefficients"), intercept=float(values["intercept"]),
    )


def refresh_predictive(con: duckdb.DuckDBPyConnection, settings: ModelSettings | None = None,
                       refit_after_days: int = REFIT_AFTER_DAYS) -> PredictiveRun:
    """Score everyone at as_of with the stored fit when its inputs are unchanged (or only late
    data moved them, for `refit_after_days` days of as_of: see `reuse_verdict`), else fit anew;
    write the tables (and the fit with its digest)."""
    settings = settings or model_settings(con)
    check_settings(con, settings)
    as_of = effective_as_of(con)
    inputs = fit_inputs(con, settings, as_of)
    stored = read_state(con, FIT_STATE)
    verdict = reuse_verdict(stored, inputs, tables_digest(con, FIT_OUTPUTS), as_of, refit_after_days)
    model = None
    if verdict.reused:
        try:
            model = stored_model(stored.values, as_of)
            decision = PublishDecision(bool(stored.values["is_published"]), str(stored.values["publish_reason"]))
        except (KeyError, TypeError, ValueError):
            verdict = Verdict(False, "recomputed: the stored fit could not be read")
    if model is not None:
        data = load_snapshots(con, [as_of], profile_values=profile_values_of(model.features),
                              custom_specs=custom_specs_of(model.features))
        if data.features == model.features:
            scores = score_table(model, at_snapshot(data, as_of), as_of, decision)
            with transaction(con):
                write_table(con, "predictive_scores", scores)
                con.execute(f"update {SCHEMA}.predictive_calibration set as_of = ?", [as_of])
            tables = PredictiveTables(
                scores=scores,
                coefficients=coefficient_table(model, data.descriptions),
                calibration=con.execute(f"select * from {SCHEMA}.predictive_calibration order by bin").df(),
                validation_auc=stored.values["validation_auc"],
                brier_score=stored.values["brier_score"],
                validation_snapshot=stored.values["validation_snapshot"],
                model=model,
                decision=decision,
            )
            return PredictiveRun(tables, True, verdict.reason)
        verdict = Verdict(False, "recomputed: the stored fit's features do not match the features built now")
    tables = train_and_score(con, settings)
    with transaction(con):
        write_predictive_tables(con, tables)
        write_state(con, FIT_STATE, inputs, tables_digest(con, FIT_OUTPUTS), fit_state_values(tables, as_of))
    return PredictiveRun(tables, False, verdict.reason)
