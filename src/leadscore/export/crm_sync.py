"""The CRM sync export: a CSV of the people whose champion score, grade or lifecycle stage changed
since the previous export, ready for a CRM import or a reverse-ETL tool (upsert by crm_id). The
values to send come from the dbt mart `marts.sync_crm_lead_scores`; this module only finds the
rows that differ from what was sent and records the export.

What was last exported is kept in the warehouse (`exports.crm_sync_state`), so exporting twice
without changes writes an empty delta. The file is written under a temporary name and renamed,
then the state is updated: a crash in between re-sends the same rows next time (an upsert
makes that harmless), it never loses one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

SCHEMA = "exports"
# What each person's CRM record should hold now: a dbt mart (models/marts/export), where the
# rounding, the stage and the reasons are documented and tested.
CURRENT = "marts.sync_crm_lead_scores"


@dataclass(frozen=True)
class CrmSyncExport:
    export_id: int
    path: Path
    rows: int


def export_crm_changes(con: duckdb.DuckDBPyConnection, export_dir: Path) -> CrmSyncExport:
    """Write the people whose score (whole points), grade or stage changed since the last export."""
    con.execute(f"create schema if not exists {SCHEMA}")
    con.execute(
        f"""create table if not exists {SCHEMA}.crm_sync_state (
            crm_id varchar primary key, score integer, grade varchar, stage varchar, export_id integer)"""
    )
    con.execute(
        f"""create table if not exists {SCHEMA}.crm_sync_log (
            export_id integer primary key, as_of timestamp, file varchar, rows integer)"""
    )
    con.execute(
        f"""create or replace temp table crm_sync_delta as
        select current.crm_id, current.score, current.grade, current.stage, current.top_reasons
        from {CURRENT} as current
        left join {SCHEMA}.crm_sync_state as state using (crm_id)
        where state.crm_id is null
            or state.score is distinct from current.score
            or state.grade is distinct from current.grade
            or state.stage is distinct from current.stage
        order by current.crm_id"""
    )
    export_id = con.execute(f"select coalesce(max(export_id), 0) + 1 from {SCHEMA}.crm_sync_log").fetchone()[0]
    export_dir.mkdir(parents=True, exist_ok=True)
    path = export_dir / f"crm_sync_{export_id:06d}.csv"
    partial = path.with_name(path.name + ".part")
    con.execute(f"copy crm_sync_delta to '{partial}' (header, delimiter ',')")
    os.replace(partial, path)
    rows = con.execute("select count(*) from crm_sync_delta").fetchone()[0]
    con.execute("begin transaction")
    con.execute(
        f"""insert or replace into {SCHEMA}.crm_sync_state
        select crm_id, score, grade, stage, ? from crm_sync_delta""",
        [export_id],
    )
    con.execute(
        f"""insert into {SCHEMA}.crm_sync_log
        select ?, (select max(as_of) from {CURRENT}), ?, ?""",
        [export_id, str(path), rows],
    )
    con.execute("commit")
    return CrmSyncExport(export_id=export_id, path=path, rows=rows)
