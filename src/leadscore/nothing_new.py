"""Whether a run would do nothing, told from the landing folder, the warehouse and Dagster's run
storage alone: importing Dagster and building the definitions costs about 10 s, deciding this
well under one.

A run does nothing when every landing file is one the ingestion would skip (recorded in the
ledger with the same path and checksum), the dbt build key (src/leadscore/build_state.py) equals the
last complete build's, and the run is not forced: then it loads no file, the dbt step skips and
so does every step after it. Anything this cannot tell for sure (no warehouse, one locked by
another process, a run still going or killed, a last run that failed or ran with other check
settings, a file accepted or an acceptance revoked since the last run started) answers "run": a
needless run costs seconds, a wrongly skipped one leaves work undone.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from leadscore import build_state
from leadscore.ingest import acceptance
from leadscore.ingest.sources import SOURCES, new_landing_files
from leadscore.warehouse import WarehouseLockedError, connect

# Run tag holding the digest of the settings the checks of a run read (see src/leadscore/orchestration/run.py).
CHECK_SETTINGS_TAG = "leadscore/check_settings"
# Dagster run statuses of runs that ended; a queued run has not started and changes nothing yet.
_ENDED = ("SUCCESS", "FAILURE", "CANCELED")
_NOT_STARTED = ("QUEUED",)


@dataclass(frozen=True)
class Verdict:
    nothing_to_do: bool
    reason: str


def needs_run(reason: str) -> Verdict:
    return Verdict(False, reason)


def check(
    landing: Path, warehouse: Path, dagster_home: Path, as_of: str = "", force: bool = False,
    check_settings: str | None = None, dbt_inputs: Iterable[Path] = build_state.DBT_INPUTS,
) -> Verdict:
    """Nothing to do, or why a run is needed. `check_settings` is the digest of the settings the
    run's checks would use, compared with the last run's (None: not compared)."""
    if force:
        return needs_run("a build was forced")
    try:
        dbt_args = build_state.dbt_args(as_of)
    except ValueError as error:
        return needs_run(str(error))
    runs = read_last_runs(dagster_home, check_settings)
    if runs.doubt:
        return needs_run(runs.doubt)
    if not warehouse.is_file():
        return needs_run(f"no warehouse at {warehouse} yet")
    try:
        with connect(warehouse, read_only=True) as con:
            return _check_warehouse(con, landing, dbt_args, dbt_inputs, runs.last_started)
    except WarehouseLockedError:
        return needs_run(f"the warehouse {warehouse} is locked by another process")
    except (duckdb.Error, OSError) as error:
        return needs_run(f"the warehouse or the landing folder could not be read ({error})")


def _check_warehouse(
    con: duckdb.DuckDBPyConnection, landing: Path, dbt_args: list[str], dbt_inputs: Iterable[Path],
    last_started: datetime | None = None,
) -> Verdict:
    last = build_state.last_build(con)
    if last is None:
        return needs_run("no dbt build recorded in the warehouse yet")
    if not last.completed:
        return needs_run("the last build's run did not complete every step after dbt")
    # An acceptance or a revocation changes the verdict of the quarantine-rate check on the same
    # data; without a recorded run, the last complete build tells when the checks last ran.
    decided = acceptance.last_decided_at(con)
    checked_since = (last_started or last.built_at).timestamp()
    if decided is not None and decided >= checked_since:
        return needs_run(f"a delivery was accepted or an acceptance revoked since the last run "
                         f"(see `{acceptance.COMMAND} list`)")
    if build_state.planned_build(con, dbt_args, inputs=dbt_inputs).key != last.key:
        return needs_run("the loaded files, the dbt project, the seeds or the dbt parameters (as_of) "
                   "changed since the last build")
    for source in SOURCES:
        new = new_landing_files(con, landing, source)
        if new:
            return needs_run(f"{len(new)} new or changed landing file(s) in {source}/, such as {new[0].relative_path}")
    return Verdict(True, f"same landing files, dbt project, seeds and parameters as the build of "
                         f"{last.built_at:%Y-%m-%d %H:%M:%S} UTC")


@dataclass(frozen=True)
class LastRuns:
    """What Dagster's run storage tells the check, read once: why to run anyway (None: no
    reason), and when the last ended run started (None: no run recorded)."""

    doubt: str | None = None
    last_started: datetime | None = None


def read_last_runs(dagster_home: Path, check_settings: str | None = None) -> LastRuns:
    """A reason to run anyway: a run still going or killed (the normal run releases what it
    holds), a last run that did not succeed, or one made with other check settings. Read as
    SQLite directly, the file Dagster keeps by default."""
    config = dagster_home / "dagster.yaml"
    if config.is_file() and re.search(r"^(storage|run_storage)\s*:", config.read_text(), re.MULTILINE):
        return LastRuns(f"Dagster's run storage is configured elsewhere ({config}): the last runs cannot be read")
    runs_db = dagster_home / "history" / "runs.db"
    if not runs_db.exists():
        return LastRuns()  # no run recorded: the warehouse alone tells what was done
    settled = _ENDED + _NOT_STARTED
    try:
        with closing(sqlite3.connect(f"{runs_db.resolve().as_uri()}?mode=ro", uri=True)) as db:
            going = db.execute(
                f"select run_id, status from runs where status not in ({_placeholders(settled)}) "
                "order by id desc limit 1", settled,
            ).fetchone()
            last = db.execute(
                f"select run_id, status, start_time from runs where status in ({_placeholders(_ENDED)}) "
                "order by id desc limit 1", _ENDED,
            ).fetchone()
            tag = db.execute(
                "select value from run_tags where run_id = ? and key = ?", [last[0], CHECK_SETTINGS_TAG]
            ).fetchone() if last else None
    except sqlite3.Error as error:
        return LastRuns(f"Dagster's run storage {runs_db} could not be read ({error})")
    started = datetime.fromtimestamp(last[2], UTC) if last and last[2] is not None else None
    if going:
        return LastRuns(f"run {going[0]} is {going[1].lower()} (still going, or its process was killed)")
    if last and last[1] != "SUCCESS":
        return LastRuns(f"the last run {last[0]} ended {last[1].lower()}", started)
    if last and check_settings is not None and (tag is None or tag[0] != check_settings):
        return LastRuns(f"the last run {last[0]} checked with other settings (or unknown ones)", started)
    return LastRuns(None, started)


def _placeholders(values: tuple) -> str:
    return ", ".join("?" * len(values))
