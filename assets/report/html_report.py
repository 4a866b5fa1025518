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

import duckdb
import pandas as pd
from matplotlib.figure import Figure

# Colours that stay distinct for colour-blind readers (Okabe-Ito).
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
TABLE_ROWS = 15


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    text: str
    png: bytes | None = None
    table: pd.DataFrame | None = None
    missing: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Report:
    as_of: str
    sections: list[Section]

    def html(self) -> str:
        return render_html(self)


def query(con: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    return con.execute(sql).df()


def existing_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute("select table_schema || '.' || table_name from information_schema.tables").fetchall()
    return {name for (name,) in rows}


def figure(width: float = 8.0, height: float = 3.6) -> tuple[Figure, object]:
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
    ax.legend(fontsize=8)


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


# --- sections: each reads its tables and draws one chart --------------------------------------


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
    ax.set_yscale("log")
    table = data.pivot_table(index=["band_order", "band"], columns="rulebook_id", values="people", fill_value=0)
    table = whole_numbers(table).drop(columns="band_order")
    flagged = ", ".join(f"{n:,} {a.replace('_', ' ')}" for a, n in anomalies.itertuples(index=False)) or "none"
    return Section("score_distribution", "Score distribution",
                   "People per 10-point band of total score, per rulebook (log scale; rpt_score_distribution). "
                   f"Champion anomalies (people; the rule behind each is in rpt_score_distribution): {flagged}.",
                   png_of(fig), table)


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
    ax.legend(fontsize=8)
    return Section("funnel", "Funnel", "Entries per stage and how many moved forward (rpt_funnel).", png_of(fig), data)


def sla_status(con) -> Section:
    data = query(con, "select policy, status, slas from marts.rpt_sla_status order by policy, status")
    table = data.pivot_table(index="policy", columns="status", values="slas", fill_value=0)
    table = table.reindex(columns=[s for s in ("met", "open", "at_risk", "breached") if s in table.columns])
    fig, ax = figure()
    left = pd.Series(0, index=table.index)
    colours = {"met": PALETTE[2], "open": PALETTE[5], "at_risk": PALETTE[1], "breached": PALETTE[3]}
    for status in table.columns:
        ax.barh(table.index, table[status], left=left, color=colours[status], label=status)
        left = left + table[status]
    ax.set_xlabel("SLA instances")
    ax.legend(fontsize=8, ncols=4)
    return Section("sla_status", "SLA status", "Service-level agreements per policy and status as of the run.",
                   png_of(fig), whole_numbers(table))


def backtest(con) -> Section:
    data = query(con, """
        select scorer, is_champion, as_of_date, horizon_days, people, positives, auc,
               mql_count, mql_precision, mql_recall
        from feedback.rpt_backtest order by as_of_date, is_champion desc, scorer""")
    fig, ax = figure()
    dates = sorted(data["as_of_date"].unique())
    scorers = list(dict.fromkeys(data["scorer"]))
    champions = set(data.loc[data["is_champion"], "scorer"])
    # No AUC on a date without positives: a gap (NaN), not an error.
    grouped_bars(ax, [str(d)[:10] for d in dates], {
        f"{scorer} (champion)" if scorer in champions else scorer:
            list(data[data["scorer"] == scorer].set_index("as_of_date")["auc"].reindex(dates).astype(float))
        for scorer in scorers
    })
    ax.set_ylim(0.5, 1.0)
    ax.set_ylabel("AUC (opportunity within the horizon)")
    ax.set_xlabel("as-of date of the backtest")
    return Section("backtest", "Backtest: champion, challengers and the predictive score",
                   "Ranking quality on past dates (AUC), and the precision and recall of passing people to "
                   "sales (MQL) for opportunity creation within the horizon.", png_of(fig), data)


def calibration(con) -> Section:
    data = query(con, """
        select bands.scorer, bands.band, bands.people, bands.positives, bands.conversion_rate
        from feedback.rpt_backtest_bands as bands
        where bands.as_of_date = (select max(as_of_date) from feedback.rpt_backtest_bands)
        order by bands.scorer, bands.band_order""")
    fig, ax = figure()
    scorers = list(dict.fromkeys(data["scorer"]))
    for i, scorer in enumerate(scorers):
        rows = data[data["scorer"] == scorer]
        ax.plot(rows["band"].astype(str), rows["conversion_rate"].astype(float), marker="o",
                color=PALETTE[i % len(PALETTE)], label=scorer)
    ax.set_xlabel("score band (rank among the people scored)")
    ax.set_ylabel("share converted within the horizon")
    ax.tick_params(axis="x", labelsize=7, rotation=45)
    ax.legend(fontsize=8)
    return Section("calibration", "Conversion by score band",
                   "At the latest backtest date: the share of people in each score band who went on to an "
                   "opportunity. A good score converts more in every higher band.", png_of(fig), data)


def campaign_conversion(con) -> Section:
    data = query(con, """
        select kind, campaign_or_rule, label, people_touched, people_converted, conversion_ratio
        from marts.rpt_campaign_conversion
        order by people_touched desc, campaign_or_rule""")
    top = data.head(20)
    fig = ranked_bars(top["campaign_or_rule"], top["conversion_ratio"],
                      "share of people touched who converted to an opportunity",
                      notes=[f"{n:,} touched" for n in top["people_touched"]])
    return Section("campaign_conversion", "Campaign and behaviour conversion",
                   "For the 20 campaigns and rules that touched the most people: the share of them who then "
                   "reached an opportunity.", png_of(fig), data)


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
                   "opportunity, red lowers them.", png_of(fig), data)


def predictive_calibration(con) -> Section:
    data = query(con, """
        select bin, people, mean_predicted, observed_rate from feedback.predictive_calibration order by bin""")
    fig, ax = figure(width=5.5, height=4.0)
    top = float(max(data["mean_predicted"].max(), data["observed_rate"].max(), 0.01))
    ax.plot([0, top], [0, top], color="#999", linestyle="--", label="perfect calibration")
    ax.plot(data["mean_predicted"], data["observed_rate"], marker="o", color=PALETTE[0], label="predictive score")
    ax.set_xlabel("predicted probability")
    ax.set_ylabel("observed rate")
    ax.legend(fontsize=8)
    return Section("predictive_calibration", "Calibration of the predictive score",
                   "On the validation snapshot: predicted probability against the observed rate per bin.",
                   png_of(fig), data)


def rule_effectiveness(con) -> Section:
    data = query(con, """
        select rule_id, people_triggered, lift, lift_ci_lower, lift_ci_upper, points, suggested_points, weighting
        from marts.rpt_rule_effectiveness
        where is_champion and weighting <> 'too_few_people' and lift is not null
        order by lift desc, rule_id""")
    top = data.head(20)
    fig = ranked_bars(top["rule_id"], top["lift"], "lift: conversion of people who triggered the rule / of the others",
                      colours=[PALETTE[2] if w == "about_right" else PALETTE[1] for w in top["weighting"]],
                      notes=[f"{w}, suggests {p:+.0f}" for w, p in zip(top["weighting"], top["suggested_points"],
                                                                       strict=True)])
    return Section("rule_effectiveness", "Rule lift",
                   "Champion rules with enough people: how much more the people who triggered each rule converted, "
                   "the points the data suggests and the verdict (orange: over or under weighted).", png_of(fig), data)


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
                   "surprises and disqualification reasons.", png_of(fig), data)


def roi(con) -> Section:
    data = query(con, "select * from marts.rpt_roi order by period desc")
    measures = ["acceptance_rate", "win_rate"]
    fig, ax = figure(width=6.0, height=3.2)
    grouped_bars(ax, ["share accepted by sales", "win rate"], {
        period: list(data.loc[data["period"] == period, measures].iloc[0].astype(float).fillna(0))
        for period in data["period"]
    })
    table = data.set_index("period").T.rename_axis(index="measure", columns=None).reset_index()
    return Section("roi", "Before and after", "The guide's ROI table around the change date (rpt_roi).",
                   png_of(fig), table.astype(str))


SECTIONS: list[tuple[list[str], Callable[[duckdb.DuckDBPyConnection], Section]]] = [
    (["marts.rpt_score_distribution", "marts.rpt_score_anomalies"], score_distribution),
    (["marts.rpt_funnel_stages"], funnel),
    (["marts.rpt_sla_status"], sla_status),
    (["marts.rpt_campaign_conversion"], campaign_conversion),
    (["marts.rpt_rule_effectiveness"], rule_effectiveness),
    (["marts.rpt_won_lost_review"], won_lost_review),
    (["marts.rpt_roi"], roi),
    (["feedback.rpt_backtest"], backtest),
    (["feedback.rpt_backtest_bands"], calibration),
    (["feedback.predictive_coefficients"], predictive_coefficients),
    (["feedback.predictive_calibration"], predictive_calibration),
]


def build_report(con: duckdb.DuckDBPyConnection) -> Report:
    tables = existing_tables(con)
    sections = []
    for needed, build in SECTIONS:
        missing = [t for t in needed if t not in tables]
        if missing:
            name = build.__name__
            sections.append(Section(name, name.replace("_", " ").capitalize(), "Not built yet.", missing=missing))
        else:
            sections.append(build(con))
    # Every score row carries the run's as_of.
    scored = con.execute("select as_of from marts.fct_lead_scores limit 1").fetchone() \
        if "marts.fct_lead_scores" in tables else None
    as_of = scored[0] if scored else None
    return Report(as_of=str(as_of), sections=sections)


# --- HTML --------------------------------------------------------------------------------------

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #222; }
h1 { margin-bottom: 0.2rem; } .as-of { color: #555; margin-top: 0; }
nav a { margin-right: 1rem; } section { margin: 2.5rem 0; }
img { max-width: 100%; border: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 0.8rem; margin-top: 0.5rem; }
th, td { border: 1px solid #ddd; padding: 0.2rem 0.5rem; text-align: right; }
th:first-child, td:first-child { text-align: left; } .missing { color: #a00; }
"""


def table_html(frame: pd.DataFrame) -> str:
    shown = frame.head(TABLE_ROWS)
    more = f"<p>{len(frame) - TABLE_ROWS:,} more rows in the table.</p>" if len(frame) > TABLE_ROWS else ""
    return shown.to_html(index=False, float_format=lambda v: f"{v:,.3f}", na_rep="", border=0) + more


def section_html(section: Section) -> str:
    parts = [f'<section id="{section.key}"><h2>{html.escape(section.title)}</h2>',
             f"<p>{html.escape(section.text)}</p>"]
    if section.missing:
        parts.append(f'<p class="missing">Missing tables: {html.escape(", ".join(section.missing))}</p>')
    if section.png:
        data = base64.b64encode(section.png).decode()
        parts.append(f'<img class="chart" alt="{html.escape(section.title)}" src="data:image/png;base64,{data}">')
    if section.table is not None:
        parts.append(table_html(section.table))
    parts.append("</section>")
    return "\n".join(parts)


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


def write_report(con: duckdb.DuckDBPyConnection, path: Path) -> Report:
    """Build the report and replace the file at `path` in one rename, so a reader never opens a
    half-written file."""
    report = build_report(con)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".html.partial")
    partial.write_text(report.html(), encoding="utf-8")
    os.replace(partial, path)
    return report
