"""The load ledger: `raw.load_manifest` (one row per file load) and `raw.quarantine`, and the
audit trail of the files an operator accepted despite their quarantined rows
(`raw.accepted_deliveries`, see src/leadscore/ingest/acceptance.py).

Each file (for line files, each batch of files: src/leadscore/ingest/lines.py) is loaded in one
transaction that writes its raw rows, its quarantined rows and its manifest row together, so a
crash leaves either the whole file or nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

from leadscore.faults import pause_point
from leadscore.ingest.landing import LandingFile

RAW_SCHEMA = "raw"

_DDL = f"""
create schema if not exists {RAW_SCHEMA};
create table if not exists {RAW_SCHEMA}.load_manifest (
    load_id varchar primary key,
    source varchar not null,
    object_name varchar,
    target_table varchar,
    source_file varchar not null,
    file_checksum varchar not null,
    size_bytes bigint,
    modified_ns bigint,
    rows_read bigint not null,
    rows_loaded bigint not null,
    rows_quarantined bigint not null,
    status varchar not null,
    duplicate_of varchar,
    message varchar,
    loaded_at timestamptz not null,
    header varchar[],
    lines_read bigint,
    lines_loaded bigint,
    lines_quarantined bigint,
    lines_empty bigint
);
-- Warehouses created before the header was recorded get the column (null for their old loads).
alter table {RAW_SCHEMA}.load_manifest add column if not exists header varchar[];
-- Physical lines, next to the records: a record may span lines (a quoted newline). Null for
-- loads recorded before they were counted.
alter table {RAW_SCHEMA}.load_manifest add column if not exists lines_read bigint;
alter table {RAW_SCHEMA}.load_manifest add column if not exists lines_loaded bigint;
alter table {RAW_SCHEMA}.load_manifest add column if not exists lines_quarantined bigint;
alter table {RAW_SCHEMA}.load_manifest add column if not exists lines_empty bigint;
create table if not exists {RAW_SCHEMA}.quarantine (
    load_id varchar not null,
    source varchar not null,
    source_file varchar not null,
    source_line bigint,
    reason varchar not null,
    raw_content varchar,
    quarantined_at timestamptz not null
);
-- Append-only: an operator's decisions on loads (path and checksum); a load's latest row is its state.
create table if not exists {RAW_SCHEMA}.accepted_deliveries (
    decision_id bigint not null,
    source varchar not null,
    source_file varchar not null,
    file_checksum varchar not null,
    rows_read bigint not null,
    rows_quarantined bigint not null,
    accepted boolean not null,
    reason varchar not null,
    decided_by varchar not null,
    decided_at timestamptz not null
);
"""

# Statuses in load_manifest.
LOADED = "loaded"  # rows went to the raw table (some may be quarantined)
REJECTED = "rejected"  # the whole file went to quarantine (unknown object, missing columns...)
EMPTY = "empty"  # no content: nothing to load
DUPLICATE = "duplicate"  # same bytes as a file already loaded under another name: nothing loaded


@dataclass
class FileLoad:
    """What happened to one landing file; becomes its load_manifest row."""

    source: str
    file: LandingFile
    loaded_at: datetime
    object_name: str | None = None
    target_table: str | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    status: str = LOADED
    duplicate_of: str | None = None
    message: str | None = None
    header: list[str] | None = None  # a CSV file's column names as delivered (schema drift checks)
    # Physical lines (after a CSV header). None where each record is one line: then they equal
    # the rows. Empty lines between CSV records hold nothing: neither loaded nor quarantined.
    lines_read: int | None = None
    lines_loaded: int | None = None
    lines_quarantined: int | None = None
    lines_empty: int = 0

    @property
    def load_id(self) -> str:
        # Derived from what was loaded, so replaying the same landing folder into an empty
        # warehouse gives the same ids.
        key = f"{self.file.relative_path}\n{self.file.checksum}"
        return hashlib.sha256(key.encode()).hexdigest()[:20]


def ensure_ledger(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(_DDL)
    # Warehouses created before the column existed get it (null: those files are read again once).
    con.execute(f"alter table {RAW_SCHEMA}.load_manifest add column if not exists modified_ns bigint")


def known_checksums(con: duckdb.DuckDBPyConnection, source: str) -> dict[tuple[str, int, int], str]:
    """Checksums of the source's files already recorded, by (path, size, modification time)."""
    rows = con.execute(
        f"""select source_file, size_bytes, modified_ns, file_checksum from {RAW_SCHEMA}.load_manifest
            where source = ? and modified_ns is not null""",
        [source],
    ).fetchall()
    return {(path, size, modified): checksum for path, size, modified, checksum in rows}


def utc_now() -> datetime:
    return datetime.now(UTC)


def _recorded(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    return con.execute(f"select source_file, file_checksum, status from {RAW_SCHEMA}.load_manifest").fetchall()


def _unrecorded(files: list[LandingFile], recorded: list[tuple[str, str, str]]) -> list[LandingFile]:
    # A file is known by its path and checksum together, whatever became of it (loaded,
    # rejected, empty, duplicate): a known file is never read again, a rewritten one is new.
    seen_pairs = {(path, checksum) for path, checksum, _ in recorded}
    return [file for file in files if (file.relative_path, file.checksum) not in seen_pairs]


def unrecorded_files(con: duckdb.DuckDBPyConnection, files: list[LandingFile]) -> list[LandingFile]:
    """The files a run would load or record: those `files_to_load` does not skip."""
    return _unrecorded(files, _recorded(con))


def files_to_load(
    con: duckdb.DuckDBPyConnection, source: str, files: list[LandingFile], loaded_at: datetime
) -> list[LandingFile]:
    """The files not seen before. Byte-identical copies of a loaded file (re-deliveries, even
    renamed) are recorded once as duplicates and not loaded again. Empty files are recorded as
    such: all empty files share one checksum but none is a copy of another."""
    recorded = _recorded(con)
    first_path_by_checksum = {
        checksum: path for path, checksum, status in recorded if status not in (DUPLICATE, EMPTY)
    }
    to_load = []
    for file in _unrecorded(files, recorded):
        if file.is_empty:
            with transaction(con):
                write_manifest(con, FileLoad(source=source, file=file, loaded_at=loaded_at, status=EMPTY))
            continue
        original = first_path_by_checksum.get(file.checksum)
        if original is None:
            first_path_by_checksum[file.checksum] = file.relative_path
            to_load.append(file)
            continue
        duplicate = FileLoad(source=source, file=file, loaded_at=loaded_at, status=DUPLICATE,
                             duplicate_of=original,
                             message=f"same content as {original}, already loaded")
        with transaction(con):
            write_manifest(con, duplicate)
    return to_load


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    con.execute("begin transaction")
    try:
        yield
        pause_point("ingest_commit")
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("commit")


def write_manifest(con: duckdb.DuckDBPyConnection, load: FileLoad) -> None:
    if load.rows_read != load.rows_loaded + load.rows_quarantined:
        # The ledger's promise: every line read is either loaded or quarantined.
        raise AssertionError(
            f"{load.file.relative_path}: read {load.rows_read} rows but loaded "
            f"{load.rows_loaded} and quarantined {load.rows_quarantined}"
        )
    if load.lines_read is None:
        load.lines_read, load.lines_loaded, load.lines_quarantined = (
            load.rows_read, load.rows_loaded, load.rows_quarantined)
    if load.lines_read != load.lines_loaded + load.lines_quarantined + load.lines_empty:
        # The same promise on physical lines: no line swallowed by a record it does not belong to.
        raise AssertionError(
            f"{load.file.relative_path}: read {load.lines_read} lines but loaded {load.lines_loaded}, "
            f"quarantined {load.lines_quarantined} and found {load.lines_empty} empty"
        )
    con.execute(
        f"""insert into {RAW_SCHEMA}.load_manifest (
                load_id, source, object_name, target_table, source_file, file_checksum, size_bytes,
                modified_ns, rows_read, rows_loaded, rows_quarantined, status, duplicate_of, message, loaded_at,
                header, lines_read, lines_loaded, lines_quarantined, lines_empty
            ) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            load.load_id, load.source, load.object_name, load.target_table,
            load.file.relative_path, load.file.checksum, load.file.size_bytes, load.file.modified_ns,
            load.rows_read, load.rows_loaded, load.rows_quarantined, load.status,
            load.duplicate_of, load.message, load.loaded_at, load.header,
            load.lines_read, load.lines_loaded, load.lines_quarantined, load.lines_empty,
        ],
    )


def quarantine_from(
    con: duckdb.DuckDBPyConnection, load: FileLoad, select_sql: str, params: list | None = None
) -> int:
    """Insert quarantine rows from a query returning (source_line, reason, raw_content); return
    how many were inserted."""
    inserted = con.execute(
        f"""insert into {RAW_SCHEMA}.quarantine
            select ?, ?, ?, q.source_line, q.reason, q.raw_content, ?
            from ({select_sql}) as q(source_line, reason, raw_content)""",
        [load.load_id, load.source, load.file.relative_path, load.loaded_at, *(params or [])],
    ).fetchone()
    return inserted[0]


def metadata_columns_sql(load: FileLoad, line_expr: str) -> str:
    """The load metadata every raw row carries, as a select-list fragment."""
    def quote(value: str) -> str:
        return "'" + value.replace("'", "''") + "'"

    return (
        f"{quote(load.load_id)} as _load_id, "
        f"{quote(load.file.relative_path)} as _source_file, "
        f"{quote(load.file.checksum)} as _file_checksum, "
        f"cast({line_expr} as bigint) as _source_line, "
        f"cast({quote(load.loaded_at.isoformat())} as timestamptz) as _loaded_at"
    )


METADATA_COLUMNS_DDL = (
    "_load_id varchar not null, _source_file varchar not null, _file_checksum varchar not null, "
    "_source_line bigint, _loaded_at timestamptz not null"
)


def reject_unreadable(
    con: duckdb.DuckDBPyConnection, source: str, file: LandingFile, loaded_at: datetime, error: Exception
) -> FileLoad:
    """Record a file the readers cannot get through (a broken gzip stream, line endings DuckDB's
    CSV reader rejects) as one quarantined unit, so it is counted and named instead of stopping
    the other files of its source."""
    detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    if "state machine" in detail:
        # DuckDB's CSV reader names no line here; LF and CRLF endings in one file, or a carriage
        # return inside a line, are what trips it.
        detail += " (mixed line endings, or a carriage return without a line feed?)"
    reason = f"unreadable file: {detail}"
    load = FileLoad(source=source, file=file, loaded_at=loaded_at, rows_read=1, rows_quarantined=1,
                    status=REJECTED, message=reason)
    with transaction(con):
        quarantine_from(con, load, "select cast(null as bigint), ?, cast(null as varchar)", [reason])
        write_manifest(con, load)
    return load
