"""The hand-made deals export (tests/fixtures/crm_exports/deals.csv: 18 deals, no contacts, no
leads, no web logs, no email) through the whole pipeline with the example deals mapping, checked
against figures counted by hand from the file's 18 rows, never against the code's own output.

The file, row by row (stage, account, engage -> close date, close value):

    K3M9Q2WA  Won          Halvorsen Freight  01-05 -> 02-11   1094   37 days
    P7R2T8XB  Lost         Ostrava Tooling    01-07 -> 03-02      0   54 days
    Z1Y4V6NC  Engaging     Cobalt Ridge Labs  02-14
    A8B3C5DD  Prospecting  (none)
    Q2W4E6RE  Won          Northwind Mills    01-19 -> 04-27  26780   98 days
    T5Y7U9IF  Prospecting  Halvorsen Freight
    G6H8J0KG  Engaging     Sable & Finch      03-03
    L1Z3X5CH  Won          Ostrava Tooling    02-02 -> 02-20     57   18 days
    V7B9N1MI  Lost         Cobalt Ridge Labs  02-09 -> 05-14      0   94 days
    S2D4F6GJ  Engaging     (none)             04-01
    W3E5R7TK  Prospecting  Kettleby Outdoor
    H8J0K2LL  Won          Northwind Mills    03-21 -> 04-02    538   12 days
    M4N6B8VM  Prospecting  Sable & Finch
    C9V1X3ZN  Lost         Kettleby Outdoor   01-28 -> 03-19      0   50 days
    U5I7O9PO  Won          Halvorsen Freight  04-10 -> 05-30   5169   50 days
    E0R2T4YP  Engaging     Ostrava Tooling    05-06
    F6G8H0JQ  Prospecting  (none)
    X1C3V5BR  Won          Northwind Mills    02-23 -> 06-08   4821  105 days

All dates are in 2026. 6 won, 3 lost, 9 open; revenue won 1094 + 26780 + 57 + 538 + 5169 + 4821
= 38459. The latest date written in the file is 06-08 (X1C3V5BR's close); the five Prospecting
deals have no engage date, and the mapping's `created_at: {default: delivery}` dates them the
day of the export folder they land in, 2026-06-30: the latest loaded event time, hence as_of.

Slow: one whole pipeline run (about a minute and a half).
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from leadscore.ingest.checks import reconciliation
from leadscore.ingest.mapping import MAPPINGS_DIR
from leadscore.ingest.sources import RawTable
from leadscore.warehouse import connect
from tests.conftest import run_pipeline, tmp_settings

pytestmark = pytest.mark.slow

FIXTURE = Path(__file__).parent / "fixtures" / "crm_exports" / "deals.csv"
DEALS_MAPPING = MAPPINGS_DIR / "examples" / "deals.yml"
DELIVERY_FOLDER = "2026-06-30"

# Counted by hand from the file (see the module docstring).
DEALS_PER_ACCOUNT = {
    "Halvorsen Freight": 3, "Ostrava Tooling": 3, "Northwind Mills": 3, "Cobalt Ridge Labs": 2,
    "Sable & Finch": 2, "Kettleby Outdoor": 2, "(no account)": 3,
}
# (won, lost, open, revenue won, average and median days from creation to close of the closed deals)
OUTCOMES = {
    "Halvorsen Freight": (2, 0, 1, 6263, 43.5, 43.5),  # 37 and 50 days
    "Ostrava Tooling": (1, 1, 1, 57, 36.0, 36.0),  # 54 and 18
    "Northwind Mills": (3, 0, 0, 32139, 215 / 3, 98.0),  # 98, 12 and 105
    "Cobalt Ridge Labs": (0, 1, 1, 0, 94.0, 94.0),
    "Sable & Finch": (0, 0, 2, 0, None, None),
    "Kettleby Outdoor": (0, 1, 1, 0, 50.0, 50.0),
    "(no account)": (0, 0, 3, 0, None, None),
}
RECORDS, WON, CLOSED, REVENUE_WON = 18, 6, 9, 38459
LATEST_DATE_IN_FILE = datetime(2026, 6, 8)
DELIVERED = datetime(2026, 6, 30)
# The feedback step that cannot write an empty bench yet (nobody is scored without people): it is
# in src/leadscore/feedback/backtest.py (pre_deployment_bench builds a DataFrame without columns).
KNOWN_FAILING_STEPS = {"feedback__rpt_test_bench"}
# dbt tests that warn for a real reason: the export names owners and accounts, but has no users
# nor accounts file to find them in.
EXPECTED_DBT_WARNINGS = {
    "relationships_stg_crm__opportunities_owner_id__user_id__ref_stg_crm__users_",
    "relationships_stg_crm__opportunities_account_id__account_id__ref_stg_crm__accounts_",
}


@pytest.fixture(scope="module")
def deals_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("deals_pipeline")
    settings = replace(tmp_settings(root), crm_mapping=str(DEALS_MAPPING))
    landed = settings.landing / "crm" / DELIVERY_FOLDER / FIXTURE.name
    landed.parent.mkdir(parents=True)
    shutil.copy(FIXTURE, landed)
    return settings, run_pipeline(settings)


@pytest.fixture(scope="module")
def warehouse(deals_run):
    settings, _ = deals_run
    with connect(settings.warehouse, read_only=True) as con:
        yield con


def failed_steps(result) -> set[str]:
    return {event.step_key for event in result.all_events if event.is_step_failure}


def test_dbt_builds_and_its_tests_pass_or_warn_for_real_reasons(deals_run):
    _, result = deals_run
    dbt_events = [event for event in result.all_events if event.step_key == "dbt_models"]
    assert any(event.is_step_success for event in dbt_events)
    assert failed_steps(result) <= KNOWN_FAILING_STEPS
    dbt_layers = ("staging/", "intermediate/", "marts/", "seeds/")
    failed, warned = set(), set()
    for event in result.all_events:
        if event.event_type_value != "ASSET_CHECK_EVALUATION":
            continue
        evaluation = event.event_specific_data
        if evaluation.passed or not evaluation.asset_key.to_user_string().startswith(dbt_layers):
            continue
        (warned if evaluation.severity.value == "WARN" else failed).add(evaluation.check_name)
    assert failed == set()
    assert warned == EXPECTED_DBT_WARNINGS


def test_the_whole_run_succeeds(deals_run):
    _, result = deals_run
    assert result.success, failed_steps(result)


def test_every_physical_line_is_read_and_loaded_or_quarantined(warehouse):
    lines = FIXTURE.read_bytes().splitlines()
    assert len(lines) == 1 + RECORDS  # the header, then one line per deal
    manifest = warehouse.execute(
        """select source_file, rows_read, rows_loaded, rows_quarantined, lines_read, lines_loaded,
                  lines_quarantined, lines_empty
           from raw.load_manifest"""
    ).fetchall()
    assert manifest == [(f"crm/{DELIVERY_FOLDER}/deals.csv", RECORDS, RECORDS, 0, RECORDS, RECORDS, 0, 0)]
    for _, rows_read, rows_loaded, rows_quarantined, lines_read, lines_loaded, lines_quarantined, empty in manifest:
        assert rows_read == rows_loaded + rows_quarantined
        assert lines_read == lines_loaded + lines_quarantined + empty == len(lines) - 1
    assert warehouse.execute("select count(*) from raw.quarantine").fetchone() == (0,)
    assert reconciliation(warehouse, RawTable("crm", "opportunities", "crm_opportunities")).passed
    # Nothing is dropped on the way to the marts.
    for relation in ("raw.crm_opportunities", "staging.stg_crm__opportunities",
                     "intermediate.int_account_opportunities"):
        assert warehouse.execute(f"select count(*) from {relation}").fetchone() == (RECORDS,), relation
    # No contacts, no leads: no person is linked to any deal.
    assert warehouse.execute("select count(*) from intermediate.int_person_opportunities").fetchone() == (0,)


def test_deals_per_account_including_the_no_account_bucket(warehouse):
    rows = warehouse.execute(
        "select account_label, deals, has_account, deals_with_people from marts.rpt_account_opportunities"
    ).fetchall()
    assert {label: deals for label, deals, _, _ in rows} == DEALS_PER_ACCOUNT
    assert sum(DEALS_PER_ACCOUNT.values()) == RECORDS
    assert {label for label, _, has_account, _ in rows if not has_account} == {"(no account)"}
    assert all(with_people == 0 for *_, with_people in rows)


def test_outcomes_win_rate_revenue_and_cycle_by_account(warehouse):
    rows = warehouse.execute(
        """select account_label, won_deals, lost_deals, open_deals, closed_deals, win_rate, revenue_won,
                  avg_cycle_days, median_cycle_days
           from marts.rpt_account_opportunities"""
    ).fetchall()
    assert len(rows) == len(OUTCOMES)
    for label, won, lost, open_, closed, win_rate, revenue, avg_cycle, median_cycle in rows:
        expected_won, expected_lost, expected_open, expected_revenue, expected_avg, expected_median = OUTCOMES[label]
        assert (won, lost, open_) == (expected_won, expected_lost, expected_open), label
        assert closed == expected_won + expected_lost, label
        assert revenue == expected_revenue, label
        if closed:
            assert win_rate == pytest.approx(expected_won / closed), label
            assert avg_cycle == pytest.approx(expected_avg, abs=1e-6), label
            assert median_cycle == pytest.approx(expected_median), label
        else:
            assert (win_rate, avg_cycle, median_cycle) == (None, None, None), label
    total_won, total_closed, total_revenue = warehouse.execute(
        "select sum(won_deals), sum(closed_deals), sum(revenue_won) from marts.rpt_account_opportunities"
    ).fetchone()
    assert (total_won, total_closed, total_revenue) == (WON, CLOSED, REVENUE_WON)
    assert total_won / total_closed == pytest.approx(2 / 3)


def test_the_roi_table_counts_the_deals_no_person_is_linked_to(warehouse):
    # as_of 2026-06-30: the "after" period is the 180 days before it (2026-01-01 to 2026-06-30),
    # which holds every close of the file (02-11 to 06-08).
    after = warehouse.execute(
        "select deals_closed, deals_won, win_rate, total_revenue from marts.rpt_roi where period = 'after'"
    ).fetchone()
    assert after[:2] == (CLOSED, WON)
    assert after[2] == pytest.approx(2 / 3)
    assert after[3] == REVENUE_WON


def test_as_of_is_the_latest_loaded_event_time(warehouse):
    (as_of,) = warehouse.execute("select as_of from intermediate.int_scoring_as_of").fetchone()
    # The latest date written in the file is a close date; the undated Prospecting deals count as
    # created when delivered, later still. Never the wall clock.
    latest_written = max(
        datetime.fromisoformat(value)
        for line in FIXTURE.read_text(encoding="utf-8").splitlines()[1:]
        for value in line.split(",")[5:7] if value
    )
    assert latest_written == LATEST_DATE_IN_FILE
    assert as_of == DELIVERED
    assert warehouse.execute("select distinct as_of from marts.rpt_account_opportunities").fetchall() == [(DELIVERED,)]


def test_the_report_shows_deals_by_account_as_of_the_data(deals_run):
    settings, _ = deals_run
    page = settings.report_path.read_text(encoding="utf-8")
    assert "As of 2026-06-30 00:00:00 UTC" in page
    assert '<section id="account_opportunities"><h2>Deals by account</h2>' in page
    written = (settings.report_path.parent / "account_opportunities.csv").read_text(encoding="utf-8")
    assert len(written.splitlines()) == 1 + len(DEALS_PER_ACCOUNT)
    assert "(no account)" in written
