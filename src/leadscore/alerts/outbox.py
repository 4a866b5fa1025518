"""SLA alerts through an outbox in the warehouse, so each alert is delivered once.

Each check (1) adds to `alerts.outbox` one row per new alert of the dbt mart
`marts.fct_sla_alerts` (an open SLA at risk, to its owner, or breached, to its owner and to the
owner's manager), keyed by SLA, kind and recipient, so no alert is added twice; (2) delivers
every outbox row not yet delivered and marks it delivered. A failed delivery stays in the outbox
with its error and is retried at the next check. SLAs already met raise no alert. A crash
between sending and marking re-sends that one alert next time: receivers can drop repeats by
`alert_id`.
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass
from typing import Protocol

import duckdb

SCHEMA = "alerts"


class Notifier(Protocol):
    def send(self, alert: Alert) -> None: ...


@dataclass(frozen=True)
class Alert:
    alert_id: str
    kind: str  # at_risk or breached
    recipient_id: str | None
    recipient_role: str  # owner or manager
    person_id: str
    policy: str
    due_at: str
    text: str


class WebhookNotifier:
    """POSTs a Slack-compatible JSON payload ({"text": ...} plus the alert's fields)."""

    def __init__(self, url: str, timeout_s: float = 10.0):
        self.url = url
        self.timeout_s = timeout_s

    def send(self, alert: Alert) -> None:
        body = json.dumps({"text": alert.text, **alert.__dict__}).encode()
        request = urllib.request.Request(self.url, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
            if response.status >= 300:
                raise RuntimeError(f"webhook answered {response.status}")


class LogNotifier:
    """The default: the alert stays in alerts.outbox (its delivery is the row) and goes to the log."""

    def __init__(self, log):
        self.log = log

    def send(self, alert: Alert) -> None:
        self.log(alert.text)


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"create schema if not exists {SCHEMA}")
    con.execute(
        f"""create table if not exists {SCHEMA}.outbox (
            alert_id varchar primary key, sla_id varchar, kind varchar, recipient_role varchar,
            recipient_id varchar, person_id varchar, policy varchar, due_at timestamp, text varchar,
            created_at timestamp, delivered_at timestamp, attempts integer, last_error varchar)"""
    )
    # An outbox kept by a version that named the person crm_id.
    renamed = con.execute(
        "select count(*) from information_schema.columns where table_schema = ? and table_name = 'outbox' "
        "and column_name = 'crm_id'", [SCHEMA]).fetchone()[0]
    if renamed:
        con.execute(f"alter table {SCHEMA}.outbox rename column crm_id to person_id")
    # Alerts that are never sent: too old when the outbox was first filled.
    con.execute(f"alter table {SCHEMA}.outbox add column if not exists skipped_at timestamp")


# Which alerts exist, their ids and texts are decided by the dbt mart marts.fct_sla_alerts; the
# outbox only remembers which of them it holds, so a row already there is never added again.
ALERTS_MART = ("marts", "fct_sla_alerts")

NEW_ALERTS_SQL = f"""
insert into {SCHEMA}.outbox (
    alert_id, sla_id, kind, recipient_role, recipient_id, person_id, policy, due_at, text,
    created_at, delivered_at, attempts, last_error, skipped_at)
select
    alert_id, sla_id, kind, recipient_role, recipient_id, person_id, policy, due_at, text,
    ?, null, 0, null, null
from {ALERTS_MART[0]}.{ALERTS_MART[1]}
on conflict do nothing
"""


@dataclass
class CheckResult:
    added: int = 0
    delivered: int = 0
    failed: int = 0
    skipped: int = 0
    # Why no alerts were looked for although a scan was asked for, if so.
    not_scanned: str | None = None


def _scores_as_of(con: duckdb.DuckDBPyConnection):
    """The instant the warehouse's scores are computed as of, or None before any build."""
    try:
        return con.execute("select max(as_of) from marts.fct_lead_scores").fetchone()[0]
    except duckdb.CatalogException:
        return None


def _alerts_mart_exists(con: duckdb.DuckDBPyConnection) -> bool:
    return con.execute(
        "select count(*) from information_schema.tables "
        "where table_catalog = current_database() and table_schema = ? and table_name = ?",
        list(ALERTS_MART),
    ).fetchone()[0] > 0


def check_and_deliver(
    con: duckdb.DuckDBPyConnection, notifier: Notifier, now: str, scan: bool = True,
    first_scan_max_age_days: float | None = 7.0,
) -> CheckResult:
    """Add the new alerts to the outbox (unless `scan` is off), then deliver what is not
    delivered yet. `now` (UTC) only stamps the bookkeeping. The first scan of a warehouse (an
    empty outbox) skips alerts due more than `first_scan_max_age_days` before the scores' as_of:
    switching alerts on over a long history must not page reps about last year's handoffs."""
    ensure_tables(con)
    result = CheckResult()
    # A warehouse built before the alerts mart existed has no alerts to add until its next build;
    # what is already in the outbox is still delivered.
    if scan and not _alerts_mart_exists(con):
        result.not_scanned = f"{'.'.join(ALERTS_MART)} is not built yet"
        scan = False
    if scan:
        before = con.execute(f"select count(*) from {SCHEMA}.outbox").fetchone()[0]
        con.execute(NEW_ALERTS_SQL, [now])
        result.added = con.execute(f"select count(*) from {SCHEMA}.outbox").fetchone()[0] - before
        as_of = _scores_as_of(con)
        if before == 0 and first_scan_max_age_days is not None and as_of is not None:
            result.skipped = len(con.execute(
                f"""update {SCHEMA}.outbox set skipped_at = ?,
                    last_error = 'skipped: due more than {float(first_scan_max_age_days):g} days before as_of '
                        || strftime(?::timestamp, '%Y-%m-%d %H:%M') || ' when alerts were first switched on'
                where due_at < ?::timestamp - to_seconds(cast(? * 86400 as bigint)) returning alert_id""",
                [now, as_of, as_of, first_scan_max_age_days],
            ).fetchall())
            result.added -= result.skipped
    pending = con.execute(
        f"""select alert_id, kind, recipient_id, recipient_role, person_id, policy, cast(due_at as varchar), text
        from {SCHEMA}.outbox where delivered_at is null and skipped_at is null order by created_at, alert_id"""
    ).fetchall()
    for row in pending:
        alert = Alert(*row)
        try:
            notifier.send(alert)
        except Exception as error:  # any failure: keep it for the next check
            con.execute(
                f"update {SCHEMA}.outbox set attempts = attempts + 1, last_error = ? where alert_id = ?",
                [f"{type(error).__name__}: {error}"[:500], alert.alert_id],
            )
            result.failed += 1
            continue
        con.execute(
            f"update {SCHEMA}.outbox set attempts = attempts + 1, delivered_at = ?, last_error = null "
            "where alert_id = ?",
            [now, alert.alert_id],
        )
        result.delivered += 1
    return result
