"""Checks on what ingestion loaded: reconciliation of the ledger, the quarantine rate and
duplicate natural keys within a file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePosixPath

import duckdb

from leadscore.checks.outcome import CheckOutcome
from leadscore.ingest import acceptance
from leadscore.ingest.ledger import RAW_SCHEMA
from leadscore.ingest.lines import ident
from leadscore.ingest.mapping import Mapping
from leadscore.ingest.sources import RawTable

__all__ = ["CheckOutcome", "duplicate_keys", "quarantine_rate", "reconciliation"]


def reconciliation(con: duckdb.DuckDBPyConnection, table: RawTable) -> CheckOutcome:
    """Every file's rows read = loaded + quarantined, and its physical lines read = lines of the
    loaded records + lines of the quarantined ones + empty lines (a record that swallowed lines it
    does not own shows here); and the raw table holds exactly the rows the manifest says were
    loaded into it (nothing lost, nothing loaded twice)."""
    target = f"{RAW_SCHEMA}.{table.identifier}"
    unbalanced = con.execute(
        f"""select source_file from {RAW_SCHEMA}.load_manifest
            where target_table = ? and rows_read <> rows_loaded + rows_quarantined""",
        [target],
    ).fetchall()
    # Loads recorded before lines were counted have none to compare.
    lines_unbalanced = con.execute(
        f"""select source_file, lines_read, lines_loaded, lines_quarantined, lines_empty
            from {RAW_SCHEMA}.load_manifest
            where target_table = ? and lines_read is not null and (
                lines_read <> lines_loaded + lines_quarantined + lines_empty
                or lines_loaded < rows_loaded or lines_quarantined < rows_quarantined)""",
        [target],
    ).fetchall()
    mismatched = con.execute(
        f"""with manifest as (
                select load_id, source_file, rows_loaded from {RAW_SCHEMA}.load_manifest
                where target_table = ?
            ), loaded as (
                select _load_id as load_id, count(*) as row_count from {target} group by 1
            )
            select coalesce(m.source_file, l.load_id), coalesce(m.rows_loaded, 0), coalesce(l.row_count, 0)
            from manifest m full join loaded l using (load_id)
            where coalesce(m.rows_loaded, 0) <> coalesce(l.row_count, 0)""",
        [target],
    ).fetchall()
    totals = con.execute(
        f"""select count(*), coalesce(sum(rows_read), 0), coalesce(sum(rows_loaded), 0),
                   coalesce(sum(rows_quarantined), 0), coalesce(sum(lines_read), 0)
            from {RAW_SCHEMA}.load_manifest where target_table = ?""",
        [target],
    ).fetchone()
    metadata = {"files": totals[0], "rows_read": totals[1], "rows_loaded": totals[2],
                "rows_quarantined": totals[3], "lines_read": totals[4]}
    problems = [f"{path}: read <> loaded + quarantined" for (path,) in unbalanced] + [
        f"{path}: {read} lines read but {loaded} in loaded records, {quarantined} in quarantined ones "
        f"and {empty} empty" for path, read, loaded, quarantined, empty in lines_unbalanced
    ] + [
        f"{path}: manifest says {expected} rows loaded, {target} holds {actual}"
        for path, expected, actual in mismatched
    ]
    if problems:
        return CheckOutcome(False, f"{target} does not reconcile: " + "; ".join(problems[:10]), metadata)
    return CheckOutcome(True, f"{target}: {totals[2]} rows from {totals[0]} files reconcile", metadata)


def _places_in(table: RawTable, mapping: Mapping | None) -> Callable[[str | None, str], bool]:
    """Whether a file of the source's delivery (its target table, its path) belongs to `table`.
    A file rejected before its object was known (unreadable) is placed by its name when the
    mapping can, else counted for every table of the source rather than for none."""
    target = f"{RAW_SCHEMA}.{table.identifier}"

    def places(file_target: str | None, path: str) -> bool:
        if file_target is not None:
            return file_target == target
        obj = mapping.object_for(PurePosixPath(path).name) if mapping is not None else None
        return obj is None or obj.table == table.identifier

    return places


def quarantine_rate(
    con: duckdb.DuckDBPyConnection, source: str, max_rate: float, table: RawTable | None = None,
    mapping: Mapping | None = None,
) -> CheckOutcome:
    """Share of the rows of the source's latest delivery (the files loaded together most
    recently) that went to quarantine: of the files `table` was loaded from when given (a CRM
    delivery's Lead.csv for raw.crm_leads), so a bad file fails its own table only and a table no
    file of the delivery fed passes. A bad delivery keeps failing the check on later runs that
    find nothing new, until a new delivery arrives, the limit is raised or an operator accepts
    the file (src/leadscore/ingest/acceptance.py).

    Files of objects the mapping does not know (a CRM export often holds more objects than
    scoring uses) are reported but do not count toward the rate; neither do accepted files (that
    version of the file, by its checksum), which the message names with who accepted them and why.
    """
    rows = con.execute(
        f"""select source_file, file_checksum, rows_read, rows_quarantined, status, message, target_table
            from {RAW_SCHEMA}.load_manifest
            where source = ? and status <> 'duplicate' and loaded_at = (
                select max(loaded_at) from {RAW_SCHEMA}.load_manifest
                where source = ? and status <> 'duplicate')
            order by source_file""",
        [source, source],
    ).fetchall()
    subject = source if table is None else f"{RAW_SCHEMA}.{table.identifier}"
    if not rows:
        return CheckOutcome(True, f"{subject}: nothing delivered yet", {"rate": 0.0, "max_rate": max_rate})
    acceptances = acceptance.accepted_loads(con, source)
    places = _places_in(table, mapping) if table is not None else None
    counted, ignored, accepted = [], [], []
    for path, checksum, read, quarantined, status, message, target in rows:
        if status == "rejected" and (message or "").startswith("unknown object"):
            ignored.append(path)
        elif places is not None and not places(target, path):
            continue
        elif (path, checksum) in acceptances:
            accepted.append(acceptances[(path, checksum)])
        else:
            counted.append((path, read, quarantined))
    accepted_text = "; ".join(decision.describe() for decision in accepted)
    if table is not None and not counted and not accepted:
        return CheckOutcome(
            True, f"{subject}: nothing delivered for this table in the latest {source} delivery",
            {"rate": 0.0, "max_rate": max_rate, "rows_read": 0, "rows_quarantined": 0},
        )
    read = sum(r[1] for r in counted)
    quarantined = sum(r[2] for r in counted)
    rate = quarantined / read if read else 0.0
    worst = sorted((r for r in counted if r[2]), key=lambda r: r[2] / max(r[1], 1), reverse=True)
    worst_text = ", ".join(f"{r[0]} ({r[2]}/{r[1]} rows)" for r in worst[:10])
    metadata = {"rate": round(rate, 6), "max_rate": max_rate, "rows_read": read,
                "rows_quarantined": quarantined, "ignored_files": ", ".join(ignored) or "-",
                "accepted_files": accepted_text or "-"}
    accepted_detail = f"; left out as accepted: {accepted_text}" if accepted else ""
    if rate > max_rate:
        return CheckOutcome(
            False,
            f"{subject}: {rate:.2%} of rows quarantined (limit {max_rate:.2%}); "
            f"see raw.quarantine for: {worst_text}{accepted_detail}. To let a file through as it is: "
            f"{acceptance.COMMAND} accept <file> --reason \"...\"",
            metadata,
        )
    detail = f"; quarantined rows in: {worst_text}" if worst_text else ""
    return CheckOutcome(True, f"{subject}: {rate:.2%} of rows quarantined{detail}{accepted_detail}", metadata)


def duplicate_keys(con: duckdb.DuckDBPyConnection, table: RawTable, key: str | None) -> CheckOutcome:
    """A natural key (a CRM record Id, an event id) appears at most once in each file of the
    table's latest delivery. Later deliveries may repeat a key (a newer version of the record);
    two rows with one key in one file leave no way to tell which is right."""
    target = f"{RAW_SCHEMA}.{table.identifier}"
    if key is None:
        return CheckOutcome(True, f"{target}: no natural key to check (rows are identified by file and line)")
    repeated = con.execute(
        f"""select _source_file, {ident(key)}, list(_source_line order by _source_line)
            from {target}
            where _loaded_at = (select max(_loaded_at) from {target})
            group by _source_file, {ident(key)}
            having count(*) > 1
            order by 1, 2"""
    ).fetchall()
    metadata = {"key": key, "repeated_keys": len(repeated)}
    if not repeated:
        return CheckOutcome(True, f"{target}: every {key} appears once per file in the latest delivery", metadata)
    listed = "; ".join(
        f"{path}: {value} (lines {', '.join(str(line) for line in lines)})" for path, value, lines in repeated[:10]
    )
    more = f" and {len(repeated) - 10} more" if len(repeated) > 10 else ""
    return CheckOutcome(
        False, f"{target}: {len(repeated)} {key} value(s) appear more than once in one file: {listed}{more}", metadata
    )
