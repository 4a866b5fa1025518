"""The HTML report of the demo pipeline run: the sales view first (open leads only, by name, in
call order, checked against a call list computed here from the warehouse tables), one
self-contained file whose charts really render (decoded PNGs with drawn content), numbers rounded
for people, full tables as CSV files beside it, and the same charts in the Dagster asset metadata.
The headless browser screenshot is in test_report_screenshot.py."""

from __future__ import annotations

import base64
import io
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
from PIL import Image

from leadscore.report.html_report import PALETTE
from leadscore.warehouse import connect

# A Salesforce record Id (15 or 18 characters, a 3-character key prefix): never shown where a
# name exists.
SALESFORCE_ID = r"[0-9a-zA-Z]{3}[0-9a-zA-Z]{12}(?:[0-9a-zA-Z]{3})?"


class ReportParser(HTMLParser):
    """Sections, their chart images and every reference to something outside the file."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: dict[str, list[str]] = {}
        self.outside: list[str] = []
        self.scripts = 0
        self._section: str | None = None

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "section":
            self._section = values["id"]
            self.sections[self._section] = []
        if tag == "img" and self._section:
            self.sections[self._section].append(values["src"])
        if tag in ("script", "link", "iframe", "object"):
            self.scripts += 1
        for name in ("src", "href"):
            value = values.get(name) or ""
            if value and not value.startswith(("data:", "#")):
                self.outside.append(value)


def report_file(run) -> Path:
    """The report the run wrote, as its Dagster materialization names it."""
    events = [e.event_specific_data.materialization for e in run.get_asset_materialization_events()]
    (report,) = [m for m in events if m.asset_key.to_user_string() == "reports/lead_scoring_report"]
    return Path(report.metadata["file"].value)


def has_palette_colour(image: Image.Image, minimum_pixels: int) -> bool:
    """Whether the picture holds many pixels of the chart colours (bars drawn, not an empty frame)."""
    colours = {tuple(int(c[i:i + 2], 16) for i in (1, 3, 5)) for c in PALETTE[:4]}
    counts = image.convert("RGB").getcolors(maxcolors=1 << 20) or []
    return sum(n for n, rgb in counts if rgb in colours) >= minimum_pixels


class TableParser(HTMLParser):
    """The text of every table cell, with its section, table number and whether it is a header."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[list[str]]]] = {}
        self._section = ""
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "section":
            self._section = dict(attrs)["id"]
        elif tag == "table":
            self.tables.setdefault(self._section, []).append([])
        elif tag == "tr":
            self.tables[self._section][-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[self._section][-1][-1].append("".join(self._cell))
            self._cell = None


def tables_of(html_text: str) -> dict[str, list[pd.DataFrame]]:
    parser = TableParser()
    parser.feed(html_text)
    return {section: [pd.DataFrame(rows[1:], columns=rows[0]) for rows in tables]
            for section, tables in parser.tables.items()}


def expected_call_list(con, size: int = 200) -> pd.DataFrame:
    """Today's call list computed here from the warehouse tables, apart from rpt_call_list: the
    champion's people not disqualified, lost, won, customers (account or stage), do-not-call or in a deal open at
    as_of, MQLs first, then score, recent engagement, latest activity and person_id."""
    scores = con.execute("select * from marts.fct_lead_scores where is_champion").df()
    people = con.execute("select * from marts.dim_people").df()
    deals = con.execute("select * from intermediate.int_person_opportunities").df()
    as_of = scores["as_of"].iloc[0]
    in_deal = set(deals.loc[(deals["created_at"] <= as_of)
                            & (deals["closed_at"].isna() | (deals["closed_at"] > as_of)), "person_id"])
    merged = scores.merge(people[["person_id", "current_stage", "is_customer", "do_not_call", "first_name",
                                  "last_name", "email"]], on="person_id")
    closed = merged["current_stage"].isin(["disqualified", "lost", "won", "opportunity", "customer",
                                           "repurchase_qualified"])
    open_leads = merged[~closed & ~merged["is_customer"].fillna(False).astype(bool)
                        & ~merged["do_not_call"].fillna(False).astype(bool) & ~merged["person_id"].isin(in_deal)]
    ordered = open_leads.sort_values(
        ["is_mql", "total_score", "recent_engagement_score", "last_activity_at", "person_id"],
        ascending=[False, False, False, False, True], na_position="last")
    return ordered.head(size).reset_index(drop=True)


def test_the_report_is_one_file_whose_charts_are_drawn(first_run, demo_settings):
    assert first_run.success
    # The tiny demo's window holds a single first conversion (its other opportunities are
    # repurchases): every rule's lift is 0 or undefined, so the rule lift chart has no bar to draw
    # and the section says why instead.
    from leadscore.report.html_report import build_report

    with connect(demo_settings.warehouse, read_only=True) as con:
        sections = {section.key: section for section in build_report(con).sections}
    thin_rules = [w for w in sections["rule_effectiveness"].warnings if "converted for the first time" in w]
    assert len(thin_rules) == 1 and "report_window_days" in thin_rules[0]
    path = report_file(first_run)
    parser = ReportParser()
    parser.feed(path.read_text(encoding="utf-8"))
    assert parser.scripts == 0  # opens offline, nothing to fetch
    # The only links outside the file are the CSV files written beside it.
    assert parser.outside and all(link.endswith(".csv") and (path.parent / link).is_file() for link in parser.outside)
    charts = {key: images for key, images in parser.sections.items() if images}
    assert list(parser.sections)[0] == "sales_view"
    assert set(charts) == set(parser.sections) - {"sales_view", "build_changes"} == {
        "score_distribution", "funnel", "sla_status", "campaign_conversion", "rule_effectiveness",
        "won_lost_review", "roi", "account_opportunities", "customers", "backtest", "calibration",
        "predictive_coefficients", "predictive_calibration",
    }
    for key, images in charts.items():
        assert len(images) == 1, key
        assert images[0].startswith("data:image/png;base64,")
        image = Image.open(io.BytesIO(base64.b64decode(images[0].split(",", 1)[1])))
        image.load()
        assert image.size[0] >= 500 and image.size[1] >= 250, key
        if key != "rule_effectiveness":
            assert has_palette_colour(image, minimum_pixels=500), f"{key}: no bars drawn"


def test_the_sales_view_lists_open_leads_by_name_in_call_order(first_run, demo_settings):
    path = report_file(first_run)
    with connect(demo_settings.warehouse, read_only=True) as con:
        expected = expected_call_list(con)
        excluded = con.execute("""
            select p.person_id from marts.dim_people as p
            where p.current_stage in ('disqualified', 'lost', 'won', 'opportunity') or p.is_customer""").df()
    written = pd.read_csv(path.parent / "call_list.csv")
    assert list(written["person_id"]) == list(expected["person_id"])
    assert list(written["call_rank"]) == list(range(1, len(expected) + 1))
    assert not set(written["person_id"]) & set(excluded["person_id"])

    call_list = tables_of(path.read_text(encoding="utf-8"))["sales_view"][0]
    assert list(call_list.columns) == ["rank", "person", "company", "owner", "score", "MQL since", "top reasons",
                                       "SLA"]
    top = expected.head(len(call_list))
    names = (top["first_name"].fillna("") + " " + top["last_name"].fillna("")).str.strip()
    assert list(call_list["person"]) == list(names.where(names != "", top["email"].fillna(top["person_id"])))
    assert list(call_list["score"]) == [str(round(s)) for s in top["total_score"]]
    assert not call_list["person"].str.fullmatch(SALESFORCE_ID).any()
    assert not call_list["owner"].str.fullmatch(SALESFORCE_ID).any()


def test_numbers_are_rounded_for_people(first_run):
    tables = tables_of(report_file(first_run).read_text(encoding="utf-8"))
    cells = [value for frames in tables.values() for frame in frames for value in frame.to_numpy().ravel()]
    assert cells
    raw_floats = [c for c in cells if re.search(r"\d\.\d{4,}", c)]
    assert raw_floats == []
    # Scores are whole points, shares percentages with one decimal.
    assert all(re.fullmatch(r"-?[\d,]+", s) for s in tables["sales_view"][0]["score"])
    assert all(re.fullmatch(r"\d+\.\d%", s) for s in tables["funnel"][0]["forward rate"])
    assert all(re.fullmatch(r"(0|1)\.\d{3}|", s) for s in tables["backtest"][0]["auc"])


def test_long_tables_say_how_many_rows_and_where_the_rest_is(first_run):
    path = report_file(first_run)
    text = path.read_text(encoding="utf-8")
    campaigns = pd.read_csv(path.parent / "campaign_conversion.csv")
    assert len(campaigns) > 15
    assert f"The first 15 of {len(campaigns):,} rows; all in" in text
    assert len(tables_of(text)["campaign_conversion"][0]) == 15
    # Chart and table labels are names, not CRM ids.
    assert not tables_of(text)["campaign_conversion"][0]["name"].str.fullmatch(SALESFORCE_ID).any()


def test_the_full_tables_are_csv_files_beside_the_report(first_run, demo_settings):
    folder = report_file(first_run).parent
    with connect(demo_settings.warehouse, read_only=True) as con:
        calls, movers = (con.execute(f"select count(*) from marts.{t}").fetchone()[0]
                         for t in ("rpt_call_list", "rpt_score_movers"))
    assert len(pd.read_csv(folder / "call_list.csv")) == calls > 0
    assert len(pd.read_csv(folder / "score_movers.csv")) == movers > 0
    assert {"call_rank", "person_id", "person_name", "email", "top_reasons", "sla_status"} <= set(
        pd.read_csv(folder / "call_list.csv").columns)


def test_the_report_leaves_names_out_when_personal_data_is_not_kept(first_run, demo_settings, tmp_path):
    from leadscore.orchestration.report import report_privacy
    from leadscore.report.html_report import Privacy, write_report

    assert report_privacy("keep").show_personal_data
    hidden = report_privacy("hash")
    assert not hidden.show_personal_data and {"person_name", "email"} <= hidden.personal_columns
    with connect(demo_settings.warehouse, read_only=True) as con:
        write_report(con, tmp_path / "report.html", Privacy(show_personal_data=False))
        people = con.execute("""
            select first_name || ' ' || last_name as name, email from marts.dim_people
            where person_id in (select person_id from marts.rpt_call_list
                                union select person_id from marts.rpt_score_movers)
              and first_name is not null and last_name is not null""").df()
    written = "\n".join(f.read_text(encoding="utf-8") for f in [tmp_path / "report.html", *tmp_path.glob("*.csv")])
    assert len(people) > 0
    assert [n for n in people["name"] if n in written] == []
    assert [e for e in people["email"].dropna() if e in written] == []


def test_the_score_distribution_counts_every_scored_person_once(first_run, demo_settings):
    from leadscore.report.html_report import score_distribution

    with connect(demo_settings.warehouse, read_only=True) as con:
        section = score_distribution(con)
        people = dict(con.execute("select rulebook_id, count(*) from marts.fct_lead_scores group by 1").fetchall())
    assert {rulebook: int(section.table[rulebook].sum()) for rulebook in people} == people


def test_the_charts_are_asset_metadata_in_the_ui(first_run):
    events = [e.event_specific_data.materialization for e in first_run.get_asset_materialization_events()]
    (report,) = [m for m in events if m.asset_key.to_user_string() == "reports/lead_scoring_report"]
    images = [v.value for v in report.metadata.values() if "data:image/png;base64," in str(getattr(v, "value", ""))]
    assert len(images) == 13


def test_no_chart_draws_counts_on_a_log_scale(first_run, demo_settings, monkeypatch):
    from leadscore.report import html_report

    figures = []
    draw = html_report.png_of
    monkeypatch.setattr(html_report, "png_of", lambda fig: figures.append(fig) or draw(fig))
    with connect(demo_settings.warehouse, read_only=True) as con:
        html_report.build_report(con)
    assert len(figures) == 13
    assert all(ax.get_xscale() == ax.get_yscale() == "linear" for fig in figures for ax in fig.axes)


def test_thin_or_empty_windows_show_a_warning_naming_the_setting(tmp_path):
    """On hand-made tables: a backtest date with 4 positives, a predictive fit that was not
    published, an ROI period without deals or MQLs; each section says so and what to change."""
    from leadscore.report.html_report import build_report

    with connect(tmp_path / "w.duckdb") as con:
        con.execute("create schema feedback")
        con.execute("create schema marts")
        con.execute("""create table feedback.rpt_backtest as select * from (values
            ('new_business', 'rb', true, date '2026-03-25', 90, 300, 4, 0.71, 0.45, 0.97, 10, 0.2, 0.5, null, null),
            ('new_business', 'predictive_logit', false, date '2026-03-25', 90, 300, 4, 0.60, 0.30, 0.90, 10, 0.1,
             0.25, 0, 0)
        ) as t(motion, scorer, is_champion, as_of_date, horizon_days, people, positives, auc, auc_ci_lower,
               auc_ci_upper, mql_count, mql_precision, mql_recall, training_rows, training_positives)""")
        con.execute("""create table feedback.predictive_calibration as select * from (values
            (1, 300, 0.0, 0.385, false, 'only 0 training rows (at least 200 needed): raise the dbt vars x')
        ) as t(bin, people, mean_predicted, observed_rate, is_published, publish_reason)""")
        con.execute("""create table marts.rpt_roi as select * from (values
            ('before', date '2016-01-01', date '2016-06-29', true, 0, 0, null::double, null::double),
            ('after', date '2016-06-29', date '2016-12-26', true, 12, 3, 0.5, 0.33)
        ) as t(period, period_start, period_end, is_complete, leads_passed_to_sales, deals_closed,
               acceptance_rate, win_rate)""")
        report = build_report(con)
    sections = {s.key: s for s in report.sections}
    backtest_warnings = sections["backtest"].warnings
    assert any("2026-03-25 (4 of 300)" in w and "backtest_horizon_days" in w for w in backtest_warnings)
    assert any("model trained on fewer than 20 positives" in w for w in backtest_warnings)
    (published,) = sections["predictive_calibration"].warnings
    assert "not published: only 0 training rows" in published
    (roi_warning,) = sections["roi"].warnings
    assert "'before' (2016-01-01 to 2016-06-29)" in roi_warning and "roi_change_date" in roi_warning
    page = report.html()
    assert page.count('class="warning"') == len(backtest_warnings) + 1 + 1
    # The interval columns are in the backtest table.
    assert "auc ci lower" in page


def test_rule_lift_bars_are_drawn_and_a_thin_window_warns(tmp_path):
    """On a hand-made rpt_rule_effectiveness: two champion rules with lifts 2 and 0.5 are drawn,
    and 12 conversions among 300 people (fewer than 20) bring the warning naming the setting. A
    customer rule (motion repurchase, counting accounts) is neither drawn nor counted."""
    from leadscore.report.html_report import rule_effectiveness

    with connect(tmp_path / "w.duckdb") as con:
        con.execute("create schema marts")
        con.execute("""create table marts.rpt_rule_effectiveness as select * from (values
            ('new_business', true, 'R1', 'Pricing page', 100, 8, 200, 4, 2.0, 1.1, 3.6, 10.0, 12.0, 'about_right'),
            ('new_business', true, 'R2', 'Careers page', 100, 2, 200, 10, 0.5, 0.2, 1.4, 5.0, -4.0, 'over_weighted'),
            ('new_business', false, 'R1', 'Another rulebook', 100, 8, 200, 4, 2.0, 1.1, 3.6, 10.0, 12.0,
             'about_right'),
            ('repurchase', true, 'C1', 'Customer quote', 500, 100, 500, 50, 2.0, 1.5, 2.6, 30.0, 30.0, 'about_right')
        ) as t(motion, is_champion, rule_id, description, people_triggered, converted_triggered, people_not_triggered,
               converted_not_triggered, lift, lift_ci_lower, lift_ci_upper, points, suggested_points, weighting)""")
        section = rule_effectiveness(con)
    assert list(section.table["rule_id"]) == ["R1", "R2"]
    image = Image.open(io.BytesIO(section.png))
    assert has_palette_colour(image, minimum_pixels=500)
    (warning,) = section.warnings
    assert warning.startswith("Only 12 of the 300 people active in the conversion window converted for the first time")
    assert "report_window_days" in warning


def test_the_customers_section_lists_who_is_due_with_the_owner(tmp_path):
    """On a hand-made fct_account_repurchase_scores: the qualified, overdue and due customers are
    listed (qualified first, then overdue, then due), one in its cycle and not qualified is only in
    the CSV, a challenger's rows nowhere; the text counts them."""
    from leadscore.report.html_report import customers

    with connect(tmp_path / "w.duckdb") as con:
        con.execute("create schema marts")
        con.execute("""create table marts.fct_account_repurchase_scores as select *, 4 as purchases,
                timestamp '2026-05-01 00:00:00' as last_purchase_at, 3.0 as cycle_months,
                'own_history' as cycle_source, 2.0 as months_since_last_purchase,
                timestamp '2026-08-01 00:00:00' as next_purchase_due_at, null::varchar as open_opportunity_id
            from (values
            ('A1', true, 'Acme', 'Ann Rep', 'in_cycle', true, 72.0, 30.0, 42.0, timestamp '2026-06-01 09:00:00',
             'Quote +30', 0.5),
            ('A2', true, 'Birch', 'Bob Rep', 'overdue', false, 55.0, 55.0, 0.0, null, 'Cycle +55', 1.3),
            ('A3', true, 'Cedar', null, 'due', false, 50.0, 50.0, 0.0, null, 'Cycle +50', 0.8),
            ('A4', true, 'Dune', 'Ann Rep', 'in_cycle', false, 10.0, 10.0, 0.0, null, 'Cycle +10', 0.2),
            ('A1', false, 'Acme', 'Ann Rep', 'due', true, 90.0, 60.0, 30.0, null, 'x', 0.9)
        ) as t(account_id, is_champion, account_name, owner_name, cycle_status, is_repurchase_qualified,
               repurchase_score, cycle_points, signal_points, qualified_since, top_reasons, cycle_position)""")
        section = customers(con)
    due, everyone = section.tables
    assert list(due.data["account"]) == ["Acme", "Birch", "Cedar"]
    assert list(due.data["owner"].fillna("-")) == ["Ann Rep", "Bob Rep", "-"]
    assert list(everyone.data["account"]) == ["Acme", "Birch", "Cedar", "Dune"] and not everyone.in_page
    assert "4 customers: 1 repurchase-qualified, 1 overdue, 1 due." in section.text
    assert section.png is not None

