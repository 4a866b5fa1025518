"""CSV families (CRM objects, form submissions, signals, score adjustments) into raw tables, driven by a mapping.

Every record ends in its raw table (mapped columns as text, unmapped columns kept in
`custom_fields` as JSON) or in the quarantine with the reason: malformed record, bad encoding,
missing key or required value, or a value that does not parse as its column's type.
"""

from __future__ import annotations

import csv
import gzip
import io
import tempfile
from array import array
from bisect import bisect_right
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from leadscore.ingest.landing import LandingFile
from leadscore.ingest.ledger import (
    METADATA_COLUMNS_DDL,
    RAW_SCHEMA,
    REJECTED,
    FileLoad,
    metadata_columns_sql,
    quarantine_from,
    transaction,
    write_manifest,
)
from leadscore.ingest.lines import ident, load_lines, reject_reason_sql, sql_literal
from leadscore.ingest.mapping import Mapping, ObjectMapping, column_checks, value_sql


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
    """The first line's column names as delivered (a byte-order mark stripped)."""
    opener = gzip.open if file.is_gzip else open
    with opener(file.path, "rb") as handle:
        first_line = handle.readline()
    text = first_line.decode("utf-8", errors="replace").lstrip("\ufeff")
    return next(csv.reader(io.StringIO(text)), [])


@dataclass
class Header:
    """A delivered header, cleaned: names trimmed, empty trailing columns set apart."""

    names: list[str]  # the named columns, in file order
    empty_trailing: int  # unnamed columns after the last name (every line ending with a comma)

    @property
    def width(self) -> int:
        return len(self.names) + self.empty_trailing

    def unnamed(self) -> list[tuple[int, str]]:
        """(1-based column position, the name it is read under) of each empty trailing column."""
        return [(position, f"{UNNAMED_PREFIX}{position}") for position in range(len(self.names) + 1, self.width + 1)]


UNNAMED_PREFIX = "__unnamed_column_"
# Two leading columns the loader adds to each record it hands to DuckDB: its first physical line
# and how many lines it spans.
FIRST_LINE, LINE_COUNT = "__first_line", "__line_count"


def clean_header(delivered: list[str]) -> Header:
    names = [name.strip() for name in delivered]
    named = len(names)
    while named and names[named - 1] == "":
        named -= 1
    return Header(names[:named], len(names) - named)


def header_problem(file: LandingFile, header: Header) -> str | None:
    """Why no record of the file can be mapped by its header, or None."""
    if not header.names:
        return "duplicated column(s) in header: (empty header)"
    if "" in header.names:
        # DuckDB cannot name a column with the empty string.
        return f"header has an empty column name (column {header.names.index('') + 1})"
    positions: dict[str, list[int]] = {}
    for position, name in enumerate(header.names, start=1):
        # DuckDB column names ignore case: Email and EMAIL are one column to it.
        positions.setdefault(name.lower(), []).append(position)
    repeated = [
        f"{header.names[spots[0] - 1]} (columns {', '.join(map(str, spots))})"
        for spots in positions.values() if len(spots) > 1
    ]
    if repeated:
        return f"duplicated column(s) in header of {file.relative_path}: {'; '.join(repeated)}"
    return None


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


@dataclass
class Scan:
    """What a pass over a CSV file's physical lines found, before DuckDB parses the records."""

    records_path: Path  # the records to parse, each prefixed with its first line and line count
    offsets: array  # byte offset of each record in records_path
    first_lines: array
    line_counts: array
    broken: list[tuple[int, str, str]] = field(default_factory=list)  # (line, reason, raw content)
    lines_read: int = 0  # physical lines after the header
    lines_empty: int = 0  # empty lines between records

    def record_at(self, byte_position: int) -> int:
        return bisect_right(self.offsets, byte_position) - 1

    def raw_record(self, index: int) -> str:
        """A record as delivered (without the prefix the scan added)."""
        with open(self.records_path, "rb") as handle:
            handle.seek(self.offsets[index])
            end = self.offsets[index + 1] if index + 1 < len(self.offsets) else None
            data = handle.read(None if end is None else end - self.offsets[index])
        prefix = f"{self.first_lines[index]},{self.line_counts[index]},".encode()
        return data.removeprefix(prefix).rstrip(b"\r\n").decode("utf-8", errors="replace")


class _Lines:
    """Numbered physical lines for Python's CSV reader, which can be handed lines back to read
    again, and which remembers the lines of the record being read."""

    def __init__(self, lines: Iterator[bytes]):
        self._numbered = enumerate(lines, start=2)  # line 1 is the header
        self._again: deque[tuple[int, bytes]] = deque()
        self.consumed: list[tuple[int, bytes]] = []
        self.count = 0
        self.read_again_from: set[int] = set()  # lines handed back after a broken record

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self._again:
            item = self._again.popleft()
        else:
            item = next(self._numbered)
            self.count += 1
        self.consumed.append(item)
        return item[1].decode("utf-8", errors="replace")

    def read_again(self, lines: list[tuple[int, bytes]]) -> None:
        self._again.extendleft(reversed(lines))
        self.read_again_from.update(number for number, _ in lines)


def _text(raw: bytes) -> str:
    return raw.rstrip(b"\r\n").decode("utf-8", errors="replace")


# Python's CSV reader stops at 128 KB a field; DuckDB reads lines up to 2 MB (longer ones are
# quarantined by it, with that reason).
_FIELD_SIZE_LIMIT = 1 << 24


def scan_records(file: LandingFile, header: Header, records_path: Path) -> Scan:
    """Find each record's physical lines and write the records, prefixed with them, for DuckDB.

    A record that runs over several lines (a quoted field with a newline) is one record when it
    has the header's number of fields; otherwise its first line opened a quote that is never
    closed: that line alone is quarantined and the lines after it are read again, so one broken
    line does not swallow the good ones below it."""
    scan = Scan(records_path, array("q"), array("q"), array("q"))
    opener = gzip.open if file.is_gzip else open
    limit = csv.field_size_limit(_FIELD_SIZE_LIMIT)
    try:
        with opener(file.path, "rb") as source, open(records_path, "wb") as out:
            header_line = source.readline().removeprefix(b"\xef\xbb\xbf")
            ending = b"\r\n" if header_line.endswith(b"\r\n") else b"\n"
            written = out.write(f"{FIRST_LINE},{LINE_COUNT},".encode() + header_line.rstrip(b"\r\n") + ending)
            lines = _Lines(source)
            reader = csv.reader(lines, strict=False)
            while True:
                lines.consumed = []
                try:
                    fields = next(reader)
                except StopIteration:
                    break
                except csv.Error as error:
                    _quarantine_first_line(scan, lines, f"malformed record: {error} (line {lines.consumed[0][0]})")
                    continue
                span = lines.consumed
                if not fields:
                    scan.lines_empty += 1
                    continue
                first, last = span[0][0], span[-1][0]
                if len(span) == 1 and first in lines.read_again_from and span[0][1].count(b'"') % 2:
                    # A quote that opens nothing: most likely the end of the quoted field a broken
                    # line above opened.
                    _quarantine_first_line(
                        scan, lines, f"malformed record: an unmatched quote on line {first}, "
                                     "read again after a quote left open above it")
                    continue
                # One line with an odd number of quotes may be the last one, its quote open at the end.
                if (len(span) > 1 or span[0][1].count(b'"') % 2) and not _one_whole_record(span, header.width):
                    _quarantine_first_line(
                        scan, lines,
                        f"malformed record: the quote opened on line {first} is not closed (it would run to "
                        f"line {last} as one record of {len(fields)} fields, the header has {header.width})",
                    )
                    continue
                record = b"".join(raw for _, raw in span)
                scan.offsets.append(written)
                scan.first_lines.append(first)
                scan.line_counts.append(len(span))
                written += out.write(f"{first},{len(span)},".encode() + record
                                     + (b"" if record.endswith(b"\n") else ending))
            scan.lines_read = lines.count
    finally:
        csv.field_size_limit(limit)
    return scan


def _one_whole_record(span: list[tuple[int, bytes]], width: int) -> bool:
    """Whether the lines read as one record are one: every quote closed where RFC 4180 allows (a
    lenient read also takes `"a"b`), and over several lines, the header's number of fields (one
    line of the wrong width is DuckDB's to reject, with that reason)."""
    text = b"".join(raw for _, raw in span).decode("utf-8", errors="replace")
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error:
        return False
    return len(span) == 1 or (len(records) == 1 and len(records[0]) == width)


def _quarantine_first_line(scan: Scan, lines: _Lines, reason: str) -> None:
    (number, raw), *after = lines.consumed
    scan.broken.append((number, reason, _text(raw)))
    lines.read_again(after)


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
    header = clean_header(read_header(file))
    load.header = header.names
    missing = sorted({s for c in obj.columns if c.required for s in c.sources} - set(header.names))
    if missing:
        return _reject_whole_file(con, load, f"missing column(s) {', '.join(missing)} required by mapping "
                                             f"{mapping.name} object {obj.object_name}")
    problem = header_problem(file, header)
    if problem:
        return _reject_whole_file(con, load, problem)
    with tempfile.TemporaryDirectory(prefix="leadscore-csv-") as folder:
        scan = scan_records(file, header, Path(folder) / "records.csv")
        return _load_records(con, load, obj, header, scan)


def _check_sql(obj: ObjectMapping, header: Header) -> str:
    """A SQL expression naming every reason a parsed record cannot be loaded ('' when none)."""
    names = header.names
    checks = []
    # (condition, reason) pairs, the reason a SQL expression: some name the value at fault.
    for column in obj.columns:
        checks += column_checks(column, names, is_key=column.name == obj.key)
    by_name = {column.name: column for column in obj.columns}
    for group in obj.exactly_one_of:
        filled = " + ".join(f"case when {value_sql(by_name[name], names)} is null then 0 else 1 end" for name in group)
        sources = ", ".join("+".join(by_name[name].sources) for name in group)
        checks.append((f"({filled}) <> 1", sql_literal(f"exactly one of {sources} is required")))
    for position, unnamed in header.unnamed():
        checks.append((f"coalesce({ident(unnamed)}, '') <> ''",
                       sql_literal(f"a value in column {position}, which has no name in the header")))
    if not checks:
        return "''"
    return "concat_ws('; ', " + ", ".join(
        f"case when {condition} then {reason} end" for condition, reason in checks
    ) + ")"


def _load_records(
    con: duckdb.DuckDBPyConnection, load: FileLoad, obj: ObjectMapping, header: Header, scan: Scan
) -> FileLoad:
    names = header.names
    read_as = [FIRST_LINE, LINE_COUNT, *names, *(unnamed for _, unnamed in header.unnamed())]
    types = {FIRST_LINE: "BIGINT", LINE_COUNT: "BIGINT"}
    columns = "{" + ", ".join(f"{sql_literal(h)}: '{types.get(h, 'VARCHAR')}'" for h in read_as) + "}"
    unmapped = [h for h in names if h not in obj.source_columns]
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
                {sql_literal(str(scan.records_path))}, columns = {columns}, header = true,
                delim = ',', quote = '"', escape = '"', auto_detect = false,
                compression = 'none', strict_mode = true, store_rejects = true,
                rejects_table = 'csv_rejects', rejects_scan = 'csv_scan', rejects_limit = 0
            )"""
        )
        # Records DuckDB could not parse, and any it lost with them, placed back on their lines.
        rejected = con.execute(
            f"""select line_byte_position, string_agg(distinct {reject_reason_sql()}, '; '
                       order by {reject_reason_sql()})
                from csv_rejects group by line_byte_position order by line_byte_position"""
        ).fetchall()
        unparsed: dict[int, str] = {scan.record_at(position): reason for position, reason in rejected}
        parsed = con.execute("select count(*) from records").fetchone()[0]
        if parsed + len(unparsed) != len(scan.offsets):
            index_of = {line: index for index, line in enumerate(scan.first_lines)}
            seen = set(unparsed) | {
                index_of[line] for (line,) in con.execute(f"select {ident(FIRST_LINE)} from records").fetchall()
            }
            for index in range(len(scan.offsets)):
                if index not in seen:
                    unparsed[index] = "malformed record: its quoting could not be read"
        quarantined_here = scan.broken + [
            (scan.first_lines[index], reason, scan.raw_record(index)) for index, reason in sorted(unparsed.items())
        ]
        con.execute("create or replace temp table scan_quarantine "
                    "(source_line bigint, reason varchar, raw_content varchar)")
        if quarantined_here:
            con.executemany("insert into scan_quarantine values (?, ?, ?)", quarantined_here)
        unreadable = quarantine_from(con, load, "select * from scan_quarantine")

        con.execute(
            f"""create or replace temp table checked as
            select *, {ident(FIRST_LINE)} as _line, nullif({_check_sql(obj, header)}, '') as _reason from records"""
        )
        # A bad row's raw content: the record as JSON, so nothing is lost.
        all_columns = "json_object(" + ", ".join(f"{sql_literal(h)}, {ident(h)}" for h in names) + ")"
        bad = quarantine_from(
            con, load,
            f"select _line, _reason, cast({all_columns} as varchar) from checked where _reason is not null",
        )
        con.execute(
            f"""insert into {RAW_SCHEMA}.{obj.table}
                ({", ".join(ident(c) for c in target_columns)}, custom_fields,
                 _load_id, _source_file, _file_checksum, _source_line, _loaded_at)
            select {", ".join(value_sql(c, names) for c in obj.columns)}, {custom_sql},
                   {metadata_columns_sql(load, '_line')}
            from checked where _reason is null"""
        )
        good, good_lines, bad_lines = con.execute(
            f"""select count(*) filter (where _reason is null),
                       coalesce(sum({ident(LINE_COUNT)}) filter (where _reason is null), 0),
                       coalesce(sum({ident(LINE_COUNT)}) filter (where _reason is not null), 0)
                from checked"""
        ).fetchone()
        load.rows_read = parsed + unreadable
        load.rows_loaded = good
        load.rows_quarantined = unreadable + bad
        load.lines_read, load.lines_empty = scan.lines_read, scan.lines_empty
        load.lines_loaded = good_lines
        load.lines_quarantined = bad_lines + len(scan.broken) + sum(scan.line_counts[index] for index in unparsed)
        if header.empty_trailing:
            load.message = _empty_columns_note(con, header)
        write_manifest(con, load)
        con.execute(
            "drop table records; drop table checked; drop table scan_quarantine; "
            "drop table if exists csv_rejects; drop table if exists csv_scan"
        )
    return load


def _empty_columns_note(con: duckdb.DuckDBPyConnection, header: Header) -> str:
    positions = [position for position, _ in header.unnamed()]
    span = str(positions[0]) if len(positions) == 1 else f"{positions[0]}-{positions[-1]}"
    note = f"dropped {len(positions)} empty column(s) at the end of the header (column {span}: no name)"
    with_values = con.execute(
        "select count(*) from checked where _reason like '%which has no name in the header%'"
    ).fetchone()[0]
    return note + (f"; {with_values} row(s) with a value there quarantined" if with_values else "")
