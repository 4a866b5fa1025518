"""Reading a text file one line per row with its physical line number, using DuckDB's CSV reader.

Lines DuckDB cannot read (invalid UTF-8, over the maximum line size) are quarantined with their
line number; the line numbers of the other rows are corrected for the rows it skipped.

Line-oriented landing files (web logs, email events) are read many files at a time: per-file
statements, temp tables and commits cost more than the lines of a daily file.
"""

from __future__ import annotations

from collections.abc import Iterator

import duckdb

from leadscore.ingest.landing import LandingFile
from leadscore.ingest.ledger import RAW_SCHEMA, FileLoad, quarantine_from, transaction, write_manifest

# DuckDB's reject error types, in the quarantine's vocabulary.
REJECT_REASONS = {
    "INVALID ENCODING": "bad encoding: not valid UTF-8",
    "INVALID UNICODE": "bad encoding: not valid UTF-8",
    "LINE SIZE OVER MAXIMUM": "malformed line: longer than the maximum line size",
    "MISSING COLUMNS": "malformed record: fewer columns than the header",
    "TOO MANY COLUMNS": "malformed record: more columns than the header",
    "UNQUOTED VALUE": "malformed record: a quote is not closed or is misplaced",
    "CAST": "bad type",
}


def sql_literal(value: str | None) -> str:
    """A SQL text literal; None is a null text."""
    return "cast(null as varchar)" if value is None else "'" + value.replace("'", "''") + "'"


def ident(name: str) -> str:
    """A quoted SQL identifier (column names of real exports hold spaces and quotes)."""
    return '"' + name.replace('"', '""') + '"'


def reject_reason_sql(column: str = "error_type") -> str:
    cases = " ".join(
        f"when {column} = {sql_literal(k)} then {sql_literal(v)}" for k, v in REJECT_REASONS.items()
    )
    return f"case {cases} else 'malformed record: ' || lower({column}) end"


def rejected_lines_sql(rejects_table: str, by_file: bool = False) -> str:
    """One (line, reason, raw content) row per rejected line, preceded by the file's position in
    the read's file list (`file_index`) when `by_file`: DuckDB records one error per bad column,
    so a line can appear several times in its rejects table."""
    keys = "file_id, line" if by_file else "line"
    return f"""select {"file_id as file_index, " if by_file else ""}line,
        string_agg(distinct {reject_reason_sql()}, '; ' order by {reject_reason_sql()}) as reason,
        any_value(csv_line) as raw_content from {rejects_table} group by {keys} order by {keys}"""


def read_lines_sql(files: list[LandingFile], rejects_table: str, scan_table: str) -> str:
    """DuckDB's CSV reader over `files` (of one compression) as one VARCHAR column `line` per
    physical line, numbered in read order (`ordinality`; with `file_index`, the file's position
    in the list), keeping the lines it cannot read in `rejects_table`."""
    paths = ", ".join(sql_literal(str(file.path)) for file in files)
    compression = "gzip" if files[0].is_gzip else "none"
    return f"""read_csv(
            [{paths}], columns = {{'line': 'VARCHAR'}}, header = false,
            delim = chr(0), quote = '', escape = '', auto_detect = false, compression = '{compression}',
            strict_mode = true, store_rejects = true, rejects_table = '{rejects_table}',
            rejects_scan = '{scan_table}', rejects_limit = 0
        ) with ordinality"""


def corrected_line_sql(ordinality: str, rejects_table: str, header_lines: int) -> str:
    """Physical line of an accepted row, given the rejected lines DuckDB skipped before it.

    The i-th rejected line (1-based, in file order) at line r shifts every accepted row whose
    ordinal position k satisfies k >= r - header_lines - i + 1.
    """
    return f"""({ordinality} + {header_lines} + (
        select count(*) from (
            select line - {header_lines} - row_number() over (order by line) + 1 as threshold
            from (select distinct line from {rejects_table})
        ) as skipped where skipped.threshold <= {ordinality}))"""


def load_lines(con: duckdb.DuckDBPyConnection, load: FileLoad, table: str) -> int:
    """Create temp table `table(line_number, line)` from the file; return the number of lines
    quarantined for encoding or size (already written to the quarantine)."""
    rejects, scan = f"{table}_rejects", f"{table}_scan"
    con.execute(f"drop table if exists {rejects}; drop table if exists {scan}")
    con.execute(f"""create or replace temp table {table}_read as
        select line, ordinality from {read_lines_sql([load.file], rejects, scan)}""")
    rejected = quarantine_from(con, load, rejected_lines_sql(rejects))
    con.execute(
        f"""create or replace temp table {table} as
        select {corrected_line_sql('ordinality', rejects, 0)} as line_number, line
        from {table}_read"""
        if rejected
        else f"create or replace temp table {table} as select ordinality as line_number, line from {table}_read"
    )
    con.execute(f"drop table {table}_read; drop table if exists {rejects}; drop table if exists {scan}")
    return rejected


# A batch holds files up to about this many bytes of text (gzip counted at a typical ratio), so
# the temp tables of one batch stay well inside the memory limit at any data size.
BATCH_BYTES = 256 << 20
GZIP_RATIO = 8


def line_file_batches(files: list[LandingFile]) -> Iterator[list[LandingFile]]:
    """The files in batches of one compression each (read_csv takes one setting per call, and
    detects gzip by the name only), in their order within each kind."""
    for is_gzip in (False, True):
        batch: list[LandingFile] = []
        size = 0
        for file in (f for f in files if f.is_gzip == is_gzip):
            text_bytes = file.size_bytes * (GZIP_RATIO if is_gzip else 1)
            if batch and size + text_bytes > BATCH_BYTES:
                yield batch
                batch, size = [], 0
            batch.append(file)
            size += text_bytes
        if batch:
            yield batch


def load_line_files(
    con: duckdb.DuckDBPyConnection, loads: list[FileLoad], check_sql: str, table: str, columns_sql: str
) -> list[FileLoad]:
    """Load line-oriented files of one compression in one read and one transaction.

    `check_sql` selects from temp table `lines(file_index, line_number, line)` and returns every
    line with its `file_index`, `line_number`, a `reason` column (null when the line is good) and
    the parsed columns `columns_sql` selects; the good lines go into `table`, followed by the
    load metadata of their file. Each file gets its quarantine rows and manifest row.
    """
    with transaction(con):
        con.execute("drop table if exists batch_rejects; drop table if exists batch_scan")
        con.execute("create or replace temp table batch_files (file_index integer, load_id varchar, "
                    "source varchar, source_file varchar, file_checksum varchar, loaded_at timestamptz)")
        con.executemany(
            "insert into batch_files values (?, ?, ?, ?, ?, cast(? as timestamptz))",
            [[i, load.load_id, load.source, load.file.relative_path, load.file.checksum,
              load.loaded_at.isoformat()] for i, load in enumerate(loads)],
        )
        # WITH ORDINALITY numbers the rows in the reader's order through a streaming
        # row_number() that DuckDB runs on one thread, whatever `threads` or
        # preserve_insertion_order say: files come one after the other, each in line order.
        con.execute(f"""create or replace temp table batch_read as
            select file_index, ordinality, line
            from {read_lines_sql([load.file for load in loads], 'batch_rejects', 'batch_scan')}""")
        # A file's rows are contiguous in that order: its k-th accepted row is ordinality - first + 1.
        con.execute("""create or replace temp table batch_spans as
            select file_index, min(ordinality) as first, count(*) as accepted,
                   max(ordinality) - min(ordinality) + 1 as span
            from batch_read group by file_index""")
        if con.execute("select count(*) from batch_spans where span <> accepted").fetchone()[0]:
            raise AssertionError("DuckDB's reader interleaved the files of a batch: line numbers would be wrong")
        # Lines the reader rejected (encoding, size), one row each (DuckDB records one per bad
        # column); rejects' file_id is the file's position in the list, as file_index.
        con.execute(f"create or replace temp table batch_rejected as {rejected_lines_sql('batch_rejects', True)}")
        # As corrected_line_sql, per file: the i-th rejected line r (1-based, in file order)
        # shifts every accepted row whose position k satisfies k >= r - i + 1; several rejected
        # lines in a row share a threshold, so the shift is the largest i at the largest
        # threshold <= k.
        con.execute("""create or replace temp table lines as
            with skipped as (
                select file_index, threshold, max(i) as shift from (
                    select file_index, line - row_number() over (partition by file_index order by line) + 1
                               as threshold,
                           row_number() over (partition by file_index order by line) as i
                    from batch_rejected)
                group by all
            ), numbered as (
                select r.file_index, r.ordinality - s.first + 1 as k, r.line
                from batch_read r join batch_spans s using (file_index)
            )
            select n.file_index, n.k + coalesce(skipped.shift, 0) as line_number, n.line
            from numbered n asof left join skipped
                on n.file_index = skipped.file_index and n.k >= skipped.threshold""")
        con.execute("drop table batch_read")  # one copy of the batch's text at a time
        con.execute(f"create or replace temp table checked as {check_sql}")
        con.execute("drop table lines")
        con.execute(f"""insert into {RAW_SCHEMA}.quarantine
            select b.load_id, b.source, b.source_file, q.line_number, q.reason, q.raw_content, b.loaded_at
            from (select file_index, line as line_number, reason, raw_content from batch_rejected
                  union all
                  select file_index, line_number, reason, line from checked where reason is not null
            ) as q join batch_files b using (file_index)""")
        con.execute(f"""insert into {table}
            select {columns_sql}, _batch.load_id as _load_id, _batch.source_file as _source_file,
                   _batch.file_checksum as _file_checksum, cast(line_number as bigint) as _source_line,
                   _batch.loaded_at as _loaded_at
            from checked join batch_files as _batch using (file_index) where reason is null""")
        counts = dict.fromkeys(range(len(loads)), (0, 0))
        counts.update({i: (good, bad) for i, good, bad in con.execute(
            """select file_index, count(*) filter (reason is null), count(*) filter (reason is not null)
               from checked group by file_index""").fetchall()})
        unreadable = dict(con.execute("select file_index, count(*) from batch_rejected group by 1").fetchall())
        for i, load in enumerate(loads):
            good, bad = counts[i]
            load.rows_loaded = good
            load.rows_quarantined = bad + unreadable.get(i, 0)
            load.rows_read = good + bad + unreadable.get(i, 0)
            write_manifest(con, load)
        con.execute("drop table batch_files; drop table batch_spans; drop table batch_rejected; drop table checked; "
                    "drop table if exists batch_rejects; drop table if exists batch_scan")
    return loads
