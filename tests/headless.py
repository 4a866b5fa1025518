"""Helpers for tests that start the real headless run (`python -m leadscore.orchestration.run`) as a
subprocess, kill it, and compare what it left with an uninterrupted run."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest

from leadscore.publish.bi_copy import DIGESTS_NAME, stored_digests
from leadscore.warehouse import RUN_LOG_TABLES

REPO_ROOT = Path(__file__).resolve().parent.parent

# Secrets the runs are given; tests look for them in everything the runs write.
SECRET_SALT = "salt-7Qx9-must-not-leak"
SECRET_WEBHOOK = "http://127.0.0.1:9/hooks/webhook-4Kp2-must-not-leak"
# Columns holding the wall-clock instant a file was loaded, or a run that recomputed a person's
# scores started (`_built_at`, and `_upstream_built_at`, the latest such stamp a model read): they
# differ between any two runs, killed or not, and no score depends on them.
LOAD_TIME_COLUMNS = {"_loaded_at", "loaded_at", "quarantined_at", "_batch_loaded_at", "_built_at",
                     "_upstream_built_at"}

# Web, email and form files before this month are left out to keep each run short; the CRM
# export, signals and adjustments are kept whole.
KEEP_FROM = "2026-03"
# Generous, for a busy machine: a stuck run fails the test instead of hanging it.
WAIT_SECONDS = 1200


def generate_landing(root: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "leadscore.demo.generate", "--size", "tiny", "--seed", "11",
         "--landing", str(root / "landing"), "--truth", str(root / "truth")],
        check=True, cwd=REPO_ROOT, capture_output=True,
    )
    for family in ("weblogs", "email", "forms"):
        for path in (root / "landing" / family).rglob("*"):
            dated = re.search(r"(\d{4}-\d{2})-\d{2}", path.name)
            if path.is_file() and dated and dated.group(1) < KEEP_FROM:
                path.unlink()
    return root / "landing"


def run_env(root: Path, landing: Path, **extra: str) -> dict[str, str]:
    """The environment of a headless run whose every output lives under `root`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADSCORE_") and k != "DAGSTER_HOME"}
    env.update(
        LEADSCORE_HOME=str(root), LEADSCORE_LANDING=str(landing),
        LEADSCORE_WAREHOUSE=str(root / "warehouse" / "leadscore.duckdb"),
        LEADSCORE_PUBLISH_DIR=str(root / "published"), DAGSTER_HOME=str(root / "dagster"),
        LEADSCORE_PUBLISH_PERSONAL_DATA="hash", LEADSCORE_PUBLISH_HASH_SALT=SECRET_SALT,
        LEADSCORE_ALERT_WEBHOOK_URL=SECRET_WEBHOOK, DBT_SEND_ANONYMOUS_USAGE_STATS="false", **extra,
    )
    return env


def start_run(env: dict[str, str], output: Path, cwd: Path = REPO_ROOT) -> subprocess.Popen:
    """The headless run of the code in `cwd`, in its own process group so that one killpg
    reaches the dbt subprocess too."""
    with output.open("w") as out:
        return subprocess.Popen([sys.executable, "-m", "leadscore.orchestration.run"], cwd=cwd, env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def finish(process: subprocess.Popen, output: Path) -> int:
    try:
        process.wait(timeout=WAIT_SECONDS)
    finally:
        kill_group(process)
    return process.returncode


def run_to_completion(env: dict[str, str], output: Path) -> None:
    """Run to the end, reading the output as it streams: `output` gets the text, and
    `<output>.timings` each line with the seconds since the start at which it arrived, then the
    seconds at which the process ended (what a user watching the terminal saw, and when)."""
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "leadscore.orchestration.run"], cwd=REPO_ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    timings = []
    # A stuck run is killed, which ends the reading below, and fails the test.
    watchdog = threading.Timer(WAIT_SECONDS, kill_group, [process])
    watchdog.start()
    try:
        with output.open("w") as out:
            for line in process.stdout:
                out.write(line)
                timings.append({"at": round(time.monotonic() - started, 2), "line": line.rstrip("\n")})
        process.wait(timeout=WAIT_SECONDS)
    finally:
        watchdog.cancel()
        kill_group(process)
    timings.append({"at": round(time.monotonic() - started, 2), "ended": process.returncode})
    output.with_suffix(".timings").write_text("\n".join(json.dumps(t) for t in timings) + "\n")
    assert process.returncode == 0, output.read_text()


def outputs_dir(root: Path) -> Path:
    """Where a headless run of `run_env(root, ...)` writes its exports, report and log."""
    return root / "warehouse" / "leadscore_outputs"


def kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def wait_until(condition: Callable[[], bool], process: subprocess.Popen, output: Path, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if process.poll() is not None:
            pytest.fail(f"the run ended before {what}:\n{output.read_text()}")
        if time.monotonic() > deadline:
            kill_group(process)
            pytest.fail(f"gave up waiting for {what}:\n{output.read_text()}")
        time.sleep(0.2)


def run_id(output: Path) -> str:
    return re.search(r"Run ([0-9a-f-]{36}) ", output.read_text()).group(1)


# --- comparing warehouses ------------------------------------------------------------------------


def tables_of(con: duckdb.DuckDBPyConnection, catalog: str, schemas: tuple[str, ...] = ()) -> list[str]:
    rows = con.execute(
        """select distinct table_schema || '.' || table_name from information_schema.tables
           where table_catalog = ? and table_schema not in ('information_schema', 'pg_catalog')""",
        [catalog],
    ).fetchall()
    return sorted(name for (name,) in rows if not schemas or name.split(".")[0] in schemas)


def comparable(con: duckdb.DuckDBPyConnection, relation: str) -> str:
    """The select list that compares `relation` across runs: load-time columns left out, and
    floating-point numbers to 12 significant digits, because DuckDB's parallel aggregation adds
    doubles in an order that varies from run to run (an `avg` differs in its last bit between
    two uninterrupted runs too); a lost or doubled row changes far more than that."""
    columns = []
    for name, kind, *_ in con.execute(f"describe select * from {relation}").fetchall():
        if name in LOAD_TIME_COLUMNS:
            continue
        quoted = '"' + name.replace('"', '""') + '"'
        columns.append(f"printf('%.12g', {quoted})" if kind in ("DOUBLE", "FLOAT") else quoted)
    return ", ".join(columns)


def row_differences(con: duckdb.DuckDBPyConnection, reference: str, candidate: str) -> tuple[int, int]:
    """(rows lost, rows extra) of `candidate` against `reference`, both ways with EXCEPT ALL:
    order does not matter, duplicates do."""
    expected, actual = comparable(con, reference), comparable(con, candidate)
    if expected != actual:
        raise AssertionError(f"{candidate} has the columns {actual}, not {expected}")
    lost = con.execute(f"select count(*) from (select {expected} from {reference} "
                       f"except all select {actual} from {candidate})").fetchone()[0]
    extra = con.execute(f"select count(*) from (select {actual} from {candidate} "
                        f"except all select {expected} from {reference})").fetchone()[0]
    return lost, extra


def differences(reference: Path, candidate: Path, schemas: tuple[str, ...] = ()) -> list[str]:
    """Tables missing or extra, and per table the rows one side has and the other lacks. Left
    out: the run logs (RUN_LOG_TABLES; the export files are compared by exported_rows)."""
    problems = []
    with duckdb.connect() as con:
        con.execute(f"attach '{reference}' as ref (read_only)")
        con.execute(f"attach '{candidate}' as got (read_only)")
        expected, actual = tables_of(con, "ref", schemas), tables_of(con, "got", schemas)
        if expected != actual:
            problems.append(f"missing tables {sorted(set(expected) - set(actual))}, "
                            f"extra tables {sorted(set(actual) - set(expected))}")
        for table in sorted(set(expected) & set(actual) - RUN_LOG_TABLES):
            schema, name = table.split(".", 1)
            lost, extra = row_differences(con, f'ref."{schema}"."{name}"', f'got."{schema}"."{name}"')
            if lost or extra:
                problems.append(f"{table}: {lost} row(s) lost, {extra} row(s) extra")
    return problems


def published_problems(reference: Path, candidate: Path) -> list[str]:
    """The same files, the same tables in the database and the same rows in every Parquet file."""
    files = sorted(p.relative_to(reference).as_posix() for p in reference.rglob("*") if p.is_file())
    found = sorted(p.relative_to(candidate).as_posix() for p in candidate.rglob("*") if p.is_file())
    if files != found:
        return [f"published files differ: extra {sorted(set(found) - set(files))}, "
                f"missing {sorted(set(files) - set(found))}"]
    problems = differences(reference / "leadscore.duckdb", candidate / "leadscore.duckdb")
    problems += digests_problems(reference, candidate)
    with duckdb.connect() as con:
        for name in files:
            if name.endswith(".parquet") and name != DIGESTS_NAME:
                lost, extra = row_differences(con, f"read_parquet('{reference / name}')",
                                              f"read_parquet('{candidate / name}')")
                if lost or extra:
                    problems.append(f"{name}: {lost} row(s) lost, {extra} row(s) extra")
    return problems


def digests_problems(reference: Path, candidate: Path) -> list[str]:
    """The digests kept beside the copy are those the next publication trusts (they name the
    candidate's own database file), with the same tables, groups and row counts as the
    reference's. Their sums of hashes are not compared: a double summed in parallel differs in its
    last bit from run to run, and so does its hash."""
    with duckdb.connect() as con:
        expected = stored_digests(con, reference / "leadscore.duckdb")
        found = stored_digests(con, candidate / "leadscore.duckdb")
    if not found:
        return [f"{DIGESTS_NAME} is unreadable or describes another database file than the published one"]
    counts = [{(key, bucket, rows) for key, groups in digests.items() for bucket, (rows, _) in groups.items()}
              for digests in (expected, found)]
    lost, extra = len(counts[0] - counts[1]), len(counts[1] - counts[0])
    return [f"{DIGESTS_NAME}: {lost} group(s) lost, {extra} group(s) extra"] if lost or extra else []


def exported_rows(root: Path) -> list[tuple[str, ...]]:
    """Every data row of every CRM sync file, sorted. A run after one killed later than the export
    writes a second, empty delta by design; what matters is that each change is sent once."""
    rows = []
    for path in sorted((outputs_dir(root) / "exports" / "crm_sync").glob("*")):
        assert re.fullmatch(r"crm_sync_\d{6}\.csv", path.name), f"leftover {path}"
        with path.open(newline="", encoding="utf-8") as handle:
            rows += [tuple(row) for row in list(csv.reader(handle))[1:]]
    return sorted(rows)


def publish_like_the_pipeline(warehouse: Path, target: Path) -> None:
    """What the pipeline's publishing step does, with the runs' personal data policy and salt."""
    from leadscore.publish.bi_copy import publish, read_manifest

    catalog = read_manifest(REPO_ROOT / "dbt_project" / "target" / "manifest.json")
    publish(warehouse, target, catalog.personal_columns, "hash", SECRET_SALT, unpublished=catalog.unpublished)


def error_text(error) -> str:
    """A Dagster step error and its causes, as one text."""
    texts = []
    while error is not None:
        texts.append(error.message)
        error = error.cause
    return "\n".join(texts)


@contextmanager
def held_open_elsewhere(database: Path) -> Iterator[None]:
    """Another process holds `database` open for writing, as a notebook or a BI tool would."""
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, sys; c = duckdb.connect({str(database)!r}); "
                               "print('ok', flush=True); sys.stdin.readline()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ok"
        yield
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
