"""A build leaves out the data tests that passed on the same inputs, and only those."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from leadscore import passed_tests
from leadscore.ingest.ledger import ensure_ledger
from leadscore.warehouse import connect, rows_digest
from tests.conftest import write
from tests.dbt_runner import dbt_failure, run_dbt

REPO_ROOT = Path(__file__).resolve().parent.parent


def source(name: str, schema: str = "raw") -> dict:
    return {"resource_type": "source", "schema": schema, "name": name, "identifier": name}


def node(kind: str, *parents: str, name: str | None = None) -> dict:
    return {"resource_type": kind, "name": name, "depends_on": {"nodes": list(parents)}}


# A small project: leads staged with a seed, the scoring instant and a ledger reading it, a report
# comparing with a table dbt's hooks keep, and a test per kind of input.
MANIFEST = {
    "sources": {
        "source.p.crm.leads": source("leads"),
        "source.p.crm.campaigns": source("campaigns"),
        "source.p.previous_build.scores": source("scores_before_build", schema="ops"),
    },
    "nodes": {
        "seed.p.countries": node("seed", name="countries"),
        "model.p.stg_leads": node("model", "source.p.crm.leads", "seed.p.countries", name="stg_leads"),
        "model.p.int_scoring_as_of": node("model", "model.p.stg_leads", name="int_scoring_as_of"),
        "model.p.ledger": node("model", "model.p.int_scoring_as_of", "model.p.stg_leads", name="ledger"),
        "model.p.changes": node("model", "model.p.ledger", "source.p.previous_build.scores", name="changes"),
        "test.p.unique_leads": node("test", "model.p.stg_leads", name="unique_leads"),
        "test.p.leads_campaigns": node("test", "model.p.stg_leads", "source.p.crm.campaigns", name="leads_campaigns"),
        "test.p.countries_codes": node("test", "seed.p.countries", name="countries_codes"),
        "test.p.ledger_not_null": node("test", "model.p.ledger", name="ledger_not_null"),
        "test.p.changes_sum": node("test", "model.p.changes", name="changes_sum"),
    },
}
RAW = {"raw.leads": "loads-1", "raw.campaigns": "loads-1"}


def digests(project: str = "project-1", dbt_vars: dict | None = None, raw: dict | None = None) -> dict[str, str]:
    return passed_tests.input_digests(MANIFEST, project, {"as_of": "2026-06-30"} if dbt_vars is None else dbt_vars,
                                      RAW if raw is None else raw)


def changed(after: dict[str, str], before: dict[str, str] | None = None) -> set[str]:
    before = digests() if before is None else before
    return {test.removeprefix("test.p.") for test in before if before[test] != after.get(test)}


def test_a_test_reading_a_table_outside_the_raw_schema_has_no_digest_and_always_runs():
    assert set(digests()) == {"test.p.unique_leads", "test.p.leads_campaigns", "test.p.countries_codes",
                              "test.p.ledger_not_null"}


def test_a_new_load_changes_the_digest_of_the_tests_downstream_of_its_table_only():
    assert changed(digests(raw={**RAW, "raw.campaigns": "loads-2"})) == {"leads_campaigns"}
    assert changed(digests(raw={**RAW, "raw.leads": "loads-2"})) == {"unique_leads", "leads_campaigns",
                                                                       "ledger_not_null"}
    # A table that had no load and gets one.
    assert changed(digests(raw={"raw.leads": "loads-1"})) == {"leads_campaigns"}


def test_a_seed_table_changed_in_the_warehouse_changes_the_tests_that_read_it(con):
    con.execute("create schema seeds")
    con.execute("create table seeds.countries (iso2 varchar, country_name varchar)")
    con.execute("insert into seeds.countries values ('FR', 'France'), ('DE', 'Germany')")
    seeds = {"sources": {}, "nodes": {"seed.p.countries": {"resource_type": "seed", "name": "countries",
                                                           "schema": "seeds", "alias": "countries"}}}
    before = passed_tests.seed_table_digests(con, seeds)
    con.execute("update seeds.countries set country_name = 'Deutschland' where iso2 = 'DE'")
    after = passed_tests.seed_table_digests(con, seeds)
    assert set(before) == {"seed.p.countries"} and before != after
    assert changed(passed_tests.input_digests(MANIFEST, "project-1", {"as_of": "2026-06-30"}, RAW, after),
                   passed_tests.input_digests(MANIFEST, "project-1", {"as_of": "2026-06-30"}, RAW, before)) == {
        "unique_leads", "leads_campaigns", "countries_codes", "ledger_not_null"}


def test_as_of_changes_the_tests_that_read_the_scoring_instant_only():
    assert changed(digests(dbt_vars={"as_of": "2026-07-01"})) == {"ledger_not_null"}


def test_an_edit_of_the_project_another_var_or_an_engine_version_changes_every_digest(monkeypatch):
    everything = {"unique_leads", "leads_campaigns", "countries_codes", "ledger_not_null"}
    assert changed(digests(project="project-2")) == everything
    assert changed(digests(dbt_vars={"as_of": "2026-06-30", "snapshot_mode": True})) == everything
    before, real_version = digests(), passed_tests.metadata.version
    monkeypatch.setattr(passed_tests.metadata, "version",
                        lambda package: "9.9.9" if package == "duckdb" else real_version(package))
    assert changed(digests(), before) == everything


def test_only_tests_that_passed_on_the_same_inputs_are_left_out_and_a_warning_runs_again(con):
    first = digests()
    assert passed_tests.unchanged_since_passed(con, first) == {}  # nothing recorded yet
    passed_tests.record_results(con, first, [
        ("test.p.unique_leads", "pass"), ("test.p.leads_campaigns", "pass"), ("test.p.countries_codes", "pass"),
        ("test.p.ledger_not_null", "warn"), ("test.p.changes_sum", "pass"), ("model.p.ledger", "success"),
    ], run_id="run-1", project_digest="project-1")
    assert passed_tests.unchanged_since_passed(con, first) == {
        "test.p.countries_codes": "run-1", "test.p.leads_campaigns": "run-1", "test.p.unique_leads": "run-1"}

    # New campaigns: their test runs again and now fails; it stays out of the stored passes.
    second = digests(raw={**RAW, "raw.campaigns": "loads-2"})
    assert list(passed_tests.unchanged_since_passed(con, second)) == ["test.p.countries_codes", "test.p.unique_leads"]
    passed_tests.record_results(con, second, [("test.p.leads_campaigns", "fail"), ("test.p.ledger_not_null", "pass")],
                                run_id="run-2", project_digest="project-1")
    assert passed_tests.unchanged_since_passed(con, second) == {
        "test.p.countries_codes": "run-1", "test.p.ledger_not_null": "run-2", "test.p.unique_leads": "run-1"}
    # A test that passed once and then warned is forgotten, even on its old inputs.
    passed_tests.record_results(con, second, [("test.p.unique_leads", "warn")], run_id="run-3",
                                project_digest="project-1")
    assert "test.p.unique_leads" not in passed_tests.unchanged_since_passed(con, first)


def test_the_raw_digests_follow_the_loads_of_each_table(con):
    assert passed_tests.raw_table_digests(con) == {}  # no ledger yet
    ensure_ledger(con)

    def load(load_id: str, table: str | None) -> None:
        con.execute("""insert into raw.load_manifest (load_id, source, target_table, source_file, file_checksum,
                       rows_read, rows_loaded, rows_quarantined, status, loaded_at)
                       values (?, 'crm', ?, ?, 'x', 1, 1, 0, 'loaded', ?)""",
                    [load_id, table, f"{load_id}.csv", datetime(2026, 6, 30, tzinfo=UTC)])

    load("a", "raw.leads")
    load("b", "raw.campaigns")
    load("c", None)  # a rejected file wrote no table
    before = passed_tests.raw_table_digests(con)
    assert set(before) == {"raw.leads", "raw.campaigns"}
    load("d", "raw.leads")
    after = passed_tests.raw_table_digests(con)
    assert after["raw.campaigns"] == before["raw.campaigns"] and after["raw.leads"] != before["raw.leads"]


def test_in_the_project_the_crm_tests_follow_their_tables_and_the_scoring_tests_follow_as_of():
    manifest_path = REPO_ROOT / "dbt_project" / "target" / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    raw = {f"raw.{name}": "loads-1" for name in ("crm_leads", "crm_campaigns", "weblog_hits", "email_events")}

    def by_name(found: dict[str, str]) -> dict[str, str]:
        return {manifest["nodes"][test]["name"]: digest for test, digest in found.items()}

    def digests_at(as_of: str, raw_tables: dict[str, str]) -> dict[str, str]:
        return by_name(passed_tests.input_digests(manifest, "p", {"as_of": as_of}, raw_tables))

    before = digests_at("2026-06-30", raw)
    new_hits = digests_at("2026-06-30", {**raw, "raw.weblog_hits": "2"})
    later = digests_at("2026-07-01", raw)
    for name in ("unique_stg_crm__leads_lead_id", "unique_stg_crm__campaigns_campaign_id"):
        assert before[name] == new_hits[name] == later[name]
    assert before["unique_stg_weblogs__hits_hit_id"] != new_hits["unique_stg_weblogs__hits_hit_id"]
    assert before["unique_stg_weblogs__hits_hit_id"] == later["unique_stg_weblogs__hits_hit_id"]
    ledger_tests = [name for name in before if name.startswith("unique_int_score_events")]
    assert ledger_tests and all(before[name] != later[name] for name in ledger_tests)
    # The report comparing with the scores kept by dbt's hooks reads no raw table only: it always runs.
    hooked = [test for test, node in manifest["nodes"].items() if node["resource_type"] == "test"
              and any("rpt_score_changes" in parent for parent in node["depends_on"]["nodes"])]
    assert hooked and not set(hooked) & set(passed_tests.input_digests(manifest, "p", {}, raw))


@pytest.mark.parametrize("ids", [[], ["test.p.missing"]])
def test_no_test_left_out_means_no_exclude_argument(ids):
    assert passed_tests.exclude_args(MANIFEST, ids) == []


def test_row_and_key_tests_of_stamped_models_read_from_their_last_pass_on_the_same_project(con):
    def test(name: str, kind: str, model: str) -> dict:
        return {"resource_type": "test", "name": name, "test_metadata": {"name": kind},
                "attached_node": f"model.p.{model}", "depends_on": {"nodes": [f"model.p.{model}"]}}

    manifest = {"sources": {}, "nodes": {
        "model.p.events": {"resource_type": "model", "name": "events", "schema": "intermediate", "alias": "events"},
        "model.p.people": {"resource_type": "model", "name": "people", "schema": "intermediate", "alias": "people"},
        "test.p.unique_events": test("unique_events", "unique", "events"),
        "test.p.not_null_events": test("not_null_events", "not_null_columns", "events"),
        "test.p.events_rulebooks": test("events_rulebooks", "relationships", "events"),
        "test.p.unique_people": test("unique_people", "unique", "people"),
    }}
    con.execute("create schema intermediate")
    con.execute("create table intermediate.events (event_id int, _built_at timestamp)")
    con.execute("insert into intermediate.events values (1, '2026-06-29 02:00:00'), (2, '2026-06-30 02:00:00.25')")
    con.execute("create table intermediate.people (person_id int)")
    assert passed_tests.tested_through(con, manifest, "project-1") == {}  # nothing stored yet

    tests = [test_id for test_id in manifest["nodes"] if test_id.startswith("test.")]
    stamps = passed_tests.latest_stamps(con, manifest, tests)
    latest = datetime(2026, 6, 30, 2, 0, 0, 250000)
    assert stamps == dict.fromkeys(["test.p.unique_events", "test.p.not_null_events"], latest)
    passed_tests.record_results(con, {}, [(test_id, "pass") for test_id in tests], "run-1", "project-1", stamps)
    assert passed_tests.tested_through(con, manifest, "project-1") == dict.fromkeys(
        ["unique_events", "not_null_events"], "2026-06-30 02:00:00.250000")
    # An edit of the project: every row is read again.
    assert passed_tests.tested_through(con, manifest, "project-2") == {}
    # A warning: that test reads every row next time.
    passed_tests.record_results(con, {}, [("test.p.not_null_events", "warn")], "run-2", "project-1")
    assert passed_tests.tested_through(con, manifest, "project-1") == {"unique_events": "2026-06-30 02:00:00.250000"}

def test_the_tests_left_out_are_one_exclude_value_of_names():
    assert passed_tests.exclude_args(MANIFEST, ["test.p.unique_leads", "test.p.changes_sum"]) == [
        "--exclude", "changes_sum unique_leads"]


# --- In a run: two builds on one warehouse, the second after one more web log and new campaigns --

# Slow (make test-slow): two runs of every asset on their own warehouse.
@pytest.mark.slow
def test_a_run_leaves_out_the_tests_whose_inputs_are_unchanged_and_runs_those_of_new_data(tmp_path):
    from leadscore.orchestration.run import run_facts
    from tests.conftest import run_pipeline, tmp_settings
    from tests.headless import generate_landing

    source = generate_landing(tmp_path / "source")
    settings = tmp_settings(tmp_path / "run")
    held_back = Path("weblogs/2026/06/access-2026-06-30.log")
    shutil.copytree(source, settings.landing, ignore=lambda folder, names: [
        name for name in names if Path(folder, name) == source / held_back])
    first = run_pipeline(settings)
    assert first.success

    # One more day of web logs, and a campaign renamed in a new export of the campaigns only.
    shutil.copy(source / held_back, settings.landing / held_back)
    campaigns = (source / "crm" / "2026-06-30" / "Campaign.csv").read_text(encoding="utf-8-sig")
    write(settings.landing / "crm" / "2026-07-01" / "Campaign.csv",
          campaigns.replace("The Tessellate Brief - Jan 2025", "The Tessellate Brief - January 2025", 1))
    second = run_pipeline(settings)
    assert second.success
    # The checks left out hold nothing back: every step after dbt runs.
    outcomes = {event.step_key: event.event_type_value for event in second.all_events
                if event.event_type_value in ("STEP_SUCCESS", "STEP_SKIPPED", "STEP_FAILURE")}
    steps = ("dbt_models", "published__bi_copy", "ops__dbt_builds")
    assert {step: outcomes.get(step) for step in steps} == dict.fromkeys(steps, "STEP_SUCCESS")
    assert "STEP_SKIPPED" not in outcomes.values()

    def checks(result) -> tuple[set[str], dict[str, str]]:
        """The checks run, and those left out with the run they passed in."""
        evaluations = result.get_asset_check_evaluations()
        left_out = {e.check_name: e.metadata["passed_in_run"].value
                    for e in evaluations if "passed_in_run" in e.metadata}
        return {e.check_name for e in evaluations} - set(left_out), left_out

    ran_first, left_out_first = checks(first)
    ran_second, left_out_second = checks(second)
    assert not left_out_first
    # Unchanged inputs: the leads and the seeds' tests are left out; their checks pass as in the first run.
    assert {"unique_stg_crm__leads_lead_id", "unique_rulebooks_rulebook_id"} <= set(left_out_second)
    assert set(left_out_second.values()) == {first.run_id}
    # New inputs: the web log, the campaigns and everything that reads as_of (moved a day) are tested.
    assert {"unique_stg_weblogs__hits_hit_id", "unique_stg_crm__campaigns_campaign_id",
            "unique_int_score_events_score_event_id"} <= ran_second
    assert ran_second | set(left_out_second) == ran_first and not ran_second & set(left_out_second)
    # The run's summary counts them apart from the checks it ran.
    facts = run_facts(second, 0.0)
    evaluations = second.get_asset_check_evaluations()
    assert facts["checks_not_run"] == len(left_out_second)
    assert sum(facts["checks"].values()) == len(evaluations) - len(left_out_second)
    # The models and seeds whose inputs did not move are kept, their materializations naming the
    # first run; a test across a kept model and a rebuilt one still ran.
    def statuses(result) -> dict[str, str]:
        return {event.asset_key.path[-1]: event.step_materialization_data.materialization.metadata["status"].value
                for event in result.all_events if event.is_step_materialization and "status" in
                event.step_materialization_data.materialization.metadata}

    first_statuses, second_statuses = statuses(first), statuses(second)
    assert "kept" not in first_statuses.values()
    kept = {name for name, status in second_statuses.items() if status == "kept"}
    assert {"int_people", "int_person_records", "stg_crm__leads", "rulebooks", "activity_rules"} <= kept
    assert not {"stg_crm__campaigns", "stg_weblogs__hits", "int_activities", "int_score_ledger",
                "fct_lead_scores"} & kept
    assert set(second_statuses) == set(first_statuses)  # every model and seed materialized, kept or built
    assert facts["dbt_nodes"] == {"built": len(second_statuses) - len(kept), "kept": len(kept)}
    assert "relationships_int_activities_person_id__person_id__ref_int_person_records_" in ran_second
    # A kept table is what dbt builds again from the same inputs: rebuilt on a copy, row for row.
    copy = tmp_path / "rebuilt" / "leadscore.duckdb"
    copy.parent.mkdir()
    shutil.copy(settings.warehouse, copy)
    with connect(settings.warehouse, read_only=True) as con:
        passes = dict(con.execute("select test_id, run_id from ops.dbt_test_passes").fetchall())
        relations = dict(con.execute(
            "select table_name, table_schema from information_schema.tables where list_contains(?, table_name)",
            [sorted(kept)]).fetchall())
        before = {name: rows_digest(con, f'select * from "{schema}"."{name}"') for name, schema in relations.items()}
    assert set(relations) == kept
    rebuilt = run_dbt(["build", "--resource-type", "model", "--resource-type", "seed", "--select", " ".join(kept)],
                      copy, tmp_path / "rebuilt" / "target")
    assert rebuilt.returncode == 0, dbt_failure(rebuilt)
    with connect(copy, read_only=True) as con:
        after = {name: rows_digest(con, f'select * from "{schema}"."{name}"') for name, schema in relations.items()}
    assert after == before
    leads_test = next(test for test in passes if test.split(".")[2] == "unique_stg_crm__leads_lead_id")
    campaigns_test = next(test for test in passes if test.split(".")[2] == "unique_stg_crm__campaigns_campaign_id")
    assert (passes[leads_test], passes[campaigns_test]) == (first.run_id, second.run_id)

    # An hourly run (fresh_scores) an hour later, on a copy: it keeps the unchanged nodes of its
    # selection too, and runs every test that reads a kept node and a rebuilt one.
    hourly = tmp_settings(tmp_path / "hourly")
    hourly.warehouse.parent.mkdir(parents=True)
    shutil.copy(settings.warehouse, hourly.warehouse)
    shutil.copytree(settings.landing, hourly.landing)
    with connect(hourly.warehouse, read_only=True) as con:
        (as_of,) = con.execute("select as_of + interval 1 hour from intermediate.int_scoring_as_of").fetchone()
    third = run_pipeline(hourly, as_of=f"{as_of:%Y-%m-%d %H:%M:%S}", job_name="fresh_scores")
    assert third.success
    third_statuses = statuses(third)
    kept_hourly = {name for name, status in third_statuses.items() if status == "kept"}
    assert {"int_people", "int_person_records", "stg_crm__leads", "rulebooks"} <= kept_hourly
    assert not {"int_scoring_as_of", "int_score_ledger", "fct_lead_scores", "fct_lead_sla"} & kept_hourly
    results = json.loads((hourly.warehouse.parent / "leadscore_dbt_target" / "run_results.json").read_text(
        encoding="utf-8"))["results"]
    ran = {result["unique_id"]: result["status"] for result in results}
    manifest = json.loads((REPO_ROOT / "dbt_project" / "target" / "manifest.json").read_text(encoding="utf-8"))
    name_of = {unique_id: found["name"] for unique_id, found in manifest["nodes"].items()}
    built_hourly = {name_of[unique_id] for unique_id in ran if unique_id.split(".")[0] in ("model", "seed")}
    assert not built_hourly & kept_hourly and built_hourly | kept_hourly == set(third_statuses)
    crossing = [test_id for test_id, found in manifest["nodes"].items() if found["resource_type"] == "test"
                and {name_of.get(parent) for parent in found["depends_on"]["nodes"]} & kept_hourly
                and {name_of.get(parent) for parent in found["depends_on"]["nodes"]} & built_hourly]
    assert crossing and {test_id: ran.get(test_id) for test_id in crossing} == dict.fromkeys(crossing, "pass")

    # The score events' tests of the second run read only the rows rewritten since the first.
    compiled = next((settings.warehouse.parent / "leadscore_dbt_target" / "compiled").rglob(
        "unique_int_score_events_score_event_id.sql")).read_text(encoding="utf-8")
    assert "_built_at > cast(" in compiled

    # A rewrite that duplicates the key of a row kept from before is caught; a null in a kept row,
    # which passed before, is not read again unless the whole table is tested.
    with connect(settings.warehouse) as con:
        latest = con.execute("select max(_built_at) from intermediate.int_score_events").fetchone()[0]
        oldest = con.execute("select min(_built_at) from intermediate.int_score_events").fetchone()[0]
        assert oldest < latest
        con.execute("""insert into intermediate.int_score_events
                       select * replace (_built_at + interval 1 hour as _built_at)
                       from intermediate.int_score_events where _built_at = ? limit 1""", [oldest])
        con.execute("""update intermediate.int_score_events set rule_id = null
                       where score_event_id = (select max(score_event_id) from intermediate.int_score_events
                                               where _built_at = ?)""", [oldest])
        # The daily scores get a day for everyone at each run: their key test matches rows on the
        # whole key (person, rulebook, day), and still catches a day written twice.
        daily_oldest, daily_latest = con.execute(
            "select min(_built_at), max(_built_at) from intermediate.int_score_daily").fetchone()
        assert daily_oldest < daily_latest
        con.execute("""insert into intermediate.int_score_daily
                       select * replace (_built_at + interval 1 hour as _built_at)
                       from intermediate.int_score_daily where _built_at = ? limit 1""", [daily_oldest])
    daily_key_test = "unique_combination_int_score_daily_person_id__rulebook_id__score_date"
    tests = ["unique_int_score_events_score_event_id", "not_null_int_score_events", daily_key_test]

    def test_statuses(tested_through: dict[str, str], target: Path) -> dict[str, str]:
        with pytest.MonkeyPatch.context() as env:
            env.setenv(passed_tests.TESTED_THROUGH_ENV, json.dumps(tested_through))
            run_dbt(["test", "--select", " ".join(tests)], settings.warehouse, target)
        results = json.loads((target / "run_results.json").read_text(encoding="utf-8"))["results"]
        return {result["unique_id"].split(".")[2]: result["status"] for result in results
                if result["unique_id"].startswith("test.")}

    stamps = {**dict.fromkeys(tests[:2], str(latest)), daily_key_test: str(daily_latest)}
    assert test_statuses(stamps, tmp_path / "scoped") == {
        "unique_int_score_events_score_event_id": "fail", "not_null_int_score_events": "pass", daily_key_test: "fail"}
    assert test_statuses({}, tmp_path / "whole") == dict.fromkeys(tests, "fail")
    # Scoped, the key test reads the rows sharing a whole key with a row written since: not every
    # person's rows, although each of them got a new day.
    compiled = [path.read_text(encoding="utf-8") for path in (tmp_path / "scoped" / "compiled").rglob("*.sql")]
    assert any("(person_id, rulebook_id, score_date) in (select person_id, rulebook_id, score_date" in sql
               for sql in compiled)
