"""The lead-scoring report: one self-contained HTML file (charts drawn by matplotlib and embedded
as PNG data, no script, no link outside the file) from the warehouse's report tables, so it opens
offline, in a mail attachment or on a file share. Each section is a chart and the numbers behind
it; the same charts are attached to the Dagster asset as metadata."""

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


# --- sections: each reads its tables and draws one chart --------------------------------------


def score_distribution(con) -> Section:
    data = query(con, """
        select least(greatest(floor(total_score / 10) * 10, -50), 150) as band, rulebook_id,
               bool_or(is_champion) as is_champion, count(*) as people
        from marts.fct_lead_scores group by 1, 2 order by 2, 1""")
    fig, ax = figure()
    bands = sorted(data["band"].unique())
    champions = set(data.loc[data["is_champion"], "rulebook_id"])
    rulebooks = sorted(data["rulebook_id"].unique(), key=lambda r: (r not in champions, r))
    width = 0.8 / max(len(rulebooks), 1)
    for i, rulebook in enumerate(rulebooks):
        counts = data[data.rulebook_id == rulebook].set_index("band")["people"].reindex(bands, fill_value=0)
        champion = " (champion)" if rulebook in champions else ""
        ax.bar([b / 10 + i * width for b in bands], counts, width=width, color=PALETTE[i % len(PALETTE)],
               label=f"{rulebook}{champion}")
    ax.set_xticks([b / 10 + 0.4 - width / 2 for b in bands], [f"{int(b)}" for b in bands], fontsize=8)
    ax.set_xlabel("total score band (points, lower bound)")
    ax.set_ylabel("people")
    ax.set_yscale("log")
    ax.legend(fontsize=8)
    table = whole_numbers(data.pivot_table(index="band", columns="rulebook_id", values="people", fill_value=0))
    return Section("score_distribution", "Score distribution",
                   "People per 10-point band of total score, per rulebook (log scale).", png_of(fig), table)


def funnel(con) -> Section:
    data = query(con, """
        select stage, min(stage_order) as stage_order, cast(sum(entered) as bigint) as entered,
               cast(sum(moved_forward) as bigint) as moved_forward, cast(sum(sla_due) as bigint) as sla_due,
               cast(sum(sla_breached) as bigint) as sla_breached
        from marts.rpt_funnel group by stage order by stage_order, stage""")
    data["forward_rate"] = (data["moved_forward"] / data["entered"].where(data["entered"] > 0)).round(3)
    fig, ax = figure()
    bars = ax.barh(data["stage"], data["entered"], color=PALETTE[0])
    ax.barh(data["stage"], data["moved_forward"], color=PALETTE[2], label="moved to the next stage")
    ax.invert_yaxis()
    ax.bar_label(bars, fontsize=7, padding=2)
    ax.set_xlabel("people entering the stage (all periods)")
    ax.legend(fontsize=8)
    return Section("funnel", "Funnel", "Entries per stage and how many moved forward (rpt_funnel).", png_of(fig), data)


def sla_status(con) -> Section:
    data = query(con, """
        select policy, status, count(*) as slas from marts.fct_lead_sla group by 1, 2 order by 1, 2""")
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


SECTIONS: list[tuple[list[str], Callable[[duckdb.DuckDBPyConnection], Section]]] = [
    (["marts.fct_lead_scores"], score_distribution),
    (["marts.rpt_funnel"], funnel),
    (["marts.fct_lead_sla"], sla_status),
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
    as_of = con.execute("select max(as_of) from marts.fct_lead_scores").fetchone()[0] \
        if "marts.fct_lead_scores" in tables else None
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
