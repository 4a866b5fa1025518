"""Dagster's event log with its connections kept open (src/leadscore/orchestration/event_log.py):
runs made through the project's instance settings are recorded where Dagster keeps them by
default, a fresh instance (the webserver, the next run) reads every event back, and a run's
check and materialization results are found by asset."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from leadscore import nothing_new
from leadscore.orchestration import event_log
from leadscore.orchestration.event_log import PooledSqliteEventLogStorage, instance_settings

TEMPLATE = Path(event_log.__file__).with_name("dagster.yaml")


@dg.asset
def leads() -> int:
    return 3


@dg.asset_check(asset=leads)
def leads_not_empty() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True, metadata={"rows": 3})


JOB = dg.Definitions(assets=[leads], asset_checks=[leads_not_empty],
                     jobs=[dg.define_asset_job("all", selection="*")]).resolve_job_def("all")


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    (tmp_path / "dagster.yaml").write_text(instance_settings(TEMPLATE.read_text(), tmp_path))
    return tmp_path


def run_once() -> str:
    with dg.DagsterInstance.get() as instance:
        assert isinstance(instance.event_log_storage, PooledSqliteEventLogStorage)
        result = JOB.execute_in_process(instance=instance)
        assert result.success
        return result.run_id


def test_runs_are_recorded_where_dagster_keeps_them_and_read_back_by_a_fresh_instance(home):
    first, second = run_once(), run_once()
    # Dagster's default layout: one file per run and the index beside the run storage.
    assert {path.name for path in (home / "history" / "runs").glob("*.db")} >= {f"{first}.db", f"{second}.db",
                                                                               "index.db"}
    with dg.DagsterInstance.get() as instance:
        for run_id in (first, second):
            assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.SUCCESS
            kinds = [record.dagster_event_type for record in instance.all_logs(run_id) if record.is_dagster_event]
            assert kinds.count(dg.DagsterEventType.ASSET_MATERIALIZATION) == 1
            assert kinds.count(dg.DagsterEventType.ASSET_CHECK_EVALUATION) == 1
            assert kinds[-1] == dg.DagsterEventType.RUN_SUCCESS
        latest = instance.get_latest_materialization_event(dg.AssetKey("leads"))
        assert latest.run_id == second
        check = instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [dg.AssetCheckKey(dg.AssetKey("leads"), "leads_not_empty")])
        assert next(iter(check.values())).run_id == second
    # The check that skips a run with nothing new reads the same run storage.
    assert nothing_new.read_last_runs(home).doubt is None


def test_a_process_that_read_many_runs_keeps_few_files_open(home, monkeypatch):
    monkeypatch.setattr(event_log, "MAX_OPEN_SHARDS", 2)
    run_ids = [run_once() for _ in range(3)]
    with dg.DagsterInstance.get() as instance:
        storage = instance.event_log_storage
        for run_id in run_ids:
            assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.SUCCESS
            assert any(record.dagster_event_type == dg.DagsterEventType.RUN_SUCCESS
                       for record in instance.all_logs(run_id) if record.is_dagster_event)
        assert len(storage._engines) <= 2
        # Deleting every run closes their open files first (the index, emptied, is open again);
        # the next run records as before.
        storage.wipe()
        assert set(storage._engines) <= {"index"}
        result = JOB.execute_in_process(instance=instance)
        assert result.success
        assert len(instance.all_logs(result.run_id)) > 5


def test_another_process_opening_this_home_reads_its_runs_whatever_its_own_dagster_home(home, tmp_path_factory,
                                                                                        monkeypatch):
    run_id = run_once()
    # As a test or a tool does with DagsterInstance.from_config: its own DAGSTER_HOME is elsewhere.
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path_factory.mktemp("elsewhere")))
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.SUCCESS
        assert any(record.dagster_event_type == dg.DagsterEventType.ASSET_MATERIALIZATION
                   for record in instance.all_logs(run_id) if record.is_dagster_event)
