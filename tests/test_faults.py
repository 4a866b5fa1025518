"""Faults, for real: runs killed with SIGKILL, a warehouse locked by another process, a full disk.

The headless run (`python -m leadscore.orchestration.run`) is started as a subprocess and its whole process
group (dbt included) is killed during ingestion, then again during the dbt build, then again
while publishing; the run after that must leave exactly the tables of one uninterrupted run:
nothing lost, nothing twice, no partial load. Where to kill is found without sleeping blindly:
ingestion and publishing stop at a pause point (`src/leadscore/faults.py`, switched on by an
environment variable) and say so in a marker file; the dbt build is killed once Dagster's event
log has recorded a third of its models.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from leadscore.faults import PAUSE_AT, PAUSE_MARKER
from leadscore.ingest.sources import SOURCES, ingest_source
from leadscore.orchestration.dbt import dbt_models
from leadscore.orchestration.definitions import build_definitions
from leadscore.publish import bi_copy
from leadscore.publish.bi_copy import PublishError
from leadscore.settings import load_settings
from leadscore.warehouse import DiskFullError, connect
from tests.headless import (
    REPO_ROOT,
    differences,
    error_text,
    exported_rows,
    finish,
    held_open_elsewhere,
    kill_group,
    publish_like_the_pipeline,
    published_problems,
    run_env,
    run_to_completion,
    start_run,
    wait_until,
)

MANIFEST = REPO_ROOT / "dbt_project" / "target" / "manifest.json"


def visible_published_files(published: Path) -> list[str]:
    """What a BI tool could open: the database and Parquet files under their final names."""
    return sorted(p.relative_to(published).as_posix() for p in published.rglob("*")
                  if p.is_file() and p.suffix in (".duckdb", ".parquet"))


def kill_at_pause_point(root: Path, landing: Path, point: str, output: Path) -> None:
    marker = root / "paused"
    marker.unlink(missing_ok=True)
    process = start_run(run_env(root, landing, **{PAUSE_AT: point, PAUSE_MARKER: str(marker)}), output)
    wait_until(marker.exists, process, output, f"the pause point {point}")
    kill_group(process)


def dbt_progress(dagster_home: Path) -> tuple[int, bool]:
    """Models and seeds the latest run's dbt step has materialized, and whether the step ended."""
    if not (dagster_home / "history" / "runs.db").exists():
        return 0, False
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        runs = instance.get_runs(limit=1)
        records = instance.get_records_for_run(runs[0].run_id, limit=100_000).records if runs else []
    events = [r.event_log_entry.dagster_event for r in records if r.event_log_entry.dagster_event]
    dbt = [e for e in events if e.step_key == "dbt_models"]
    built = sum(1 for e in dbt if e.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION)
    ended = any(e.event_type in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE) for e in dbt)
    return built, ended


# Four headless runs: a long scenario, run by `make test-slow`.
@pytest.mark.slow
def test_a_run_killed_during_ingestion_dbt_and_publishing_then_run_again_equals_an_uninterrupted_run(
    headless_reference, headless_landing, tmp_path
):
    warehouse = tmp_path / "warehouse" / "leadscore.duckdb"

    # 1. Inside the 40th file's transaction: adjustments and CRM are loaded, email is under way.
    nth = 40
    kill_at_pause_point(tmp_path, headless_landing, f"ingest_commit:{nth}", tmp_path / "1.out")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        # Every transaction writes one manifest row: the file being loaded left nothing.
        assert con.execute("select count(*) from raw.load_manifest").fetchone()[0] == nth - 1
        loaded = dict(con.execute("select load_id, rows_loaded from raw.load_manifest").fetchall())
        raw_tables = con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw' "
            "and table_name not in ('load_manifest', 'quarantine', 'accepted_deliveries')").fetchall()
        for (table,) in raw_tables:
            for load_id, rows in con.execute(f"select _load_id, count(*) from raw.{table} group by 1").fetchall():
                assert loaded.get(load_id) == rows, f"raw.{table} holds rows of an unfinished load {load_id}"

    # 2. During the dbt build, once a third of the models are built.
    output = tmp_path / "2.out"
    process = start_run(run_env(tmp_path, headless_landing), output)
    manifest = json.loads(MANIFEST.read_text())
    enough = sum(1 for node in manifest["nodes"].values() if node["resource_type"] in ("model", "seed")) // 3
    wait_until(lambda: dbt_progress(tmp_path / "dagster")[0] >= enough, process, output, f"{enough} dbt models")
    kill_group(process)
    assert not dbt_progress(tmp_path / "dagster")[1], "the dbt build had ended: the kill came too late"

    # 3. While publishing, after three tables were copied: BI tools see nothing half done.
    kill_at_pause_point(tmp_path, headless_landing, "publish_table:3", tmp_path / "3.out")
    assert visible_published_files(tmp_path / "published") == []

    # 4. The run that completes.
    run_to_completion(run_env(tmp_path, headless_landing), tmp_path / "4.out")
    problems = differences(headless_reference / "warehouse" / "leadscore.duckdb", warehouse)
    problems += published_problems(headless_reference / "published", tmp_path / "published")
    assert not problems, "\n".join(problems)
    assert exported_rows(tmp_path) == exported_rows(headless_reference)
    # Dagster's storage tells the truth: the killed runs failed and hold no slot of the pool.
    with dg.DagsterInstance.from_config(str(tmp_path / "dagster")) as instance:
        statuses = [run.status for run in instance.get_runs()]  # the latest first
        pool = instance.event_log_storage.get_concurrency_info("duckdb_warehouse")
    assert statuses == [dg.DagsterRunStatus.SUCCESS] + [dg.DagsterRunStatus.FAILURE] * 3
    assert pool.claimed_slots == [] and pool.pending_steps == []
    assert "was interrupted: marked failed" in (tmp_path / "4.out").read_text()


@pytest.mark.parametrize("point, visible", [
    ("publish_table:3", []),  # all under temporary names
    ("publish_swap", ["leadscore.duckdb"]),  # the database file is complete, its Parquet files follow
])
def test_publishing_killed_at_any_point_shows_only_complete_files_and_the_next_run_cleans_up(
    headless_reference, tmp_path, point, visible
):
    warehouse, target = headless_reference / "warehouse" / "leadscore.duckdb", tmp_path / "published"
    marker = tmp_path / "paused"
    env = {**os.environ, PAUSE_AT: point, PAUSE_MARKER: str(marker)}
    driver = ("from pathlib import Path; from tests.headless import publish_like_the_pipeline; "
              f"publish_like_the_pipeline(Path({str(warehouse)!r}), Path({str(target)!r}))")
    process = subprocess.Popen([sys.executable, "-c", driver], cwd=REPO_ROOT, env=env, start_new_session=True,
                               stdout=(tmp_path / "out").open("w"), stderr=subprocess.STDOUT)
    wait_until(marker.exists, process, tmp_path / "out", f"the pause point {point}")
    kill_group(process)
    assert visible_published_files(target) == visible
    if visible:
        assert differences(headless_reference / "published" / "leadscore.duckdb", target / "leadscore.duckdb") == []
    publish_like_the_pipeline(warehouse, target)
    assert published_problems(headless_reference / "published", target) == []


# --- a locked warehouse ----------------------------------------------------------------------------


@pytest.fixture
def held_open(tmp_path) -> Iterator[Path]:
    """A warehouse another process holds open for writing."""
    warehouse = tmp_path / "warehouse" / "leadscore.duckdb"
    warehouse.parent.mkdir(parents=True)
    with held_open_elsewhere(warehouse):
        yield warehouse


def test_a_warehouse_held_open_elsewhere_stops_the_run_naming_the_file_and_what_to_do(
    held_open, headless_landing, tmp_path
):
    output = tmp_path / "run.out"
    assert finish(start_run(run_env(tmp_path, headless_landing), output), output) == 1
    text = output.read_text()
    assert "FAILED" in text and "ingest_crm:" in text
    assert f"The warehouse {held_open} is locked by another process" in text
    assert "close the other session (a BI tool should read the published copy)" in text
    assert "Traceback" not in text


def test_the_dbt_step_names_a_locked_warehouse_before_starting_dbt(held_open, tmp_path):
    settings = load_settings({"LEADSCORE_HOME": str(tmp_path), "LEADSCORE_WAREHOUSE": str(held_open)})
    job = build_definitions(settings).resolve_job_def("materialize_all")
    with dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False,
                                        asset_selection=list(dbt_models.keys))
    (failure,) = [event for event in result.all_events if event.is_step_failure]
    message = error_text(failure.step_failure_data.error)
    assert f"The warehouse {held_open} is locked by another process" in message
    assert not any(event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION for event in result.all_events)


# --- a full disk -----------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path) -> Iterator[Path]:
    """A real filesystem of a few megabytes (tmpfs), where writing fails with ENOSPC."""
    mount_point = tmp_path / "small_disk"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount_point)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({mounted.stderr.strip()}); "
                    "the simulated full disk test covers the message")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def resize(mount_point: Path, size: str) -> None:
    subprocess.run(["mount", "-o", f"remount,size={size}", str(mount_point)], check=True)


def test_a_full_disk_stops_ingestion_with_a_clear_message_and_loses_nothing(
    small_disk, headless_landing, headless_reference
):
    warehouse = small_disk / "leadscore.duckdb"
    with connect(warehouse) as con, pytest.raises(DiskFullError) as raised:
        for source in SOURCES:
            ingest_source(con, headless_landing, source)
    message = str(raised.value)
    assert f"The disk holding the warehouse {warehouse} is full" in message
    assert "free some space and run again" in message
    # Space freed: the next run loads what was missing, each file once, none marked unreadable.
    resize(small_disk, "300m")
    with connect(warehouse) as con:
        assert con.execute("select count(*) from raw.load_manifest where status = 'rejected' "
                           "and message like '%space%'").fetchone()[0] == 0
        for source in SOURCES:
            ingest_source(con, headless_landing, source)
    assert differences(headless_reference / "warehouse" / "leadscore.duckdb", warehouse, schemas=("raw",)) == []


def test_a_full_disk_while_publishing_names_the_folder_and_keeps_the_previous_copy(
    small_disk, headless_reference
):
    warehouse = headless_reference / "warehouse" / "leadscore.duckdb"
    target = small_disk / "published"
    # The previous copy, and room for little more: not for a second copy beside it.
    used = sum(p.stat().st_size for p in (headless_reference / "published").rglob("*") if p.is_file())
    resize(small_disk, str(used + 1024 * 1024))
    shutil.copytree(headless_reference / "published", target)
    before = {p: p.read_bytes() for p in target.rglob("*") if p.is_file()}
    with pytest.raises(PublishError) as raised:
        publish_like_the_pipeline(warehouse, target)
    assert f"the disk holding {target} is full" in str(raised.value)
    assert "previous copy is unchanged" in str(raised.value)
    assert {p: p.read_bytes() for p in target.rglob("*") if p.is_file()} == before


def test_a_simulated_full_disk_while_publishing_gives_the_same_message(headless_reference, tmp_path, monkeypatch):
    """The same promise where no small filesystem can be mounted: ENOSPC at the final rename."""
    warehouse, target = headless_reference / "warehouse" / "leadscore.duckdb", tmp_path / "published"
    publish_like_the_pipeline(warehouse, target)
    before = {p: p.read_bytes() for p in target.rglob("*") if p.is_file()}

    def no_space(source, destination):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(destination))

    monkeypatch.setattr(bi_copy.os, "replace", no_space)
    with pytest.raises(PublishError, match=f"the disk holding {target} is full .*previous copy is unchanged"):
        publish_like_the_pipeline(warehouse, target)
    assert {p: p.read_bytes() for p in target.rglob("*") if p.is_file()} == before
