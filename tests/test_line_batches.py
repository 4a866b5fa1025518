"""Line files (web logs, email events) load in batches: one read and one transaction for several
files, with each file's own ledger row, quarantine lines and raw line numbers as if loaded alone."""

from __future__ import annotations

import gzip
import json

import duckdb
import pytest

from leadscore.ingest import email_events, lines, weblogs
from leadscore.ingest.sources import ingest_source
from tests.conftest import write
from tests.test_ingestion import GOOD_HIT, manifest, quarantined


def hit(path: str) -> bytes:
    return GOOD_HIT.replace("/pricing?utm_source=mail", path).encode()


BAD_TIME = b'203.0.113.9 - - [31/Foo/2026:99:02:11 +0200] "GET / HTTP/1.1" 200 12 "-" "Mozilla/5.0"'
NOT_UTF8 = b'203.0.113.9 - - [30/Jun/2026:14:02:11 +0200] "GET /caf\xe9 HTTP/1.1" 200 12 "-" "Mozilla/5.0"'


@pytest.fixture
def batches(monkeypatch) -> list[list[str]]:
    """The batches the web log and email loaders were called with (file names)."""
    seen: list[list[str]] = []
    for module in (weblogs, email_events):
        def spy(con, files, at, load=module.load_files):
            seen.append([file.path.name for file in files])
            return load(con, files, at)
        monkeypatch.setattr(module, "load_files", spy)
    return seen


@pytest.fixture
def unordered(con) -> duckdb.DuckDBPyConnection:
    # What a warehouse connection may set: line numbers must not depend on output order.
    con.execute("set preserve_insertion_order = false; set threads = 4")
    return con


def hits(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "select _source_file, _source_line, request_path from raw.weblog_hits order by _source_file, _source_line"
    ).fetchall()


def test_bad_lines_in_two_files_of_one_batch_are_named_by_file_and_physical_line(unordered, landing, batches):
    con = unordered
    folder = landing / "weblogs"
    write(folder / "a.log", b"\n".join([hit("/a1"), hit("/a2"), hit("/a3")]) + b"\n")
    write(folder / "b.log", b"\n".join([hit("/b1"), b"garbage", hit("/b3"), BAD_TIME, hit("/b5")]) + b"\n")
    write(folder / "c.log", hit("/c1") + b"\n")
    write(folder / "d.log", b"\n".join([b"", hit("/d2")]) + b"\n")

    ingest_source(con, landing, "weblogs")

    assert batches == [["a.log", "b.log", "c.log", "d.log"]]
    assert manifest(con) == [
        ("weblogs/a.log", 3, 3, 0, "loaded"),
        ("weblogs/b.log", 5, 3, 2, "loaded"),
        ("weblogs/c.log", 1, 1, 0, "loaded"),
        ("weblogs/d.log", 2, 1, 1, "loaded"),
    ]
    assert quarantined(con) == [
        ("weblogs/b.log", 2, "malformed line: not in combined log format"),
        ("weblogs/b.log", 4, "unparseable timestamp: 31/Foo/2026:99:02:11 +0200"),
        ("weblogs/d.log", 1, "malformed line: empty"),
    ]
    assert hits(con) == [
        ("weblogs/a.log", 1, "/a1"), ("weblogs/a.log", 2, "/a2"), ("weblogs/a.log", 3, "/a3"),
        ("weblogs/b.log", 1, "/b1"), ("weblogs/b.log", 3, "/b3"), ("weblogs/b.log", 5, "/b5"),
        ("weblogs/c.log", 1, "/c1"),
        ("weblogs/d.log", 2, "/d2"),
    ]
    # Each row carries its own file's load: id and checksum as in the manifest.
    assert con.execute(
        """select count(*) from raw.weblog_hits h join raw.load_manifest m
           on h._load_id = m.load_id and h._source_file = m.source_file and h._file_checksum = m.file_checksum
           and h._loaded_at = m.loaded_at"""
    ).fetchone()[0] == 8
    assert con.execute("select count(distinct loaded_at) from raw.load_manifest").fetchone()[0] == 1
    assert con.execute(
        "select count(*) from raw.quarantine q join raw.load_manifest m on q.load_id = m.load_id "
        "and q.source_file = m.source_file"
    ).fetchone()[0] == 3


def test_lines_the_reader_rejects_mid_batch_keep_the_line_numbers_after_them_true(unordered, landing, batches):
    con = unordered
    folder = landing / "weblogs"
    write(folder / "a.log", b"\n".join([hit("/a1"), NOT_UTF8]) + b"\n")
    # Two rejected lines in a row, then a third later: the shifts add up per file.
    write(folder / "b.log", b"\n".join([hit("/b1"), NOT_UTF8, NOT_UTF8, hit("/b4"), NOT_UTF8, hit("/b6")]) + b"\n")
    write(folder / "c.log", b"\n".join([hit("/c1"), hit("/c2")]) + b"\n")

    ingest_source(con, landing, "weblogs")

    assert batches == [["a.log", "b.log", "c.log"]]
    assert manifest(con) == [
        ("weblogs/a.log", 2, 1, 1, "loaded"),
        ("weblogs/b.log", 6, 3, 3, "loaded"),
        ("weblogs/c.log", 2, 2, 0, "loaded"),
    ]
    assert quarantined(con) == [
        ("weblogs/a.log", 2, "bad encoding: not valid UTF-8"),
        ("weblogs/b.log", 2, "bad encoding: not valid UTF-8"),
        ("weblogs/b.log", 3, "bad encoding: not valid UTF-8"),
        ("weblogs/b.log", 5, "bad encoding: not valid UTF-8"),
    ]
    assert hits(con) == [
        ("weblogs/a.log", 1, "/a1"),
        ("weblogs/b.log", 1, "/b1"), ("weblogs/b.log", 4, "/b4"), ("weblogs/b.log", 6, "/b6"),
        ("weblogs/c.log", 1, "/c1"), ("weblogs/c.log", 2, "/c2"),
    ]


def test_an_unreadable_file_in_a_batch_is_rejected_alone_and_the_others_load(unordered, landing, batches):
    con = unordered
    folder = landing / "weblogs"
    write(folder / "a.log.gz", gzip.compress(hit("/a1") + b"\n" + hit("/a2") + b"\n"))
    write(folder / "b.log.gz", gzip.compress(hit("/b1") + b"\n" * 1000)[:-12])  # truncated
    write(folder / "c.log.gz", gzip.compress(b"garbage\n" + hit("/c2") + b"\n"))

    ingest_source(con, landing, "weblogs")

    # The batch failed as a whole, was rolled back, and its files were loaded one by one.
    assert batches == [["a.log.gz", "b.log.gz", "c.log.gz"], ["a.log.gz"], ["b.log.gz"], ["c.log.gz"]]
    assert manifest(con) == [
        ("weblogs/a.log.gz", 2, 2, 0, "loaded"),
        ("weblogs/b.log.gz", 1, 0, 1, "rejected"),
        ("weblogs/c.log.gz", 2, 1, 1, "loaded"),
    ]
    assert quarantined(con) == [
        ("weblogs/b.log.gz", None, f"unreadable file: IO Error: Unexpected end of GZIP stream: {folder / 'b.log.gz'}"),
        ("weblogs/c.log.gz", 1, "malformed line: not in combined log format"),
    ]
    assert hits(con) == [("weblogs/a.log.gz", 1, "/a1"), ("weblogs/a.log.gz", 2, "/a2"),
                         ("weblogs/c.log.gz", 2, "/c2")]


def test_files_past_the_batch_bound_go_to_the_next_batch_and_gzip_is_read_apart(
    unordered, landing, batches, monkeypatch
):
    con = unordered
    folder = landing / "weblogs"
    for name in ("a", "b", "c", "d", "e"):
        write(folder / f"{name}.log", b"\n".join([b"garbage", hit(f"/{name}2"), hit(f"/{name}3")]) + b"\n")
    write(folder / "f.log.gz", gzip.compress(hit("/f1") + b"\ngarbage\n"))
    monkeypatch.setattr(lines, "BATCH_BYTES", 2 * (folder / "a.log").stat().st_size)

    loads = ingest_source(con, landing, "weblogs")

    assert batches == [["a.log", "b.log"], ["c.log", "d.log"], ["e.log"], ["f.log.gz"]]
    assert [load.file.path.name for load in loads] == ["a.log", "b.log", "c.log", "d.log", "e.log", "f.log.gz"]
    assert manifest(con) == [(f"weblogs/{name}.log", 3, 2, 1, "loaded") for name in "abcde"] + [
        ("weblogs/f.log.gz", 2, 1, 1, "loaded")]
    assert quarantined(con) == [(f"weblogs/{name}.log", 1, "malformed line: not in combined log format")
                                for name in "abcde"] + [
        ("weblogs/f.log.gz", 2, "malformed line: not in combined log format")]
    assert hits(con) == [
        (f"weblogs/{name}.log", line, f"/{name}{line}") for name in "abcde" for line in (2, 3)
    ] + [("weblogs/f.log.gz", 1, "/f1")]


def test_email_files_of_both_compressions_load_in_batches_with_their_line_numbers(unordered, landing, batches):
    con = unordered

    def event(n: int) -> bytes:
        return json.dumps({"event_id": f"e{n}", "event_type": "open", "occurred_at": "2026-06-30T10:00:00Z",
                           "email": "ana@acme.com"}).encode()

    folder = landing / "email"
    write(folder / "a.jsonl", b"\n".join([event(1), b"[1]", event(3)]) + b"\n")
    write(folder / "b.jsonl.gz", gzip.compress(b"\n".join([b"\xff{}", event(4), event(5)]) + b"\n"))
    write(folder / "c.jsonl", b"\n".join([event(6), b'{"event_id": "e7"}']) + b"\n")

    ingest_source(con, landing, "email")

    assert batches == [["a.jsonl", "c.jsonl"], ["b.jsonl.gz"]]
    assert manifest(con) == [
        ("email/a.jsonl", 3, 2, 1, "loaded"),
        ("email/b.jsonl.gz", 3, 2, 1, "loaded"),
        ("email/c.jsonl", 2, 1, 1, "loaded"),
    ]
    assert quarantined(con) == [
        ("email/a.jsonl", 2, "malformed line: not a JSON object"),
        ("email/b.jsonl.gz", 1, "bad encoding: not valid UTF-8"),
        ("email/c.jsonl", 2, "missing key: event_type"),
    ]
    assert con.execute(
        "select _source_file, _source_line, event_id from raw.email_events order by all"
    ).fetchall() == [
        ("email/a.jsonl", 1, "e1"), ("email/a.jsonl", 3, "e3"),
        ("email/b.jsonl.gz", 2, "e4"), ("email/b.jsonl.gz", 3, "e5"),
        ("email/c.jsonl", 1, "e6"),
    ]


def test_a_batch_commits_all_its_files_or_none(con, landing, monkeypatch):
    folder = landing / "weblogs"
    for name in ("a", "b", "c"):
        write(folder / f"{name}.log", hit(f"/{name}") + b"\n")
    written = []

    def fail_at_second(con, load, write=lines.write_manifest):
        written.append(load.file.relative_path)
        if len(written) == 2:
            raise RuntimeError("crash while writing the batch")
        write(con, load)

    monkeypatch.setattr(lines, "write_manifest", fail_at_second)
    with pytest.raises(RuntimeError, match="crash while writing the batch"):
        ingest_source(con, landing, "weblogs")

    assert manifest(con) == [] and hits(con) == []
    assert con.execute("select count(*) from raw.quarantine").fetchone()[0] == 0


def test_line_endings_are_read_per_file_of_a_batch_and_a_file_mixing_them_is_rejected_alone(
    unordered, landing, batches
):
    con = unordered
    folder = landing / "weblogs"
    write(folder / "a.log", b"\r\n".join([hit("/a1"), hit("/a2")]) + b"\r\n")
    write(folder / "b.log", b"\n".join([hit("/b1"), hit("/b2")]) + b"\r\n")  # LF, then CRLF
    write(folder / "c.log", b"\xef\xbb\xbf" + b"\n".join([hit("/c1"), hit("/c2")]))  # BOM, no final newline

    ingest_source(con, landing, "weblogs")

    assert batches == [["a.log", "b.log", "c.log"], ["a.log"], ["b.log"], ["c.log"]]
    assert manifest(con) == [
        ("weblogs/a.log", 2, 2, 0, "loaded"),
        ("weblogs/b.log", 1, 0, 1, "rejected"),
        ("weblogs/c.log", 2, 2, 0, "loaded"),
    ]
    assert hits(con) == [("weblogs/a.log", 1, "/a1"), ("weblogs/a.log", 2, "/a2"),
                         ("weblogs/c.log", 1, "/c1"), ("weblogs/c.log", 2, "/c2")]
    (reason,) = con.execute("select reason from raw.quarantine").fetchone()
    assert reason.startswith("unreadable file: Invalid Input Error: The CSV Parser state machine")
