"""Headless run: materialize every asset in-process (what `make run` calls) and print a summary.

A run with nothing to do (src/leadscore/nothing_new.py) ends before Dagster is even imported.

    python -m leadscore.orchestration.run                       # run, then print the summary
    python -m leadscore.orchestration.run --as-of 2026-03-31    # score as of a past instant (UTC)
    python -m leadscore.orchestration.run --force               # build even if nothing changed since the last build
    python -m leadscore.orchestration.run --job fresh_scores    # only scores, stages, SLAs, alerts, BI copy (hourly)
    python -m leadscore.orchestration.run --summary             # only print the summary of the warehouse
    python -m leadscore.orchestration.run --quiet               # no progress lines, only the summary
    python -m leadscore.orchestration.run --verbose             # the summary with every table's row count
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import time
from contextlib import redirect_stdout
from pathlib import Path
from typing import TYPE_CHECKING

from leadscore import nothing_new
from leadscore.ingest.mapping import MappingError, resolve_mapping_path
from leadscore.settings import Settings, load_settings
from leadscore.warehouse import WarehouseLockedError, connect

if TYPE_CHECKING:  # Dagster is imported only once a run is needed (about 10 s)
    import dagster as dg

INSTANCE_TEMPLATE = Path(__file__).with_name("dagster.yaml")
# The jobs of src/leadscore/orchestration/automation.py, named here so `--help` and the no-op
# check need no Dagster import (a test holds the two equal).
JOB_NAMES = ("materialize_all", "fresh_scores")

# Dagster's own log goes to its storage (see it with `make dev`); the terminal gets progress lines
# (src/leadscore/orchestration/progress.py) and the summary.
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
# Who runs a headless run, so the next one can tell a run still going from one whose process died.
RUNNER_HOST_TAG, RUNNER_PID_TAG = "leadscore/runner_host", "leadscore/runner_pid"


def dagster_home(settings: Settings) -> Path:
    return Path(os.environ.get("DAGSTER_HOME", str(settings.dagster_home)))


def prepare_dagster_home(settings: Settings) -> Path:
    """DAGSTER_HOME with the project's instance settings (single-writer pool, run queue)."""
    from leadscore.orchestration.event_log import instance_settings

    home = Path(os.environ.setdefault("DAGSTER_HOME", str(dagster_home(settings))))
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        (home / "dagster.yaml").write_text(instance_settings(INSTANCE_TEMPLATE.read_text(), home))
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
    return not cmdline.exists() or b"leadscore.orchestration.run" in cmdline.read_bytes()


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
    settings: Settings, log_path: Path, as_of: str = "", force: bool = False, quiet: bool = True,
    job_name: str = "materialize_all",
) -> dg.ExecuteInProcessResult:
    """Run every asset of the job (by default all of them) in this process. The full dbt output
    goes to `log_path`; unless `quiet`, the terminal gets a line per step start and end, and dbt's
    progress lines as they come."""
    prepare_dagster_home(settings)
    import dagster as dg

    from leadscore.orchestration.definitions import build_definitions  # after DAGSTER_HOME is set
    from leadscore.orchestration.progress import DbtOutputTee, ProgressOutput, reporting_progress

    job = build_definitions(settings).resolve_job_def(job_name)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    output = ProgressOutput(sys.stdout, quiet=quiet)
    with dg.DagsterInstance.get() as instance:
        for run_id in release_interrupted_runs(instance):
            print(f"Run {run_id} was interrupted: marked failed; this run completes its work.")
        tags = {RUNNER_HOST_TAG: socket.gethostname(), RUNNER_PID_TAG: str(os.getpid()),
                nothing_new.CHECK_SETTINGS_TAG: check_settings(settings)}
        dbt_config = {"as_of": as_of, "force": force}
        # The progress logger also writes Dagster's warnings and errors to the run log, quiet or not.
        loggers = {**QUIET["loggers"], "progress": {}}
        run_config = {"loggers": loggers, "ops": {"dbt_models": {"config": dbt_config}}}
        with log_path.open("w") as log, reporting_progress(output):
            output.log = log
            tee = DbtOutputTee(log, output)
            try:
                with redirect_stdout(tee):
                    return job.execute_in_process(
                        instance=instance, raise_on_error=False, run_config=run_config, tags=tags
                    )
            finally:
                tee.close_pending()


# Outputs a run writes for people and tools: shown after a run only when that run wrote them.
OUTPUT_ASSETS = {"exports/crm_sync": "crm_sync", "reports/lead_scoring_report": "report",
                 "published/bi_copy": "published"}


def failure_reasons(result: dg.ExecuteInProcessResult) -> list[str]:
    """Why each failed step failed, as the step said it (a locked file, a full disk, a bad rule),
    followed by the full message of each blocking check that failed (which files, which rows)."""
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
        reasons.append(f"{event.step_key}: {' '.join(text.split())}")
    return reasons


def check_message(metadata: dict) -> str:
    """A check's words when it has no description: its message, or a dbt test's failing rows."""
    if "message" in metadata:
        return str(metadata["message"].value)
    rows = metadata.get("dagster_dbt/failed_row_count")
    return "" if rows is None else f"{rows.value:,} row(s) fail the dbt test"


def run_facts(result: dg.ExecuteInProcessResult, elapsed: float) -> dict:
    """What the summary needs from the run itself: its checks (counts and the failed ones'
    messages), the outputs it wrote, why it failed."""
    checks = {"passed": 0, "warned": 0, "failed": 0}
    checks_not_run = 0
    nodes = {"built": 0, "kept": 0}  # dbt models and seeds
    failed_checks, outputs = [], []
    published = None
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if evaluation.passed and "passed_in_run" in evaluation.metadata:  # a dbt test left out
                checks_not_run += 1
                continue
            if evaluation.passed:
                checks["passed"] += 1
                continue
            blocking = evaluation.severity.value == "ERROR"
            checks["failed" if blocking else "warned"] += 1
            failed_checks.append({
                "asset": evaluation.asset_key.to_user_string(), "check": evaluation.check_name,
                "severity": "error" if blocking else "warning",
                "message": evaluation.description or check_message(evaluation.metadata),
            })
        elif event.is_step_materialization:
            key = event.asset_key.to_user_string()
            if event.step_key == "dbt_models":
                status = event.step_materialization_data.materialization.metadata.get("status")
                nodes["kept" if status is not None and status.value == "kept" else "built"] += 1
            if key in OUTPUT_ASSETS:
                outputs.append(OUTPUT_ASSETS[key])
            if key == "published/bi_copy":
                metadata = event.step_materialization_data.materialization.metadata
                published = {"tables": len(metadata["tables"].value),
                             "rewritten": len(metadata["tables rewritten"].value)}
    return {"run_id": result.run_id, "success": result.success, "seconds": round(elapsed, 1),
            "checks": checks, "checks_not_run": checks_not_run, "dbt_nodes": nodes, "failed_checks": failed_checks,
            "outputs": outputs,
            "published": published,
            "failures": [] if result.success else failure_reasons(result)}


def summary(settings: Settings, facts: dict | None = None, verbose: bool = False) -> str:
    """Results first: scores, MQLs, what moved, SLAs, checks and whom to call; then the outputs
    of this run. Table row counts, loaded files and quarantine only with `verbose`. A failed run
    shows why it failed instead, and no outputs (those on disk are an earlier run's)."""
    facts = facts or {}
    failed = bool(facts) and not facts["success"]
    # Why a run failed needs no warehouse (it may be the locked file that stopped the run).
    out = failure_lines(facts, settings.run_log_path) if failed else []
    if failed and not verbose:
        return "\n".join(out)
    try:
        with connect(settings.warehouse, read_only=True) as con:
            tables = set(con.execute(
                "select table_schema, table_name from information_schema.tables "
                "where table_schema not in ('information_schema', 'pg_catalog', 'main')"
            ).fetchall())
            if not failed:
                out += results_lines(con, tables, facts)
            if verbose:
                out += detail_lines(con, tables)
            if not failed:
                out += output_lines(con, tables, settings, facts)
    except WarehouseLockedError as error:
        out += ["", f"No summary: {error}"]
    return "\n".join(out)


def results_lines(con, tables: set[tuple[str, str]], facts: dict) -> list[str]:
    if ("marts", "fct_lead_scores") not in tables:
        return ["", "No scores yet: the warehouse has no marts.fct_lead_scores."]
    rulebook, as_of, people, mqls = con.execute(
        """select rulebook_id, max(as_of), count(*), count(*) filter (where is_mql)
           from marts.fct_lead_scores where is_champion group by rulebook_id"""
    ).fetchone() or ("-", None, 0, 0)
    if as_of is None and ("marts", "dim_feature_snapshots") in tables:
        # Nobody scored (a deals-only export): the instant the build was for still says what it covers.
        as_of = con.execute("select max(as_of) from marts.dim_feature_snapshots").fetchone()[0]
    out = ["", f"Scores as of {as_of:%Y-%m-%d %H:%M} UTC (champion rulebook {rulebook})" if as_of
           else "", f"  People scored  {people:,}; MQLs now {mqls:,}"]
    out += change_lines(con, tables)
    if ("marts", "fct_lead_sla") in tables:
        breached, at_risk = con.execute(
            """select count(*) filter (where status = 'breached' and met_at is null),
                      count(*) filter (where status = 'at_risk') from marts.fct_lead_sla"""
        ).fetchone()
        out.append(f"  SLAs now       {breached:,} breached and not met, {at_risk:,} at risk")
    if ("marts", "fct_account_repurchase_scores") in tables:
        customers, qualified, overdue = con.execute(
            """select count(*), count(*) filter (where is_repurchase_qualified),
                      count(*) filter (where cycle_status = 'overdue')
               from marts.fct_account_repurchase_scores where is_champion"""
        ).fetchone()
        if customers:
            out.append(f"  Customers      {customers:,}: {qualified:,} ready to buy again (repurchase-qualified), "
                       f"{overdue:,} overdue in their purchase cycle")
    if facts.get("checks"):
        c = facts["checks"]
        not_run = facts.get("checks_not_run", 0)
        out.append(f"  Checks         {sum(c.values()):,} run: {c['passed']:,} passed, {c['warned']:,} warned, "
                   f"{c['failed']:,} failed" + (f"; {not_run:,} not run again (passed on the same inputs before)"
                                                if not_run else ""))
        out += [f"    warning  {f['asset']} {f['check']}: {f['message']}" for f in facts["failed_checks"]][:10]
    if (facts.get("dbt_nodes") or {}).get("kept"):
        nodes = facts["dbt_nodes"]
        out.append(f"  dbt            {nodes['built']:,} models and seeds built, {nodes['kept']:,} kept as they were "
                   "(built from the same inputs before)")
    if ("marts", "rpt_call_list") in tables:
        calls = con.execute(
            """select call_rank, coalesce(person_name, email, person_id), company_name, coalesce(owner_name, owner_id),
                      total_score, is_mql, top_reasons
               from marts.rpt_call_list order by call_rank limit 5"""
        ).fetchall()
        if calls:
            out += ["", "Call first (open leads by champion score; all of them: marts.rpt_call_list, the report):"]
            for rank, name, company, owner, score, is_mql, reasons in calls:
                who = f"{name}, {company}" if company else name
                out.append(f"  {rank:>2}. {who}: {float(score):.0f} points{', MQL' if is_mql else ''}"
                           + (f" (owner {owner})" if owner else ""))
                if reasons:
                    out.append(f"      {reasons if len(reasons) <= 110 else reasons[:107] + '...'}")
    return out


def change_lines(con, tables: set[tuple[str, str]]) -> list[str]:
    """Two lines on what this build moved against the previous one (marts.rpt_score_changes,
    rpt_rule_changes): for the champion, and the rules that moved most when the rules changed."""
    if ("marts", "rpt_score_changes") not in tables:
        return []
    moved, gained, lost, rules_changed, new = con.execute(
        """select count(*) filter (where change_kind = 'changed'),
                  count(*) filter (where mql_change = 'gained'), count(*) filter (where mql_change = 'lost'),
                  coalesce(bool_or(rulebook_changed), false), count(*) filter (where change_kind = 'new')
           from marts.rpt_score_changes where is_champion"""
    ).fetchone()
    if not (moved or gained or lost or new):
        return ["  Since the previous build  no champion score moved"]
    cause = "rules changed" if rules_changed else "new data"
    out = [f"  Since the previous build  {moved:,} scores moved, {new:,} new people; "
           f"MQLs {gained:,} gained, {lost:,} lost ({cause})"]
    if rules_changed and ("marts", "rpt_rule_changes") in tables:
        top = con.execute(
            """select r.rule_id, r.people_moved, r.points_change from marts.rpt_rule_changes as r
               join (select distinct rulebook_id from marts.fct_lead_scores where is_champion) as c
                 using (rulebook_id)
               order by abs(r.points_change) desc, r.rule_id limit 3"""
        ).fetchall()
        out.append("  Rules that moved most  " + "; ".join(
            f"{rule} {float(points):+,.0f} points over {people:,} people" for rule, people, points in top))
    return out


def failure_lines(facts: dict, log_path: Path | None) -> list[str]:
    out = ["", f"The run FAILED after {facts['seconds']:.1f}s:"]
    out += [f"  {reason}" for reason in facts["failures"]] or ["  (no step said why)"]
    blocking = [f for f in facts["failed_checks"] if f["severity"] == "error"]
    if blocking:
        out += ["", "Failed checks:"]
        out += [f"  {f['asset']} {f['check']}: {f['message']}" for f in blocking]
    if log_path is not None and log_path.exists() and log_path.stat().st_size:
        out.append(f"\nRun log: {log_path}")
    out.append("Outputs (CRM sync, report, BI copy) were not written by this run.")
    return out


def detail_lines(con, tables: set[tuple[str, str]]) -> list[str]:
    lines = []
    for schema, table in sorted(tables):
        count = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
        lines.append(f"  {schema + '.' + table:<48} {count:>12,}")
    out = ["", "Tables (rows):", *lines]
    if ("raw", "load_manifest") in tables:
        files = con.execute(
            "select status, count(*), sum(rows_read) from raw.load_manifest group by 1 order by 1"
        ).fetchall()
        reasons = con.execute(
            """select source, split_part(reason, ':', 1) as kind, count(*) from raw.quarantine
               group by all order by 1, 3 desc"""
        ).fetchall()
        out += ["", "Files loaded:"]
        out += [f"  {status:<10} {n:>6} files {rows or 0:>12,} rows read" for status, n, rows in files]
        out += ["", "Quarantined rows by source and reason:"]
        out += [f"  {source:<10} {kind:<28} {n:>8,}" for source, kind, n in reasons] or ["  none"]
    return out


def output_lines(con, tables: set[tuple[str, str]], settings: Settings, facts: dict) -> list[str]:
    """Where the outputs are; after a run, only those the run wrote."""
    wrote = set(facts["outputs"]) if facts else set(OUTPUT_ASSETS.values())
    out = ["", f"Warehouse: {settings.warehouse}"]
    if "crm_sync" in wrote and ("exports", "crm_sync_log") in tables:
        for file, rows in con.execute(
            "select file, rows from exports.crm_sync_log order by export_id desc limit 1"
        ).fetchall():
            out.append(f"CRM sync:  {file} ({rows:,} changed people)")
    if "report" in wrote and settings.report_path.exists():
        out.append(f"Report:    {settings.report_path}")
    if "published" in wrote and (settings.publish_dir / "leadscore.duckdb").exists():
        line = f"For BI:    {settings.publish_dir / 'leadscore.duckdb'} and {settings.publish_dir / 'parquet'}"
        counts = (facts or {}).get("published")
        if counts and counts["rewritten"] < counts["tables"]:
            line += (f" ({counts['rewritten']} of {counts['tables']} tables had changed and were written; "
                     "the others kept)")
        out.append(line)
    if facts and settings.run_log_path.exists():
        out.append(f"Run log:   {settings.run_log_path}")
    return out


def facts_path(settings: Settings) -> Path:
    return settings.run_log_path.with_name("last_run.json")


def main() -> int:
    parser = argparse.ArgumentParser(description="Materialize every asset in-process and print a summary.")
    parser.add_argument("--as-of", default="", help="UTC instant to score as of (default: the end of the data)")
    parser.add_argument("--force", action="store_true", help="build even when nothing changed since the last build")
    parser.add_argument("--summary", action="store_true", help="only print the summary of the warehouse")
    parser.add_argument("--quiet", action="store_true", help="no progress lines while the run works")
    parser.add_argument("--verbose", action="store_true",
                        help="also list every table's row count, the files loaded and the quarantine")
    parser.add_argument("--job", choices=JOB_NAMES, default="materialize_all",
                        help="fresh_scores: only what the scores, stages, SLAs, alerts and BI copy need "
                        "(what the hourly schedule runs); default: everything")
    parser.add_argument("--last-run", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    settings = load_settings()
    if args.summary:
        facts = json.loads(facts_path(settings).read_text()) if args.last_run else None
        print(summary(settings, facts, verbose=args.verbose))
        return 0
    started = time.monotonic()
    verdict = nothing_to_do(settings, args.as_of, args.force)
    if verdict.nothing_to_do:
        print(f"Nothing new since the last build ({verdict.reason}): nothing to do.")
        print(summary(settings, verbose=args.verbose))
        print(f"\nNo run needed: checked in {time.monotonic() - started:.1f}s.")
        return 0
    print(f"Running: {verdict.reason}.", flush=True)
    result = materialize_everything(settings, settings.run_log_path, args.as_of, args.force, quiet=args.quiet,
                                    job_name=args.job)
    elapsed = time.monotonic() - started
    facts = run_facts(result, elapsed)
    facts_path(settings).write_text(json.dumps(facts, indent=1))
    if not result.success:  # the log tells why too, for whoever reads it later
        with settings.run_log_path.open("a") as log:
            log.write("\n".join(failure_lines(facts, log_path=None)) + "\n")
    # A fresh process reads the warehouse: nothing cached from the run's own connections.
    subprocess.run([sys.executable, "-m", "leadscore.orchestration.run", "--summary", "--last-run"]
                   + (["--verbose"] if args.verbose else []), check=False)
    if not result.success:
        print(f"\nRun {result.run_id} FAILED after {elapsed:.1f}s.")
        return 1
    dbt_events = [event for event in result.all_events if event.step_key == "dbt_models"]
    if any(e.is_step_success for e in dbt_events) and not any(e.is_step_materialization for e in dbt_events):
        print("Nothing new since the last build: dbt and the steps after it were skipped.")
    print(f"\nRun {result.run_id} succeeded in {elapsed:.1f}s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
