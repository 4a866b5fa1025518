"""Accepting a delivery with bad rows: an operator accepts one file as loaded (path and checksum)
with a reason, and later runs pass the quarantine-rate check for that file only. Other files, a
later bad file and a new version of the accepted file still fail it; a revocation undoes the
acceptance; every decision stays in the audit table."""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from leadscore import build_state, nothing_new
from leadscore.ingest import acceptance
from leadscore.ingest.acceptance import AcceptanceError
from leadscore.ingest.checks import quarantine_rate, reconciliation
from leadscore.ingest.sources import RAW_TABLES, ingest_source
from leadscore.warehouse import connect
from tests.conftest import write
from tests.headless import REPO_ROOT, finish, held_open_elsewhere, run_env, start_run

GOOD_HIT = (
    '203.0.113.7 - - [30/Jun/2026:14:02:11 +0200] "GET /pricing?utm_source=mail HTTP/1.1" 200 5120 '
    '"https://www.google.com/" "Mozilla/5.0 (X11; Linux x86_64) Firefox/126.0" "v-8f3a2c1d9e"\n'
)
LIMIT = 0.05


def deliver(con: duckdb.DuckDBPyConnection, landing: Path, files: dict[str, str]) -> None:
    """One delivery: the files land, then one ingestion loads them together."""
    for name, content in files.items():
        write(landing / "weblogs" / name, content)
    ingest_source(con, landing, "weblogs")


def decisions(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "select source_file, accepted, reason, decided_by from raw.accepted_deliveries order by decision_id"
    ).fetchall()


def test_an_accepted_file_passes_the_check_and_only_that_version_of_it(con, landing):
    deliver(con, landing, {"good.log": GOOD_HIT * 9, "bad.log": "garbage\n" * 3 + GOOD_HIT})
    failed = quarantine_rate(con, "weblogs", LIMIT)
    assert not failed.passed and "weblogs/bad.log (3/4 rows)" in failed.message
    assert "python -m leadscore.ingest.acceptance accept" in failed.message

    decision = acceptance.accept(con, "weblogs/bad.log", "  known bot burst, rows not needed ", "alice")
    assert (decision.rows_read, decision.rows_quarantined, decision.accepted) == (4, 3, True)
    passed = quarantine_rate(con, "weblogs", LIMIT)
    assert passed.passed, passed.message
    assert "weblogs/bad.log (3/4 rows) accepted by alice" in passed.message
    assert "known bot burst, rows not needed" in passed.metadata["accepted_files"]
    assert passed.metadata["rows_read"] == 9 and passed.metadata["rows_quarantined"] == 0

    # A later run with nothing new keeps the verdict; the quarantined rows and reconciliation stay.
    ingest_source(con, landing, "weblogs")
    assert quarantine_rate(con, "weblogs", LIMIT).passed
    assert con.execute("select count(*) from raw.quarantine").fetchone() == (3,)
    assert reconciliation(con, RAW_TABLES["weblogs"][0]).passed

    acceptance.revoke(con, "weblogs/bad.log", "the bot filter should have dropped them", "bob")
    revoked = quarantine_rate(con, "weblogs", LIMIT)
    assert not revoked.passed and "weblogs/bad.log (3/4 rows)" in revoked.message
    assert revoked.metadata["accepted_files"] == "-"
    acceptance.accept(con, "weblogs/bad.log", "accepted after all", "alice")
    assert quarantine_rate(con, "weblogs", LIMIT).passed

    # A second bad file in a later delivery fails, named alone: the accepted one is not in it.
    deliver(con, landing, {"next-good.log": GOOD_HIT * 5, "bad2.log": "junk\n" * 2 + GOOD_HIT})
    later = quarantine_rate(con, "weblogs", LIMIT)
    assert not later.passed and "weblogs/bad2.log (2/3 rows)" in later.message
    assert "bad.log" not in later.message.replace("bad2.log", "")

    # A new version of the accepted file (another checksum) is judged again.
    deliver(con, landing, {"bad.log": "garbage\n" * 5 + GOOD_HIT})
    redelivered = quarantine_rate(con, "weblogs", LIMIT)
    assert not redelivered.passed and "weblogs/bad.log (5/6 rows)" in redelivered.message
    assert redelivered.metadata["accepted_files"] == "-"
    listed = acceptance._list(con, whole_history=False)
    assert "a newer version of the file was loaded since and is not accepted" in listed

    # Revoking by path undoes the version that is accepted; the audit table keeps every decision.
    acceptance.revoke(con, "weblogs/bad.log", "superseded", "carol")
    assert decisions(con) == [
        ("weblogs/bad.log", True, "known bot burst, rows not needed", "alice"),
        ("weblogs/bad.log", False, "the bot filter should have dropped them", "bob"),
        ("weblogs/bad.log", True, "accepted after all", "alice"),
        ("weblogs/bad.log", False, "superseded", "carol"),
    ]
    checksums = {checksum for (checksum,) in con.execute(
        "select distinct file_checksum from raw.accepted_deliveries").fetchall()}
    first_version = con.execute("select file_checksum from raw.load_manifest where source_file = 'weblogs/bad.log' "
                                "order by loaded_at limit 1").fetchone()[0]
    assert checksums == {first_version}


def test_other_files_of_the_delivery_still_count(con, landing):
    deliver(con, landing, {"good.log": GOOD_HIT * 9, "bad.log": "garbage\n" * 3 + GOOD_HIT,
                           "worse.log": "garbage\n" * 4 + GOOD_HIT})
    acceptance.accept(con, "weblogs/bad.log", "known", "alice")
    outcome = quarantine_rate(con, "weblogs", LIMIT)
    assert not outcome.passed
    assert "see raw.quarantine for: weblogs/worse.log (4/5 rows)" in outcome.message
    assert "left out as accepted: weblogs/bad.log (3/4 rows) accepted by alice" in outcome.message


def test_requests_that_cannot_be_recorded_say_why(con, landing):
    deliver(con, landing, {"good.log": GOOD_HIT * 9, "2026/06/access-2026-06-30-extra.log": "garbage\n" + GOOD_HIT})

    with pytest.raises(AcceptanceError) as unknown:
        acceptance.accept(con, "weblogs/2026/06/acess-2026-06-30-extra.log", "typo", "alice")
    assert "Closest match: weblogs/2026/06/access-2026-06-30-extra.log" in str(unknown.value)
    assert "Files of weblogs with quarantined rows: weblogs/2026/06/access-2026-06-30-extra.log" in str(unknown.value)
    with pytest.raises(AcceptanceError, match="no source with loaded files"):
        acceptance.accept(con, "webloggs/good.log", "typo", "alice")
    with pytest.raises(AcceptanceError, match="has no quarantined rows .9 read, loaded.: nothing to accept"):
        acceptance.accept(con, "weblogs/good.log", "why not", "alice")
    with pytest.raises(AcceptanceError, match="A reason is required"):
        acceptance.accept(con, "weblogs/2026/06/access-2026-06-30-extra.log", "   ", "alice")
    with pytest.raises(AcceptanceError, match="is not accepted: nothing to revoke"):
        acceptance.revoke(con, "weblogs/good.log", "nothing", "alice")

    acceptance.accept(con, "weblogs/2026/06/access-2026-06-30-extra.log", "one line", "alice")
    with pytest.raises(AcceptanceError, match="Already accepted: .* by alice"):
        acceptance.accept(con, "weblogs/2026/06/access-2026-06-30-extra.log", "again", "bob")
    assert len(decisions(con)) == 1
    assert acceptance.landing_relative(str(landing / "weblogs" / "good.log"), landing) == "weblogs/good.log"


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "leadscore.ingest.acceptance", *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_command_line_records_lists_and_refuses_a_locked_warehouse(tmp_path, landing):
    warehouse = tmp_path / "warehouse" / "leadscore.duckdb"
    env = run_env(tmp_path, landing)
    missing = cli("list", env=env)
    assert missing.returncode == 1 and "No warehouse at" in missing.stderr
    warehouse.parent.mkdir()
    with duckdb.connect(str(warehouse)) as con:
        deliver(con, landing, {"bad.log": "garbage\n" + GOOD_HIT})

    assert cli("list", env=env).stdout.strip() == "No file is accepted."
    empty = cli("accept", "weblogs/bad.log", "--reason", "", env=env)
    assert empty.returncode == 1 and "A reason is required" in empty.stderr
    accepted = cli("accept", str(landing / "weblogs" / "bad.log"), "--reason", "test feed", "--by", "alice", env=env)
    assert accepted.returncode == 0, accepted.stderr
    assert "Accepted weblogs/bad.log" in accepted.stdout and "1 of 2 rows quarantined, by alice" in accepted.stdout
    listed = cli("list", env=env)
    assert "weblogs/bad.log (1/2 rows) accepted by alice" in listed.stdout and "test feed" in listed.stdout

    with held_open_elsewhere(warehouse):
        locked = cli("revoke", "weblogs/bad.log", "--reason", "wrong file", env=env)
    assert locked.returncode == 1 and "is locked by another process" in locked.stderr
    revoked = cli("revoke", "weblogs/bad.log", "--reason", "wrong file", env=env)
    assert revoked.returncode == 0 and "Revoked weblogs/bad.log" in revoked.stdout
    by_default = cli("accept", "weblogs/bad.log", "--reason", "right file after all", env=env)
    assert by_default.returncode == 0 and f"by {acceptance.operator_name()}" in by_default.stdout
    history = cli("list", "--history", env=env).stdout
    assert re.findall(r"rows\) (\w+) by", history) == ["accepted", "revoked", "accepted"]


def completed_build(con: duckdb.DuckDBPyConnection, dbt_inputs: list[Path], run_id: str) -> None:
    """What a complete run records once dbt and the steps after it succeeded."""
    planned = build_state.planned_build(con, build_state.dbt_args(), inputs=dbt_inputs)
    build_state.record_build(con, planned.key, planned.project, planned.data, build_state.dbt_args(), run_id)
    build_state.complete_build(con, run_id)


def test_an_acceptance_or_a_revocation_since_the_last_run_means_a_run(tmp_path, landing):
    warehouse, dagster_home = tmp_path / "warehouse.duckdb", tmp_path / "dagster"
    dbt_inputs = [write(tmp_path / "dbt" / "model.sql", "select 1")]

    def verdict() -> nothing_new.Verdict:
        return nothing_new.check(landing, warehouse, dagster_home, dbt_inputs=dbt_inputs)

    with connect(warehouse) as con:
        deliver(con, landing, {"bad.log": "garbage\n" + GOOD_HIT})
        completed_build(con, dbt_inputs, "run-1")
    assert verdict().nothing_to_do

    # Without a recorded Dagster run, the last complete build tells when the checks last ran.
    with connect(warehouse) as con:
        acceptance.accept(con, "weblogs/bad.log", "known", "alice")
    assert "accepted or an acceptance revoked since the last run" in verdict().reason
    with connect(warehouse) as con:
        completed_build(con, dbt_inputs, "run-2")
    assert verdict().nothing_to_do

    # With one, its start: a revocation after it means a run, a run started after that does not.
    with connect(warehouse) as con:
        acceptance.revoke(con, "weblogs/bad.log", "wrong file", "bob")
    dagster_home.mkdir()
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        run = instance.add_run(dg.DagsterRun(job_name="materialize_all", status=dg.DagsterRunStatus.SUCCESS))
    started = {"before": time.time() - 3600, "after": time.time() + 1}
    with closing(sqlite3.connect(dagster_home / "history" / "runs.db")) as db, db:
        db.execute("update runs set start_time = ? where run_id = ?", [started["before"], run.run_id])
    assert not verdict().nothing_to_do
    with closing(sqlite3.connect(dagster_home / "history" / "runs.db")) as db, db:
        db.execute("update runs set start_time = ? where run_id = ?", [started["after"], run.run_id])
    assert verdict().nothing_to_do


# --- end to end, with the headless runner ------------------------------------------------------

EXTRA = "weblogs/2026/06/access-2026-06-30-extra.log"


def headless(env: dict[str, str], output: Path) -> tuple[int, str]:
    code = finish(start_run(env, output), output)
    return code, output.read_text()


# Three headless runs after the shared reference run, two of them building: `make test-slow`.
@pytest.mark.slow
def test_after_an_acceptance_the_next_runs_succeed(headless_reference, headless_landing, tmp_path):
    # The state after a complete run on the demo data, then a delivery whose only file has bad lines.
    for part in ("warehouse", "dagster", "data"):
        if (headless_reference / part).is_dir():
            shutil.copytree(headless_reference / part, tmp_path / part)
    landing = tmp_path / "landing"
    shutil.copytree(headless_landing, landing)
    write(landing / EXTRA, GOOD_HIT * 10 + "not a log line\n" * 6)
    env = run_env(tmp_path, landing)

    code, out = headless(env, tmp_path / "1.out")
    assert code == 1 and f"37.50% of rows quarantined (limit 5.00%); see raw.quarantine for: {EXTRA} (6/16 rows)" in out

    accepted = cli("accept", EXTRA, "--reason", "partner test traffic, rows not needed", "--by", "ops", env=env)
    assert accepted.returncode == 0, accepted.stderr

    code, out = headless(env, tmp_path / "2.out")
    assert code == 0 and "succeeded" in out, out
    # The acceptance was recorded before that run started: nothing is left to do.
    code, out = headless(env, tmp_path / "3.out")
    assert code == 0 and "Nothing new since the last build" in out, out
    with duckdb.connect(str(tmp_path / "warehouse" / "leadscore.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from raw.quarantine where source_file = ?", [EXTRA]).fetchone() == (6,)
        assert con.execute("select count(*) from raw.accepted_deliveries").fetchone() == (1,)
