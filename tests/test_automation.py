"""Left running on its own: schedules, the new-file sensor, runs that never overlap, and runs that
find nothing new and change nothing."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
import pytest
import yaml

from leadscore.ingest.arrivals import ArrivalState, observe
from leadscore.orchestration import run
from leadscore.orchestration.automation import JOBS, build_landing_sensor, build_schedules, materialize_all
from leadscore.orchestration.definitions import build_definitions
from leadscore.orchestration.resources import IngestionConfigResource
from leadscore.settings import Settings, load_settings
from leadscore.warehouse import connect
from tests.conftest import run_pipeline

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULT_SCHEMAS = ("raw", "seeds", "staging", "intermediate", "marts", "feedback")


def touch(path: Path, text: str, mtime_ns: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.utime(path, ns=(mtime_ns, mtime_ns))


def test_a_file_is_ready_once_it_stopped_changing_and_only_once(tmp_path):
    touch(tmp_path / "forms" / "form-submissions-2026-06-30.csv", "email\n", 1_000)
    touch(tmp_path / "weblogs" / "access-2026-06-30.log.part", "half a line", 1_000)  # renamed when complete
    touch(tmp_path / "email" / ".email-events-2026-06-30.jsonl", "{}", 1_000)  # hidden: still being copied

    first = ArrivalState().look(observe(tmp_path, ["forms", "weblogs", "email"]))
    assert (first.ready, first.settling) == ([], ["forms/form-submissions-2026-06-30.csv"])

    # The writer appends between two looks: still settling.
    touch(tmp_path / "forms" / "form-submissions-2026-06-30.csv", "email\na@b.co\n", 2_000)
    second = first.state.look(observe(tmp_path, ["forms", "weblogs", "email"]))
    assert (second.ready, second.settling) == ([], ["forms/form-submissions-2026-06-30.csv"])

    third = second.state.look(observe(tmp_path, ["forms", "weblogs", "email"]))
    assert (third.ready, third.settling) == (["forms/form-submissions-2026-06-30.csv"], [])

    # Handed over once: later looks do not start another run for it (state survives as JSON).
    fourth = ArrivalState.from_json(third.state.to_json()).look(observe(tmp_path, ["forms", "weblogs", "email"]))
    assert (fourth.ready, fourth.settling) == ([], [])

    # The copy job renames the finished log: a new file, ready after it settles.
    (tmp_path / "weblogs" / "access-2026-06-30.log.part").rename(tmp_path / "weblogs" / "access-2026-06-30.log")
    fifth = fourth.state.look(observe(tmp_path, ["forms", "weblogs", "email"]))
    sixth = fifth.state.look(observe(tmp_path, ["forms", "weblogs", "email"]))
    assert (fifth.ready, sixth.ready) == ([], ["weblogs/access-2026-06-30.log"])


def test_the_sensor_requests_one_run_per_batch_of_settled_files(tmp_path):
    sensor = build_landing_sensor(running=False)
    resources = {"ingestion": IngestionConfigResource(landing=str(tmp_path))}
    touch(tmp_path / "signals" / "signals-2026-06.csv", "domain\n", 5_000)

    def tick(cursor):
        with dg.build_sensor_context(cursor=cursor, resources=resources) as context:
            result = sensor(context)
            return result, context.cursor

    first, cursor = tick(None)
    assert isinstance(first, dg.SkipReason) and "1 still changing" in first.skip_message
    second, cursor = tick(cursor)
    assert isinstance(second, dg.RunRequest)
    assert second.tags["leadscore/new_files"] == "1" and second.run_key
    third, cursor = tick(cursor)
    assert isinstance(third, dg.SkipReason) and third.skip_message == "no new settled landing file"
    assert sensor.job_name == "fresh_scores"  # new data to the scores within minutes
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED
    assert build_landing_sensor(running=True).default_status == dg.DefaultSensorStatus.RUNNING


def test_schedules_run_the_scores_hourly_and_force_everything_daily_in_utc():
    hourly, daily = build_schedules(running=False)
    assert (hourly.name, hourly.cron_schedule, hourly.execution_timezone) == ("hourly_scores", "5 * * * *", "UTC")
    assert (daily.name, daily.cron_schedule, daily.execution_timezone) == ("daily_rebuild", "30 2 * * *", "UTC")
    definitions = build_definitions(load_settings({}))
    for schedule, job_name, rebuild in ((hourly, "fresh_scores", False), (daily, materialize_all.name, True)):
        assert schedule.job_name == job_name
        job = definitions.resolve_job_def(job_name)
        with dg.build_schedule_context() as context:
            (request,) = list(schedule.evaluate_tick(context).run_requests)
        assert dg.validate_run_config(job, request.run_config)  # the config fits the job
        dbt_config = request.run_config["ops"]["dbt_models"]["config"]
        assert dbt_config.get("force", False) is rebuild and "as_of" not in dbt_config


def test_automation_starts_only_when_switched_on():
    assert load_settings({}).automation is False
    assert load_settings({"LEADSCORE_AUTOMATION": "on"}).automation is True
    with pytest.raises(ValueError, match="LEADSCORE_AUTOMATION"):
        load_settings({"LEADSCORE_AUTOMATION": "sometimes"})


def test_runs_never_overlap_on_the_single_duckdb_writer(tmp_path):
    instance_yaml = yaml.safe_load((REPO_ROOT / "src" / "leadscore" / "orchestration" / "dagster.yaml").read_text())
    with dg.instance_for_test(temp_dir=str(tmp_path), overrides=instance_yaml) as instance:
        # What the run queue daemon dequeues by, and the slots of every pool.
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 1
        assert instance.global_op_concurrency_default_limit == 1
    defs = build_definitions(load_settings({}))
    pools = {assets_def.node_def.name: assets_def.node_def.pool for assets_def in defs.assets
             if isinstance(assets_def, dg.AssetsDefinition)}
    assert set(pools.values()) == {"duckdb_warehouse"}, pools


def table_fingerprints(settings: Settings) -> dict[str, tuple[int, str]]:
    """Row count and an order-independent digest of every row of every result table."""
    with connect(settings.warehouse, read_only=True) as con:
        tables = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            f"where table_schema in {RESULT_SCHEMAS} order by 1"
        ).fetchall()
        return {
            name: con.execute(
                f"select count(*), md5(coalesce(string_agg(r, chr(10) order by r), '')) "
                f"from (select cast(t as varchar) as r from {name} as t)"
            ).fetchone()
            for (name,) in tables
        }


def step_outcomes(result: dg.ExecuteInProcessResult) -> dict[str, str]:
    kinds = ("STEP_SUCCESS", "STEP_SKIPPED", "STEP_FAILURE")
    return {event.step_key: event.event_type_value for event in result.all_events if event.event_type_value in kinds}


def test_a_run_that_finds_nothing_new_skips_dbt_and_changes_nothing(first_run, demo_settings):
    assert first_run.success
    before = table_fingerprints(demo_settings)

    again = run_pipeline(demo_settings)

    assert again.success
    outcomes = step_outcomes(again)
    assert outcomes["dbt_models"] == "STEP_SUCCESS"
    assert not [e for e in again.get_asset_materialization_events() if e.step_key == "dbt_models"]
    # Every step that built something after dbt in the first run is skipped (checks may still look).
    built_after_dbt = {event.step_key for event in first_run.get_asset_materialization_events()
                       if event.step_key != "dbt_models" and not event.step_key.startswith("ingest_")}
    assert {"published__bi_copy", "ops__dbt_builds"} <= built_after_dbt
    assert {key: outcomes[key] for key in built_after_dbt} == dict.fromkeys(built_after_dbt, "STEP_SKIPPED")
    assert table_fingerprints(demo_settings) == before


# Slow (make test-slow): a second whole build, forced.
@pytest.mark.slow
def test_a_forced_build_as_the_daily_schedule_runs_gives_the_same_tables(first_run, demo_settings):
    assert first_run.success
    before = table_fingerprints(demo_settings)

    # The daily schedule's build: the same as forcing one.
    forced = run_pipeline(demo_settings, force=True)
    assert forced.success and step_outcomes(forced)["published__bi_copy"] == "STEP_SUCCESS"
    rebuilt_assets = {e.asset_key.to_user_string() for e in forced.get_asset_materialization_events()}
    assert "marts/fct_lead_score_daily" in rebuilt_assets
    assert table_fingerprints(demo_settings) == before


def test_the_fresh_scores_job_builds_what_sales_needs_and_leaves_history_and_feedback_to_the_daily_run():
    definitions = build_definitions(load_settings({}))
    def assets_of(job_name: str) -> set[str]:
        return {key.to_user_string() for key in definitions.resolve_job_def(job_name).asset_layer.executable_asset_keys}

    fresh, everything = assets_of("fresh_scores"), assets_of("materialize_all")
    # Every landing family, the sales-facing marts with what they read, the CRM sync and the BI copy.
    assert {"weblogs/hits", "email/events", "forms/submissions", "crm/leads", "signals/account_signals",
            "adjustments/score_adjustments"} <= fresh
    assert {"marts/fct_lead_scores", "marts/fct_score_ledger", "marts/fct_lead_stage_history", "marts/fct_lead_sla",
            "marts/fct_sla_alerts", "marts/rpt_call_list", "marts/sync_crm_lead_scores", "marts/dim_people",
            "intermediate/int_score_timeline", "intermediate/int_mql_crossings", "exports/crm_sync",
            "published/bi_copy", "ops/dbt_builds"} <= fresh
    # The score history, the feedback marts and steps, the other reports and the HTML report wait.
    assert fresh < everything
    assert not {"marts/fct_lead_score_daily", "intermediate/int_score_daily", "marts/fct_person_features",
                "marts/fct_score_snapshots", "feedback/predictive_scores", "feedback/rpt_backtest",
                "marts/rpt_score_changes", "marts/rpt_funnel", "reports/lead_scoring_report"} & fresh


def test_the_headless_run_offers_every_job():
    assert set(run.JOB_NAMES) == set(JOBS)
