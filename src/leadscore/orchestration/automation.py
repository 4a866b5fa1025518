"""What starts runs when nobody is watching: an hourly incremental run, a daily run that also
rebuilds the score history, and a sensor that starts a run when new landing files have settled.

Runs never overlap: the instance queues runs one at a time (`max_concurrent_runs: 1` in
dagster.yaml) and every writing step is in the single-slot pool of the DuckDB file. A run that
finds nothing new loads no file and skips dbt and everything after it (see src/leadscore/orchestration/dbt.py).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import dagster as dg

from leadscore.ingest.arrivals import ArrivalState, observe
from leadscore.ingest.sources import SOURCES
from leadscore.orchestration.resources import IngestionConfigResource

# Everything, in one process: DuckDB has a single writer and a process per step costs seconds.
materialize_all = dg.define_asset_job(
    "materialize_all", selection=dg.AssetSelection.all(), executor_def=dg.in_process_executor
)

HOURLY_CRON = "5 * * * *"
DAILY_CRON = "30 2 * * *"
SENSOR_INTERVAL_SECONDS = 30


def dbt_config(**config) -> dict:
    return {"ops": {"dbt_models": {"config": config}}}


def build_schedules(running: bool) -> list[dg.ScheduleDefinition]:
    status = dg.DefaultScheduleStatus.RUNNING if running else dg.DefaultScheduleStatus.STOPPED
    return [
        dg.ScheduleDefinition(
            name="hourly_incremental", job=materialize_all, cron_schedule=HOURLY_CRON, execution_timezone="UTC",
            default_status=status, run_config=dbt_config(), tags={"leadscore/trigger": "hourly"},
            description="Loads new files and updates everything incrementally; a no-op when nothing is new.",
        ),
        dg.ScheduleDefinition(
            name="daily_rebuild", job=materialize_all, cron_schedule=DAILY_CRON, execution_timezone="UTC",
            default_status=status, run_config=dbt_config(force=True),
            tags={"leadscore/trigger": "daily"},
            description="The hourly run, built even when nothing new arrived.",
        ),
    ]


def build_landing_sensor(running: bool) -> dg.SensorDefinition:
    status = dg.DefaultSensorStatus.RUNNING if running else dg.DefaultSensorStatus.STOPPED

    @dg.sensor(
        name="new_landing_files", job=materialize_all, minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
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
