"""The SLA alert sensor: after each new materialization of fct_sla_alerts (the dbt mart that
decides which alerts exist) it adds the new alerts to the warehouse outbox, and at every tick it
delivers what is not delivered yet (retrying failed deliveries). Exactly-once bookkeeping lives
in alerts.outbox; the cursor only remembers which materialization was already scanned."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import dagster as dg
import duckdb
from dagster_dbt import get_asset_key_for_model

from leadscore.alerts.outbox import LogNotifier, WebhookNotifier, check_and_deliver
from leadscore.orchestration.dbt import dbt_models
from leadscore.orchestration.resources import WarehouseResource

ALERTS_ASSET = get_asset_key_for_model([dbt_models], "fct_sla_alerts")


class NotifierResource(dg.ConfigurableResource):
    """Where alerts go: the webhook whose URL is in the environment variable named here (a Slack
    incoming webhook or anything taking the same JSON), else the run log (the outbox row is the
    record either way)."""

    webhook_url_env: str = "LEADSCORE_ALERT_WEBHOOK_URL"
    # The first scan of a warehouse sends nothing due more than this many days before as_of.
    first_scan_max_age_days: float = 7.0

    def notifier(self, log):
        url = os.environ.get(self.webhook_url_env, "").strip()
        return WebhookNotifier(url) if url else LogNotifier(log)


@dg.sensor(minimum_interval_seconds=60, description="Sends at-risk and breached SLAs, each once.")
def sla_alerts(
    context: dg.SensorEvaluationContext, warehouse: WarehouseResource, notifier: NotifierResource
) -> dg.SkipReason:
    event = context.instance.get_latest_materialization_event(ALERTS_ASSET)
    if event is None:
        return dg.SkipReason("fct_sla_alerts was never materialized")
    latest = f"{event.run_id}:{event.timestamp}"
    try:
        with warehouse.connection() as con:
            # Scan only after a new build; otherwise just retry pending deliveries.
            result = check_and_deliver(
                con, notifier.notifier(context.log.info), _now(), scan=latest != context.cursor,
                first_scan_max_age_days=notifier.first_scan_max_age_days,
            )
    except duckdb.IOException as error:
        return dg.SkipReason(f"warehouse busy, retrying next tick: {error}")
    context.update_cursor(latest)
    if result.not_scanned:
        context.log.warning(f"No new alerts looked for: {result.not_scanned} (its next build adds them).")
    return dg.SkipReason(
        (f"no scan ({result.not_scanned}), " if result.not_scanned else "")
        + f"{result.added} new alert(s), {result.delivered} delivered, {result.failed} failed (retried next tick)"
        + (f", {result.skipped} older than the first-activation cutoff skipped" if result.skipped else "")
    )


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
