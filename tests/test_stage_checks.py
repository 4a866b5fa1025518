"""Checks between the stages: schema drift in landing headers, duplicate natural keys, source
freshness, row counts against the previous run, score bounds; warn-only checks are marked so,
and a failing blocking check stops the work downstream of it."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from leadscore.checks.freshness import freshness, newest_events, parse_max_lag_hours
from leadscore.checks.row_counts import RowCountLimits, record_and_compare
from leadscore.ingest.checks import duplicate_keys
from leadscore.ingest.header_checks import header_drift, landing_header
from leadscore.ingest.sources import RAW_TABLES, crm_mapping, csv_mapping, ingest_source, natural_key
from leadscore.orchestration.definitions import build_definitions, defs
from leadscore.settings import Settings, load_settings
from leadscore.warehouse import connect
from tests.conftest import tmp_settings
from tests.dbt_runner import dbt_failure, run_dbt
from tests.test_ingestion import write

FORMS = RAW_TABLES["forms"][0]
LEADS = next(table for table in RAW_TABLES["crm"] if table.name == "leads")
FORM_HEADER = ("submission_id,submitted_at,form_name,page_url,visitor_id,email,first_name,last_name,company,"
               "job_title,country,phone")
FORM_ROW = "S{n},2026-06-{day}T10:00:00Z,demo,/demo,v-{n},p{n}@example.com,Ann,Lee,Acme,CTO,FR,\n"
LEAD_HEADER = "Id,FirstName,LastName,Email,Company,CreatedDate"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# --- schema drift in landing files ---------------------------------------------------------------

def test_header_drift_names_new_and_vanished_columns_against_the_previous_file(con, tmp_path):
    landing = tmp_path / "landing"
    write(landing / "forms" / "form-submissions-2026-06-29.csv", FORM_HEADER + "\n" + FORM_ROW.format(n=1, day=29))
    ingest_source(con, landing, "forms")
    mapping = csv_mapping("forms")
    first = header_drift(con, FORMS, mapping)
    assert (first.passed, first.message) == (
        True, "raw.form_submissions: no earlier file of the same object to compare with")

    # The next delivery adds a column the mapping does not know and drops two others.
    changed_header = FORM_HEADER.replace(",company,job_title", "") + ",utm_campaign"
    write(landing / "forms" / "form-submissions-2026-06-30.csv",
          changed_header + "\nS2,2026-06-30T10:00:00Z,demo,/demo,v-2,p2@example.com,Bo,Ng,FR,,spring\n")
    ingest_source(con, landing, "forms")

    drift = header_drift(con, FORMS, mapping)
    assert not drift.passed
    assert drift.message == (
        "raw.form_submissions: header changed since the previous delivery: "
        "forms/form-submissions-2026-06-30.csv: new column(s) utm_campaign not in mapping forms (kept in "
        "custom_fields); column(s) company, job_title no longer delivered (present in "
        "forms/form-submissions-2026-06-29.csv); mapped column(s) company, job_title will be empty"
    )
    # The file still loads: drift only warns.
    required = landing_header(con, FORMS, mapping)
    assert required.passed and con.execute("select count(*) from raw.form_submissions").fetchone() == (2,)
    header = con.execute("select header from raw.load_manifest where source_file like '%06-30.csv'").fetchone()[0]
    assert header == changed_header.split(",")


def test_a_file_without_a_required_column_names_the_file_and_the_column(con, tmp_path):
    landing = tmp_path / "landing"
    write(landing / "crm" / "2026-06-30" / "Lead.csv",
          "Id,FirstName,LastName,Email\n00Q1,Ann,Lee,ann@example.com\n")
    ingest_source(con, landing, "crm")
    outcome = landing_header(con, LEADS, crm_mapping("salesforce"))
    assert not outcome.passed
    assert outcome.message == (
        "raw.crm_leads: crm/2026-06-30/Lead.csv lacks column(s) CreatedDate required by mapping "
        "salesforce object Lead"
    )
    # Relaxing the mapping (CreatedDate no longer required) clears the check for that delivery.
    relaxed = tmp_path / "relaxed.yml"
    relaxed.write_text(
        "name: relaxed\nobjects:\n  Lead:\n    table: crm_leads\n    key: lead_id\n    columns:\n"
        "      lead_id: {source: Id, required: true}\n      created_at: {source: CreatedDate, type: timestamp}\n"
    )
    assert landing_header(con, LEADS, crm_mapping(str(relaxed))).passed


# --- duplicate keys --------------------------------------------------------------------------------

def test_a_key_repeated_within_one_file_is_named_with_its_lines(con, tmp_path):
    landing = tmp_path / "landing"
    write(landing / "crm" / "2026-06-29" / "Lead.csv",
          LEAD_HEADER + "\n00Q1,Ann,Lee,a@x.com,Acme,2026-06-01T00:00:00Z\n")
    ingest_source(con, landing, "crm")
    key = natural_key(LEADS, crm_mapping("salesforce"))
    assert key == "lead_id" and duplicate_keys(con, LEADS, key).passed

    # A later export repeating 00Q1 is a newer version: fine. Twice in one file is not.
    write(landing / "crm" / "2026-06-30" / "Lead.csv",
          LEAD_HEADER + "\n00Q1,Ann,Lee,a@x.com,Acme,2026-06-01T00:00:00Z\n"
          "00Q2,Bo,Ng,b@x.com,Beta,2026-06-02T00:00:00Z\n00Q2,Bo,Ng,bo@x.com,Beta,2026-06-02T00:00:00Z\n00Q3,Cy,Ro,c@x.com,Cox,2026-06-03T00:00:00Z\n"
          "00Q2,Bo,Ng,b@x.com,Beta,2026-06-02T00:00:00Z\n")
    ingest_source(con, landing, "crm")
    outcome = duplicate_keys(con, LEADS, key)
    assert not outcome.passed
    assert outcome.message == (
        "raw.crm_leads: 1 lead_id value(s) appear more than once in one file: "
        "crm/2026-06-30/Lead.csv: 00Q2 (lines 3, 4, 6)"
    )
    assert natural_key(RAW_TABLES["weblogs"][0], None) is None
    assert natural_key(RAW_TABLES["email"][0], None) == "event_id"


# --- source freshness --------------------------------------------------------------------------------

def test_freshness_measures_each_source_against_the_newest_loaded_event():
    newest = {
        "crm": utc("2026-06-30 09:00:00"), "weblogs": utc("2026-06-30 18:00:00"),
        "email": utc("2026-06-27 12:00:00"), "forms": None, "signals": utc("2026-06-01 00:00:00"),
    }
    outcomes = freshness(newest, "48,signals=840")
    assert {source: outcome.passed for source, outcome in outcomes.items()} == {
        "crm": True, "weblogs": True, "email": False, "forms": True, "signals": True}
    assert outcomes["email"].message == (
        "email: newest event 2026-06-27 12:00 UTC is 78.0 hours behind the newest loaded event "
        "(weblogs, 2026-06-30 18:00 UTC); the limit is 48 hours (LEADSCORE_FRESHNESS_MAX_LAG_HOURS)"
    )
    assert outcomes["crm"].message == "crm: newest event 2026-06-30 09:00 UTC, 9.0 hours behind weblogs"
    assert outcomes["forms"].message == "forms: no events loaded, nothing to measure"
    # 714 hours behind: within the monthly signals' 840, beyond a 700-hour limit.
    tighter = freshness(newest, "96,signals=700")
    assert tighter["email"].passed and not tighter["signals"].passed
    assert "714.0 hours behind" in tighter["signals"].message


def test_freshness_limits_are_validated_with_the_variable_named():
    assert parse_max_lag_hours("24, forms=72") == (24.0, {"forms": 72.0})
    with pytest.raises(ValueError, match="need a default"):
        parse_max_lag_hours("forms=72")
    with pytest.raises(ValueError, match=r"LEADSCORE_FRESHNESS_MAX_LAG_HOURS: .*'blogs=3' names an unknown source"):
        load_settings({"LEADSCORE_FRESHNESS_MAX_LAG_HOURS": "48,blogs=3"})


def test_newest_events_are_read_from_raw_tables_in_utc(con):
    con.execute("create schema raw")
    con.execute("create table raw.weblog_hits (request_time varchar)")
    con.execute("insert into raw.weblog_hits values ('30/Jun/2026:14:02:11 +0200'), ('29/Jun/2026:23:00:00 +0000')")
    con.execute("create table raw.crm_tasks (created_at varchar, last_modified_at varchar)")
    con.execute("insert into raw.crm_tasks values ('2026-06-01T00:00:00Z', '2026-06-28T08:30:00+01:00')")
    con.execute("create table raw.email_events (occurred_at varchar)")
    newest = newest_events(con)
    assert newest == {
        "crm": utc("2026-06-28 07:30:00"), "weblogs": utc("2026-06-30 12:02:11"),
        "email": None, "forms": None, "signals": None,
    }


# --- row counts against the previous run -------------------------------------------------------------

def test_row_counts_warn_on_a_drop_or_a_jump_beyond_the_limits(con):
    limits = RowCountLimits(max_drop=0.2, max_jump=1.0)
    con.execute("create schema marts; create table marts.scores as select range as n from range(100)")

    first = record_and_compare(con, "marts.scores", "run-1", limits)
    assert (first.passed, first.message) == (True, "marts.scores: 100 rows; no previous run to compare with")

    con.execute("delete from marts.scores where n >= 85")
    second = record_and_compare(con, "marts.scores", "run-2", limits)
    assert (second.passed, second.message) == (True, "marts.scores: 85 rows (-15.0% against the previous run's 100)")

    con.execute("delete from marts.scores where n >= 60")
    third = record_and_compare(con, "marts.scores", "run-3", limits)
    assert not third.passed
    assert third.message == ("marts.scores: 60 rows, 29.4% fewer than the previous run's 85 "
                             "(limit: a 20% drop, LEADSCORE_ROW_COUNT_MAX_DROP)")
    # Re-running the check within run-3 compares with run-2 again, not with itself.
    assert record_and_compare(con, "marts.scores", "run-3", limits).message == third.message

    con.execute("insert into marts.scores select range from range(100, 221)")
    fourth = record_and_compare(con, "marts.scores", "run-4", limits)
    assert not fourth.passed
    assert fourth.message == ("marts.scores: 181 rows, 201.7% more than the previous run's 60 "
                              "(limit: a 100% rise, LEADSCORE_ROW_COUNT_MAX_JUMP)")
    assert con.execute(
        "select run_id, run_number, row_count from checks.row_count_history order by run_number"
    ).fetchall() == [("run-1", 1, 100), ("run-2", 2, 85), ("run-3", 3, 60), ("run-4", 4, 181)]


# --- how checks are marked ---------------------------------------------------------------------------

def test_every_check_that_only_warns_says_so_and_every_other_blocks():
    graph = defs.resolve_asset_graph()
    specs = [graph.get_check_spec(key) for key in graph.asset_check_keys]
    warn_only = {(s.asset_key.to_user_string(), s.name) for s in specs if not s.blocking}
    unmarked = [s.name for s in specs if not s.blocking and "Warns only" not in (s.description or "")]
    mismarked = [s.name for s in specs if s.blocking and "Warns only" in (s.description or "")]
    assert not unmarked and not mismarked
    assert {("crm/leads", "freshness"), ("forms/submissions", "header_drift"), ("marts/fct_lead_scores", "row_count"),
            ("weblogs/hits", "row_count"), ("intermediate/int_score_adjustments", "warn_unapplied_score_adjustments")
            } <= warn_only
    blocking = {(s.asset_key.to_user_string(), s.name) for s in specs if s.blocking}
    assert {("crm/leads", "duplicate_keys"), ("crm/leads", "landing_header"), ("weblogs/hits", "reconciliation"),
            ("marts/fct_lead_scores", "assert_scores_within_bounds"),
            ("marts/fct_lead_scores", "assert_lead_scores_equal_ledger_sums"),
            ("marts/fct_lead_stage_history", "assert_stage_moves_are_allowed"),
            ("marts/fct_lead_stage_history", "assert_every_person_has_one_current_stage")} <= blocking


# --- through Dagster ---------------------------------------------------------------------------------

def evaluations(result: dg.ExecuteInProcessResult) -> dict[tuple[str, str], dg.AssetCheckEvaluation]:
    return {(e.asset_key.to_user_string(), e.check_name): e for e in result.get_asset_check_evaluations()}


def materialized(result: dg.ExecuteInProcessResult) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


def test_ingestion_checks_block_bad_tables_and_only_warn_on_drift(tmp_path):
    settings = tmp_settings(tmp_path)
    crm = settings.landing / "crm" / "2026-06-30"
    write(crm / "User.csv", "Id,LastName,CreatedDate\n005A,Rep,2026-01-01T00:00:00Z\n")
    lead = "00Q1,Ann,Lee,a@x.com,Acme,2026-06-01T00:00:00Z\n"
    write(crm / "Lead.csv", LEAD_HEADER + "\n" + lead + lead)
    forms = settings.landing / "forms"
    write(forms / "form-submissions-2026-06-29.csv", FORM_HEADER + "\n" + FORM_ROW.format(n=1, day=29))
    write(forms / "form-submissions-2026-06-30.csv",
          FORM_HEADER + ",utm_campaign\n" + FORM_ROW.format(n=2, day=30).rstrip("\n") + ",spring\n")

    job = build_definitions(settings).resolve_job_def("materialize_all")
    with dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False)

    assert not result.success
    found = evaluations(result)
    failed = {key: (e.severity, e.description) for key, e in found.items() if not e.passed}
    assert failed == {
        ("crm/leads", "duplicate_keys"): (
            dg.AssetCheckSeverity.ERROR,
            "raw.crm_leads: 1 lead_id value(s) appear more than once in one file: "
            "crm/2026-06-30/Lead.csv: 00Q1 (lines 2, 3)"),
        ("forms/submissions", "header_drift"): (
            dg.AssetCheckSeverity.WARN,
            "raw.form_submissions: header changed since the previous delivery: "
            "forms/form-submissions-2026-06-30.csv: new column(s) utm_campaign not in mapping forms "
            "(kept in custom_fields)"),
    }
    assert found[("crm/users", "row_count")].description == "raw.crm_users: 1 rows; no previous run to compare with"
    # The warning lets forms load; the duplicate key holds back the leads and everything built on them.
    done = materialized(result)
    assert {"forms/submissions", "crm/users"} <= done and "crm/leads" not in done
    assert not any(key.startswith(("staging/", "marts/")) for key in done)


def test_a_demo_run_measures_freshness_and_row_counts_and_only_warns(first_run, demo_settings: Settings):
    found = evaluations(first_run)
    for source, key in (("crm", "crm/leads"), ("weblogs", "weblogs/hits"), ("email", "email/events"),
                        ("forms", "forms/submissions"), ("signals", "signals/account_signals")):
        check = found[(key, "freshness")]
        assert check.passed and check.severity == dg.AssetCheckSeverity.WARN
        assert check.description.startswith(f"{source}: newest event 2026-06-")
    with connect(demo_settings.warehouse, read_only=True) as con:
        people = con.execute("select count(*) from marts.dim_people").fetchone()[0]
        history = con.execute(
            "select count(distinct run_id) from checks.row_count_history where table_name = 'marts.dim_people'"
        ).fetchone()[0]
    check = found[("marts/dim_people", "row_count")]
    assert check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert check.description == f"marts.dim_people: {people:,} rows; no previous run to compare with"
    assert history >= 1


@pytest.fixture
def scored_copy(first_run, demo_settings: Settings, tmp_path: Path) -> Settings:
    """A copy of the demo run's warehouse, to change without disturbing the other tests."""
    assert first_run.success
    settings = tmp_settings(tmp_path)
    settings.warehouse.parent.mkdir(parents=True)
    shutil.copy(demo_settings.warehouse, settings.warehouse)
    settings.landing.mkdir()
    return settings


def expected_bound_violations(con: duckdb.DuckDBPyConnection) -> set[tuple[str, str, str, str]]:
    """Recomputed in Python from the scores, the ledger and the (edited) bounds."""
    bounds = con.execute(
        "select rulebook_id, component, floor_points, cap_points, cap_unless_rule_ids from seeds.score_bounds"
    ).fetchall()
    scores = con.execute(
        "select person_id, rulebook_id, fit_score, engagement_score, data_quality_score, total_score "
        "from marts.fct_lead_scores"
    ).fetchall()
    rules: dict[tuple[str, str], set[str]] = {}
    for person_id, rulebook_id, rule_id in con.execute(
            "select distinct person_id, rulebook_id, rule_id from marts.fct_score_ledger").fetchall():
        rules.setdefault((person_id, rulebook_id), set()).add(rule_id)
    columns = {"fit": 2, "engagement": 3, "data_quality": 4, "total": 5}
    violations = set()
    for rulebook_id, component, floor, cap, unless in bounds:
        if component == "repurchase":
            continue  # the bounds of a customer account's repurchase score, not of a person's
        waivers = set((unless or "").split("|")) - {""}
        for row in scores:
            if row[1] != rulebook_id:
                continue
            score = float(row[columns[component]])
            if floor is not None and score < floor:
                violations.add((row[0], rulebook_id, component, "below floor"))
            elif cap is not None and score > cap and not waivers & rules.get((row[0], rulebook_id), set()):
                violations.add((row[0], rulebook_id, component, "above cap"))
    return violations


def test_scores_out_of_bounds_stop_the_work_built_on_the_scores(scored_copy: Settings):
    # Bounds the ledger in the warehouse was not computed with: a total cap of 10, an engagement
    # cap of 5 waived for meetings, demo and quote requests, a fit floor of 0.
    with connect(scored_copy.warehouse) as con:
        con.execute("update seeds.score_bounds set cap_points = 10 "
                    "where rulebook_id = 'guide_v2' and component = 'total'")
        con.execute("update seeds.score_bounds set cap_points = 5 "
                    "where rulebook_id = 'guide_v1_recent' and component = 'engagement'")
        con.execute("insert into seeds.score_bounds values ('guide_v1', 'fit', 0, null, null, 'no negative fit')")
        expected = expected_bound_violations(con)
    assert {component for _, _, component, _ in expected} == {"total", "engagement", "fit"}

    selection = [dg.AssetKey(["marts", "fct_lead_scores"]), dg.AssetKey(["marts", "dim_people"]),
                 dg.AssetKey(["marts", "sync_crm_lead_scores"]), dg.AssetKey(["exports", "crm_sync"])]
    job = build_definitions(scored_copy).resolve_job_def("materialize_all")
    with dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False, asset_selection=selection,
                                        run_config={"ops": {"dbt_models": {"config": {"as_of": ""}}}})

    assert not result.success
    check = evaluations(result)[("marts/fct_lead_scores", "assert_scores_within_bounds")]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    assert check.metadata["dagster_dbt/failed_row_count"].value == len(expected)
    with connect(scored_copy.warehouse, read_only=True) as con:
        stored = set(con.execute(
            "select person_id, rulebook_id, component, problem from dbt_test__audit.assert_scores_within_bounds"
        ).fetchall())
    assert stored == expected
    # The scores were rebuilt, but nothing downstream of them ran: dbt skipped dim_people and
    # Dagster held back the CRM export.
    done = materialized(result)
    assert "marts/fct_lead_scores" in done
    assert "marts/dim_people" not in done and "exports/crm_sync" not in done


def test_a_null_fails_the_models_null_check_which_names_the_column(scored_copy: Settings, tmp_path: Path):
    # Each model has one not-null test for its listed columns (tests/generic/not_null_columns.sql):
    # three people lose their total score and one row its as_of.
    with connect(scored_copy.warehouse) as con:
        people = "(select distinct person_id from marts.fct_lead_scores order by person_id limit 3)"
        emptied = con.execute(f"select count(*) from marts.fct_lead_scores where person_id in {people}").fetchone()[0]
        con.execute(f"update marts.fct_lead_scores set total_score = null where person_id in {people}")
        con.execute("update marts.fct_lead_scores set as_of = null where rowid = (select min(rowid) "
                    "from marts.fct_lead_scores where total_score is not null)")
    result = run_dbt(["test", "--select", "not_null_fct_lead_scores"], scored_copy.warehouse, tmp_path / "dbt")
    assert result.returncode == 1, dbt_failure(result, "dbt test")
    assert "not_null_fct_lead_scores" in result.stdout
    with connect(scored_copy.warehouse, read_only=True) as con:
        failures = set(con.execute("select column_name, null_rows from dbt_test__audit.not_null_fct_lead_scores")
                       .fetchall())
    assert failures == {("total_score", emptied), ("as_of", 1)}
