"""Reading a text file one line per row with its physical line number, using DuckDB's CSV reader.

Lines DuckDB cannot read (invalid UTF-8, over the maximum line size) are quarantined with their
line number; the line numbers of the other rows are corrected for the rows it skipped.
"""

from __future__ import annotations

import duckdb

from leadscore.ingest.ledger import FileLoad, quarantine_from, transaction, write_manifest

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


def rejected_lines_sql(rejects_table: str) -> str:
    """One (line, reason, raw content) row per rejected line: DuckDB records one error per bad
    column, so a line can appear several times in its rejects table."""
    return f"""select line, string_agg(distinct {reject_reason_sql()}, '; ' order by {reject_reason_sql()}),
        any_value(csv_line) from {rejects_table} group by line order by line"""


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
    compression = "gzip" if load.file.is_gzip else "none"
    rejects, scan = f"{table}_rejects", f"{table}_scan"
    con.execute(f"drop table if exists {rejects}; drop table if exists {scan}")
    con.execute(
        f"""create or replace temp table {table}_read as
        select line, ordinality from read_csv(
            {sql_literal(str(load.file.path))}, columns = {{'line': 'VARCHAR'}}, header = false,
            delim = chr(0), quote = '', escape = '', auto_detect = false, compression = '{compression}',
            strict_mode = true, store_rejects = true, rejects_table = '{rejects}',
            rejects_scan = '{scan}', rejects_limit = 0
        ) with ordinality"""
    )
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


def load_line_file(
    con: duckdb.DuckDBPyConnection, load: FileLoad, check_sql: str, insert_sql: str
) -> FileLoad:
    """Load a line-oriented file in one transaction.

    `check_sql` selects from temp table `lines(line_number, line)` and returns every line with a
    `reason` column (null when the line is good) plus whatever parsed columns `insert_sql`
    needs; `insert_sql` inserts the good lines from temp table `checked` into the raw table.
    """
    with transaction(con):
        unreadable = load_lines(con, load, "lines")
        con.execute(f"create or replace temp table checked as {check_sql}")
        bad = quarantine_from(
            con, load, "select line_number, reason, line from checked where reason is not null"
        )
        con.execute(insert_sql)
        good = con.execute("select count(*) from checked where reason is null").fetchone()[0]
        load.rows_read = con.execute("select count(*) from lines").fetchone()[0] + unreadable
        load.rows_loaded = good
        load.rows_quarantined = unreadable + bad
        write_manifest(con, load)
        con.execute("drop table lines; drop table checked")
    return load
