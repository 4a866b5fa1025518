"""The copy BI tools read: a separate DuckDB file and one Parquet file per table, never the
pipeline's own warehouse. Each is written under a temporary name and renamed into place, so a
BI session that holds the previous file open keeps reading that complete version (the rename
replaces the directory entry, not the open file), never blocks the pipeline's single writer, and
never sees a half-written table. Personal data can be kept, hashed or dropped on the way."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from assets.faults import pause_point
from assets.warehouse import connect, is_disk_full

PERSONAL_DATA_POLICIES = ("keep", "hash", "drop")
PUBLISHED_SCHEMAS = ("marts", "feedback")
SALT_VARIABLE = "leadscore_publish_salt"


class PublishError(RuntimeError):
    """Publishing could not complete; the previous published copy is untouched."""


@dataclass(frozen=True)
class PublishedTable:
    schema: str
    table: str
    rows: int
    personal_columns: tuple[str, ...]


def personal_columns_from_manifest(manifest_path: Path) -> dict[tuple[str, str], set[str]]:
    """Columns whose yml meta says `personal_data: true`, per (schema, table) of the dbt manifest."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    found: dict[tuple[str, str], set[str]] = {}
    for node in manifest["nodes"].values():
        if node.get("resource_type") != "model":
            continue
        tagged = {name for name, column in node.get("columns", {}).items()
                  if (column.get("meta") or {}).get("personal_data") is True}
        if tagged:
            found[(node["schema"], node.get("alias") or node["name"])] = tagged
    return found


def unpublished_tables_from_manifest(manifest_path: Path) -> set[tuple[str, str]]:
    """Models whose yml config says `meta: {publish: false}`: tables of a published schema that
    only the pipeline reads (the predictive model's feature rows, one per person and snapshot)."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    return {
        (node["schema"], node.get("alias") or node["name"])
        for node in manifest["nodes"].values()
        if node.get("resource_type") == "model" and (node.get("config", {}).get("meta") or {}).get("publish") is False
    }


@dataclass(frozen=True)
class Publication:
    database: Path
    parquet_dir: Path
    tables: list[PublishedTable]


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def column_sql(column: str, personal: bool, policy: str, salt: str) -> str | None:
    """The select expression that publishes `column` under the personal data policy (None: left out)."""
    if not personal or policy == "keep":
        return quoted(column)
    if policy == "drop":
        return None
    # Salted, so a list of known emails cannot be hashed to find people; same input, same hash,
    # so BI joins and distinct counts still work. The salt is a session variable, never part of
    # the SQL text, so no error message or log line can show it.
    return (f"case when {quoted(column)} is null then null "
            f"else sha256(getvariable('{SALT_VARIABLE}') || lower(trim(cast({quoted(column)} as varchar)))) "
            f"end as {quoted(column)}")


def tables_to_publish(con: duckdb.DuckDBPyConnection, unpublished: set[tuple[str, str]] = frozenset()
                      ) -> list[tuple[str, str, list[str]]]:
    rows = con.execute(
        f"""select table_schema, table_name, list(column_name order by ordinal_position)
            from information_schema.columns
            where table_catalog = 'source'
              and table_schema in ({", ".join("'" + s + "'" for s in PUBLISHED_SCHEMAS)})
            group by table_schema, table_name
            order by table_schema, table_name"""
    ).fetchall()
    return [(schema, table, columns) for schema, table, columns in rows if (schema, table) not in unpublished]


def publish(
    warehouse: Path,
    target_dir: Path,
    personal_columns: dict[tuple[str, str], set[str]],
    policy: str = "keep",
    salt: str = "",
    unpublished: set[tuple[str, str]] = frozenset(),
) -> Publication:
    """Copy the marts and feedback tables of `warehouse` to `target_dir/leadscore.duckdb` and
    `target_dir/parquet/<schema>/<table>.parquet`, applying `policy` to `personal_columns` and
    leaving out the `unpublished` tables."""
    if policy not in PERSONAL_DATA_POLICIES:
        raise PublishError(f"personal data policy {policy!r} is not one of {', '.join(PERSONAL_DATA_POLICIES)}")
    if policy == "hash" and not salt:
        raise PublishError("hashing personal data needs a secret salt (LEADSCORE_PUBLISH_HASH_SALT): "
                           "unsalted hashes of emails or phones are found again by hashing known values")
    database = target_dir / "leadscore.duckdb"
    parquet_dir = target_dir / "parquet"
    target_dir.mkdir(parents=True, exist_ok=True)
    partial = database.with_name(database.name + ".partial")
    remove_partial(partial)  # left over by a run killed while publishing
    partial_parquet: list[tuple[Path, Path]] = []
    published: list[PublishedTable] = []
    try:
        with connect(partial) as con:
            con.execute(f"attach {sql_string(warehouse)} as source (read_only)")
            con.execute(f"set variable {SALT_VARIABLE} = ?", [salt])
            for schema, table, columns in tables_to_publish(con, unpublished):
                personal = personal_columns.get((schema, table), set())
                selected = [sql for c in columns if (sql := column_sql(c, c in personal, policy, salt))]
                name = f"{quoted(schema)}.{quoted(table)}"
                con.execute(f"create schema if not exists {quoted(schema)}")
                con.execute(f"create table {name} as select {', '.join(selected)} from source.{name}")
                final_parquet = parquet_dir / schema / f"{table}.parquet"
                final_parquet.parent.mkdir(parents=True, exist_ok=True)
                staged = final_parquet.with_name(final_parquet.name + ".partial")
                con.execute(f"copy {name} to {sql_string(staged)} (format parquet, compression zstd)")
                partial_parquet.append((staged, final_parquet))
                rows = con.execute(f"select count(*) from {name}").fetchone()[0]
                published.append(PublishedTable(schema, table, rows, tuple(sorted(personal & set(columns)))))
                pause_point("publish_table")
            con.execute("detach source")
            con.execute("checkpoint")
        fsync(partial)
        # The database file first: it is the copy BI tools are pointed at.
        os.replace(partial, database)
        pause_point("publish_swap")
        for staged, final in partial_parquet:
            fsync(staged)
            os.replace(staged, final)
    except (OSError, duckdb.Error) as error:
        remove_partial(partial)
        for staged, _ in partial_parquet:
            staged.unlink(missing_ok=True)
        if is_disk_full(error):
            cause, advice = f"the disk holding {target_dir} is full", "free some space and run again"
        elif "lock" in str(error).lower():
            cause, advice = f"the warehouse {warehouse} is locked by another process", \
                "close that session (BI tools read the published copy) and run again"
        else:
            cause, advice = f"publishing to {target_dir} failed", "see the error"
        raise PublishError(f"{cause} ({error}); the previous copy is unchanged: {advice}") from error
    remove_stale_parquet(parquet_dir, {final for _, final in partial_parquet})
    return Publication(database, parquet_dir, published)


def remove_partial(partial: Path) -> None:
    """The unpublished file and the write-ahead log DuckDB keeps beside it until a checkpoint."""
    partial.unlink(missing_ok=True)
    partial.with_name(partial.name + ".wal").unlink(missing_ok=True)


def sql_string(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def fsync(path: Path) -> None:
    """Data on disk before the rename makes it visible, so a crash never leaves a torn file."""
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def remove_stale_parquet(parquet_dir: Path, current: set[Path]) -> None:
    """Drop Parquet files of tables that no longer exist, and partial files of killed runs."""
    for path in parquet_dir.rglob("*"):
        if path.is_file() and path not in current:
            path.unlink()
