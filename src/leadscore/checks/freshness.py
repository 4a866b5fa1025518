"""Source freshness, measured between sources, never against the clock: a source whose newest
event lags the newest event loaded from any source by more than its limit is late (a delivery
missing or stuck upstream). The same warehouse always gives the same result."""

from __future__ import annotations

from datetime import datetime

import duckdb

from leadscore.checks.outcome import CheckOutcome
from leadscore.ingest.ledger import RAW_SCHEMA
from leadscore.ingest.weblogs import LOG_TIME_FORMAT


def _timestamp(column: str) -> str:
    # The cast ingestion validated these values with, so every loaded value parses.
    return f"try_cast({column} as timestamptz)"


# Hours a source's newest event may lag: two days for daily feeds; signals arrive monthly.
DEFAULT_MAX_LAG_HOURS = "48,signals=840"

# The event times of each source, read from its raw tables. Manual score adjustments have no
# delivery rhythm and are not measured.
EVENT_TIMES: dict[str, list[tuple[str, str]]] = {
    "crm": [
        (table, _timestamp(column))
        for table in ("crm_leads", "crm_contacts", "crm_opportunities", "crm_campaign_members", "crm_tasks")
        for column in ("created_at", "last_modified_at")
    ] + [("crm_lead_history", _timestamp("created_at"))],
    "weblogs": [("weblog_hits", f"strptime(request_time, '{LOG_TIME_FORMAT}')")],
    "email": [("email_events", _timestamp("occurred_at"))],
    "forms": [("form_submissions", _timestamp("submitted_at"))],
    "signals": [("account_signals", _timestamp("observed_at"))],
}


def newest_events(con: duckdb.DuckDBPyConnection) -> dict[str, datetime | None]:
    """The newest event time (UTC) of each measured source; None when it has no rows (or no table)."""
    existing = {
        name for (name,) in con.execute(
            "select table_name from information_schema.tables where table_schema = ?", [RAW_SCHEMA]
        ).fetchall()
    }
    newest: dict[str, datetime | None] = {}
    for source, expressions in EVENT_TIMES.items():
        parts = [f"select max({expr}) from {RAW_SCHEMA}.{table}" for table, expr in expressions if table in existing]
        union = " union all ".join(parts)
        newest[source] = con.execute(f"select max(t) from ({union}) as e(t)").fetchone()[0] if parts else None
    return newest


def parse_max_lag_hours(text: str) -> tuple[float, dict[str, float]]:
    """'48,signals=840' -> (48.0, {'signals': 840.0}): a default and per-source limits in hours."""
    default: float | None = None
    per_source: dict[str, float] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        name, _, value = item.rpartition("=")
        try:
            hours = float(value)
        except ValueError:
            raise ValueError(f"freshness limit {item!r} is not 'hours' or 'source=hours'") from None
        if name:
            if name.strip() not in EVENT_TIMES:
                raise ValueError(f"freshness limit {item!r} names an unknown source (use: {', '.join(EVENT_TIMES)})")
            per_source[name.strip()] = hours
        else:
            default = hours
    if default is None:
        raise ValueError(f"freshness limits {text!r} need a default number of hours")
    return default, per_source


def _utc(instant: datetime) -> str:
    return instant.strftime("%Y-%m-%d %H:%M UTC")


def freshness(newest: dict[str, datetime | None], max_lag_hours: str) -> dict[str, CheckOutcome]:
    """One outcome per source: how far its newest event lags the newest event of any source."""
    default, per_source = parse_max_lag_hours(max_lag_hours)
    loaded = {source: instant for source, instant in newest.items() if instant is not None}
    outcomes: dict[str, CheckOutcome] = {}
    if not loaded:
        return {source: CheckOutcome(True, f"{source}: no events loaded yet") for source in newest}
    leader = max(sorted(loaded), key=lambda source: loaded[source])
    reference = loaded[leader]
    for source, instant in newest.items():
        limit = per_source.get(source, default)
        if instant is None:
            outcomes[source] = CheckOutcome(True, f"{source}: no events loaded, nothing to measure",
                                            {"max_lag_hours": limit})
            continue
        lag_hours = (reference - instant).total_seconds() / 3600
        metadata = {"newest_event": _utc(instant), "reference_event": _utc(reference),
                    "reference_source": leader, "lag_hours": round(lag_hours, 2), "max_lag_hours": limit}
        if lag_hours > limit:
            outcomes[source] = CheckOutcome(
                False,
                f"{source}: newest event {_utc(instant)} is {lag_hours:.1f} hours behind the newest loaded "
                f"event ({leader}, {_utc(reference)}); the limit is {limit:g} hours "
                f"(LEADSCORE_FRESHNESS_MAX_LAG_HOURS)",
                metadata,
            )
        else:
            outcomes[source] = CheckOutcome(
                True, f"{source}: newest event {_utc(instant)}, {lag_hours:.1f} hours behind {leader}", metadata
            )
    return outcomes
