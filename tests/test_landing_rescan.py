"""A run that finds nothing new does not read the landing folder again: files already loaded are
recognized by path, size and modification time; a file rewritten in place is read and loaded."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from leadscore.ingest import landing
from leadscore.ingest.sources import ingest_source
from leadscore.warehouse import connect

HIT = ('203.0.113.7 - - [30/Jun/2026:14:02:11 +0200] "GET /pricing HTTP/1.1" 200 5120 "-" '
       '"Mozilla/5.0 (X11; Linux x86_64) Firefox/126.0" "v-1"\n')


@pytest.fixture
def read_files(monkeypatch) -> list[str]:
    """The files whose bytes were hashed."""
    hashed: list[str] = []
    real = landing.file_checksum

    def counting(path: Path, *args, **kwargs) -> str:
        hashed.append(path.name)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(landing, "file_checksum", counting)
    return hashed


def test_known_files_are_not_read_again_and_rewritten_ones_are(tmp_path, read_files):
    log = tmp_path / "landing" / "weblogs" / "access-2026-06-30.log"
    log.parent.mkdir(parents=True)
    log.write_text(HIT * 3)
    (log.parent / "access-2026-07-01.log").write_text(HIT)
    with connect(tmp_path / "warehouse.duckdb") as con:
        first = ingest_source(con, tmp_path / "landing", "weblogs")
        assert sorted(read_files) == ["access-2026-06-30.log", "access-2026-07-01.log"]
        assert [load.rows_loaded for load in first] == [3, 1]

        read_files.clear()
        assert ingest_source(con, tmp_path / "landing", "weblogs") == []
        assert read_files == []

        # Rewritten in place with one more line: same name, new size and time.
        log.write_text(HIT * 4)
        os.utime(log, ns=(log.stat().st_mtime_ns + 10**9,) * 2)
        again = ingest_source(con, tmp_path / "landing", "weblogs")
        assert read_files == ["access-2026-06-30.log"]
        assert [(load.file.relative_path, load.rows_loaded) for load in again] == [
            ("weblogs/access-2026-06-30.log", 4)
        ]
        (rows,) = con.execute("select count(*) from raw.weblog_hits").fetchone()
    assert rows == 3 + 1 + 4  # both versions stay, each under its own load id


def test_a_warehouse_from_before_the_modification_time_column_still_loads(tmp_path):
    (tmp_path / "landing" / "weblogs").mkdir(parents=True)
    (tmp_path / "landing" / "weblogs" / "access-2026-06-30.log").write_text(HIT)
    with connect(tmp_path / "warehouse.duckdb") as con:
        ingest_source(con, tmp_path / "landing", "weblogs")
        con.execute("alter table raw.load_manifest drop column modified_ns")
        (tmp_path / "landing" / "weblogs" / "access-2026-07-01.log").write_text(HIT * 2)
        loads = ingest_source(con, tmp_path / "landing", "weblogs")
        assert [(load.file.relative_path, load.rows_loaded) for load in loads] == [("weblogs/access-2026-07-01.log", 2)]
        assert con.execute("select count(modified_ns) from raw.load_manifest").fetchone() == (1,)
