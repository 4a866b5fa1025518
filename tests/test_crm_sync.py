"""The CRM sync export sends each change once: everyone the first time, nothing when nothing
changed, then only the people whose score (whole points), grade or stage changed."""

from __future__ import annotations

import csv

import duckdb

from leadscore.export.crm_sync import export_crm_changes


def make_marts(con: duckdb.DuckDBPyConnection) -> None:
    # The mart as dbt builds it (models/marts/export/sync_crm_lead_scores.sql); its unit test
    # checks the rounding to whole points, the current stage and the choice of reasons.
    con.execute("create schema marts")
    con.execute("""create table marts.sync_crm_lead_scores as select * from (values
        ('P1', 61, 'B2', 'mql',
         'Visited a pricing page (12.0); Job title: director (12.0); Industry: finance (10.0)',
         timestamp '2026-06-30 00:00:00'),
        ('P2', 12, 'C3', 'name', null, timestamp '2026-06-30 00:00:00')
    ) as t(crm_id, score, grade, stage, top_reasons, as_of)""")


def read(path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_each_change_is_exported_once(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    make_marts(con)
    out = tmp_path / "exports"

    first = export_crm_changes(con, out)
    rows = read(first.path)
    assert [(r["crm_id"], r["score"], r["grade"], r["stage"]) for r in rows] == [
        ("P1", "61", "B2", "mql"), ("P2", "12", "C3", "name"),
    ]
    assert rows[0]["top_reasons"] == (
        "Visited a pricing page (12.0); Job title: director (12.0); Industry: finance (10.0)"
    )
    assert rows[1]["top_reasons"] == ""

    second = export_crm_changes(con, out)
    assert (second.export_id, second.rows, read(second.path)) == (2, 0, [])

    # Only score, grade and stage count: new reasons alone send nothing (and a score moving by
    # less than a whole point keeps its whole points in the mart). A new grade: exported.
    con.execute("update marts.sync_crm_lead_scores set top_reasons = 'Any page (1.0)' where crm_id = 'P1'")
    con.execute("update marts.sync_crm_lead_scores set grade = 'C2' where crm_id = 'P2'")
    third = export_crm_changes(con, out)
    assert [(r["crm_id"], r["grade"]) for r in read(third.path)] == [("P2", "C2")]
    assert sorted(p.name for p in out.iterdir()) == [f"crm_sync_00000{n}.csv" for n in (1, 2, 3)]
