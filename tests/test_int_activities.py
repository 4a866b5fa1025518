"""The activity models on generated demo data, measured against the generator's hidden truth:
how well the web bot filter, the email scanner filter and the visitor identity stitching do,
and whether pages get the categories of the demo site's own catalogue.

The demo data is generated, ingested and built once (`dbt seed` and `dbt build` of everything
`int_activities` needs) in a temporary folder; the numbers are printed (`pytest -s`).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from leadscore.demo import catalog as demo_catalog
from leadscore.demo import site as demo_site
from leadscore.ingest.sources import ingest_source
from leadscore.warehouse import connect
from tests.conftest import REPO_ROOT
from tests.dbt_runner import run_dbt

SOURCES = ("crm", "weblogs", "forms", "email", "signals")
ACTIVITY_MODELS = "path:models/intermediate/activities"

# The demo site's page kinds and the categories they must get (its `about` section mixes the
# company pages with partner and customer index pages).
EXPECTED_CATEGORIES = {
    "home": {"home"},
    "product": {"product"},
    "pricing": {"pricing"},
    "demo": {"demo_request"},
    "datasheet": {"data_sheet"},
    "buying_guide": {"buying_guide"},
    "case_study": {"case_study"},
    "webinar": {"webinar"},
    "white_paper": {"white_paper"},
    "video": {"video"},
    "blog": {"blog"},
    "docs": {"docs"},
    "careers": {"careers"},
    "investors": {"investors"},
    "press": {"press"},
    "about": {"team", "case_study", "other"},
    "contact": {"contact"},
    "rfp": {"rfp_template"},
    "legal": {"other"},
    "thanks": {"other"},
}
# Page kinds whose paths name their product line.
PRODUCT_NAMED_KINDS = {"product", "pricing", "datasheet", "buying_guide", "rfp", "video", "docs"}


def check(result: subprocess.CompletedProcess, what: str) -> None:
    assert result.returncode == 0, f"{what} failed:\n{result.stdout[-6000:]}{result.stderr[-2000:]}"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("activities")
    landing, truth, warehouse = root / "landing", root / "truth", root / "warehouse.duckdb"
    generated = subprocess.run(
        [
            sys.executable,
            "-m",
            "leadscore.demo.generate",
            "--size",
            "small",
            "--seed",
            "5",
            "--landing",
            str(landing),
            "--truth",
            str(truth),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    check(generated, "leadscore.demo.generate")
    con = connect(warehouse)
    try:
        for source in SOURCES:
            ingest_source(con, landing, source)
    finally:
        con.close()
    target = root / "target"
    check(run_dbt(["seed", "--select", "+int_activities"], warehouse, target), "dbt seed")
    # Cautious: the tests of staging models that also need models int_activities does not
    # (relationships to users, opportunities) stay out.
    check(
        run_dbt(
            [
                "build",
                "--select",
                "+int_activities",
                "--exclude-resource-type",
                "unit_test",
                "--indirect-selection",
                "cautious",
            ],
            warehouse,
            target,
        ),
        "dbt build",
    )
    return {"root": root, "truth": truth, "warehouse": warehouse, "target": target}


@pytest.fixture(scope="module")
def con(built: dict[str, Path]):
    connection = duckdb.connect(str(built["warehouse"]), read_only=True)
    truth = built["truth"]
    for table, name in (
        ("truth_lines", "weblog_lines"),
        ("truth_email_events", "email_events"),
        ("truth_visitors", "visitors"),
        ("truth_people", "people"),
    ):
        connection.execute(
            f"create temp table {table} as select * from read_csv('{truth / name}.csv', all_varchar = true)"
        )
    yield connection
    connection.close()


def ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else float("nan")


def test_bot_filter_keeps_people_and_drops_machines(con) -> None:
    # Every successful page GET the server logged, whatever staging made of it.
    kept_human, kept, human, machine, machine_dropped = con.execute("""
        with page_requests as (
            select
                truth_lines.traffic_class = 'human' as is_human,
                page_views.page_view_id is not null as is_kept
            from staging.stg_weblogs__hits as hits
            inner join truth_lines
                on hits._source_file = truth_lines.file
                and cast(hits._source_line as varchar) = truth_lines.line_number
            left join intermediate.int_web_page_views as page_views
                on hits.hit_id = page_views.page_view_id
            where hits.http_method = 'GET' and hits.status_code < 400 and not hits.is_static_asset
        )
        select
            count(*) filter (where is_kept and is_human),
            count(*) filter (where is_kept),
            count(*) filter (where is_human),
            count(*) filter (where not is_human),
            count(*) filter (where not is_human and not is_kept)
        from page_requests""").fetchone()
    precision, recall, bot_recall = ratio(kept_human, kept), ratio(kept_human, human), ratio(machine_dropped, machine)
    print(
        f"\nweb page views: kept {kept} of {human + machine} page requests; precision {precision:.4f} "
        f"(kept that are human), human recall {recall:.4f}, bot recall {bot_recall:.4f} "
        f"({machine_dropped} of {machine} machine page requests dropped)"
    )
    # Mail-gateway link checks posing as browsers are in the demo log: the filter must see them.
    assert machine > 1000
    assert bot_recall >= 0.95
    assert precision >= 0.98
    assert recall >= 0.95


def test_scanner_filter_finds_security_scanners(con) -> None:
    flagged_scanner, flagged, scanner, events = con.execute("""
        select
            count(*) filter (where events.is_scanner_suspect and truth.is_scanner = 'true'),
            count(*) filter (where events.is_scanner_suspect),
            count(*) filter (where truth.is_scanner = 'true'),
            count(*)
        from intermediate.int_email_events_filtered as events
        inner join truth_email_events as truth
            on events.event_id = truth.event_id
        where events.event_type in ('open', 'click')""").fetchone()
    precision, recall = ratio(flagged_scanner, flagged), ratio(flagged_scanner, scanner)
    reasons = con.execute("""select scanner_reason, count(*) from intermediate.int_email_events_filtered
                             where is_scanner_suspect group by all order by 2 desc""").fetchall()
    print(
        f"\nemail scanner filter: {flagged} of {events} opens and clicks flagged; precision {precision:.4f}, "
        f"recall {recall:.4f} ({scanner} scanner events in truth); reasons {reasons}"
    )
    assert scanner > 500
    assert precision >= 0.9
    assert recall >= 0.9
    # No flagged event reaches scoring.
    leaked = con.execute("""
        select count(*) from intermediate.int_activities as activities
        inner join intermediate.int_email_events_filtered as events
            on activities.source_model = 'int_email_events_filtered' and activities.source_id = events.event_id
        where events.is_scanner_suspect""").fetchone()[0]
    assert leaked == 0


def test_visitors_are_credited_to_the_right_person(con) -> None:
    # person_id is a CRM record id: the truth knows which real person each record is.
    rows = con.execute("""
        select
            identities.identification_method,
            count(*),
            count(*) filter (where credited.person_key = truth_visitors.person_key)
        from intermediate.int_visitor_identities as identities
        inner join truth_visitors
            on identities.visitor_id = truth_visitors.visitor_id
        left join truth_people as credited
            on identities.person_id = credited.crm_id
        group by all order by all""").fetchall()
    identified = sum(row[1] for row in rows)
    correct = sum(row[2] for row in rows)
    known = con.execute("select count(*) from truth_visitors where coalesce(person_key, '') <> ''").fetchone()[0]
    views_correct, views_credited = con.execute("""
        select
            count(*) filter (where credited.person_key = truth_visitors.person_key),
            count(*)
        from intermediate.int_web_page_views as page_views
        inner join truth_visitors
            on page_views.visitor_id = truth_visitors.visitor_id
        left join truth_people as credited
            on page_views.person_id = credited.crm_id
        where page_views.person_id is not null""").fetchone()
    precision = ratio(correct, identified)
    print(
        f"\nidentity stitching: {identified} cookies tied to a person, precision {precision:.4f} "
        f"(by method: {rows}); {ratio(identified, known):.3f} of the {known} cookies of known people; "
        f"page views credited to the right person {ratio(views_correct, views_credited):.4f} "
        f"of {views_credited}"
    )
    assert identified > 1000
    assert precision >= 0.98
    assert ratio(views_correct, views_credited) >= 0.98
    # Anonymous history is credited: page views from before the cookie was tied.
    before = con.execute("""
        select count(*) from intermediate.int_web_page_views as page_views
        inner join intermediate.int_visitor_identities as identities
            on page_views.visitor_id = identities.visitor_id
        where page_views.viewed_at < identities.identified_at""").fetchone()[0]
    assert before > 0


def test_pages_get_the_categories_of_the_demo_site(con) -> None:
    catalogue = demo_site.Site(pd.DataFrame({"slug": [], "product_line": []})).paths
    line_names = {line.code: line.name for line in demo_catalog.PRODUCT_LINES}
    expected = {
        path: (demo_site.CATEGORIES[kind], line_names.get(int(line)))
        for path, kind, line in zip(catalogue["path"], catalogue["category"], catalogue["product_line"], strict=True)
    }
    seen = con.execute("""select distinct url_path, page_category, product_line
                          from intermediate.int_web_page_views""").fetchall()
    checked, wrong = 0, []
    for path, category, product_line in seen:
        if path not in expected or expected[path][0] not in EXPECTED_CATEGORIES:
            continue
        kind, line = expected[path]
        checked += 1
        if category not in EXPECTED_CATEGORIES[kind]:
            wrong.append((path, kind, category))
        if product_line is not None and line is not None and product_line != line:
            wrong.append((path, line, product_line))
        if kind in PRODUCT_NAMED_KINDS and line is not None and product_line != line:
            wrong.append((path, line, product_line))
    print(f"\npage categories: {checked} demo site paths checked, {len(wrong)} wrong")
    assert checked > 100
    assert wrong == []


def test_every_activity_type_is_fed(con) -> None:
    counts = dict(
        con.execute("select activity_type, count(*) from intermediate.int_activities group by all").fetchall()
    )
    print(f"\nactivities: {counts}")
    assert set(counts) == {
        "web_page_view",
        "web_visit",
        "email_event",
        "campaign_response",
        "sales_task",
        "form_submission",
        "account_signal",
    }
    # Sends and deliveries are not the reader's doing.
    not_by_reader = con.execute("""
        select count(*) from intermediate.int_activities
        where activity_type = 'email_event'
            and email_event_type not in ('open', 'click', 'unsubscribe', 'bounce', 'spam_report')""").fetchone()[0]
    assert not_by_reader == 0
