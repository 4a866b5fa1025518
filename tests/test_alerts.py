"""SLA alerts reach a webhook exactly once across sensor ticks and restarts; a failed delivery is
retried. Which alerts exist (at risk to the owner, breached to the owner and the manager, none
for met or open SLAs) is decided by the dbt mart fct_sla_alerts and proven by its unit test
(dbt_project/models/marts/lifecycle/_alerts__unit_tests.yml); these tests start from the rows
that test proves the mart makes."""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml

from leadscore.alerts.outbox import ensure_tables
from leadscore.orchestration.alerts import ALERTS_ASSET, NotifierResource, sla_alerts
from leadscore.orchestration.resources import WarehouseResource

UNIT_TESTS = Path(__file__).resolve().parent.parent / "dbt_project/models/marts/lifecycle/_alerts__unit_tests.yml"


class Receiver(BaseHTTPRequestHandler):
    received: list[dict] = []
    fail_next = 0

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if Receiver.fail_next:
            Receiver.fail_next -= 1
            self.send_response(500)
        else:
            Receiver.received.append(body)
            self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook(monkeypatch):
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Receiver.received, Receiver.fail_next = [], 0
    monkeypatch.setenv("TEST_ALERT_WEBHOOK", f"http://127.0.0.1:{server.server_port}/hook")
    yield Receiver
    server.shutdown()


def alert(sla_id, kind, role, recipient_id, person_id, due_at, owner_id):
    """One row of marts.fct_sla_alerts for a mql_touch SLA, as the mart writes it."""
    minute = due_at[:16]
    text = (f"SLA at risk: mql_touch for {person_id} is due {minute} UTC" if kind == "at_risk"
            else f"SLA breached: mql_touch for {person_id} was due {minute} UTC (owner {owner_id or '?'})")
    alert_id = hashlib.md5(f"{sla_id}|{kind}|{role}".encode()).hexdigest()
    return (alert_id, sla_id, kind, role, recipient_id, person_id, "mql_touch", due_at, text)


# The alerts of SLAs s1 to s6 of the unit test: s1 at risk (owner), s2 breached with a manager
# (owner and manager), s3 breached without one (owner); s4 and s5 (met) and s6 (open) have none.
ALERTS = [
    alert("s1", "at_risk", "owner", "U1", "P1", "2026-03-02 10:00:00", "U1"),
    alert("s2", "breached", "owner", "U2", "P2", "2026-03-02 10:00:00", "U2"),
    alert("s2", "breached", "manager", "M2", "P2", "2026-03-02 10:00:00", "U2"),
    alert("s3", "breached", "owner", "U3", "P3", "2026-03-02 10:00:00", "U3"),
]
COLUMNS = ("alert_id", "sla_id", "kind", "recipient_role", "recipient_id", "person_id", "policy", "due_at", "text")


def create_alerts_mart(con, rows=ALERTS):
    con.execute("create schema if not exists marts")
    con.execute(
        """create or replace table marts.fct_sla_alerts (alert_id varchar, sla_id varchar, kind varchar,
        recipient_role varchar, recipient_id varchar, person_id varchar, policy varchar, due_at timestamp,
        text varchar)"""
    )
    insert_alerts(con, rows)


def insert_alerts(con, rows):
    con.executemany("insert into marts.fct_sla_alerts values (?, ?, ?, ?, ?, ?, ?, ?::timestamp, ?)", rows)


def test_the_hand_made_alerts_are_those_the_mart_is_proven_to_make():
    """The rows these tests start from are rows the dbt unit test expects of fct_sla_alerts, and
    each id is md5('<sla_id>|<kind>|<recipient_role>'), the id outboxes filled before the mart
    existed already hold."""
    tests = yaml.safe_load(UNIT_TESTS.read_text())["unit_tests"]
    [routing] = [t for t in tests if t["name"] == "test_sla_alerts_go_to_owner_and_manager"]
    expected = {tuple(row[c] for c in COLUMNS) for row in routing["expect"]["rows"]}
    assert set(ALERTS) <= expected
    assert {r[1] for r in expected} - {r[1] for r in ALERTS} == {"s7"}  # owner-less, tested there only
    for row in expected:
        assert row[0] == hashlib.md5(f"{row[1]}|{row[2]}|{row[3]}".encode()).hexdigest(), row


def tick(instance, warehouse, cursor):
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor,
        resources={"warehouse": warehouse, "notifier": NotifierResource(webhook_url_env="TEST_ALERT_WEBHOOK")},
    )
    sla_alerts(context)
    return context.cursor


def test_alerts_are_delivered_once_and_failures_retried(tmp_path, webhook):
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        create_alerts_mart(con)
    warehouse = WarehouseResource(path=str(path))
    instance = dg.DagsterInstance.ephemeral()
    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=ALERTS_ASSET))

    webhook.fail_next = 1
    cursor = tick(instance, warehouse, None)
    # Four alerts; one delivery failed and waits in the outbox.
    assert len(webhook.received) == 3
    cursor = tick(instance, warehouse, cursor)  # retried
    cursor = tick(instance, warehouse, cursor)  # nothing new
    # A restart (no cursor) and a new build with the same alerts send nothing again.
    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=ALERTS_ASSET))
    tick(instance, warehouse, None)

    sent = sorted((a["person_id"], a["kind"], a["recipient_role"], a["recipient_id"]) for a in webhook.received)
    assert sent == [
        ("P1", "at_risk", "owner", "U1"),
        ("P2", "breached", "manager", "M2"),
        ("P2", "breached", "owner", "U2"),
        ("P3", "breached", "owner", "U3"),
    ]
    assert all(a["text"].startswith("SLA ") for a in webhook.received)
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("select count(*), count(delivered_at), max(attempts) from alerts.outbox").fetchone() == (
            4, 4, 2)


def test_first_activation_on_an_existing_warehouse_sends_nothing_older_than_the_cutoff(tmp_path, webhook):
    """A warehouse scored as of 2026-03-05 with a year of SLAs: switching alerts on sends the
    breaches due within the last 7 days, records the older ones as skipped, and never sends
    them on later scans; a breach that appears later is sent whatever its age."""
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        create_alerts_mart(con)
        insert_alerts(con, [alert("old", "breached", "owner", "U7", "P7", "2025-04-01 10:00:00", "U7")])
        con.execute("create table marts.fct_lead_scores as select timestamp '2026-03-05 00:00:00' as as_of")
    warehouse = WarehouseResource(path=str(path))
    instance = dg.DagsterInstance.ephemeral()
    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=ALERTS_ASSET))

    cursor = tick(instance, warehouse, None)
    assert sorted(a["person_id"] for a in webhook.received) == ["P1", "P2", "P2", "P3"]
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute(
            "select person_id, delivered_at is null, skipped_at is not null from alerts.outbox where person_id = 'P7'"
        ).fetchall() == [("P7", True, True)]

    # Later scans never send the skipped alert; a new old-dated breach is sent (not a first scan).
    with duckdb.connect(str(path)) as con:
        insert_alerts(con, [alert("late", "breached", "owner", "U8", "P8", "2025-05-01 10:00:00", "U8")])
    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=ALERTS_ASSET))
    tick(instance, warehouse, cursor)
    assert sorted(a["person_id"] for a in webhook.received) == ["P1", "P2", "P2", "P3", "P8"]


def test_a_warehouse_built_before_the_alerts_mart_scans_nothing_and_still_delivers(tmp_path, webhook):
    """A warehouse whose last build predates fct_sla_alerts: the tick neither fails nor adds
    alerts; what already waits in the outbox is delivered; the next build's alerts are added."""
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        ensure_tables(con)
        # An alert raised by an earlier build whose delivery failed.
        con.execute(
            "insert into alerts.outbox values "
            "(?, ?, ?, ?, ?, ?, ?, ?::timestamp, ?, ?::timestamp, null, 1, 'boom', null)",
            [*ALERTS[0], "2026-03-01 00:00:00"],
        )
    warehouse = WarehouseResource(path=str(path))
    instance = dg.DagsterInstance.ephemeral()
    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=ALERTS_ASSET))

    context = dg.build_sensor_context(
        instance=instance, cursor=None,
        resources={"warehouse": warehouse, "notifier": NotifierResource(webhook_url_env="TEST_ALERT_WEBHOOK")},
    )
    reason = sla_alerts(context)
    assert "marts.fct_sla_alerts is not built yet" in reason.skip_message
    assert [a["person_id"] for a in webhook.received] == ["P1"]
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("select count(*), count(delivered_at) from alerts.outbox").fetchone() == (1, 1)

    # The first build with the mart adds its alerts (the one already sent is not sent again).
    with duckdb.connect(str(path)) as con:
        create_alerts_mart(con)
    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=ALERTS_ASSET))
    tick(instance, warehouse, context.cursor)
    assert sorted(a["person_id"] for a in webhook.received) == ["P1", "P2", "P2", "P3"]


def test_an_outbox_kept_by_a_version_that_named_the_person_crm_id_keeps_its_alerts(tmp_path):
    with duckdb.connect(str(tmp_path / "old.duckdb")) as con:
        con.execute("create schema alerts")
        con.execute("""create table alerts.outbox (
            alert_id varchar primary key, sla_id varchar, kind varchar, recipient_role varchar,
            recipient_id varchar, crm_id varchar, policy varchar, due_at timestamp, text varchar,
            created_at timestamp, delivered_at timestamp, attempts integer, last_error varchar)""")
        con.execute("""insert into alerts.outbox values ('A1', 'S1', 'breached', 'owner', 'U1', 'P1', 'mql_touch',
            timestamp '2026-06-01 10:00:00', 'SLA breached', timestamp '2026-06-01 10:05:00',
            timestamp '2026-06-01 10:06:00', 1, null)""")

        ensure_tables(con)
        ensure_tables(con)  # a second start finds nothing left to rename

        assert con.execute("select alert_id, person_id, delivered_at is not null, skipped_at from alerts.outbox"
                           ).fetchall() == [("A1", "P1", True, None)]
