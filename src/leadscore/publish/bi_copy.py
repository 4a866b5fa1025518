"""The copy BI tools read: a separate DuckDB file and one Parquet file per table, never the
pipeline's own warehouse. Each is written under a temporary name and renamed into place, so a
BI session that holds the previous file open keeps reading that complete version (the rename
replaces the directory entry, not the open file), never blocks the pipeline's single writer, and
never sees a half-written table. Personal data can be kept, hashed or dropped on the way.

Only tables whose rows changed are written again. Each table's rows are digested (count and sum
of row hashes) on both sides: a table with the same columns and digest in the previous copy is
kept, the new file starting as a copy of the previous one; a Parquet file whose metadata carries
the same digest is left in place. A big table with a person_id is digested per group of people
(the hash of person_id modulo 65,536): when the groups whose rows changed hold a minority of its
rows, only their rows are replaced in the previous copy's table (its Parquet file is written
whole). The digests of a publication are kept beside it (DIGESTS_NAME), with the identity of
the database file they describe, so the next one digests the warehouse only, not the previous
copy too.

The dbt descriptions travel with the data: table and column comments in the DuckDB file,
key-value metadata in each Parquet file, and data_dictionary.csv listing every published column."""

from __future__ import annotations

import csv
import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from leadscore.faults import pause_point
from leadscore.warehouse import (
    connect,
    digest_text,
    grouped_rows_digests,
    is_disk_full,
    rows_hashes,
)

PERSONAL_DATA_POLICIES = ("keep", "hash", "drop")
PUBLISHED_SCHEMAS = ("marts", "feedback")
SALT_VARIABLE = "leadscore_publish_salt"
DICTIONARY_NAME = "data_dictionary.csv"
# The rows' digests of the published tables, per group of people for the big ones (a hidden
# file: it is for the next publication, not for BI tools).
DIGESTS_NAME = ".published_digests.parquet"
DICTIONARY_HEADER = ("schema", "table", "column", "type", "description", "personal_data")
# How a personal column reached the copy, in its comment and in the dictionary's personal_data.
PERSONAL_DATA_NOTES = {
    "keep": ("kept", "Personal data, published as is."),
    "hash": ("hashed", "Personal data, published as a salted SHA-256 hash of the trimmed, lower-case value: "
                       "equal values give equal hashes, so joins and distinct counts still work."),
}


class PublishError(RuntimeError):
    """Publishing could not complete; the previous published copy is untouched."""


@dataclass(frozen=True)
class PublishedTable:
    schema: str
    table: str
    rows: int
    personal_columns: tuple[str, ...]
    # False when the table's rows were the same as in the previous copy, which kept them.
    rewritten: bool = True
    # Rows written again when only the changed people's rows were replaced (None: written whole).
    patched_rows: int | None = None


@dataclass(frozen=True)
class TableDocs:
    """What BI users read about a table: its description, its columns' and where it comes from."""

    description: str
    columns: Mapping[str, str] = field(default_factory=dict)
    dbt_model: str | None = None


@dataclass(frozen=True)
class ManifestCatalog:
    """What publishing needs from the dbt manifest, read from it in one pass, per (schema, table):
    the columns whose yml meta says `personal_data: true`, the models whose config says
    `meta: {publish: false}` (tables of a published schema only the pipeline reads, such as the
    predictive model's feature rows) and the yml descriptions."""

    personal_columns: dict[tuple[str, str], set[str]]
    unpublished: set[tuple[str, str]]
    docs: dict[tuple[str, str], TableDocs]


def read_manifest(manifest_path: Path) -> ManifestCatalog:
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    catalog = ManifestCatalog({}, set(), {})
    for node in manifest["nodes"].values():
        if node.get("resource_type") != "model":
            continue
        relation = (node["schema"], node.get("alias") or node["name"])
        columns = node.get("columns", {})
        tagged = {name for name, column in columns.items() if (column.get("meta") or {}).get("personal_data") is True}
        if tagged:
            catalog.personal_columns[relation] = tagged
        if (node.get("config", {}).get("meta") or {}).get("publish") is False:
            catalog.unpublished.add(relation)
        catalog.docs[relation] = TableDocs(
            description=" ".join((node.get("description") or "").split()),
            columns={name: " ".join(text.split()) for name, column in columns.items()
                     if (text := column.get("description") or "")},
            dbt_model=node["name"],
        )
    return catalog


def personal_columns_from_manifest(manifest_path: Path) -> dict[tuple[str, str], set[str]]:
    """Columns whose yml meta says `personal_data: true`, per (schema, table) of the dbt manifest."""
    return read_manifest(manifest_path).personal_columns


@dataclass(frozen=True)
class Publication:
    database: Path
    parquet_dir: Path
    tables: list[PublishedTable]
    dictionary: Path


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


# A previous copy whose file is more than this share of free blocks (left by tables dropped and
# written again) is rewritten whole, so the file never grows past about twice its data.
MAX_FREE_SHARE = 0.5
# Tables with this column are digested per group of its values (PATCH_BUCKETS groups, by hash),
# and, when big enough, patched: the rows of the groups that changed are deleted from the
# previous copy's table and inserted again, when they are at most PATCH_MAX_SHARE of its rows.
# 65,536 groups: an hour's or a day's changed people (hundreds to a few thousand at medium
# size) then touch a few percent of the rows.
PATCH_KEY = "person_id"
PATCH_BUCKETS = 65536
PATCH_MIN_ROWS = 100_000
PATCH_MAX_SHARE = 0.5


@dataclass(frozen=True)
class PlannedTable:
    """A table to publish: its source columns, the select list that publishes them, and the
    digest of the rows that select list gives (their count and the sum of the rows' hashes)."""

    schema: str
    table: str
    columns: list[str]
    personal: set[str]
    selected: list[str]
    published_types: list[tuple[str, str]]
    rows: int
    digest: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.schema, self.table)

    @property
    def name(self) -> str:
        return f"{quoted(self.schema)}.{quoted(self.table)}"

    @property
    def select(self) -> str:
        return published_select(self.schema, self.table, self.selected)


def published_select(schema: str, table: str, selected: list[str]) -> str:
    """The query giving a warehouse table's rows as published (`selected`: its select list)."""
    return f"select {', '.join(selected)} from source.{quoted(schema)}.{quoted(table)}"


# Per group of people (bucket), or for all the rows of a table without people (None): the count
# and the sum of the rows' hashes.
Buckets = dict[int | None, tuple[int, int]]
# Per table of a publication: its Buckets.
TableDigests = dict[tuple[str, str], Buckets]


@dataclass(frozen=True)
class PublicationPlan:
    tables: list[PlannedTable]
    # Tables whose rows and columns are the same in the previous copy: kept from it, not written.
    kept: set[tuple[str, str]]
    # Start from a copy of the previous file (kept tables present) rather than an empty one.
    update_previous: bool
    # Tables of the previous copy patched rather than written: the groups of PATCH_KEY values
    # (hash modulo PATCH_BUCKETS) whose rows are replaced.
    patched: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    # The digests of the tables as this publication writes them, for the next one.
    digests: TableDigests = field(default_factory=dict)


def bucket_of(key: str) -> str:
    """The group of people of a row whose PATCH_KEY column is `key` (a column reference)."""
    return f"hash({key}) % {PATCH_BUCKETS}"


def bucket_digests(con: duckdb.DuckDBPyConnection, select: str) -> Buckets:
    """Per group of people: the count and the sum of the hashes of the rows of `select`."""
    return grouped_rows_digests(con, select, bucket_of(f"digested_row.{quoted(PATCH_KEY)}"))


def digest_of(buckets: Buckets) -> tuple[int, str]:
    """The count and digest rows_digest gives for the same rows (all the groups of a table)."""
    rows = sum(count for count, _ in buckets.values())
    return rows, digest_text(rows, sum(hashes for _, hashes in buckets.values()))


def plan_publication(warehouse: Path, database: Path, personal_columns: dict[tuple[str, str], set[str]],
                     policy: str, salt: str, unpublished: set[tuple[str, str]]) -> PublicationPlan:
    """What to publish, and which tables the previous copy (`database`) already holds with the
    same columns and rows, or with the same rows but those of a few people. Compares content,
    not build times: a table rebuilt with the same rows (an hourly run that did not touch the
    daily trend) is kept."""
    with connect(":memory:") as con:
        con.execute(f"attach {sql_string(warehouse)} as source (read_only)")
        con.execute(f"set variable {SALT_VARIABLE} = ?", [salt])
        previous_types, free_share = previous_copy(con, database)
        previous_digests = stored_digests(con, database)
        tables, kept, patched, reused_rows, digests = [], set(), {}, 0, {}
        for schema, table, columns in tables_to_publish(con, unpublished):
            personal = personal_columns.get((schema, table), set())
            selected = [sql for c in columns if (sql := column_sql(c, c in personal, policy, salt))]
            select = published_select(schema, table, selected)
            types = [(name, kind) for name, kind, *_ in con.execute(f"describe ({select})").fetchall()]
            by_people = PATCH_KEY in [name for name, _ in types]
            # Per group of people, or all rows as one group (None).
            groups = bucket_digests(con, select) if by_people else {None: rows_hashes(con, select)}
            rows, digest = digest_of(groups)
            digests[(schema, table)] = groups
            planned = PlannedTable(schema, table, columns, personal, selected, types, rows, digest)
            tables.append(planned)
            if previous_types.get(planned.key) != types:
                continue
            previous = f"select * from previous.{planned.name}"
            stored = previous_digests.get(planned.key, {})
            if by_people and rows >= PATCH_MIN_ROWS:
                before = stored or bucket_digests(con, previous)
                changed = sorted(b for b in groups.keys() | before.keys() if groups.get(b) != before.get(b))
                changed_rows = sum(groups.get(b, (0, 0))[0] for b in changed)
                if not changed:
                    kept.add(planned.key)
                    reused_rows += rows
                elif changed_rows + sum(before.get(b, (0, 0))[0] for b in changed) <= PATCH_MAX_SHARE * (
                        rows + digest_of(before)[0]):
                    patched[planned.key] = changed
                    reused_rows += rows - changed_rows
            elif digest_of(stored or {None: rows_hashes(con, previous)})[1] == digest:
                kept.add(planned.key)
                reused_rows += rows
        # Copying the previous file is cheap next to writing tables (medium size: 1.4 s for the
        # 1.9 GB file, 40 s to write its tables), but not free: worth it when the unchanged
        # rows (kept tables, unchanged people of patched ones) are a tenth of the rows or more.
        update_previous = bool(kept or patched) and free_share <= MAX_FREE_SHARE and \
            reused_rows >= 0.1 * sum(t.rows for t in tables)
        if not update_previous:
            return PublicationPlan(tables, set(), False, digests=digests)
        return PublicationPlan(tables, kept, True, patched, digests)


def file_identity(path: Path) -> str:
    """What tells a file from another, or from itself rewritten: its inode, size and modification
    time (a rename keeps all three)."""
    found = path.stat()
    return f"{found.st_ino}:{found.st_size}:{found.st_mtime_ns}"


def stored_digests(con: duckdb.DuckDBPyConnection, database: Path) -> TableDigests:
    """The digests the previous publication kept beside `database`, when they describe that very
    file (the same identity); nothing otherwise, so they are computed from it."""
    path = database.with_name(DIGESTS_NAME)
    if not database.exists() or not path.exists():
        return {}
    try:
        identity = dict(con.execute("select decode(key), decode(value) from parquet_kv_metadata(?)",
                                    [str(path)]).fetchall()).get("database_identity")
        if identity != file_identity(database):
            return {}
        found: TableDigests = {}
        for schema, table, bucket, rows, hashes in con.execute(
                "select schema_name, table_name, bucket, rows, hashes from read_parquet(?)", [str(path)]).fetchall():
            found.setdefault((schema, table), {})[bucket] = (rows, int(hashes))
        return found
    except (duckdb.Error, ValueError):
        return {}


def write_digests(con: duckdb.DuckDBPyConnection, path: Path, digests: TableDigests, database_identity: str) -> None:
    """Keep a publication's digests in `path` (Parquet), naming the database file they describe.
    The sums of hashes exceed 64 bits: they are kept as text."""
    con.execute("create or replace temp table published_digests (schema_name varchar, table_name varchar, "
                "bucket ubigint, rows bigint, hashes varchar)")
    for (schema, table), groups in digests.items():
        con.execute("insert into published_digests select ?, ?, unnest(?::ubigint[]), unnest(?::bigint[]), "
                    "unnest(?::varchar[])", [schema, table, list(groups), [rows for rows, _ in groups.values()],
                                             [str(hashes) for _, hashes in groups.values()]])
    con.execute(f"copy published_digests to {sql_string(path)} (format parquet, "
                f"kv_metadata {kv_metadata_sql({'database_identity': database_identity})})")
    con.execute("drop table published_digests")


def previous_copy(con: duckdb.DuckDBPyConnection, database: Path) -> tuple[dict[tuple[str, str], list], float]:
    """The previous copy's tables with their column names and types, and its share of free
    blocks; nothing when there is none or it cannot be read (it is then written anew)."""
    if not database.exists():
        return {}, 0.0
    try:
        con.execute(f"attach {sql_string(database)} as previous (read_only)")
    except duckdb.Error:
        return {}, 0.0
    types: dict[tuple[str, str], list] = {}
    for schema, table, name, kind in con.execute(
            """select schema_name, table_name, column_name, data_type from duckdb_columns()
               where database_name = 'previous' order by schema_name, table_name, column_index""").fetchall():
        types.setdefault((schema, table), []).append((name, kind))
    total, free = con.execute("select total_blocks, free_blocks from pragma_database_size() "
                              "where database_name = 'previous'").fetchone()
    return types, (free / total if total else 0.0)


def drop_replaced_tables(con: duckdb.DuckDBPyConnection, plan: PublicationPlan) -> None:
    """In the copy of the previous file: drop every table but the kept and patched ones, and the schemas no
    published table is in, then checkpoint so the tables written next reuse their blocks."""
    for schema, table in con.execute("select schema_name, table_name from duckdb_tables() "
                                     "where database_name = current_database()").fetchall():
        if (schema, table) not in plan.kept and (schema, table) not in plan.patched:
            con.execute(f"drop table {quoted(schema)}.{quoted(table)}")
    published_schemas = {table.schema for table in plan.tables}
    for (schema,) in con.execute("select schema_name from duckdb_schemas() "
                                 "where database_name = current_database() and not internal").fetchall():
        if schema not in published_schemas:
            con.execute(f"drop schema {quoted(schema)}")
    con.execute("checkpoint")


def publish(
    warehouse: Path,
    target_dir: Path,
    personal_columns: dict[tuple[str, str], set[str]],
    policy: str = "keep",
    salt: str = "",
    unpublished: set[tuple[str, str]] = frozenset(),
    docs: Mapping[tuple[str, str], TableDocs] | None = None,
) -> Publication:
    """Copy the marts and feedback tables of `warehouse` to `target_dir/leadscore.duckdb` and
    `target_dir/parquet/<schema>/<table>.parquet`, applying `policy` to `personal_columns` and
    leaving out the `unpublished` tables, with the `docs` as comments and Parquet metadata and
    `target_dir/data_dictionary.csv` listing every published column."""
    if policy not in PERSONAL_DATA_POLICIES:
        raise PublishError(f"personal data policy {policy!r} is not one of {', '.join(PERSONAL_DATA_POLICIES)}")
    if policy == "hash" and not salt:
        raise PublishError("hashing personal data needs a secret salt (LEADSCORE_PUBLISH_HASH_SALT): "
                           "unsalted hashes of emails or phones are found again by hashing known values")
    docs = docs or {}
    database = target_dir / "leadscore.duckdb"
    parquet_dir = target_dir / "parquet"
    dictionary = target_dir / DICTIONARY_NAME
    target_dir.mkdir(parents=True, exist_ok=True)
    partial = database.with_name(database.name + ".partial")
    partial_dictionary = dictionary.with_name(dictionary.name + ".partial")
    digests_path = database.with_name(DIGESTS_NAME)
    partial_digests = digests_path.with_name(digests_path.name + ".partial")
    remove_partial(partial)  # left over by a run killed while publishing
    partial_dictionary.unlink(missing_ok=True)
    partial_digests.unlink(missing_ok=True)
    partial_parquet: list[tuple[Path, Path]] = []
    current_parquet: set[Path] = set()
    published: list[PublishedTable] = []
    # Tables written whole from a warehouse that changed while publishing: their digests are
    # not the plan's, so the next publication computes them.
    undigested: set[tuple[str, str]] = set()
    try:
        plan = plan_publication(warehouse, database, personal_columns, policy, salt, unpublished)
        if plan.update_previous:
            # The unchanged tables come with the file; only the changed ones are written below.
            shutil.copyfile(database, partial)
        with connect(partial) as con:
            con.execute(f"attach {sql_string(warehouse)} as source (read_only)")
            con.execute(f"set variable {SALT_VARIABLE} = ?", [salt])
            if plan.update_previous:
                drop_replaced_tables(con, plan)
            for table in plan.tables:
                name = table.name
                patched_rows = None
                if table.key in plan.patched:
                    patched_rows = patch_table(con, table, plan.patched[table.key])
                    if patched_rows is None:
                        undigested.add(table.key)
                elif table.key not in plan.kept:
                    con.execute(f"create schema if not exists {quoted(table.schema)}")
                    con.execute(f"create table {name} as {table.select}")
                described = describe_table(docs.get(table.key), table.columns, table.personal, policy)
                comment_table(con, name, described, [column for column, _ in table.published_types])
                final_parquet = parquet_dir / table.schema / f"{table.table}.parquet"
                metadata = parquet_metadata(table.schema, table.table, described, policy, table.digest)
                current_parquet.add(final_parquet)
                # A file whose metadata (rows' digest included) is the same is kept as it is.
                if parquet_metadata_of(con, final_parquet) != metadata:
                    final_parquet.parent.mkdir(parents=True, exist_ok=True)
                    staged = final_parquet.with_name(final_parquet.name + ".partial")
                    # zstd's fastest level. At medium size it wrote the largest table (33.5M rows)
                    # in 84% of the default level's time, at the same size; snappy took 80% of the
                    # time for a file 1.8 times as large.
                    con.execute(f"copy {name} to {sql_string(staged)} (format parquet, compression zstd, "
                                f"compression_level 1, kv_metadata {kv_metadata_sql(metadata)})")
                    partial_parquet.append((staged, final_parquet))
                published.append(PublishedTable(table.schema, table.table, table.rows,
                                                tuple(sorted(table.personal & set(table.columns))),
                                                rewritten=table.key not in plan.kept, patched_rows=patched_rows))
                pause_point("publish_table")
            con.execute("detach source")
            write_dictionary(con, partial_dictionary, personal_columns, policy)
            con.execute("checkpoint")
        fsync(partial)
        with connect(":memory:") as con:
            write_digests(con, partial_digests, {key: found for key, found in plan.digests.items()
                                                 if key not in undigested}, file_identity(partial))
        # The database file first: it is the copy BI tools are pointed at.
        os.replace(partial, database)
        pause_point("publish_swap")
        for staged, final in [*partial_parquet, (partial_dictionary, dictionary), (partial_digests, digests_path)]:
            fsync(staged)
            os.replace(staged, final)
    except (OSError, duckdb.Error) as error:
        remove_partial(partial)
        partial_dictionary.unlink(missing_ok=True)
        partial_digests.unlink(missing_ok=True)
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
    remove_stale_parquet(parquet_dir, current_parquet)
    return Publication(database, parquet_dir, published, dictionary)


def patch_table(con: duckdb.DuckDBPyConnection, table: PlannedTable, buckets: list[int]) -> int | None:
    """In the copy of the previous file: replace the rows of the groups of people (`buckets`)
    whose rows changed, deleted and inserted again as published from the warehouse; the table
    is written whole instead if the count then differs from the plan's (the warehouse changed
    in between). Returns the rows inserted, None when written whole."""
    con.execute("create or replace temp table changed_buckets as select unnest(?::ubigint[]) as bucket", [buckets])
    in_changed = f"{bucket_of(quoted(PATCH_KEY))} in (select bucket from changed_buckets)"
    con.execute(f"delete from {table.name} where {in_changed}")
    (inserted,) = con.execute(f"insert into {table.name} select * from ({table.select}) as published "
                              f"where {in_changed}").fetchone()
    if con.execute(f"select count(*) from {table.name}").fetchone()[0] == table.rows:
        return inserted
    con.execute(f"create or replace table {table.name} as {table.select}")
    return None


@dataclass(frozen=True)
class DescribedTable:
    """A published table's comment and its published columns' comments."""

    comment: str
    columns: dict[str, str]
    dbt_model: str | None


def describe_table(docs: TableDocs | None, columns: list[str], personal: set[str], policy: str) -> DescribedTable:
    """The comments as published: a personal column says whether it is kept or hashed, and the
    table says which personal columns were dropped."""
    docs = docs or TableDocs("Written by the pipeline; the dbt project has no description of it.")
    comment = docs.description
    dropped = [column for column in columns if column in personal and policy == "drop"]
    if dropped:
        comment += f" Personal data left out of this copy: {', '.join(dropped)}."
    described = {}
    for column in columns:
        if column in dropped:
            continue
        text = docs.columns.get(column, "")
        if column in personal:
            text = f"{text} {PERSONAL_DATA_NOTES[policy][1]}".strip()
        if text:
            described[column] = text
    return DescribedTable(comment.strip(), described, docs.dbt_model)


def comment_table(con: duckdb.DuckDBPyConnection, name: str, described: DescribedTable, columns: list[str]) -> None:
    """Set the comment of the table and of each of its `columns`: none for a column without a
    description, so a kept table loses the comment of a column no longer described."""
    # COMMENT ON takes no parameters: the texts go in as escaped literals.
    con.execute(f"comment on table {name} is {sql_string(described.comment)}")
    for column in columns:
        text = described.columns.get(column)
        con.execute(f"comment on column {name}.{quoted(column)} is {sql_string(text) if text else 'null'}")


def parquet_metadata(schema: str, table: str, described: DescribedTable, policy: str, digest: str
                     ) -> dict[str, str]:
    """A Parquet file's key-value metadata (read back with DuckDB's parquet_kv_metadata). The
    rows' digest lets the next publication keep the file when its rows are the same."""
    values = {
        "table": f"{schema}.{table}",
        "description": described.comment,
        "column_descriptions": json.dumps(described.columns, ensure_ascii=False),
        "personal_data_policy": policy,
        "rows_digest": digest,
    }
    if described.dbt_model:
        values["dbt_model"] = described.dbt_model
    return values


def kv_metadata_sql(values: dict[str, str]) -> str:
    """The KV_METADATA struct of COPY ... (format parquet)."""
    return "{" + ", ".join(f"{quoted(key)}: {sql_string(value)}" for key, value in values.items()) + "}"


def parquet_metadata_of(con: duckdb.DuckDBPyConnection, path: Path) -> dict[str, str] | None:
    """The key-value metadata of a published Parquet file; None when there is none readable."""
    if not path.exists():
        return None
    try:
        return {key.decode(): value.decode() for key, value in con.execute(
            "select key, value from parquet_kv_metadata(?)", [str(path)]).fetchall()}
    except duckdb.Error:
        return None


def write_dictionary(con: duckdb.DuckDBPyConnection, path: Path,
                     personal_columns: dict[tuple[str, str], set[str]], policy: str) -> None:
    """data_dictionary.csv: one row per column of the published database, with its type and
    comment as published there."""
    rows = con.execute(
        """select schema_name, table_name, column_name, data_type, coalesce(comment, '')
           from duckdb_columns() where database_name = current_database()
           order by schema_name, table_name, column_index"""
    ).fetchall()
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(DICTIONARY_HEADER)
        for schema, table, column, data_type, comment in rows:
            personal = column in personal_columns.get((schema, table), set())
            writer.writerow((schema, table, column, data_type, comment,
                             PERSONAL_DATA_NOTES[policy][0] if personal else ""))


def remove_partial(partial: Path) -> None:
    """The unpublished file and the write-ahead log DuckDB keeps beside it until a checkpoint."""
    partial.unlink(missing_ok=True)
    partial.with_name(partial.name + ".wal").unlink(missing_ok=True)


def sql_string(text: Path | str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def fsync(path: Path) -> None:
    """Data on disk before the rename makes it visible, so a crash never leaves a torn file."""
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def remove_stale_parquet(parquet_dir: Path, current: set[Path]) -> None:
    """Drop Parquet files of tables that no longer exist, and partial files of killed runs."""
    for path in parquet_dir.rglob("*"):
        if path.is_file() and path not in current:
            path.unlink()
