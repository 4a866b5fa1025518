"""Rotating the warehouse keeps every table and row, archives the old file and refuses to run while
another process holds the warehouse."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from leadscore.tools.rotate import rotate
from leadscore.warehouse import WarehouseLockedError, connect


def test_rotation_archives_the_old_file_and_keeps_every_row(tmp_path):
    warehouse = tmp_path / "leadscore.duckdb"
    with connect(warehouse) as con:
        con.execute("create schema marts; create table marts.scores as select range as crm_id, range * 1.5 as score "
                    "from range(1000)")
        con.execute("delete from marts.scores where crm_id >= 500")  # space a compacted copy gives back
        con.execute("create schema raw; create table raw.files (name varchar); insert into raw.files values ('a.csv')")

    archive = rotate(warehouse, tmp_path / "archive", "20261201T000000Z")

    assert archive == tmp_path / "archive" / "leadscore-20261201T000000Z.duckdb"
    for path in (warehouse, archive):
        with connect(path, read_only=True) as con:
            expected = (500, 1.5 * sum(range(500)))
            assert con.execute("select count(*), sum(score) from marts.scores").fetchone() == expected
            assert con.execute("select name from raw.files").fetchall() == [("a.csv",)]
    with pytest.raises(FileExistsError):
        rotate(warehouse, tmp_path / "archive", "20261201T000000Z")


def test_rotation_refuses_while_another_process_holds_the_warehouse(tmp_path):
    warehouse = tmp_path / "leadscore.duckdb"
    with connect(warehouse) as con:
        con.execute("create table t as select 1 as x")
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import duckdb, sys
            con = duckdb.connect({str(warehouse)!r})
            print("open", flush=True)
            sys.stdin.read()
        """)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(WarehouseLockedError, match=str(warehouse)):
            rotate(warehouse, tmp_path / "archive", "x")
    finally:
        holder.communicate("")
    assert not (tmp_path / "archive" / "leadscore-x.duckdb").exists()
    with connect(warehouse, read_only=True) as con:
        assert con.execute("select x from t").fetchall() == [(1,)]
