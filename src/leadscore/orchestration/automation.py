"""What starts runs when nobody is watching, and the jobs they run.

- `materialize_all`: every asset (what `make run` does); the daily schedule runs it, built even
  when nothing new arrived, so the score history, the feedback steps (predictive fit, backtest)
  and the report follow every day.
- `fresh_scores`: what sales needs within minutes of new data: the landing files loaded, the dbt
  selector `fresh_scores` (dbt_project/selectors.yml: scores, ledger, stages, SLAs, alerts, call
  list, CRM sync and all they read), the CRM sync export and the BI copy. The sensor starts it
  when new landing files have settled, and the hourly schedule runs it.

Runs never overlap: the instance queues runs one at a time (`max_concurrent_runs: 1` in
dagster.yaml) and every writing step is in the single-slot pool of the DuckDB file. A run that
finds nothing new loads no file and skips dbt and everything after it (see src/leadscore/orchestration/dbt.py).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import dagster as dg
from dagster_dbt import build_dbt_asset_selection

from leadscore.ingest.arrivals import ArrivalState, observe
from leadscore.ingest.sources import SOURCES
from leadscore.orchestration.build_log import dbt_build_log
from leadscore.orchestration.dbt import dbt_models
from leadscore.orchestration.exports import crm_sync_export
from leadscore.orchestration.ingestion import INGESTION_ASSETS
from leadscore.orchestration.publish import bi_copy
from leadscore.orchestration.resources import IngestionConfigResource

# Everything, in one process: DuckDB has a single writer and a process per step costs seconds.
materialize_all = dg.define_asset_job(
    "materialize_all", selection=dg.AssetSelection.all(), executor_def=dg.in_process_executor
)

FRESH_SCORES_SELECTOR = "fresh_scores"
fresh_scores = dg.define_asset_job(
    "fresh_scores",
    selection=dg.AssetSelection.assets(*INGESTION_ASSETS, crm_sync_export, bi_copy, dbt_build_log)
    | build_dbt_asset_selection([dbt_models], dbt_selector=FRESH_SCORES_SELECTOR),
    executor_def=dg.in_process_executor,
    description="New data to the scores, stages, SLAs, alerts, call list, CRM sync and BI copy within minutes; "
    "the score history, feedback steps and report follow in materialize_all (daily).",
)
JOBS = {job.name: job for job in (materialize_all, fresh_scores)}

HOURLY_CRON = "5 * * * *"
DAILY_CRON = "30 2 * * *"
SENSOR_INTERVAL_SECONDS = 30


def dbt_config(**config) -> dict:
    return {"ops": {"dbt_models": {"config": config}}}


def build_schedules(running: bool) -> list[dg.ScheduleDefinition]:
    status = dg.DefaultScheduleStatus.RUNNING if running else dg.DefaultScheduleStatus.STOPPED
    return [
        dg.ScheduleDefinition(
            name="hourly_scores", job=fresh_scores, cron_schedule=HOURLY_CRON, execution_timezone="UTC",
            default_status=status, run_config=dbt_config(), tags={"leadscore/trigger": "hourly"},
            description="Loads new files and updates the scores, stages, SLAs, alerts and BI copy incrementally; "
            "a no-op when nothing is new.",
        ),
        dg.ScheduleDefinition(
            name="daily_rebuild", job=materialize_all, cron_schedule=DAILY_CRON, execution_timezone="UTC",
            default_status=status, run_config=dbt_config(force=True),
            tags={"leadscore/trigger": "daily"},
            description="Every asset (score history, feedback steps and report too), built even when nothing new "
            "arrived.",
        ),
    ]


def build_landing_sensor(running: bool) -> dg.SensorDefinition:
    status = dg.DefaultSensorStatus.RUNNING if running else dg.DefaultSensorStatus.STOPPED

    @dg.sensor(
        name="new_landing_files", job=fresh_scores, minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
        default_status=status,
        description="Starts a run when new landing files have settled (same size and time at two looks).",
    )
    def new_landing_files(context: dg.SensorEvaluationContext, ingestion: IngestionConfigResource):
        state = ArrivalState.from_json(context.cursor)
        arrivals = state.look(observe(Path(ingestion.landing), list(SOURCES)))
        context.update_cursor(arrivals.state.to_json())
        if not arrivals.ready:
            waiting = f"; {len(arrivals.settling)} still changing" if arrivals.settling else ""
            return dg.SkipReason(f"no new settled landing file{waiting}")
        # The same files never start two runs, even if the cursor update were lost.
        run_key = hashlib.sha256(
            "\n".join(f"{path}:{arrivals.state.seen[path]}" for path in arrivals.ready).encode()
        ).hexdigest()[:24]
        context.log.info(f"{len(arrivals.ready)} new file(s): {', '.join(arrivals.ready[:10])}")
        return dg.RunRequest(
            run_key=run_key, run_config=dbt_config(),
            tags={"leadscore/trigger": "new_files", "leadscore/new_files": str(len(arrivals.ready))},
        )

    return new_landing_files
