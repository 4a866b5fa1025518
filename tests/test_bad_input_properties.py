"""Property-based tests: generated bad input (garbage log lines, broken CSV exports, hostile
scoring rules) never crashes ingestion or validation, never drops a line silently, and always
leaves a reason that names the file and the line.

The examples are derandomized so CI always runs the same ones. For a longer hunt run
`LEADSCORE_PROPERTY_EXAMPLES=500 pytest tests/test_bad_input_properties.py`: that many random
examples per property.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from leadscore.ingest.mapping import BOOLEAN_FALSE, BOOLEAN_TRUE, ColumnSpec, load_mapping
from leadscore.ingest.sources import ingest_source
from leadscore.scoring.rulebooks import (
    OPERATORS,
    SCORING_SEEDS,
    RulebookError,
    check_sql_condition,
    scoring_attributes,
    validate_rulebooks,
)
from leadscore.warehouse import connect

_EXPLORE_EXAMPLES = int(os.environ.get("LEADSCORE_PROPERTY_EXAMPLES", "0"))


def bounded(examples: int) -> settings:
    """Few fixed examples in CI; many random ones when exploring."""
    return settings(
        max_examples=_EXPLORE_EXAMPLES or examples, deadline=None, derandomize=not _EXPLORE_EXAMPLES,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large], print_blob=True,
        # Shrinking a failure can take minutes; the printed blob reproduces it.
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
    )


# --------------------------------------------------------------------------- ingestion harness

@dataclass
class Outcome:
    manifest: list[tuple]  # (rows_read, rows_loaded, rows_quarantined, status, message)
    quarantine: list[tuple]  # (source_file, source_line, reason)
    rows: list[tuple]  # the raw table's selected columns, with _source_line first
    lines: tuple  # (lines_read, lines_loaded, lines_quarantined, lines_empty)

    @property
    def lines_read(self) -> int:
        return self.lines[0]


def ingest_bytes(family: str, relative: str, data: bytes, table: str, columns: list[str],
                 crm_mapping: str = "salesforce") -> Outcome:
    """Load one landing file into a fresh warehouse and read back what happened to it (a CRM
    file with `crm_mapping`: a bundled mapping's name or a YAML file's path)."""
    with tempfile.TemporaryDirectory() as folder:
        landing = Path(folder) / "landing"
        path = landing / family / relative
        path.parent.mkdir(parents=True)
        path.write_bytes(data)
        con = connect(Path(folder) / "warehouse.duckdb")
        try:
            ingest_source(con, landing, family, crm_mapping)
            selected = ", ".join(["_source_line", *columns])
            return Outcome(
                manifest=con.execute("select rows_read, rows_loaded, rows_quarantined, status, message "
                                     "from raw.load_manifest").fetchall(),
                quarantine=con.execute("select source_file, source_line, reason from raw.quarantine "
                                       "order by source_line").fetchall(),
                rows=con.execute(f"select {selected} from raw.{table} order by _source_line").fetchall(),
                lines=con.execute("select lines_read, lines_loaded, lines_quarantined, lines_empty "
                                  "from raw.load_manifest").fetchone(),
            )
        finally:
            con.close()


def assert_reconciles(outcome: Outcome, source_file: str) -> None:
    """One manifest row whose counts match the raw rows and the quarantine rows, every
    quarantine row naming the file and giving a reason."""
    ((read, loaded, quarantined, status, message),) = outcome.manifest
    assert read == loaded + quarantined
    lines_read, lines_loaded, lines_quarantined, lines_empty = outcome.lines
    # On physical lines too: every line is in a loaded record, a quarantined one, or empty.
    assert lines_read == lines_loaded + lines_quarantined + lines_empty
    assert lines_loaded >= loaded and lines_quarantined >= quarantined
    assert loaded == len(outcome.rows)
    assert quarantined == len(outcome.quarantine)
    for file, _, reason in outcome.quarantine:
        assert file == source_file and reason and reason.strip()
    if status == "rejected":
        assert loaded == 0 and message


def assert_each_line_once(outcome: Outcome, line_count: int) -> None:
    """Lines 1..line_count each end in exactly one place: a raw row or a quarantine row."""
    placed = [row[0] for row in outcome.rows] + [line for _, line, _ in outcome.quarantine]
    assert sorted(placed) == list(range(1, line_count + 1))


def mixes_line_endings(data: bytes) -> bool:
    """A carriage return without a line feed, or both LF and CRLF endings in one file."""
    return re.search(rb"\r(?!\n)", data) is not None or (
        b"\r\n" in data and re.search(rb"(?<!\r)\n", data) is not None)


def rejected_as_unreadable(outcome: Outcome, source_file: str) -> bool:
    if outcome.manifest[0][3] != "rejected" or not outcome.quarantine[0][2].startswith("unreadable file: "):
        return False
    ((file, line, reason),) = outcome.quarantine
    assert file == source_file and line is None and reason.startswith("unreadable file: ")
    return True


# --------------------------------------------------------------------------- web logs

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
TOKEN = st.from_regex(r"[A-Za-z0-9._@-]{1,12}", fullmatch=True)
# What Apache writes inside a quoted field: printable text, escaped quotes and backslashes,
# \xhh escapes for control bytes, and UTF-8 text from clients that send it.
QUOTED_TEXT = st.lists(
    st.one_of(
        st.text(st.characters(blacklist_characters='"\\\n\r', blacklist_categories=("Cs", "Cc")), max_size=12),
        st.sampled_from(['\\"', "\\\\", "\\x1b", "\\t"]),
    ),
    max_size=5,
).map("".join)
PATH_TEXT = st.from_regex(r"/[A-Za-z0-9/._~%?=&+-]{0,24}", fullmatch=True)


@st.composite
def log_times(draw) -> str:
    moment = draw(st.datetimes(datetime(1999, 1, 1), datetime(2037, 12, 31)))
    offset = timedelta(minutes=15 * draw(st.integers(-48, 56)))
    sign, total = ("-" if offset < timedelta(0) else "+"), abs(int(offset.total_seconds())) // 60
    zone = f"{sign}{total // 60:02d}{total % 60:02d}"
    return f"{moment.day:02d}/{MONTHS[moment.month - 1]}/{moment.year}:{moment:%H:%M:%S} {zone}"


@st.composite
def access_lines(draw) -> tuple[str, dict[str, str | None] | None]:
    """A valid access-log line and the fields it must parse to; None for a line in the common
    format, which the parser quarantines: scoring needs the referrer and the user agent."""
    version = draw(st.sampled_from([4, 6]))
    fields: dict[str, str | None] = {
        "client_ip": str(draw(st.ip_addresses(v=version))),
        "ident": draw(st.just("-") | TOKEN),
        "auth_user": draw(st.just("-") | TOKEN),
        "request_time": draw(log_times()),
        "status": str(draw(st.integers(100, 599))),
        "response_bytes": draw(st.just("-") | st.integers(0, 10**9).map(str)),
    }
    if draw(st.booleans()):
        method = draw(st.sampled_from(["GET", "POST", "HEAD", "PUT", "OPTIONS", "PROPFIND"]))
        path = draw(PATH_TEXT | st.just('/a\\"b'))
        protocol = draw(st.sampled_from([None, "HTTP/1.0", "HTTP/1.1", "HTTP/2.0"]))
        fields["request"] = f"{method} {path}" + (f" {protocol}" if protocol else "")
        fields.update(http_method=method, request_path=path, http_protocol=protocol)
    else:
        fields["request"] = draw(st.sampled_from(["-", "\\x16\\x03\\x01"]))
        fields.update(http_method=None, request_path=None, http_protocol=None)
    line = (f'{fields["client_ip"]} {fields["ident"]} {fields["auth_user"]} [{fields["request_time"]}] '
            f'"{fields["request"]}" {fields["status"]} {fields["response_bytes"]}')
    if draw(st.integers(0, 5)) == 0:
        return line, None
    fields["referrer"] = draw(st.just("-") | QUOTED_TEXT)
    fields["user_agent"] = draw(QUOTED_TEXT | st.integers(200, 400).map(lambda n: "Mozilla/5.0 (X11) " * n))
    fields["visitor_id"] = draw(st.none() | st.just("-") | TOKEN)
    line += f' "{fields["referrer"]}" "{fields["user_agent"]}"'
    if fields["visitor_id"] is not None:
        line += f' "{fields["visitor_id"]}"'
    # Empty quoted fields are stored as null, like the loader does.
    return line, {name: (value if value != "" else None) for name, value in fields.items()}


@st.composite
def garbage_lines(draw) -> bytes:
    valid = draw(access_lines())[0].encode()
    return draw(st.one_of(
        st.binary(max_size=60).map(lambda b: b.replace(b"\n", b"")),
        st.text(max_size=60).map(lambda t: t.replace("\n", "").encode()),
        st.integers(0, len(valid)).map(lambda cut: valid[:cut]),  # truncated
        st.sampled_from([b"", b" ", b"\t", b"-", b'"', b"\xff\xfe", b"\xc3", b"\x00"]),
        st.sampled_from(["31/Feb/2026:10:00:00 +0000", "30/Foo/2026:10:00:00 +0000",
                         "30/Jun/2026:25:61:61 +0000", "30/Jun/2026:10:00:00 +9999", "30/Jun/2026"])
        .map(lambda when: re.sub(rb"\[[^\]]*\]", b"[" + when.encode() + b"]", valid, count=1)),
        st.just(valid.replace(b'"', b"", 1)),  # a quote that never closes
    ))


LOG_COLUMNS = ["client_ip", "ident", "auth_user", "request_time", "request", "status", "response_bytes",
               "referrer", "user_agent", "visitor_id", "http_method", "request_path", "http_protocol"]


@bounded(30)
@given(
    lines=st.lists(st.one_of(access_lines().map(lambda pair: (pair[0].encode(), pair[1], pair[1] is None)),
                             garbage_lines().map(lambda raw: (raw, None, not raw.strip(b" ")))), max_size=12),
    endings=st.lists(st.sampled_from([b"\n", b"\r\n"]), min_size=12, max_size=12),
    final_newline=st.booleans(),
    compressed=st.booleans(),
)
def test_every_log_line_is_a_hit_or_quarantined_with_its_line(lines, endings, final_newline, compressed):
    data = b"".join(raw + ending for (raw, _, _), ending in zip(lines, endings, strict=False))
    if lines and not final_newline:
        data = data[: -len(endings[len(lines) - 1])]
    source_file = "weblogs/2026/access-2026-06-30.log"

    outcome = ingest_bytes("weblogs", "2026/access-2026-06-30.log", gzip.compress(data) if compressed else data,
                           "weblog_hits", LOG_COLUMNS)

    if not data:
        assert [row[3] for row in outcome.manifest] == ["empty"]
        return
    assert_reconciles(outcome, source_file)
    if mixes_line_endings(data):
        # DuckDB's reader either rejects such a file whole, with the reason, or splits it into
        # more lines than it has (an empty one after a CRLF): only the counts are promised.
        rejected_as_unreadable(outcome, source_file)
        return
    # Without a final newline an empty last line is not there at all.
    line_count = len(lines) - (not final_newline and lines[-1][0] == b"")
    assert outcome.manifest[0][:1] == (line_count,)
    assert_each_line_once(outcome, line_count)
    parsed = {row[0]: dict(zip(LOG_COLUMNS, row[1:], strict=True)) for row in outcome.rows}
    for number, (raw, expected, quarantined) in enumerate(lines[:line_count], start=1):
        if expected is not None:
            assert parsed.get(number) == expected, f"line {number}: {raw!r}"
        if quarantined:
            assert number not in parsed, f"line {number} should be quarantined: {raw!r}"


def test_common_format_lines_are_quarantined_with_the_reason():
    line = b'192.0.2.1 - - [30/Jun/2026:14:02:11 +0200] "GET / HTTP/1.1" 200 12\n'
    outcome = ingest_bytes("weblogs", "access.log", line, "weblog_hits", LOG_COLUMNS)
    assert outcome.quarantine == [("weblogs/access.log", 1, "malformed line: not in combined log format")]


def test_a_line_longer_than_the_reader_allows_is_quarantined_and_later_lines_keep_their_numbers():
    good = b'192.0.2.1 - - [30/Jun/2026:14:02:11 +0200] "GET / HTTP/1.1" 200 12 "-" "ua"'
    data = good + b"\n" + good.replace(b'"ua"', b'"' + b"u" * 3_000_000 + b'"') + b"\n" + good + b"\n"
    outcome = ingest_bytes("weblogs", "access.log", data, "weblog_hits", ["client_ip"])
    assert outcome.manifest[0][:4] == (3, 2, 1, "loaded")
    assert [row[0] for row in outcome.rows] == [1, 3]
    assert outcome.quarantine == [("weblogs/access.log", 2, "malformed line: longer than the maximum line size")]


def test_a_line_rejected_for_several_reasons_is_counted_once():
    # Invalid UTF-8 plus NUL bytes: DuckDB reports one error per column it split the line into.
    good = b'192.0.2.1 - - [30/Jun/2026:14:02:11 +0200] "GET / HTTP/1.1" 200 12 "-" "ua"'
    data = good + b"\nbad \xff\x00 x\x00y\n" + good + b"\n"
    outcome = ingest_bytes("weblogs", "access.log", data, "weblog_hits", ["client_ip"])
    assert outcome.manifest[0][:4] == (3, 2, 1, "loaded")
    assert [row[0] for row in outcome.rows] == [1, 3]
    assert [(line, reason) for _, line, reason in outcome.quarantine] == [
        (2, "bad encoding: not valid UTF-8; malformed record: more columns than the header")]


@pytest.mark.parametrize(
    "data, reason",
    [
        (b'192.0.2.1 - - [30/Jun/2026:14:02:11 +0200] "GET / HTTP/1.1" 200 12 "-" "u\ra"\n',
         "unreadable file: Invalid Input Error: The CSV Parser state machine reached an invalid state. "
         "(mixed line endings, or a carriage return without a line feed?)"),
        (gzip.compress(b"x" * 1000)[:-12], "unreadable file: IO Error: Unexpected end of GZIP stream"),
        (b"\x1f\x8b broken", "unreadable file: IO Error: Input is not a GZIP stream"),
    ],
    ids=["lone carriage return", "truncated gzip", "gzip magic only"],
)
def test_a_file_the_reader_cannot_get_through_is_rejected_whole_and_the_others_still_load(data, reason):
    good = b'192.0.2.1 - - [30/Jun/2026:14:02:11 +0200] "GET / HTTP/1.1" 200 12 "-" "ua"\n'
    with tempfile.TemporaryDirectory() as folder:
        landing = Path(folder) / "landing"
        (landing / "weblogs").mkdir(parents=True)
        (landing / "weblogs" / "a-broken.log").write_bytes(data)
        (landing / "weblogs" / "b-good.log").write_bytes(good)
        con = connect(Path(folder) / "warehouse.duckdb")
        ingest_source(con, landing, "weblogs")
        manifest = con.execute("select source_file, rows_read, rows_loaded, rows_quarantined, status "
                               "from raw.load_manifest order by source_file").fetchall()
        quarantine = con.execute("select source_file, source_line, reason from raw.quarantine").fetchall()
        con.close()
    assert manifest == [("weblogs/a-broken.log", 1, 0, 1, "rejected"), ("weblogs/b-good.log", 1, 1, 0, "loaded")]
    ((file, line, message),) = quarantine
    assert (file, line) == ("weblogs/a-broken.log", None) and message.startswith(reason)


# --------------------------------------------------------------------------- CSV families

GOOD_VALUES = {
    "timestamp": st.sampled_from(["2024-01-23T02:21:49.000+0000", "2026-06-01T10:00:00Z",
                                  "2026-06-01 10:00:00+02:00", "2026-06-01"]),
    "date": st.sampled_from(["2026-06-01", "1999-12-31"]),
    "number": st.one_of(st.integers(-10**12, 10**12).map(str), st.sampled_from(["-12.5", "1e3", "0.001"])),
    "integer": st.one_of(st.integers(-10**6, 10**6).map(str), st.just("5.0")),
    "boolean": st.sampled_from(BOOLEAN_TRUE + BOOLEAN_FALSE + ("TRUE", " No ")),
}
BAD_VALUES = {
    "timestamp": ["yesterday", "2026-02-31", "31/12/2026", "2026-13-01T00:00:00Z", "12:00"],
    "date": ["2026-02-30", "June 1st", "01/06/2026"],
    "number": ["lots", "12abc", "1.2.3", "1,000", "0x10", "--5"],
    "integer": ["2.5", "ten", "1e-3"],
    "boolean": ["maybe", "2", "oui"],
}
# Any text but a lone carriage return (a whole-file rejection, covered by the web log tests).
CELL_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"), max_size=10)
KEY_TEXT = st.sampled_from(["00Q1", "00Q2", "a-3", "", " ", "x,y", 'q"uote', "multi\nline"])


def is_blank(value: str) -> bool:
    return value.strip(" ") == ""


def is_valid(column: ColumnSpec, value: str) -> bool:
    """Whether the loader must accept this value (typed values come from the pools above)."""
    if value == "":
        return not column.required
    if column.required and is_blank(value):
        return False
    return column.type == "text" or (value != " " and value not in BAD_VALUES[column.type])


def cells(column: ColumnSpec) -> st.SearchStrategy[str]:
    if column.type == "text":
        return KEY_TEXT if column.required else CELL_TEXT | KEY_TEXT
    return st.one_of(GOOD_VALUES[column.type], st.sampled_from(["", " "]),
                     st.sampled_from(BAD_VALUES[column.type]))


@st.composite
def csv_exports(draw, mapping_name: str, object_name: str):
    """(file bytes, header, columns by header name, records, encoding, blank line count)."""
    (obj,) = [o for o in load_mapping(mapping_name).objects if o.object_name == object_name]
    specs = {column.sources[0]: column for column in obj.columns}
    required = [name for name, column in specs.items() if column.required]
    optional = [name for name in specs if name not in required]
    header = [name for name in required if draw(st.integers(0, 9)) > 0]  # sometimes one goes missing
    header += draw(st.lists(st.sampled_from(optional), max_size=5, unique=True))
    extras = draw(st.lists(st.from_regex(r"[A-Za-z_ ]{0,8}(__c)?", fullmatch=True), max_size=2))
    header += [name for name in extras if name not in specs]
    if header and draw(st.integers(0, 9)) == 0:
        header.append(draw(st.sampled_from(header)))  # a duplicated column
    header = draw(st.permutations(header))
    records = []
    for _ in range(draw(st.integers(0, 6))):
        record = [draw(cells(specs[name])) if name in specs else draw(CELL_TEXT) for name in header]
        shape = draw(st.integers(0, 9))
        if shape == 0 and record:
            record.pop()  # a field missing
        elif shape == 1:
            record.append(draw(CELL_TEXT))  # a field too many
        records.append(record)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    if header or draw(st.booleans()):
        writer.writerow(header)
    blank_lines = 0
    for record in records:
        if draw(st.integers(0, 9)) == 0:
            text.write("\n")
            blank_lines += 1
        writer.writerow(record)
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-8-sig", "latin-1", "utf-16"]))
    data = text.getvalue().encode(encoding, errors="replace")
    if draw(st.integers(0, 9)) == 0:
        data = data[: draw(st.integers(0, len(data)))]  # cut short: nothing promised but accounting
        records = None
    return obj, specs, header, records, encoding, data


def expected_good(obj, specs, header, record) -> bool:
    if len(record) != len(header):
        return False
    values = dict(zip(header, record, strict=True))
    for name, column in specs.items():
        if not is_valid(column, values.get(name, "")):
            return False
    by_name = {column.name: column for column in obj.columns}
    for group in obj.exactly_one_of:
        if sum(values.get(by_name[name].sources[0], "") != "" for name in group) != 1:
            return False
    return True


def check_csv_export(family: str, relative: str, export) -> None:
    obj, specs, header, records, encoding, data = export
    source_file = f"{family}/{relative}"
    mapped = list(dict.fromkeys(name.strip() for name in header if name.strip() in specs))

    outcome = ingest_bytes(family, relative, data, obj.table, [f'"{specs[name].name}"' for name in mapped])

    if not data:
        assert [row[3] for row in outcome.manifest] == ["empty"]
        return
    assert_reconciles(outcome, source_file)
    for _, line, _ in outcome.quarantine:
        assert line is None or line >= 1
    (read, loaded, quarantined, status, message) = outcome.manifest[0]
    if mixes_line_endings(data):
        rejected_as_unreadable(outcome, source_file)  # as for web logs: only the counts are promised
        return
    # The loader trims names and sets apart the empty columns a comma ending every line makes.
    named = [name.strip() for name in header]
    while named and named[-1] == "":
        named.pop()
    missing = [name for name, column in specs.items() if column.required and name not in named]
    if records is None or encoding in ("latin-1", "utf-16"):
        if encoding == "utf-16" or missing:
            assert status == "rejected"
        return
    if missing:
        assert status == "rejected" and message.startswith(f"missing column(s) {', '.join(sorted(missing))}")
        return
    if len({name.lower() for name in named}) < len(named) or "" in named:
        assert status == "rejected" and ("duplicated column" in message or "empty column name" in message)
        return
    assert status == "loaded"
    body = data.split(b"\n", 1)[1] if b"\n" in data else b""
    assert outcome.lines_read == body.count(b"\n") + (not body.endswith(b"\n") and body != b"")
    lines = sorted([row[0] for row in outcome.rows] + [line for _, line, _ in outcome.quarantine])
    assert len(set(lines)) == len(lines) and all(2 <= line for line in lines)
    if any(len(record) != len(header) and any("\n" in value for value in record) for record in records):
        # A record over several lines with the wrong number of fields reads as a quote left open:
        # its first line is quarantined and the others are read again one by one.
        return
    assert read == len(records)
    unnamed = header[len(named):]
    good = [record for record in records if len(record) == len(header)
            and expected_good(obj, specs, named, record[:len(named)]) and not any(record[len(named):])]
    expected_rows = sorted(
        tuple(dict(zip(named, record[:len(named)], strict=True))[name] or None for name in mapped)
        for record in good
    )
    assert sorted(tuple(row[1:]) for row in outcome.rows) == expected_rows
    assert unnamed == [] or message.startswith("dropped ")


@bounded(30)
@given(export=csv_exports("salesforce", "Lead"))
def test_crm_export_records_load_or_are_quarantined_with_a_reason(export):
    check_csv_export("crm", "2026-06-30/Lead.csv", export)


@bounded(20)
@given(export=csv_exports("adjustments", "score_adjustments"))
def test_score_adjustment_records_load_or_are_quarantined_with_a_reason(export):
    check_csv_export("adjustments", "adjustments-2026-06-30.csv", export)


FORM_COLUMNS = ["submission_id", "submitted_at", "form_name", "page_url", "visitor_id", "email", "first_name",
                "last_name", "company", "job_title", "country", "phone"]
FREE_TEXT = ["form_name", "first_name", "last_name", "company", "job_title", "country"]
WORDS = st.from_regex(r"[A-Za-z][A-Za-z ,.'-]{0,8}", fullmatch=True)


@st.composite
def forms_with_a_broken_quote(draw):
    """(file text, the records as (first line, fields), the broken line's number): valid form
    submissions, some with a quoted newline, and one line whose opening quote never closes."""
    records = []
    for number in range(draw(st.integers(1, 12))):
        fields = {name: draw(WORDS) for name in FREE_TEXT}
        fields.update(submission_id=f"s{number}", submitted_at="2026-06-30T10:00:00Z", page_url="/p",
                      visitor_id=f"v{number}", email=f"p{number}@acme.com", phone="555")
        if draw(st.integers(0, 3)) == 0:
            fields[draw(st.sampled_from(FREE_TEXT))] = draw(WORDS) + "\n" + draw(WORDS)
        records.append([fields[name] for name in FORM_COLUMNS])
    broken_at = draw(st.integers(0, len(records)))
    broken = [f"s{len(records)}", "2026-06-30T10:00:00Z", *(draw(WORDS) for _ in range(10))]
    broken[FORM_COLUMNS.index(draw(st.sampled_from(FREE_TEXT)))] = '"' + draw(WORDS)  # never closed
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(FORM_COLUMNS)
    placed, broken_line = [], 0
    for index in range(len(records) + 1):
        line = text.getvalue().count("\n") + 1
        if index == broken_at:
            broken_line = line
            text.write(",".join(broken) + "\n")
        if index < len(records):
            placed.append((text.getvalue().count("\n") + 1, records[index]))
            writer.writerow(records[index])
    final_newline = draw(st.booleans())
    return (text.getvalue() if final_newline else text.getvalue()[:-1]), placed, broken_line


@bounded(40)
@given(delivery=forms_with_a_broken_quote())
def test_a_quote_left_open_costs_its_own_line_and_no_valid_record(delivery):
    text, records, broken_line = delivery
    outcome = ingest_bytes("forms", "forms.csv", text.encode(), "form_submissions",
                           [f'"{name}"' for name in FORM_COLUMNS])

    assert_reconciles(outcome, "forms/forms.csv")
    assert outcome.lines_read == text.count("\n") + (not text.endswith("\n")) - 1  # the header
    assert [(line, reason.split(" (")[0]) for _, line, reason in outcome.quarantine] == [
        (broken_line, f"malformed record: the quote opened on line {broken_line} is not closed")]
    assert outcome.lines == (outcome.lines_read, outcome.lines_read - 1, 1, 0)
    assert outcome.rows == [(line, *fields) for line, fields in records]


def test_a_header_with_an_empty_column_name_rejects_the_file_with_the_reason():
    outcome = ingest_bytes("crm", "Lead.csv", b"Id,,CreatedDate\n00Q1,x,2026-01-01\n", "crm_leads", ["lead_id"])
    assert outcome.manifest == [(1, 0, 1, "rejected", "header has an empty column name (column 2)")]
    assert outcome.quarantine == [("crm/Lead.csv", 2, "header has an empty column name (column 2)")]


def test_a_header_with_a_lone_carriage_return_rejects_the_file_as_unreadable():
    outcome = ingest_bytes("crm", "Lead.csv", b"Id,First\rName,CreatedDate\n00Q1,x,2026-01-01\n", "crm_leads",
                           ["lead_id"])
    assert mixes_line_endings(b"Id,First\rName") and rejected_as_unreadable(outcome, "crm/Lead.csv")
    assert outcome.manifest[0][:4] == (1, 0, 1, "rejected") and outcome.rows == []


# --------------------------------------------------------------------------- scoring rules

PROFILE_ATTRIBUTES, ACTIVITY_ATTRIBUTES = scoring_attributes()
SQL_PIECES = st.one_of(
    st.sampled_from(sorted(PROFILE_ATTRIBUTES)),
    st.sampled_from([
        "and", "or", "not", "=", "<>", ">=", "in", "(", ")", ",", "is null", "between 1 and 2", "like '%a%'",
        "case when", "then", "else", "end", "cast(", "as integer)", "lower(", "coalesce(", "1", "1e999", "null",
        "true", "'it''s'", "'a\\'", "E'x\\''", "$$x$$", "select", "from", "raw.crm_leads", "(select 1)",
        "exists", "union all select", "drop table raw.quarantine", "delete from raw.quarantine", ";",
        "--", "/*", "*/", "/**/", "read_csv('/etc/passwd')", "pg_sleep(10)", "getenv('HOME')", "random()",
        "current_date", "unnest([1])", "x.is_us", '"is_us"', "'ünï'", "?", "$1", "::text", "*", "||",
        "is_us\u2028", "is_us\u00a0", "i\u0307s_us", "ｉｓ_ｕｓ", "\u202eis_us", "\ufeff", "\\",
        "'", '"', "`is_us`", "[1]", "{'a': 1}", "interval 1 day", "glob('*')", "regexp_matches(seniority, 'a')",
    ]),
    st.text(max_size=8),
)
SQL_CONDITIONS = st.lists(
    st.tuples(SQL_PIECES, st.sampled_from([" ", " ", "", "\n", "\t"])), max_size=10,
).map(lambda parts: "".join(piece + gap for piece, gap in parts))


def duckdb_reading(condition: str) -> dict:
    """How DuckDB parses a condition inlined into the scoring query."""
    query = f"select person_id from entities where coalesce(({condition}), false)"
    return json.loads(duckdb.execute("select json_serialize_sql(?)", [query]).fetchone()[0])


def nodes(tree, key: str) -> list:
    found = []
    if isinstance(tree, dict):
        found += [tree] if tree.get("class") == key or tree.get("type") == key else []
        for value in tree.values():
            found += nodes(value, key)
    elif isinstance(tree, list):
        for value in tree:
            found += nodes(value, key)
    return found


@bounded(300)
@given(condition=SQL_CONDITIONS)
def test_a_sql_condition_passes_only_when_duckdb_reads_it_as_one_harmless_expression(condition):
    reason = check_sql_condition(condition, PROFILE_ATTRIBUTES)
    if reason is not None:
        assert isinstance(reason, str) and reason
        return
    reading = duckdb_reading(condition)
    if reading["error"]:
        # Accepted yet unreadable to DuckDB (sqlglot joins adjacent string literals, DuckDB does
        # not): the dbt build fails loudly, nothing else runs.
        return
    (statement,) = reading["statements"]
    tables = [node["table_name"] for node in nodes(statement, "BASE_TABLE")]
    assert tables == ["entities"] and not nodes(statement, "SUBQUERY")
    columns = {node["column_names"][-1].lower() for node in nodes(statement, "COLUMN_REF")}
    assert columns <= PROFILE_ATTRIBUTES | {"person_id"}
    functions = {node["function_name"].lower() for node in nodes(statement, "FUNCTION") if not node["is_operator"]}
    assert functions <= {"lower", "upper", "trim", "length", "coalesce", "nullif", "abs", "round", "floor",
                         "ceil", "greatest", "least", "substring", "strpos", "position", "regexp_matches",
                         "starts_with", "concat", "if", "iff", "instr", "regexp_full_match", "contains"}


RULE_TEXT = st.one_of(st.text(max_size=10), st.sampled_from(["guide_v1", "", "?", "x'y", "a\nb", "1.5"]))


def seed_header(file: str) -> list[str]:
    with (SCORING_SEEDS / file).open(encoding="utf-8", newline="") as handle:
        return next(csv.reader(handle))


@st.composite
def rule_rows(draw, file: str) -> list[str]:
    header = seed_header(file)
    pools = {
        "rulebook_id": st.sampled_from(["guide_v1", "guide_v2", "no_such_book"]) | RULE_TEXT,
        "rule_id": st.from_regex(r"[A-Z]{2,5}-[0-9]{1,3}", fullmatch=True) | RULE_TEXT,
        "operator": st.sampled_from(OPERATORS + ("sql", "sql", "between", "")),
        "value": SQL_CONDITIONS | RULE_TEXT,
        "points": st.sampled_from(["5", "-10", "", "ten", "1e3", "nan"]) | RULE_TEXT,
        "min_value": st.sampled_from(["", "1", "x"]),
        "max_value": st.sampled_from(["", "100", "x"]),
        "attribute": st.sampled_from(sorted(PROFILE_ATTRIBUTES | ACTIVITY_ATTRIBUTES) + ["custom_fields.X__c"])
        | RULE_TEXT,
        "category": st.sampled_from(["critical", "negative", "bogus"]),
        "component": st.sampled_from(["fit", "engagement", "bogus"]),
        "activity_type": st.sampled_from(["web_page_view", "inactivity", "bogus"]),
        "decay_profile_id": st.sampled_from(["exp_30", "none", "bogus"]),
        "cap_points": st.sampled_from(["", "10"]),
        "cap_period": st.sampled_from(["", "day", "fortnight"]),
    }
    row = [draw(pools.get(name, RULE_TEXT)) for name in header]
    shape = draw(st.integers(0, 9))
    if shape == 0:
        row = row[: draw(st.integers(1, len(row) - 1))]  # fields missing
    elif shape == 1:
        row += draw(st.lists(RULE_TEXT, min_size=1, max_size=2))  # fields too many
    return row


@bounded(60)
@given(file=st.sampled_from(["profile_rules.csv", "activity_rules.csv"]), data=st.data())
def test_a_generated_rule_passes_or_fails_naming_file_line_and_rule(file, data):
    row = data.draw(rule_rows(file))
    with tempfile.TemporaryDirectory() as folder:
        seeds = Path(folder) / "scoring"
        shutil.copytree(SCORING_SEEDS, seeds)
        existing = (seeds / file).read_bytes()
        line = len(re.findall(rb"\r\n?|\n", existing)) + 1
        with (seeds / file).open("a", encoding="utf-8", newline="") as handle:
            csv.writer(handle, lineterminator="\n").writerow(row)
        try:
            validate_rulebooks(seeds)
        except RulebookError as error:
            message = str(error)
        else:
            return
    values = dict(zip(seed_header(file), row, strict=False))
    rulebook = values.get("rulebook_id") or "?"
    rule = values.get("rule_id") or "?"
    assert f"- {file} line {line}: rulebook {rulebook}, rule {rule}: " in message, message


@pytest.mark.parametrize(
    "condition, problem",
    [
        ("is_us -- the rest of the query line is lost", "may not contain comments"),
        ("is_us /* note */", "may not contain comments"),
        ("seniority = 'vp", "does not parse"),
        ("(" * 3000 + "is_us" + ")" * 3000, "nested too deeply"),
        ("is_us\u2028", "unusual blank U+2028"),
        ("is_us\u00a0and is_us", "unusual blank U+00A0"),
    ],
)
def test_sql_conditions_that_would_break_the_inlined_query_are_refused(condition, problem):
    assert problem in (check_sql_condition(condition, {"is_us", "seniority"}) or "")


def test_rows_of_the_wrong_width_and_quoted_ids_are_named(tmp_path):
    seeds = tmp_path / "scoring"
    shutil.copytree(SCORING_SEEDS, seeds)
    lines = (seeds / "profile_rules.csv").read_text(encoding="utf-8").count("\n")
    with (seeds / "profile_rules.csv").open("a", encoding="utf-8") as handle:
        handle.write("guide_v1,SHORT-RULE,too few fields\n")
        handle.write("guide_v1,x' or '1,\"a\nb\",critical,fit,is_us,equals,true,,,5\n")
    with pytest.raises(RulebookError) as raised:
        validate_rulebooks(seeds)
    message = str(raised.value)
    assert f"profile_rules.csv line {lines + 1}: rulebook guide_v1, rule SHORT-RULE: has 3 fields, the header has 11" \
        in message
    assert f"profile_rules.csv line {lines + 2}: rulebook guide_v1, rule x' or '1: rule_id may hold only" in message

