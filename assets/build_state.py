"""What the last successful dbt build was made from, so a run that brings nothing new skips it.

A build is fully determined by three things: the data loaded (the load ids of `raw.load_manifest`),
the dbt project and seeds (file contents) and the run's dbt arguments (as_of and other vars).
Their digest is the build key. When the key equals the last successful build's, rebuilding would
write the same tables again, so the run skips dbt and everything downstream of it. The key lives
in the warehouse itself (`ops.dbt_builds`): a restored or rotated warehouse carries its own state.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

import duckdb

OPS_SCHEMA = "ops"

_DDL = f"""
create schema if not exists {OPS_SCHEMA};
create table if not exists {OPS_SCHEMA}.dbt_builds (
    build_key varchar not null,
    run_id varchar,
    project_digest varchar not null,
    data_digest varchar not null,
    dbt_args varchar not null,
    built_at timestamptz not null,
    completed boolean not null default false
);
alter table {OPS_SCHEMA}.dbt_builds add column if not exists completed boolean default false;
"""


def project_digest(roots: Iterable[Path]) -> str:
    """SHA-256 over the relative paths and bytes of every file under `roots` (models, macros,
    tests, seeds, dbt_project.yml...), so editing a rule or a model changes it."""
    digest = hashlib.sha256()
    for root in roots:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            digest.update(f"{path.name if root.is_file() else path.relative_to(root).as_posix()}\0".encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def data_digest(con: duckdb.DuckDBPyConnection) -> str:
    """SHA-256 of the set of file loads in the warehouse (empty warehouse: digest of nothing)."""
    exists = _table_exists(con, "raw", "load_manifest")
    load_ids = con.execute("select load_id from raw.load_manifest order by load_id").fetchall() if exists else []
    return hashlib.sha256("\n".join(load_id for (load_id,) in load_ids).encode()).hexdigest()


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, table]
    ).fetchone()[0] > 0


def build_key(project: str, data: str, dbt_args: list[str]) -> str:
    return hashlib.sha256(json.dumps([project, data, dbt_args]).encode()).hexdigest()


def last_build_key(con: duckdb.DuckDBPyConnection) -> str | None:
    """The key of the latest build if the run that made it completed every step after dbt too
    (a run killed while publishing must be redone, even though its dbt build succeeded)."""
    if not _table_exists(con, OPS_SCHEMA, "dbt_builds"):
        return None
    row = con.execute(
        f"select build_key, completed from {OPS_SCHEMA}.dbt_builds order by built_at desc limit 1"
    ).fetchone()
    return row[0] if row and row[1] else None


def record_build(
    con: duckdb.DuckDBPyConnection, key: str, project: str, data: str, dbt_args: list[str], run_id: str | None
) -> None:
    """Remember a successful build (called only after dbt finished without error)."""
    con.execute(_DDL)
    con.execute(
        f"""insert into {OPS_SCHEMA}.dbt_builds
            (build_key, run_id, project_digest, data_digest, dbt_args, built_at, completed)
            values (?, ?, ?, ?, ?, current_timestamp, false)""",
        [key, run_id, project, data, json.dumps(dbt_args)],
    )



def complete_build(con: duckdb.DuckDBPyConnection, run_id: str) -> int:
    """Mark the build of `run_id` complete once every step after dbt succeeded; return rows marked."""
    con.execute(_DDL)
    (marked,) = con.execute(
        f"update {OPS_SCHEMA}.dbt_builds set completed = true where run_id = ? and not completed", [run_id]
    ).fetchone()
    return marked
