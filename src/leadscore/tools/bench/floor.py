"""The floor: DuckDB alone reading and parsing the landing files into tables, with no pipeline
around it (no ledger, checksums, quarantine, checks, dbt or Dagster). Same files, same readers,
the same regular expression over the log lines; one statement per file family.

    python -m leadscore.tools.bench.floor LANDING DATABASE OUTPUT.json
    # writes {"seconds": ..., "tables": {...}, "rows": {...}}
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import duckdb

from leadscore.ingest.email_events import FIELDS as EMAIL_FIELDS
from leadscore.ingest.landing import object_name
from leadscore.ingest.lines import sql_literal
from leadscore.ingest.weblogs import COMBINED_LOG_PATTERN, LOG_FIELDS, LOG_TIME_FORMAT, REQUEST_FIELDS, REQUEST_PATTERN

CSV_FAMILIES = ("forms", "signals", "adjustments")


def _file_list(paths: list[Path]) -> str:
    return "[" + ", ".join(sql_literal(str(path)) for path in paths) + "]"


def _files(landing: Path, family: str) -> list[Path]:
    return [path for path in sorted((landing / family).rglob("*")) if path.is_file() and path.stat().st_size]


def _lines_sql(paths: list[Path]) -> str:
    # One VARCHAR column per physical line; undecodable lines are skipped, as the floor need not keep them.
    return f"""read_csv({_file_list(paths)}, columns = {{'line': 'VARCHAR'}}, header = false,
        delim = chr(0), quote = '', escape = '', auto_detect = false, ignore_errors = true)"""


def _csv_sql(paths: list[Path]) -> str:
    return f"read_csv({_file_list(paths)}, all_varchar = true, union_by_name = true, ignore_errors = true)"


def floor_statements(landing: Path) -> dict[str, str]:
    """One `create table` per target table, reading every file of the family at once."""
    statements: dict[str, str] = {}
    weblogs = _files(landing, "weblogs")
    if weblogs:
        log_fields = ", ".join(sql_literal(name) for name in LOG_FIELDS)
        request_fields = ", ".join(sql_literal(name) for name in REQUEST_FIELDS)
        statements["weblog_hits"] = f"""
            create table weblog_hits as
            with parsed as (
                select regexp_extract(line, {sql_literal(COMBINED_LOG_PATTERN)}, [{log_fields}]) as f
                from {_lines_sql(weblogs)}
            )
            select f.*, regexp_extract(f.request, {sql_literal(REQUEST_PATTERN)}, [{request_fields}]) as r,
                   try_strptime(f.request_time, '{LOG_TIME_FORMAT}') as requested_at
            from parsed"""
    email = _files(landing, "email")
    if email:
        columns = "{" + ", ".join(f"{sql_literal(name)}: 'VARCHAR'" for name in EMAIL_FIELDS) + "}"
        statements["email_events"] = f"""
            create table email_events as select *, try_cast(occurred_at as timestamptz) as occurred_at_utc
            from read_json({_file_list(email)}, format = 'newline_delimited', columns = {columns},
                           ignore_errors = true)"""
    for family in CSV_FAMILIES:
        paths = _files(landing, family)
        if paths:
            statements[family] = f"create table {family} as select * from {_csv_sql(paths)}"
    crm_by_object: dict[str, list[Path]] = {}
    for path in _files(landing, "crm"):
        crm_by_object.setdefault(object_name(path), []).append(path)
    for name, paths in sorted(crm_by_object.items()):
        statements[f"crm_{name}"] = f'create table "crm_{name}" as select * from {_csv_sql(paths)}'
    return statements


def measure_floor(landing: Path, database: Path) -> dict:
    """Seconds to load every family into a fresh DuckDB file, and the rows of each table."""
    database.unlink(missing_ok=True)
    database.parent.mkdir(parents=True, exist_ok=True)
    statements = floor_statements(landing)
    started = time.perf_counter()
    seconds: dict[str, float] = {}
    with duckdb.connect(str(database)) as con:
        for table, sql in statements.items():
            table_started = time.perf_counter()
            con.execute(sql)
            seconds[table] = round(time.perf_counter() - table_started, 3)
        con.execute("checkpoint")
        total = time.perf_counter() - started
        rows = {table: con.execute(f'select count(*) from "{table}"').fetchone()[0] for table in statements}
    return {"seconds": round(total, 3), "tables": seconds, "rows": rows}


if __name__ == "__main__":
    Path(sys.argv[3]).write_text(json.dumps(measure_floor(Path(sys.argv[1]), Path(sys.argv[2]))))
