"""Connections to the DuckDB warehouse: always UTC, with a clear error when the file is locked."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import duckdb

# Tables that record the runs themselves, so two histories of runs over the same data differ
# there and nowhere else: each CRM export, each dbt build (run id, time, completed), each
# row-count check's observation, the run each data test last passed in and the run each model
# and seed was last built in.
RUN_LOG_TABLES = frozenset({"exports.crm_sync_log", "ops.dbt_builds", "checks.row_count_history",
                            "ops.dbt_test_passes", "ops.dbt_node_builds"})

# DuckDB's memory cap for writing connections, as in dbt_project/profiles.yml.
MEMORY_LIMIT_VARIABLE = "LEADSCORE_DUCKDB_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "3GB"


class WarehouseLockedError(RuntimeError):
    """Another process (often a BI tool) holds the DuckDB file open for writing or reading."""


class DiskFullError(RuntimeError):
    """The disk holding the warehouse (or another output) is full; what was committed is kept."""


def rows_digest(con: duckdb.DuckDBPyConnection, select: str) -> tuple[int, str]:
    """Count and digest of the rows of `select`: the sum of the rows' hashes, so the digest does
    not depend on the rows' order and one pass computes it."""
    rows, hashes = rows_hashes(con, select)
    return rows, digest_text(rows, hashes)


def rows_hashes(con: duckdb.DuckDBPyConnection, select: str) -> tuple[int, int]:
    """The count of the rows of `select` and the sum of their hashes (rows_digest's terms)."""
    return con.execute(f"select count(*), coalesce(sum(hash(digested_row)), 0) "
                       f"from ({select}) as digested_row").fetchone()


def grouped_rows_digests(con: duckdb.DuckDBPyConnection, select: str, group: str) -> dict[Any, tuple[int, int]]:
    """Per value of the expression `group` (over the columns of `select`, as digested_row.<column>):
    the count and the sum of the hashes of its rows, as rows_digest hashes them."""
    return {key: (rows, hashes) for key, rows, hashes in con.execute(
        f"select {group} as digest_group, count(*), sum(hash(digested_row)) "
        f"from ({select}) as digested_row group by digest_group").fetchall()}


def digest_text(rows: int, hashes: int) -> str:
    """The digest of rows_digest from a count and a sum of row hashes (sums of groups add up)."""
    return f"{rows}:{hashes}"


def is_disk_full(error: BaseException) -> bool:
    """True for an OSError with ENOSPC and for DuckDB's own report of it (DuckDB errors carry
    only the operating system's text)."""
    if isinstance(error, OSError) and error.errno == errno.ENOSPC:
        return True
    return isinstance(error, duckdb.Error) and "No space left on device" in str(error)


def connect(path: Path | str, read_only: bool = False, memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """Open the warehouse with the session time zone pinned to UTC.

    DuckDB's `now()`, `date_trunc` and timestamptz casts follow the session time zone, so a
    connection that forgets this gives results that depend on the machine's locale.
    """
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise WarehouseLockedError(
                f"The warehouse {path} is locked by another process ({exc}). DuckDB allows one "
                "writer: close the other session (a BI tool should read the published copy)."
            ) from exc
        raise
    con.execute("set TimeZone = 'UTC'")
    # The same cap as dbt's profile unless the caller needs less (a step that also holds large
    # pandas frames): past it DuckDB spills to disk instead of growing.
    con.execute("set memory_limit = ?", [memory_limit or os.environ.get(MEMORY_LIMIT_VARIABLE, DEFAULT_MEMORY_LIMIT)])
    return con
