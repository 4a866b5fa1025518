"""SLA alerts reach a webhook exactly once across sensor ticks and restarts; a failed delivery is
retried; SLAs already met raise none."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import dagster as dg
import duckdb
import pytest

from orchestration.alerts import SLA_ASSET, NotifierResource, sla_alerts
from orchestration.resources import WarehouseResource


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


SLAS = """create or replace table marts.fct_lead_sla as select * from (values
    ('s1', 'P1', 'mql_touch', 'U1', 'M1', '2026-03-02 10:00'::timestamp, null, 'at_risk'),
    ('s2', 'P2', 'mql_touch', 'U2', 'M2', '2026-03-02 10:00'::timestamp, null, 'breached'),
    ('s3', 'P3', 'mql_touch', 'U3', null, '2026-03-02 10:00'::timestamp, null, 'breached'),
    ('s4', 'P4', 'mql_touch', 'U4', 'M4', '2026-03-02 10:00'::timestamp, '2026-03-01 12:00'::timestamp, 'met'),
    ('s5', 'P5', 'mql_touch', 'U5', 'M5', '2026-03-02 10:00'::timestamp, '2026-03-03 12:00'::timestamp, 'breached'),
    ('s6', 'P6', 'sal_next_step', 'U6', 'M6', timestamp '2026-03-20 10:00:00', null, 'open')
) as t(sla_id, crm_id, policy, owner_id, manager_id, due_at, met_at, status)"""


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
        con.execute("create schema marts")
        con.execute(SLAS)
    warehouse = WarehouseResource(path=str(path))
    instance = dg.DagsterInstance.ephemeral()
    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=SLA_ASSET))

    webhook.fail_next = 1
    cursor = tick(instance, warehouse, None)
    # at risk -> owner; breached -> owner and manager (no manager for P3); met or open -> nothing.
    # One delivery failed and waits in the outbox.
    assert len(webhook.received) == 3
    cursor = tick(instance, warehouse, cursor)  # retried
    cursor = tick(instance, warehouse, cursor)  # nothing new
    # A restart (no cursor) and a new build with the same SLAs send nothing again.
    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=SLA_ASSET))
    tick(instance, warehouse, None)

    sent = sorted((a["crm_id"], a["kind"], a["recipient_role"], a["recipient_id"]) for a in webhook.received)
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
        con.execute("create schema marts")
        con.execute(SLAS)
        con.execute("""insert into marts.fct_lead_sla values
            ('old', 'P7', 'mql_touch', 'U7', null, '2025-04-01 10:00'::timestamp, null, 'breached')""")
        con.execute("create table marts.fct_lead_scores as select timestamp '2026-03-05 00:00:00' as as_of")
    warehouse = WarehouseResource(path=str(path))
    instance = dg.DagsterInstance.ephemeral()
    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=SLA_ASSET))

    cursor = tick(instance, warehouse, None)
    assert sorted(a["crm_id"] for a in webhook.received) == ["P1", "P2", "P2", "P3"]
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute(
            "select crm_id, delivered_at is null, skipped_at is not null from alerts.outbox where crm_id = 'P7'"
        ).fetchall() == [("P7", True, True)]

    # Later scans never send the skipped alert; a new old-dated breach is sent (not a first scan).
    with duckdb.connect(str(path)) as con:
        con.execute("""insert into marts.fct_lead_sla values
            ('late', 'P8', 'mql_touch', 'U8', null, '2025-05-01 10:00'::timestamp, null, 'breached')""")
    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=SLA_ASSET))
    tick(instance, warehouse, cursor)
    assert sorted(a["crm_id"] for a in webhook.received) == ["P1", "P2", "P2", "P3", "P8"]
