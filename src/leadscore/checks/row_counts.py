"""Row-count anomalies against the previous run: each key table's row count is kept in a small
history table in the warehouse (checks.row_count_history), so the comparison survives restarts
and needs nothing but the warehouse."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from leadscore.checks.outcome import CheckOutcome

HISTORY_SCHEMA = "checks"
HISTORY = f"{HISTORY_SCHEMA}.row_count_history"

_DDL = f"""
create schema if not exists {HISTORY_SCHEMA};
create table if not exists {HISTORY} (
    table_name varchar not null,
    run_id varchar not null,
    run_number bigint not null,  -- order of the runs that counted this table
    row_count bigint not null
);
"""


@dataclass(frozen=True)
class RowCountLimits:
    max_drop: float  # a fall by more than this share of the previous count warns (0.2 = 20%)
    max_jump: float  # a rise by more than this share warns (1.0 = more than doubled)


DEFAULT_LIMITS = RowCountLimits(max_drop=0.2, max_jump=1.0)


def record_and_compare(
    con: duckdb.DuckDBPyConnection, table: str, run_id: str, limits: RowCountLimits
) -> CheckOutcome:
    """Count `table`, compare with the count of the latest other run, and record this run's count
    (a re-executed check in the same run replaces its own row)."""
    con.execute(_DDL)
    count = con.execute(f"select count(*) from {table}").fetchone()[0]
    previous = con.execute(
        f"select row_count from {HISTORY} where table_name = ? and run_id <> ? order by run_number desc limit 1",
        [table, run_id],
    ).fetchone()
    con.execute(f"delete from {HISTORY} where table_name = ? and run_id = ?", [table, run_id])
    con.execute(
        f"""insert into {HISTORY}
            select ?, ?, coalesce(max(run_number), 0) + 1, ? from {HISTORY} where table_name = ?""",
        [table, run_id, count, table],
    )
    return compare(table, count, None if previous is None else previous[0], limits)


def compare(table: str, count: int, previous: int | None, limits: RowCountLimits) -> CheckOutcome:
    metadata = {"row_count": count, "previous_row_count": previous, "max_drop": limits.max_drop,
                "max_jump": limits.max_jump}
    if previous is None:
        return CheckOutcome(True, f"{table}: {count:,} rows; no previous run to compare with", metadata)
    if previous == 0:
        return CheckOutcome(True, f"{table}: {count:,} rows; the previous run had none", metadata)
    change = (count - previous) / previous
    metadata["change"] = round(change, 6)
    if change < -limits.max_drop:
        return CheckOutcome(
            False,
            f"{table}: {count:,} rows, {-change:.1%} fewer than the previous run's {previous:,} "
            f"(limit: a {limits.max_drop:.0%} drop, LEADSCORE_ROW_COUNT_MAX_DROP)",
            metadata,
        )
    if change > limits.max_jump:
        return CheckOutcome(
            False,
            f"{table}: {count:,} rows, {change:.1%} more than the previous run's {previous:,} "
            f"(limit: a {limits.max_jump:.0%} rise, LEADSCORE_ROW_COUNT_MAX_JUMP)",
            metadata,
        )
    return CheckOutcome(True, f"{table}: {count:,} rows ({change:+.1%} against the previous run's {previous:,})",
                        metadata)
