"""The lead-scoring report: one self-contained HTML file (charts drawn by matplotlib and embedded
as PNG data, no script, no link outside the file) from the warehouse's report tables, so it opens
offline, in a mail attachment or on a file share. Each section is a chart and the numbers behind
it; the same charts are attached to the Dagster asset as metadata.

Every figure is computed in the dbt report models (marts.rpt_*, documented and tested there) or
by the feedback assets (feedback.*): the sections only pick, filter and order their rows, and
reshape them for a chart or a table."""

from __future__ import annotations

import base64
import html
import io
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure

from leadscore.feedback import evaluation
from leadscore.feedback.predictive import MODEL_NAME

# Colours that stay distinct for colour-blind readers (Okabe-Ito).
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
TABLE_ROWS = 15
# Rows of the call list in the sales view; the whole list is in call_list.csv.
CALL_LIST_ROWS = 25
MOVERS_PER_DIRECTION = 10
NEW_MQL_DAYS = 7
# Columns that name or reach a person: shown only when the personal data policy keeps them
# (LEADSCORE_PUBLISH_PERSONAL_DATA), like the published copy. The orchestration adds the columns
# the dbt docs tag personal_data.
PERSONAL_COLUMNS = frozenset({"person_name", "first_name", "last_name", "email", "phone"})
# Chart labels longer than this are cut, so the bars keep their room.
LABEL_CHARACTERS = 48


@dataclass(frozen=True)
class Privacy:
    """Whether the report may show personal data, and which columns hold it."""

    show_personal_data: bool = True
    personal_columns: frozenset[str] = PERSONAL_COLUMNS

    def strip(self, frame: pd.DataFrame) -> pd.DataFrame:
        if self.show_personal_data:
            return frame
        return frame.drop(columns=[c for c in frame.columns if c in self.personal_columns])


@dataclass(frozen=True)
class Table:
    """Rows of a mart for a section: `data` keeps the values (and goes whole into `csv_name`
    beside the report), `formats` says how each column reads for people (see FORMATS)."""

    data: pd.DataFrame
    formats: dict[str, str] = field(default_factory=dict)
    csv_name: str | None = None
    caption: str = ""
    shown: int = TABLE_ROWS
    empty: str = "None."
    # False for a table that only goes into its CSV file.
    in_page: bool = True

    def display(self) -> pd.DataFrame:
        return readable(self.data.head(self.shown), self.formats)


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    text: str
    png: bytes | None = None
    tables: list[Table] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    # Windows with no data or too few positives, each saying which setting to change.
    warnings: list[str] = field(default_factory=list)

    @property
    def table(self) -> pd.DataFrame | None:
        return self.tables[0].data if self.tables else None


@dataclass(frozen=True)
class Report:
    as_of: str
    sections: list[Section]

    def html(self) -> str:
        return render_html(self)

    def csv_files(self) -> dict[str, pd.DataFrame]:
        return {t.csv_name: t.data for s in self.sections for t in s.tables if t.csv_name}


# --- numbers for people ---------------------------------------------------------------------


def whole(value) -> str:
    return f"{round(float(value)):,}"


def percent(value) -> str:
    value = float(value)
    if 0 < abs(value) < 0.0005:
        return "<0.1%"
    return f"{value * 100:.1f}%"


def signed(value) -> str:
    return f"{round(float(value)):+,}"


def timestamp(value) -> str:
    return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M")


def day(value) -> str:
    return str(value)[:10]


FORMATS: dict[str, Callable[[object], str]] = {
    "int": whole, "score": whole, "pct": percent, "signed": signed, "datetime": timestamp, "date": day,
    "1dp": lambda v: f"{float(v):,.1f}", "2dp": lambda v: f"{float(v):,.2f}", "3dp": lambda v: f"{float(v):.3f}",
    "text": str,
}


def default_format(series: pd.Series) -> str:
    """How a column without a stated format reads: never a raw float."""
    if pd.api.types.is_bool_dtype(series):
        return "yesno"
    if pd.api.types.is_integer_dtype(series):
        return "int"
    if pd.api.types.is_float_dtype(series):
        return "2dp"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "datetime"
    return "text"


def readable(frame: pd.DataFrame, formats: dict[str, str]) -> pd.DataFrame:
    """The rows as text for people: numbers rounded per `formats`, blanks for missing values,
    column names with spaces."""
    out = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        kind = formats.get(column) or default_format(frame[column])
        render = (lambda v: "yes" if v else "no") if kind == "yesno" else FORMATS[kind]
        out[column.replace("_", " ")] = [
            "" if value is None or (not isinstance(value, str) and pd.isna(value)) else render(value)
            for value in frame[column]
        ]
    return out.reset_index(drop=True)


def short_label(text: object) -> str:
    text = str(text)
    return text if len(text) <= LABEL_CHARACTERS else text[:LABEL_CHARACTERS - 1] + "…"


def named(names: pd.Series, ids: pd.Series) -> pd.Series:
    """Names where the data has them, the id otherwise."""
    return names.where(names.notna() & (names.astype(str).str.strip() != ""), ids)


def query(con: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    return con.execute(sql).df()


def existing_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute("select table_schema || '.' || table_name from information_schema.tables").fetchall()
    return {name for (name,) in rows}


def columns_of(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    schema, name = table.split(".")
    return [c for (c,) in con.execute(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
        "order by ordinal_position", [schema, name]).fetchall()]


WINDOW_SETTINGS = ("raise the dbt var report_window_days (or conversion_horizon_days, which ends the window "
                   "that many days before as_of), or load a longer history")


def window_warnings(con: duckdb.DuckDBPyConnection, rows: int, report: str) -> list[str]:
    """A warning when a conversion report found nothing in its window, naming the window."""
    if rows:
        return []
    window = con.execute(
        "select min(window_start), max(window_end) from marts.rpt_rule_effectiveness"
    ).fetchone() if "marts.rpt_rule_effectiveness" in existing_tables(con) else (None, None)
    span = f" ({day(window[0])} to {day(window[1])})" if window[0] is not None else ""
    return [f"{report} has no rows: nothing happened in the report window{span}. To change it, {WINDOW_SETTINGS}."]


def publish_warnings(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Why the predictive score is not published, as the fit recorded it."""
    if "feedback.predictive_calibration" not in existing_tables(con) or \
            "publish_reason" not in columns_of(con, "feedback.predictive_calibration"):
        return []
    row = con.execute("select is_published, publish_reason from feedback.predictive_calibration limit 1").fetchone()
    if row is None or row[0]:
        return []
    return [f"The predictive score is not published: {row[1]}. feedback.predictive_scores keeps the model's "
            "probabilities for inspection, with no predictive_score."]


def legend(ax, **options) -> None:
    """A legend when the chart has labelled series (an empty window has none to show)."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**options)


def figure(width: float = 8.0, height: float = 3.6) -> tuple[Figure, object]:
    # Imported here: matplotlib costs every run's start-up about 0.4 s, and only the report draws.
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    return fig, fig.add_subplot()


def png_of(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    # No timestamp in the file, so the same tables give the same bytes.
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def whole_numbers(pivot: pd.DataFrame) -> pd.DataFrame:
    """A pivot of counts as a plain table of integers."""
    table = pivot.astype("int64").reset_index()
    table.columns.name = None
    return table


def grouped_bars(ax, categories: list[str], series: dict[str, list[float]], fontsize: int = 8,
                 rotation: int = 0) -> None:
    """Side-by-side bars: one group per category, one bar (and legend entry) per series."""
    width = 0.8 / max(len(series), 1)
    for i, (label, values) in enumerate(series.items()):
        ax.bar([k + i * width for k in range(len(categories))], [float(v) for v in values], width=width,
               color=PALETTE[i % len(PALETTE)], label=label)
    ax.set_xticks([k + 0.4 - width / 2 for k in range(len(categories))], categories, fontsize=fontsize,
                  rotation=rotation)
    legend(ax, fontsize=8)


def ranked_bars(labels: pd.Series, values: pd.Series, xlabel: str, colours: list[str] | None = None,
                notes: list[str] | None = None) -> Figure:
    """Horizontal bars, first row on top, with an optional note at the end of each bar."""
    fig, ax = figure(height=5.0)
    bars = ax.barh(list(labels)[::-1], list(values)[::-1], color=(colours or [PALETTE[0]] * len(values))[::-1])
    if notes:
        ax.bar_label(bars, labels=notes[::-1], fontsize=7, padding=2)
    ax.axvline(0, color="#444", linewidth=0.8)
    ax.set_xlabel(xlabel)
    ax.tick_params(axis="y", labelsize=7)
    return fig


# --- the sales view: whom to call, from the call list and movers marts --------------------------


def person_labels(frame: pd.DataFrame, privacy: Privacy) -> pd.Series:
    """The person as a rep knows them: the name, else the email, else the CRM id; only the id
    when personal data must not be shown."""
    if not privacy.show_personal_data:
        return frame["person_id"]
    label = frame["person_name"] if "person_name" in frame else pd.Series(None, index=frame.index, dtype=object)
    if "email" in frame:
        label = named(label, frame["email"])
    return named(label, frame["person_id"])


def sla_text(status: object, due_at: object) -> str:
    if status is None or pd.isna(status):
        return ""
    return f"{str(status).replace('_', ' ')} (due {timestamp(due_at)})"


def sales_view(con, privacy: Privacy) -> Section:
    calls = query(con, "select * from marts.rpt_call_list order by call_rank")
    movers = query(con, "select * from marts.rpt_score_movers order by direction desc, direction_rank")
    as_of = calls["as_of"].max() if len(calls) else None
    people = calls.assign(
        person=person_labels(calls, privacy),
        owner=named(calls["owner_name"], calls["owner_id"]),
        score=calls["total_score"],
        mql_since=calls["mql_at"],
        sla=[sla_text(s, d) for s, d in zip(calls["sla_status"], calls["sla_due_at"], strict=True)],
    )
    call_table = Table(
        people[["call_rank", "person", "company_name", "owner", "score", "mql_since", "top_reasons", "sla"]]
        .rename(columns={"call_rank": "rank", "company_name": "company", "mql_since": "MQL since", "sla": "SLA"}),
        formats={"rank": "int", "score": "score", "MQL since": "date"},
        caption=f"Today's call list: the first {min(CALL_LIST_ROWS, len(calls))} of {len(calls):,}, "
                "all in call_list.csv.",
        shown=CALL_LIST_ROWS, empty="No open lead to call.",
    )
    since = pd.Timestamp(as_of) - pd.Timedelta(days=NEW_MQL_DAYS) if as_of is not None else None
    new_mqls = people[people["mql_at"].notna() & (people["mql_at"] >= since)] if since is not None else people.head(0)
    new_mql_table = Table(
        new_mqls[["call_rank", "person", "company_name", "owner", "score", "mql_since"]]
        .rename(columns={"call_rank": "rank", "company_name": "company", "mql_since": "MQL since"}),
        formats={"rank": "int", "score": "score", "MQL since": "datetime"},
        caption=f"New MQLs of the last {NEW_MQL_DAYS} days still open ({len(new_mqls):,}), with their call rank.",
        shown=len(new_mqls), empty=f"No new MQL in the last {NEW_MQL_DAYS} days.",
    )
    moved = movers.assign(
        person=person_labels(movers, privacy), owner=named(movers["owner_name"], movers["owner_id"]),
    )
    shown_movers = pd.concat([moved[moved["direction"] == d].head(MOVERS_PER_DIRECTION) for d in ("up", "down")])
    movers_table = Table(
        shown_movers[["direction", "person", "company_name", "owner", "current_stage", "score_before",
                      "score_now", "change"]].rename(columns={"company_name": "company", "current_stage": "stage"}),
        formats={"score_before": "score", "score_now": "score", "change": "signed"},
        caption=f"Biggest score changes over the last {NEW_MQL_DAYS} days: the {MOVERS_PER_DIRECTION} largest "
                f"rises and falls, {len(movers):,} in score_movers.csv.",
        shown=2 * MOVERS_PER_DIRECTION, empty="No score moved.",
    )
    late = people[people["sla_status"].isin(["breached", "at_risk"])].assign(
        urgency=lambda f: (f["sla_status"] != "breached").astype(int),
    ).sort_values(["urgency", "sla_due_at", "call_rank"])
    sla_table = Table(
        late[["owner", "person", "company_name", "sla_policy", "sla_status", "sla_due_at", "call_rank"]]
        .rename(columns={"company_name": "company", "sla_policy": "SLA", "sla_status": "status",
                         "sla_due_at": "due", "call_rank": "rank"}),
        formats={"due": "datetime", "rank": "int"},
        caption=f"SLAs breached or at risk on the call list ({len(late):,}, breached first), with their owners"
                + (f"; the first {TABLE_ROWS}, all in call_list.csv." if len(late) > TABLE_ROWS else "."),
        empty="No SLA breached or at risk.",
    )
    hidden = "" if privacy.show_personal_data else (
        " Names and emails are left out, as the personal data policy (LEADSCORE_PUBLISH_PERSONAL_DATA) "
        "does not keep them: people show as CRM ids.")
    mqls = int(calls["is_mql"].sum()) if len(calls) else 0
    text = (f"Whom to call first: open leads only (not disqualified, lost, won, a customer, in an open deal "
            f"or do-not-call), MQLs first ({mqls:,} on the list), then score, recent engagement and latest "
            f"activity (rpt_call_list, rpt_score_movers).{hidden}")
    files = [Table(privacy.strip(calls), csv_name="call_list.csv", in_page=False),
             Table(privacy.strip(movers), csv_name="score_movers.csv", in_page=False)]
    return Section("sales_view", "Sales view", text,
                   tables=[call_table, new_mql_table, movers_table, sla_table, *files])


def build_changes(con) -> Section:
    """What the last build moved against the previous one: after a rule edit, its effect."""
    totals = query(con, """
        select rulebook_id, bool_or(is_champion) as champion, bool_or(rulebook_changed) as rules_changed,
               count(*) filter (where change_kind = 'changed') as scores_moved,
               count(*) filter (where change_kind = 'new') as new_people,
               count(*) filter (where change_kind = 'gone') as people_gone,
               count(*) filter (where mql_change = 'gained') as mqls_gained,
               count(*) filter (where mql_change = 'lost') as mqls_lost,
               median(score_change) filter (where change_kind = 'changed') as median_change
        from marts.rpt_score_changes group by rulebook_id order by champion desc, rulebook_id""")
    rules = query(con, """
        select rulebook_id, rule_id, coalesce(rule_description, rule_id) as rule, rulebook_changed, people_moved,
               people_up, people_down, points_change, mqls_gained, mqls_lost
        from marts.rpt_rule_changes order by abs(points_change) desc, rulebook_id, rule_id""")
    changed = totals.loc[totals["rules_changed"], "rulebook_id"].tolist()
    text = ("Scores and MQL flags against the previous build, per rulebook (rpt_score_changes), and the rules "
            "whose points moved (rpt_rule_changes). "
            + (f"The rules of {', '.join(changed)} changed since the previous build: at an unchanged as_of, "
               "what moved there is the effect of the edit." if changed else
               "No rulebook changed: what moved comes from new data or a later as_of.")
            + ("" if len(totals) else " Nothing moved (or this is the first build)."))
    return Section("build_changes", "What the last build moved", text, tables=[
        Table(totals, {"median_change": "signed"}, csv_name="score_changes_by_rulebook.csv",
              caption="Per rulebook.", empty="No score moved."),
        Table(rules[["rulebook_id", "rule", "rulebook_changed", "people_moved", "people_up", "people_down",
                     "points_change", "mqls_gained", "mqls_lost"]],
              {"points_change": "signed"}, csv_name="rule_changes.csv",
              caption=f"Rules whose points moved, largest total change first ({len(rules):,}"
                      + (f"; the first {TABLE_ROWS}, all in rule_changes.csv)." if len(rules) > TABLE_ROWS else ")."),
              empty="No rule's points moved."),
    ])


# --- analyst sections: each reads its tables and draws one chart ------------------------------


def score_distribution(con) -> Section:
    data = query(con, """
        select group_order as band_order, group_value as band, rulebook_id, is_champion, people
        from marts.rpt_score_distribution where section = 'score_band' order by rulebook_id, group_order""")
    anomalies = query(con, """
        select anomaly, people from marts.rpt_score_anomalies where is_champion order by anomaly""")
    fig, ax = figure()
    bands = list(data.sort_values("band_order")["band"].drop_duplicates())
    champions = set(data.loc[data["is_champion"], "rulebook_id"])
    rulebooks = sorted(data["rulebook_id"].unique(), key=lambda r: (r not in champions, r))
    grouped_bars(ax, bands, {
        f"{rulebook} (champion)" if rulebook in champions else rulebook:
            list(data[data.rulebook_id == rulebook].set_index("band")["people"].reindex(bands, fill_value=0))
        for rulebook in rulebooks
    }, fontsize=7, rotation=45)
    ax.set_xlabel("total score band (points)")
    ax.set_ylabel("people")
    table = data.pivot_table(index=["band_order", "band"], columns="rulebook_id", values="people", fill_value=0)
    table = whole_numbers(table).drop(columns="band_order")
    flagged = ", ".join(f"{n:,} {a.replace('_', ' ')}" for a, n in anomalies.itertuples(index=False)) or "none"
    return Section("score_distribution", "Score distribution",
                   "People per 10-point band of total score, per rulebook (rpt_score_distribution). "
                   f"Champion anomalies (people; the rule behind each is in rpt_score_distribution): {flagged}.",
                   png_of(fig), [Table(table, csv_name="score_distribution.csv")])


def funnel(con) -> Section:
    data = query(con, """
        select stage, stage_order, entered, moved_forward, sla_due, sla_breached, forward_rate
        from marts.rpt_funnel_stages order by stage_order, stage""")
    fig, ax = figure()
    bars = ax.barh(data["stage"], data["entered"], color=PALETTE[0])
    ax.barh(data["stage"], data["moved_forward"], color=PALETTE[2], label="moved to the next stage")
    ax.invert_yaxis()
    ax.bar_label(bars, fontsize=7, padding=2)
    ax.set_xlabel("people entering the stage (all periods)")
    legend(ax, fontsize=8)
    return Section("funnel", "Funnel", "Entries per stage and how many moved forward (rpt_funnel).", png_of(fig),
                   [Table(data.drop(columns="stage_order"), {"forward_rate": "pct"}, csv_name="funnel.csv")])


def sla_status(con) -> Section:
    data = query(con, "select policy, status, slas from marts.rpt_sla_status order by policy, status")
    table = data.pivot_table(index="policy", columns="status", values="slas", fill_value=0)
    table = table.reindex(columns=[s for s in ("met", "open", "at_risk", "breached") if s in table.columns])
    fig, ax = figure()
    left = pd.Series(0, index=table.index)
    colours = {"met": PALETTE[2], "open": PALETTE[5], "at_risk": PALETTE[1], "breached": PALETTE[3]}
    for status in table.columns:
        ax.barh(table.index, table[status], left=left, color=colours[status], label=status.replace("_", " "))
        left = left + table[status]
    ax.set_xlabel("SLA instances")
    legend(ax, fontsize=8, ncols=4)
    return Section("sla_status", "SLA status", "Service-level agreements per policy and status as of the run.",
                   png_of(fig), [Table(whole_numbers(table), csv_name="sla_status.csv")])


def snapshot_mode(con: duckdb.DuckDBPyConnection) -> bool:
    """The build scored a one-snapshot export (the dbt var snapshot_mode)."""
    if "marts.dim_feature_snapshots" not in existing_tables(con):
        return False
    return bool(con.execute("select coalesce(bool_or(is_snapshot_mode), false) from marts.dim_feature_snapshots")
                .fetchone()[0])


def backtest(con) -> Section:
    rows = query(con, "select * from feedback.rpt_backtest order by as_of_date desc, is_champion desc, scorer")
    if rows.empty and snapshot_mode(con):
        return Section("backtest", "Backtest: champion, challengers and the predictive score",
                       "A snapshot export (the dbt var snapshot_mode) has no past dates to score people at, so "
                       "there is no backtest: the predictive score is compared with the champion by "
                       "cross-validation at as_of (see its calibration below), and rules by their lift among "
                       "everyone in the export.")
    intervals = [c for c in ("auc_ci_lower", "auc_ci_upper", "mql_precision_ci_lower", "mql_precision_ci_upper")
                 if c in rows.columns]
    data = rows[["motion", "scorer", "is_champion", "as_of_date", "horizon_days", "people", "positives", "auc",
                 *intervals, "mql_count", "mql_precision", "mql_recall"]].sort_values(
        ["motion", "as_of_date", "is_champion", "scorer"], ascending=[True, False, False, True], kind="stable")
    people = data[data["motion"] == "new_business"]
    fig, ax = figure()
    dates = sorted(people["as_of_date"].unique())
    scorers = list(dict.fromkeys(people.sort_values(["is_champion", "scorer"], ascending=[False, True])["scorer"]))
    champions = set(people.loc[people["is_champion"], "scorer"])
    # No AUC on a date without positives: a gap (NaN), not an error.
    grouped_bars(ax, [str(d)[:10] for d in dates], {
        f"{scorer} (champion)" if scorer in champions else scorer:
            list(people[people["scorer"] == scorer].set_index("as_of_date")["auc"].reindex(dates).astype(float))
        for scorer in scorers
    })
    ax.set_ylim(0.5, 1.0)
    ax.set_ylabel("AUC (first opportunity within the horizon)")
    ax.set_xlabel("as-of date of the backtest")
    return Section("backtest", "Backtest: champion, challengers and the predictive score",
                   "New business (the chart): ranking quality on past dates (AUC), and the precision and recall "
                   "of passing people to sales (MQL) for a conversion (fct_conversions) within the horizon. "
                   "Repurchase (rows of motion repurchase): the same for the customer accounts' repurchase "
                   "score, an account converting when it opens an opportunity (people counts accounts, MQLs "
                   "are repurchase-qualified accounts). People or accounts already in a deal are left out. "
                   "The latest dates first.",
                   png_of(fig),
                   [Table(data, {"as_of_date": "date", "auc": "3dp", "auc_ci_lower": "3dp", "auc_ci_upper": "3dp",
                                 "mql_precision": "pct", "mql_precision_ci_lower": "pct",
                                 "mql_precision_ci_upper": "pct", "mql_recall": "pct"},
                          csv_name="backtest.csv")],
                   warnings=evaluation.backtest_warnings(rows, MODEL_NAME))


def calibration(con) -> Section:
    data = query(con, """
        select bands.scorer, bands.band, bands.people, bands.positives, bands.conversion_rate
        from feedback.rpt_backtest_bands as bands
        where bands.as_of_date = (select max(as_of_date) from feedback.rpt_backtest_bands)
            and bands.motion = 'new_business'
        order by bands.scorer, bands.band_order""")
    fig, ax = figure()
    scorers = list(dict.fromkeys(data["scorer"]))
    for i, scorer in enumerate(scorers):
        rows = data[data["scorer"] == scorer]
        ax.plot(rows["band"].astype(str), rows["conversion_rate"].astype(float) * 100, marker="o",
                color=PALETTE[i % len(PALETTE)], label=scorer)
    ax.set_xlabel("score band (rank among the people scored)")
    ax.set_ylabel("% converted within the horizon")
    ax.tick_params(axis="x", labelsize=7, rotation=45)
    legend(ax, fontsize=8)
    return Section("calibration", "Conversion by score band",
                   "At the latest backtest date: the share of people in each score band who went on to an "
                   "opportunity. A good score converts more in every higher band.", png_of(fig),
                   [Table(data, {"conversion_rate": "pct"}, csv_name="calibration.csv")],
                   warnings=band_warnings(data))


def band_warnings(data: pd.DataFrame) -> list[str]:
    """The latest backtest date's bands say little with few positives (or none at all)."""
    if data.empty:
        return ["No backtest date to show bands for: raise the dbt var backtest_history_days, or load a longer "
                "history."]
    positives = int(data.groupby("scorer")["positives"].sum().max())
    if positives >= evaluation.MIN_POSITIVES:
        return []
    return [f"The latest backtest date has {positives} positives (fewer than {evaluation.MIN_POSITIVES}): its "
            "band conversion rates are mostly noise. Raise the dbt var backtest_horizon_days or "
            "backtest_history_days, or load more history."]


def campaign_conversion(con) -> Section:
    data = query(con, """
        select kind, coalesce(label, campaign_or_rule) as name, people_touched, people_converted,
               conversion_ratio, campaign_or_rule as id
        from marts.rpt_campaign_conversion
        order by people_touched desc, campaign_or_rule""")
    top = data.head(20)
    fig = ranked_bars(top["name"].map(short_label), top["conversion_ratio"] * 100,
                      "% of people touched who converted to an opportunity",
                      notes=[f"{n:,} touched" for n in top["people_touched"]])
    return Section("campaign_conversion", "Campaign and behaviour conversion",
                   "For the 20 campaigns and rules that touched the most people: the share of them who then "
                   "reached an opportunity.", png_of(fig),
                   [Table(data.drop(columns="id"), {"conversion_ratio": "pct"}, csv_name="campaign_conversion.csv")],
                   warnings=window_warnings(con, len(data), "rpt_campaign_conversion"))


def predictive_coefficients(con) -> Section:
    data = query(con, """
        select feature, coefficient, odds_ratio, description from feedback.predictive_coefficients
        where feature <> '(intercept)'
        order by abs(coefficient) desc, feature""")
    top = data.head(20)
    fig = ranked_bars(top["feature"], top["coefficient"], "coefficient (log-odds per standard deviation)",
                      colours=[PALETTE[2] if c > 0 else PALETTE[3] for c in top["coefficient"]])
    return Section("predictive_coefficients", "What the predictive score weighs",
                   "The 20 largest coefficients of the logistic regression: green raises the odds of an "
                   "opportunity, red lowers them.", png_of(fig),
                   [Table(data, {"coefficient": "2dp", "odds_ratio": "2dp"}, csv_name="predictive_coefficients.csv")],
                   warnings=publish_warnings(con))


def validation_text(con: duckdb.DuckDBPyConnection) -> str:
    """How the fit was judged: on what, its AUC against the champion's, and the verdict."""
    wanted = ["validation_method", "validation_auc", "champion_auc", "model_auc_on_champion_people",
              "is_published", "publish_reason"]
    if not set(wanted) <= set(columns_of(con, "feedback.predictive_calibration")):
        return "On the validation snapshot."
    row = con.execute(f"select {', '.join(wanted)} from feedback.predictive_calibration limit 1").fetchone()
    if row is None:
        return "On the validation snapshot."
    method, auc, champion, mine, published, reason = row

    def figure_of(value: float | None) -> str:
        return "undefined" if value is None else f"{value:.3f}"

    against = (f"; on the people the champion scored, {figure_of(mine)} against the champion rulebook's "
               f"{figure_of(champion)}" if champion is not None else "")
    verdict = "Published" if published else "Not published"
    return f"Evaluated by {method}: held-out AUC {figure_of(auc)}{against}. {verdict}: {reason}."


def predictive_calibration(con) -> Section:
    data = query(con, """
        select bin, people, mean_predicted, observed_rate from feedback.predictive_calibration order by bin""")
    fig, ax = figure(width=5.5, height=4.0)
    top = float(max(data["mean_predicted"].max(), data["observed_rate"].max(), 0.01)) * 100
    ax.plot([0, top], [0, top], color="#999", linestyle="--", label="perfect calibration")
    ax.plot(data["mean_predicted"] * 100, data["observed_rate"] * 100, marker="o", color=PALETTE[0],
            label="predictive score")
    ax.set_xlabel("predicted probability (%)")
    ax.set_ylabel("observed rate (%)")
    legend(ax, fontsize=8)
    return Section("predictive_calibration", "Calibration of the predictive score",
                   f"{validation_text(con)} Predicted probability against the observed rate per bin.",
                   png_of(fig), [Table(data, {"mean_predicted": "pct", "observed_rate": "pct"},
                                       csv_name="predictive_calibration.csv")],
                   warnings=publish_warnings(con))


def rule_effectiveness(con) -> Section:
    data = query(con, """
        select coalesce(description, rule_id) as rule, people_triggered, lift, lift_ci_lower, lift_ci_upper,
               points, suggested_points, weighting, rule_id
        from marts.rpt_rule_effectiveness
        where is_champion and motion = 'new_business' and weighting <> 'too_few_people' and lift is not null
        order by lift desc, rule_id""")
    top = data.head(20)
    fig = ranked_bars(top["rule"].map(short_label), top["lift"],
                      "lift: conversion of people who triggered the rule / of the others",
                      colours=[PALETTE[2] if w == "about_right" else PALETTE[1] for w in top["weighting"]],
                      notes=[f"{w.replace('_', ' ')}, suggests {p:+.0f}"
                             for w, p in zip(top["weighting"], top["suggested_points"], strict=True)])
    return Section("rule_effectiveness", "Rule lift",
                   "Champion rules with enough people: how much more the people who triggered each rule converted, "
                   "the points the data suggests and the verdict (orange: over or under weighted).", png_of(fig),
                   [Table(data, {"lift": "2dp", "lift_ci_lower": "2dp", "lift_ci_upper": "2dp", "points": "score",
                                 "suggested_points": "score"}, csv_name="rule_effectiveness.csv")],
                   warnings=rule_warnings(con, len(data)))


def rule_warnings(con, shown: int) -> list[str]:
    """Rules with too few people show no lift, and lifts resting on a handful of conversions are
    noise: say so, with the setting to change."""
    (people, converted) = con.execute(
        """select coalesce(max(people_triggered + people_not_triggered), 0),
                  coalesce(max(converted_triggered + converted_not_triggered), 0)
        from marts.rpt_rule_effectiveness where is_champion and motion = 'new_business'""").fetchone()
    thin = [] if not people or converted >= evaluation.MIN_POSITIVES else [
        f"Only {converted} of the {people:,} people active in the conversion window converted for the first time "
        f"(fewer than {evaluation.MIN_POSITIVES}; people already in a deal or customers do not count): the rules' "
        f"lifts are mostly noise. To widen the window, {WINDOW_SETTINGS}."]
    if shown:
        return thin
    (triggered,) = con.execute(
        "select count(*) from marts.rpt_rule_effectiveness where people_triggered > 0 and motion = 'new_business'"
    ).fetchone()
    if not triggered:
        return window_warnings(con, 0, "rpt_rule_effectiveness")
    return [*thin, "No champion rule has enough people on both sides to measure its lift: lower the dbt var "
                   f"rule_effectiveness_min_people, or {WINDOW_SETTINGS}."]


def won_lost_review(con) -> Section:
    data = query(con, """
        select section, stage, group_value, group_size, base_size, share, avg_score, median_score
        from marts.rpt_won_lost_review order by section, stage, group_value""")
    scores = data[(data["section"] == "entry_score_by_outcome") & data["avg_score"].notna()]
    fig, ax = figure()
    stages = list(dict.fromkeys(scores["stage"]))
    outcomes = list(dict.fromkeys(scores["group_value"]))
    grouped_bars(ax, stages, {
        outcome: list(scores[scores["group_value"] == outcome].set_index("stage")["avg_score"].reindex(stages))
        for outcome in outcomes
    })
    ax.set_ylabel("average champion score at entry")
    return Section("won_lost_review", "Won and lost review",
                   "Champion scores when people entered MQL, SAL and opportunity, by outcome; below, acceptance, "
                   "surprises and disqualification reasons.", png_of(fig),
                   [Table(data, {"share": "pct", "avg_score": "score", "median_score": "score"},
                          csv_name="won_lost_review.csv")],
                   warnings=window_warnings(con, len(data), "rpt_won_lost_review"))


# Accounts drawn in the deals chart, most deals first; all of them are in the table and its CSV.
ACCOUNT_CHART_ROWS = 20


def account_opportunities(con) -> Section:
    """Deal outcomes by account from rpt_account_opportunities: every deal counts, whether or not a
    person is linked to it, and deals naming no account are the "(no account)" row."""
    data = query(con, """
        select account_label, deals, open_deals, closed_deals, won_deals, lost_deals, win_rate, revenue_won,
               avg_cycle_days, median_cycle_days, deals_without_people, account_key
        from marts.rpt_account_opportunities
        order by has_account desc, deals desc, revenue_won desc, account_label, account_key""")
    # The first row on top.
    top = data.head(ACCOUNT_CHART_ROWS).iloc[::-1].reset_index(drop=True)
    fig, ax = figure(height=5.0)
    labels = list(top["account_label"].map(short_label))
    left = pd.Series(0.0, index=top.index)
    for column, label, colour in (("won_deals", "won", PALETTE[2]), ("lost_deals", "lost", PALETTE[3]),
                                  ("open_deals", "open", PALETTE[5])):
        ax.barh(labels, top[column].astype(float), left=left, color=colour, label=label)
        left = left + top[column].astype(float)
    ax.set_xlabel("deals by outcome as of the run")
    ax.tick_params(axis="y", labelsize=7)
    legend(ax, fontsize=8, ncols=3)
    text = ("Deals by outcome per account as of the run, with the win rate of the closed ones, the revenue won "
            "and the sales cycle (rpt_account_opportunities). Every deal counts, whether or not a contact or lead "
            "is linked to it (the people-based sections leave those out: see deals without people); deals "
            "naming no account are the row \"(no account)\".")
    return Section("account_opportunities", "Deals by account", text, png_of(fig),
                   [Table(data.drop(columns="account_key"),
                          {**dict.fromkeys(["deals", "open_deals", "closed_deals", "won_deals", "lost_deals",
                                            "deals_without_people", "revenue_won"], "int"),
                           "win_rate": "pct", "avg_cycle_days": "1dp", "median_cycle_days": "1dp"},
                          csv_name="account_opportunities.csv")])


# Customers drawn in the purchase-cycle chart, furthest into their cycle first; all are in customers.csv.
CUSTOMER_CHART_ROWS = 20


def customers(con) -> Section:
    """Customer accounts at as_of with the champion's repurchase score (fct_account_repurchase_scores):
    which are due or overdue in their own purchase cycle, which are ready to buy again, whose they are."""
    data = query(con, """
        select coalesce(account_name, account_id) as account, owner_name as owner, cycle_status,
               is_repurchase_qualified as repurchase_qualified, repurchase_score, cycle_points, signal_points,
               qualified_since, purchases, last_purchase_at, cycle_months, cycle_source, months_since_last_purchase,
               cycle_position, next_purchase_due_at, open_opportunity_id is not null as in_a_deal, top_reasons
        from marts.fct_account_repurchase_scores
        where is_champion
        order by is_repurchase_qualified desc, case cycle_status when 'overdue' then 0 when 'due' then 1 else 2 end,
                 repurchase_score desc, cycle_position desc, account""")
    text = ("Customer accounts (a won opportunity) and where each is in its own purchase cycle: the median "
            "interval between its purchases once it has enough of them, else its product line's default. Their "
            "repurchase score adds the cycle's points and the signals of their people (customer_rules); at the "
            "rulebook's repurchase threshold the account is repurchase-qualified and handed to its owner. Due: "
            "three quarters of the cycle have passed; overdue: the whole cycle.")
    if data.empty:
        return Section("customers", "Customers: purchase cycles and repurchase", text,
                       tables=[Table(data, empty="No customer: no won opportunity with an account yet.")])
    chart = data.sort_values(["cycle_position", "account"], ascending=[False, True]).head(CUSTOMER_CHART_ROWS)
    colours = {"overdue": PALETTE[3], "due": PALETTE[1], "in_cycle": PALETTE[0]}
    fig = ranked_bars(chart["account"].map(short_label), chart["cycle_position"].astype(float),
                      "share of its own purchase cycle passed since the last purchase (1 = a whole cycle)",
                      colours=[colours.get(status, PALETTE[7]) for status in chart["cycle_status"]],
                      notes=[f"{status.replace('_', ' ')}, score {score:.0f}"
                             for status, score in zip(chart["cycle_status"], chart["repurchase_score"], strict=True)])
    due = data[data["cycle_status"].isin(["due", "overdue"]) | data["repurchase_qualified"]]
    counts = data["cycle_status"].value_counts()
    summary = (f" {len(data):,} customers: {int(data['repurchase_qualified'].sum()):,} repurchase-qualified, "
               f"{int(counts.get('overdue', 0)):,} overdue, {int(counts.get('due', 0)):,} due.")
    formats = {"repurchase_score": "score", "cycle_points": "score", "signal_points": "score",
               "qualified_since": "datetime", "last_purchase_at": "date", "next_purchase_due_at": "date",
               "cycle_months": "1dp", "months_since_last_purchase": "1dp", "cycle_position": "2dp", "purchases": "int"}
    return Section("customers", "Customers: purchase cycles and repurchase", text + summary, png_of(fig),
                   [Table(due, formats, csv_name="customers_due.csv",
                          caption="Ready to buy again, due or overdue", empty="No customer is due yet."),
                    Table(data, formats, csv_name="customers.csv", in_page=False)])


def roi_format(measure: str) -> str:
    """How one measure of the ROI table reads (its rows are measures, its columns periods)."""
    if measure.endswith("_rate"):
        return "pct"
    if "_days_" in measure or measure.endswith("_days"):
        return "1dp"
    if measure.startswith(("period_", "as_of")):
        return "date"
    if measure.startswith("is_"):
        return "yesno"
    return "int"


def roi(con) -> Section:
    data = query(con, "select * from marts.rpt_roi order by period desc")
    measures = ["acceptance_rate", "win_rate"]
    fig, ax = figure(width=6.0, height=3.2)
    grouped_bars(ax, ["share accepted by sales (%)", "win rate (%)"], {
        period: list(data.loc[data["period"] == period, measures].iloc[0].astype(float).fillna(0) * 100)
        for period in data["period"]
    })
    columns = [c for c in data.columns if c != "period"]
    readable_rows = readable(data[columns], {c: roi_format(c) for c in columns})
    table = readable_rows.set_axis(list(data["period"])).T.rename_axis(index="measure", columns=None).reset_index()
    return Section("roi", "Before and after", "The guide's ROI table around the change date (rpt_roi).",
                   png_of(fig), [Table(table, csv_name="roi.csv", shown=len(table))], warnings=roi_warnings(data))


def roi_warnings(data: pd.DataFrame) -> list[str]:
    """A period with no closed deal or no MQL compares nothing: name it and the vars that place it."""
    warnings = []
    for row in data.itertuples(index=False):
        empty = [what for what, count in (("no closed opportunity", row.deals_closed),
                                          ("no lead passed to sales", row.leads_passed_to_sales)) if not count]
        if empty:
            warnings.append(
                f"The ROI period '{row.period}' ({day(row.period_start)} to {day(row.period_end)}) has "
                f"{' and '.join(empty)}: set the dbt var roi_change_date to the date of the scoring change within "
                "your data (or roi_change_days_before_as_of), or change roi_period_days.")
    return warnings


SECTIONS: list[tuple[list[str], Callable[[duckdb.DuckDBPyConnection], Section]]] = [
    (["marts.rpt_score_changes", "marts.rpt_rule_changes"], build_changes),
    (["marts.rpt_score_distribution", "marts.rpt_score_anomalies"], score_distribution),
    (["marts.rpt_funnel_stages"], funnel),
    (["marts.rpt_sla_status"], sla_status),
    (["marts.rpt_campaign_conversion"], campaign_conversion),
    (["marts.rpt_rule_effectiveness"], rule_effectiveness),
    (["marts.rpt_won_lost_review"], won_lost_review),
    (["marts.rpt_roi"], roi),
    (["marts.rpt_account_opportunities"], account_opportunities),
    (["marts.fct_account_repurchase_scores"], customers),
    (["feedback.rpt_backtest"], backtest),
    (["feedback.rpt_backtest_bands"], calibration),
    (["feedback.predictive_coefficients"], predictive_coefficients),
    (["feedback.predictive_calibration"], predictive_calibration),
]
SALES_TABLES = ["marts.rpt_call_list", "marts.rpt_score_movers"]


def not_built(key: str, missing: list[str]) -> Section:
    return Section(key, key.replace("_", " ").capitalize(), "Not built yet.", missing=missing)


def build_report(con: duckdb.DuckDBPyConnection, privacy: Privacy = Privacy()) -> Report:
    tables = existing_tables(con)
    missing_sales = [t for t in SALES_TABLES if t not in tables]
    sections = [not_built("sales_view", missing_sales) if missing_sales else sales_view(con, privacy)]
    for needed, build in SECTIONS:
        missing = [t for t in needed if t not in tables]
        sections.append(not_built(build.__name__, missing) if missing else build(con))
    # Every score row carries the run's as_of; with nobody scored (a CRM export of deals only),
    # the ROI table's rows carry it too.
    as_of = None
    for table in ("marts.fct_lead_scores", "marts.rpt_roi"):
        if table not in tables or "as_of" not in columns_of(con, table):
            continue
        row = con.execute(f"select max(as_of) from {table}").fetchone()
        if row and row[0] is not None:
            as_of = row[0]
            break
    return Report(as_of=str(as_of), sections=sections)


# --- HTML --------------------------------------------------------------------------------------

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; color: #222; }
h1 { margin-bottom: 0.2rem; } .as-of { color: #555; margin-top: 0; }
nav a { margin-right: 1rem; } section { margin: 2.5rem 0; }
#sales_view { background: #f3f8fc; border-left: 4px solid #0072B2; padding: 0.5rem 1rem 1rem; }
h3 { font-size: 1rem; margin: 1.2rem 0 0.2rem; }
img { max-width: 100%; border: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 0.8rem; margin-top: 0.5rem; background: #fff; }
th { background: #e8eef4; }
th, td { border: 1px solid #ddd; padding: 0.2rem 0.5rem; text-align: left; vertical-align: top; }
td.number { text-align: right; white-space: nowrap; } td.when { white-space: nowrap; }
td.breached { color: #b3261e; font-weight: 600; } td.at-risk { color: #a15c00; font-weight: 600; }
.missing { color: #a00; } .note { color: #555; font-size: 0.85rem; }
.warning { background: #fff4e5; border-left: 4px solid #D55E00; padding: 0.3rem 0.6rem; }
"""

NUMBER_FORMATS = {"int", "score", "pct", "signed", "1dp", "2dp", "3dp"}


def cell_class(value: str, kind: str) -> str:
    if kind in NUMBER_FORMATS:
        return ' class="number"'
    if kind in ("date", "datetime"):
        return ' class="when"'
    if value.startswith("breached"):
        return ' class="breached"'
    if value.startswith("at risk") or value == "at_risk":
        return ' class="at-risk"'
    return ""


def table_html(table: Table) -> str:
    """The first `shown` rows, saying how many there are and where the rest is."""
    total = len(table.data)
    parts = [f"<h3>{html.escape(table.caption)}</h3>"] if table.caption else []
    if total == 0:
        return "\n".join([*parts, f'<p class="note">{html.escape(table.empty)}</p>'])
    frame = table.display()
    kinds = [table.formats.get(c) or default_format(table.data[c]) for c in table.data.columns]
    rows = ["<tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in frame.columns) + "</tr>"]
    for values in frame.itertuples(index=False):
        rows.append("<tr>" + "".join(f"<td{cell_class(v, k)}>{html.escape(v)}</td>"
                                     for v, k in zip(values, kinds, strict=True)) + "</tr>")
    parts.append("<table>" + "\n".join(rows) + "</table>")
    if table.csv_name and not table.caption:
        link = f'<a href="{html.escape(table.csv_name)}">{html.escape(table.csv_name)}</a>'
        if total > len(frame):
            parts.append(f'<p class="note">The first {len(frame):,} of {total:,} rows; all in {link}.</p>')
        else:
            parts.append(f'<p class="note">All {total:,} rows; also in {link}.</p>')
    return "\n".join(parts)


def file_links(section: Section) -> str:
    files = [t.csv_name for t in section.tables if t.csv_name and not t.in_page]
    if not files:
        return ""
    links = ", ".join(f'<a href="{html.escape(f)}">{html.escape(f)}</a>' for f in files)
    return f'<p class="note">Full tables beside this report: {links}.</p>'


def section_html(section: Section) -> str:
    parts = [f'<section id="{section.key}"><h2>{html.escape(section.title)}</h2>',
             f"<p>{html.escape(section.text)}</p>"]
    parts.extend(f'<p class="warning">Warning: {html.escape(w)}</p>' for w in section.warnings)
    if section.missing:
        parts.append(f'<p class="missing">Missing tables: {html.escape(", ".join(section.missing))}</p>')
    parts.append(file_links(section))
    if section.png:
        data = base64.b64encode(section.png).decode()
        parts.append(f'<img class="chart" alt="{html.escape(section.title)}" src="data:image/png;base64,{data}">')
    parts.extend(table_html(t) for t in section.tables if t.in_page)
    parts.append("</section>")
    return "\n".join(p for p in parts if p)


def render_html(report: Report) -> str:
    nav = " ".join(f'<a href="#{s.key}">{html.escape(s.title)}</a>' for s in report.sections)
    body = "\n".join(section_html(s) for s in report.sections)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<title>Lead scoring report</title>"
        f"<style>{STYLE}</style></head><body>"
        f"<h1>Lead scoring report</h1><p class=\"as-of\">As of {html.escape(report.as_of)} UTC</p>"
        f"<nav>{nav}</nav>\n{body}\n</body></html>\n"
    )


def replace_file(path: Path, write: Callable[[Path], None]) -> None:
    """Write beside `path` and rename over it, so a reader never opens a half-written file."""
    partial = path.with_name(path.name + ".partial")
    write(partial)
    os.replace(partial, path)


def write_report(con: duckdb.DuckDBPyConnection, path: Path, privacy: Privacy = Privacy()) -> Report:
    """Build the report, write its full tables as CSV files beside it, then the HTML file that
    links to them."""
    report = build_report(con, privacy)
    path.parent.mkdir(parents=True, exist_ok=True)
    for name, frame in report.csv_files().items():
        replace_file(path.parent / name, lambda p, f=frame: f.to_csv(p, index=False, float_format="%.6g"))
    replace_file(path, lambda p: p.write_text(report.html(), encoding="utf-8"))
    return report
