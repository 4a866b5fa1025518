"""Headless run: materialize every asset in-process (what `make run` calls) and print a summary.

A run with nothing to do (assets/nothing_new.py) ends before Dagster is even imported.

    python -m orchestration.run                       # run, then print the summary
    python -m orchestration.run --as-of 2026-03-31    # score as of a past instant (UTC)
    python -m orchestration.run --force               # build even if nothing changed since the last build
    python -m orchestration.run --summary             # only print the summary of the warehouse
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from contextlib import redirect_stdout
from pathlib import Path
from typing import TYPE_CHECKING

from assets import nothing_new
from assets.ingest.mapping import MappingError, resolve_mapping_path
from assets.warehouse import WarehouseLockedError, connect
from orchestration.settings import Settings, load_settings

if TYPE_CHECKING:  # Dagster is imported only once a run is needed (about 10 s)
    import dagster as dg

INSTANCE_TEMPLATE = Path(__file__).with_name("dagster.yaml")

# The run log goes to Dagster's storage (see it with `make dev`); the terminal gets the summary.
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
# Who runs a headless run, so the next one can tell a run still going from one whose process died.
RUNNER_HOST_TAG, RUNNER_PID_TAG = "leadscore/runner_host", "leadscore/runner_pid"


def dagster_home(settings: Settings) -> Path:
    return Path(os.environ.get("DAGSTER_HOME", str(settings.dagster_home)))


def prepare_dagster_home(settings: Settings) -> Path:
    """DAGSTER_HOME with the project's instance settings (single-writer pool, run queue)."""
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(dagster_home(settings))))
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        shutil.copy(INSTANCE_TEMPLATE, home / "dagster.yaml")
    return home


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    cmdline = Path(f"/proc/{pid}/cmdline")
    # A recycled process id belongs to some other program.
    return not cmdline.exists() or b"orchestration.run" in cmdline.read_bytes()


def check_settings(settings: Settings) -> str:
    """Digest of the settings the checks of a run read even when nothing is new (the CRM mapping
    and its file, the quarantine rate, freshness and row-count limits): a run made with other
    ones may judge the same data otherwise, so it is no reason to skip the next run."""
    try:
        mapping = hashlib.sha256(resolve_mapping_path(settings.crm_mapping).read_bytes()).hexdigest()
    except (MappingError, OSError) as error:  # the run itself reports a bad mapping
        mapping = f"unreadable: {error}"
    values = [settings.crm_mapping, mapping, settings.quarantine_max_rate, settings.freshness_max_lag_hours,
              settings.row_count_max_drop, settings.row_count_max_jump]
    return hashlib.sha256(json.dumps(values).encode()).hexdigest()[:16]


def nothing_to_do(settings: Settings, as_of: str = "", force: bool = False) -> nothing_new.Verdict:
    return nothing_new.check(settings.landing, settings.warehouse, dagster_home(settings), as_of=as_of,
                             force=force, check_settings=check_settings(settings))


def release_interrupted_runs(instance: dg.DagsterInstance) -> list[str]:
    """Headless runs of this machine whose process is gone (killed, power cut) stay `STARTED` in
    Dagster's storage and keep their slot of the single-writer pool, so the next run would wait
    for it forever. Mark them failed and give the slot back."""
    import dagster as dg

    unfinished = [dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]
    host = socket.gethostname()
    released = []
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=unfinished, tags={RUNNER_HOST_TAG: host})):
        pid = run.tags.get(RUNNER_PID_TAG, "")
        if pid.isdigit() and process_alive(int(pid)):
            continue
        instance.report_run_failed(run, message=f"The process of this run ({pid}) ended without finishing it.")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        released.append(run.run_id)
    return released


def materialize_everything(
    settings: Settings, log_path: Path, as_of: str = "", force: bool = False
) -> dg.ExecuteInProcessResult:
    prepare_dagster_home(settings)
    import dagster as dg

    from orchestration.definitions import build_definitions  # after DAGSTER_HOME is set

    job = build_definitions(settings).resolve_job_def("materialize_all")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with dg.DagsterInstance.get() as instance:
        for run_id in release_interrupted_runs(instance):
            print(f"Run {run_id} was interrupted: marked failed; this run completes its work.")
        tags = {RUNNER_HOST_TAG: socket.gethostname(), RUNNER_PID_TAG: str(os.getpid()),
                nothing_new.CHECK_SETTINGS_TAG: check_settings(settings)}
        dbt_config = {"as_of": as_of, "force": force}
        run_config = {**QUIET, "ops": {"dbt_models": {"config": dbt_config}}}
        # dbt's own console output goes to the log file; the terminal gets the summary.
        with log_path.open("w") as log, redirect_stdout(log):
            return job.execute_in_process(instance=instance, raise_on_error=False, run_config=run_config, tags=tags)


def failure_reasons(result: dg.ExecuteInProcessResult) -> list[str]:
    """Why each failed step failed, as the step said it (a locked file, a full disk, a bad rule)."""
    reasons = []
    for event in result.all_events:
        if not event.is_step_failure:
            continue
        data = event.step_failure_data
        if data.user_failure_data and data.user_failure_data.description:
            text = data.user_failure_data.description
        else:
            error = data.error.cause if data.error and data.error.cause else data.error
            # The exception's own words, without its module and class name.
            text = re.sub(r"^[\w.]+: ", "", error.message) if error else "see the log"
        reasons.append(f"{event.step_key}: {text.strip()}")
    return reasons


def summary(settings: Settings) -> str:
    """Row counts per layer, quarantined rows and where the outputs are."""
    try:
        return _summary(settings)
    except WarehouseLockedError as error:
        return f"\nNo summary: {error}"


def _summary(settings: Settings) -> str:
    lines = []
    with connect(settings.warehouse, read_only=True) as con:
        tables = con.execute(
            """select table_schema, table_name from information_schema.tables
               where table_schema not in ('information_schema', 'pg_catalog', 'main')
               order by table_schema, table_name"""
        ).fetchall()
        for schema, table in tables:
            count = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
            lines.append(f"  {schema + '.' + table:<48} {count:>12,}")
        reasons = con.execute(
            """select source, split_part(reason, ':', 1) as kind, count(*) from raw.quarantine
               group by all order by 1, 3 desc"""
        ).fetchall()
        files = con.execute(
            "select status, count(*), sum(rows_read) from raw.load_manifest group by 1 order by 1"
        ).fetchall()
        exported = con.execute(
            "select file, rows from exports.crm_sync_log order by export_id desc limit 1"
        ).fetchall() if ("exports", "crm_sync_log") in tables else []
    if not lines:
        lines = [f"  no tables found in {settings.warehouse}"]
    out = ["", "Tables (rows):", *lines, "", "Files loaded:"]
    out += [f"  {status:<10} {n:>6} files {rows or 0:>12,} rows read" for status, n, rows in files]
    out += ["", "Quarantined rows by source and reason:"]
    out += [f"  {source:<10} {kind:<28} {n:>8,}" for source, kind, n in reasons] or ["  none"]
    out += ["", f"Warehouse: {settings.warehouse}", f"Landing:   {settings.landing}"]
    out += [f"CRM sync:  {file} ({rows:,} changed people)" for file, rows in exported]
    if (settings.publish_dir / "leadscore.duckdb").exists():
        out.append(f"For BI:    {settings.publish_dir / 'leadscore.duckdb'} and {settings.publish_dir / 'parquet'}")
    report = settings.data_dir / "reports" / "lead_scoring_report.html"
    if report.exists():
        out.append(f"Report:    {report}")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description="Materialize every asset in-process and print a summary.")
    parser.add_argument("--as-of", default="", help="UTC instant to score as of (default: the end of the data)")
    parser.add_argument("--force", action="store_true", help="build even when nothing changed since the last build")
    parser.add_argument("--summary", action="store_true", help="only print the summary of the warehouse")
    args = parser.parse_args()
    settings = load_settings()
    if args.summary:
        print(summary(settings))
        return 0
    started = time.monotonic()
    verdict = nothing_to_do(settings, args.as_of, args.force)
    if verdict.nothing_to_do:
        print(f"Nothing new since the last build ({verdict.reason}): nothing to do.")
        print(summary(settings))
        print(f"\nNo run needed: checked in {time.monotonic() - started:.1f}s.")
        return 0
    print(f"Running: {verdict.reason}.", flush=True)
    log_path = settings.data_dir / "logs" / "last_run.log"
    result = materialize_everything(settings, log_path, args.as_of, args.force)
    elapsed = time.monotonic() - started
    # A fresh process reads the warehouse: nothing cached from the run's own connections.
    subprocess.run([sys.executable, "-m", "orchestration.run", "--summary"], check=False)
    print(f"Run log:   {log_path}")
    if not result.success:
        print(f"\nRun {result.run_id} FAILED after {elapsed:.1f}s.")
        for reason in failure_reasons(result) or [f"see {log_path}"]:
            print(f"  {reason}")
        return 1
    dbt_events = [event for event in result.all_events if event.step_key == "dbt_models"]
    if any(e.is_step_success for e in dbt_events) and not any(e.is_step_materialization for e in dbt_events):
        print("Nothing new since the last build: dbt and the steps after it were skipped.")
    print(f"\nRun {result.run_id} succeeded in {elapsed:.1f}s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
