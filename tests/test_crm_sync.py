"""The CRM sync export sends each change once: everyone the first time, nothing when nothing
changed, then only the people whose score (whole points), grade or stage changed."""

from __future__ import annotations

import csv

import duckdb

from assets.export.crm_sync import export_crm_changes


def make_marts(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema marts")
    con.execute("""create table marts.fct_lead_scores as select * from (values
        ('P1', true, 61.4, 'B2', timestamp '2026-06-30 00:00:00'),
        ('P2', true, 12.0, 'C3', timestamp '2026-06-30 00:00:00'),
        ('P1', false, 5.0, 'C4', timestamp '2026-06-30 00:00:00')
    ) as t(crm_id, is_champion, total_score, grade, as_of)""")
    con.execute("""create table marts.fct_lead_stage_history as select * from (values
        ('P1', 'name', false), ('P1', 'mql', true), ('P2', 'name', true)
    ) as t(crm_id, stage, is_current)""")
    con.execute("""create table marts.fct_score_ledger as select * from (values
        ('P1', true, 'R1', 'Visited a pricing page', 12.0),
        ('P1', true, 'R2', 'Job title: director', 12.0),
        ('P1', true, 'R3', 'Any page', 1.0),
        ('P1', true, 'R4', 'Industry: finance', 10.0),
        ('P2', true, 'R3', 'Any page', 0.0)
    ) as t(crm_id, is_champion, rule_id, description, points_as_of)""")


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
    # The three largest contributions, ties by rule id.
    assert rows[0]["top_reasons"] == (
        "Visited a pricing page (12.0); Job title: director (12.0); Industry: finance (10.0)"
    )

    second = export_crm_changes(con, out)
    assert (second.export_id, second.rows, read(second.path)) == (2, 0, [])

    # Less than a whole point: no change for the CRM. A new grade: exported.
    con.execute("update marts.fct_lead_scores set total_score = 61.2 where crm_id = 'P1'")
    con.execute("update marts.fct_lead_scores set grade = 'C2' where crm_id = 'P2'")
    third = export_crm_changes(con, out)
    assert [(r["crm_id"], r["grade"]) for r in read(third.path)] == [("P2", "C2")]
    assert sorted(p.name for p in out.iterdir()) == [f"crm_sync_00000{n}.csv" for n in (1, 2, 3)]
