"""CSV families (CRM objects, form submissions, signals, score adjustments) into raw tables, driven by a mapping.

Every record ends in its raw table (mapped columns as text, unmapped columns kept in
`custom_fields` as JSON) or in the quarantine with the reason: malformed record, bad encoding,
missing key or required value, or a value that does not parse as its column's type.
"""

from __future__ import annotations

import csv
import gzip
import io
from datetime import datetime

import duckdb

from assets.ingest.landing import LandingFile
from assets.ingest.ledger import (
    METADATA_COLUMNS_DDL,
    RAW_SCHEMA,
    REJECTED,
    FileLoad,
    metadata_columns_sql,
    quarantine_from,
    transaction,
    write_manifest,
)
from assets.ingest.lines import corrected_line_sql, load_lines, rejected_lines_sql, sql_literal
from assets.ingest.mapping import BOOLEAN_FALSE, BOOLEAN_TRUE, ColumnSpec, Mapping, ObjectMapping


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def ensure_tables(con: duckdb.DuckDBPyConnection, mapping: Mapping) -> None:
    """Create every raw table the mapping names (empty ones too: staging reads them all), and add
    columns a newer mapping introduced."""
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    for table in mapping.tables:
        columns: list[str] = []
        for obj in mapping.objects:
            if obj.table == table:
                columns += [c.name for c in obj.columns if c.name not in columns]
        column_ddl = ", ".join(f"{ident(c)} varchar" for c in columns)
        con.execute(
            f"create table if not exists {RAW_SCHEMA}.{table} "
            f"({column_ddl}, custom_fields json, {METADATA_COLUMNS_DDL})"
        )
        existing = {
            row[0] for row in con.execute(
                "select column_name from information_schema.columns "
                "where table_schema = ? and table_name = ?", [RAW_SCHEMA, table]
            ).fetchall()
        }
        for column in columns:
            if column not in existing:
                con.execute(f"alter table {RAW_SCHEMA}.{table} add column {ident(column)} varchar")


def read_header(file: LandingFile) -> list[str]:
    opener = gzip.open if file.is_gzip else open
    with opener(file.path, "rb") as handle:
        first_line = handle.readline()
    text = first_line.decode("utf-8", errors="replace").lstrip("\ufeff")
    return next(csv.reader(io.StringIO(text)), [])


def invalid_value_sql(column: ColumnSpec, value: str) -> str | None:
    """A SQL condition true when a non-empty value does not parse as the column's type."""
    if column.type == "timestamp":
        return f"try_cast({value} as timestamptz) is null"
    if column.type == "date":
        return f"try_cast({value} as date) is null"
    if column.type == "number":
        return f"try_cast({value} as double) is null"
    if column.type == "integer":
        return f"coalesce(try_cast({value} as double) <> floor(try_cast({value} as double)), true)"
    if column.type == "boolean":
        allowed = ", ".join(sql_literal(v) for v in BOOLEAN_TRUE + BOOLEAN_FALSE)
        return f"lower(trim({value})) not in ({allowed})"
    return None


def value_sql(column: ColumnSpec, header: list[str]) -> str:
    """The raw text of a mapped column: empty strings are null; composite sources joined by ':'."""
    present = [ident(source) for source in column.sources if source in header]
    if not present:
        return "cast(null as varchar)"
    if len(present) == 1:
        return f"nullif({present[0]}, '')"
    return f"nullif(concat_ws(':', {', '.join(present)}), '')"


def _reject_whole_file(con: duckdb.DuckDBPyConnection, load: FileLoad, reason: str) -> FileLoad:
    """Quarantine every record line of a file that cannot be mapped (header excluded)."""
    with transaction(con):
        unreadable = load_lines(con, load, "lines")
        rejected = quarantine_from(
            con, load, "select line_number, ?, line from lines where line_number > 1", [reason]
        )
        load.rows_read = unreadable + rejected
        load.rows_quarantined = unreadable + rejected
        load.status = REJECTED
        load.message = reason
        write_manifest(con, load)
        con.execute("drop table lines")
    return load


def load_file(
    con: duckdb.DuckDBPyConnection, file: LandingFile, source: str, mapping: Mapping, loaded_at: datetime
) -> FileLoad:
    load = FileLoad(source=source, file=file, loaded_at=loaded_at)
    obj = mapping.object_for(file.path.name)
    if obj is None:
        known = ", ".join(o.object_name for o in mapping.objects)
        return _reject_whole_file(
            con, load, f"unknown object: no entry in mapping {mapping.name} for this file (mapped: {known})"
        )
    load.object_name, load.target_table = obj.object_name, f"{RAW_SCHEMA}.{obj.table}"
    header = read_header(file)
    load.header = header
    missing = sorted({s for c in obj.columns if c.required for s in c.sources} - set(header))
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if missing or duplicated or not header:
        problem = (
            f"missing column(s) {', '.join(missing)} required by mapping {mapping.name} object {obj.object_name}"
            if missing else f"duplicated column(s) in header: {', '.join(duplicated) or '(empty header)'}"
        )
        return _reject_whole_file(con, load, problem)
    if "" in header:
        # DuckDB cannot name a column with the empty string.
        return _reject_whole_file(con, load, f"header has an empty column name (column {header.index('') + 1})")
    return _load_records(con, load, obj, header)


def _load_records(
    con: duckdb.DuckDBPyConnection, load: FileLoad, obj: ObjectMapping, header: list[str]
) -> FileLoad:
    columns = "{" + ", ".join(f"{sql_literal(h)}: 'VARCHAR'" for h in header) + "}"
    compression = "gzip" if load.file.is_gzip else "none"
    checks = []
    for column in obj.columns:
        value = value_sql(column, header)
        if column.required:
            label = "missing key" if column.name == obj.key else "missing required value"
            checks.append((f"{value} is null or trim({value}) = ''", f"{label}: {'+'.join(column.sources)}"))
        invalid = invalid_value_sql(column, value)
        if invalid:
            checks.append((f"{value} is not null and {invalid}",
                           f"bad type: {'+'.join(column.sources)} is not a {column.type}"))
    by_name = {column.name: column for column in obj.columns}
    for group in obj.exactly_one_of:
        filled = " + ".join(f"case when {value_sql(by_name[name], header)} is null then 0 else 1 end" for name in group)
        sources = ", ".join("+".join(by_name[name].sources) for name in group)
        checks.append((f"({filled}) <> 1", f"exactly one of {sources} is required"))
    reason_sql = "concat_ws('; ', " + ", ".join(
        f"case when {condition} then {sql_literal(reason)} end" for condition, reason in checks
    ) + ")" if checks else "''"
    unmapped = [h for h in header if h not in obj.source_columns]
    custom_sql = (
        "json_object(" + ", ".join(f"{sql_literal(h)}, {ident(h)}" for h in unmapped) + ")"
        if unmapped else "cast(null as json)"
    )
    target_columns = [c.name for c in obj.columns]

    with transaction(con):
        con.execute("drop table if exists csv_rejects; drop table if exists csv_scan")
        con.execute(
            f"""create or replace temp table records as
            select * from read_csv(
                {sql_literal(str(load.file.path))}, columns = {columns}, header = true,
                delim = ',', quote = '"', escape = '"', auto_detect = false,
                compression = '{compression}', strict_mode = true, store_rejects = true,
                rejects_table = 'csv_rejects', rejects_scan = 'csv_scan', rejects_limit = 0
            ) with ordinality"""
        )
        unreadable = quarantine_from(con, load, rejected_lines_sql("csv_rejects"))
        line_sql = corrected_line_sql("ordinality", "csv_rejects", 1)
        con.execute(
            f"""create or replace temp table checked as
            select *, {line_sql} as _line, nullif({reason_sql}, '') as _reason from records"""
        )
        # A bad row's raw content: the record as JSON, so nothing is lost.
        all_columns = "json_object(" + ", ".join(f"{sql_literal(h)}, {ident(h)}" for h in header) + ")"
        bad = quarantine_from(
            con, load,
            f"select _line, _reason, cast({all_columns} as varchar) from checked where _reason is not null",
        )
        con.execute(
            f"""insert into {RAW_SCHEMA}.{obj.table}
                ({", ".join(ident(c) for c in target_columns)}, custom_fields,
                 _load_id, _source_file, _file_checksum, _source_line, _loaded_at)
            select {", ".join(value_sql(c, header) for c in obj.columns)}, {custom_sql},
                   {metadata_columns_sql(load, '_line')}
            from checked where _reason is null"""
        )
        good = con.execute("select count(*) from checked where _reason is null").fetchone()[0]
        load.rows_read = con.execute("select count(*) from records").fetchone()[0] + unreadable
        load.rows_loaded = good
        load.rows_quarantined = unreadable + bad
        write_manifest(con, load)
        con.execute(
            "drop table records; drop table checked; drop table if exists csv_rejects; "
            "drop table if exists csv_scan"
        )
    return load
