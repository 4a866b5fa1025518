"""One pipeline run as `make run` does it (the whole job, in-process executor), in its own process,
then its step timings read back from Dagster's event log. With nothing to do it ends, as `make run`
does, before importing Dagster, and records how long deciding that took instead of steps.

    python -m leadscore.tools.bench.pipeline_run OUTPUT.json [JOB]   # settings come from the LEADSCORE_* environment
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from leadscore.orchestration.run import materialize_everything, nothing_to_do
from leadscore.settings import load_settings

if TYPE_CHECKING:
    import dagster as dg


def _number(value) -> float | int | None:
    raw = getattr(value, "value", value)
    return raw if isinstance(raw, int | float) and not isinstance(raw, bool) else None


def step_timings(instance: dg.DagsterInstance, run_id: str) -> dict:
    """Run start/end and each step's start/end (epoch seconds), plus the rows each ingestion step
    read (loaded + quarantined, from its materialization metadata)."""
    import dagster as dg

    step_end = {dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE}
    run_end = {dg.DagsterEventType.RUN_SUCCESS, dg.DagsterEventType.RUN_FAILURE}
    run: dict = {"run_start": None, "run_end": None, "steps": {}}
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is None:
            continue
        if event.event_type == dg.DagsterEventType.RUN_START:
            run["run_start"] = record.timestamp
        elif event.event_type in run_end:
            run["run_end"] = record.timestamp
        elif event.step_key:
            step = run["steps"].setdefault(event.step_key, {"start": None, "end": None, "rows": 0, "ok": None})
            if event.event_type == dg.DagsterEventType.STEP_START:
                step["start"] = record.timestamp
            elif event.event_type in step_end:
                step["end"] = record.timestamp
                step["ok"] = event.event_type == dg.DagsterEventType.STEP_SUCCESS
            elif event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
                metadata = event.step_materialization_data.materialization.metadata
                for key in ("rows_loaded_this_run", "rows_quarantined_this_run"):
                    step["rows"] += _number(metadata.get(key)) or 0
    return run


def main(output: Path, job_name: str = "materialize_all") -> int:
    settings = load_settings()
    check_start = time.time()
    verdict = nothing_to_do(settings)
    if verdict.nothing_to_do:
        check = {"start": check_start, "end": time.time(), "reason": verdict.reason}
        output.write_text(json.dumps({"run_id": None, "success": True, "noop_check": check,
                                      "run_start": None, "run_end": None, "steps": {}}))
        return 0
    result = materialize_everything(settings, settings.run_log_path, job_name=job_name)
    import dagster as dg

    with dg.DagsterInstance.get() as instance:
        timings = step_timings(instance, result.run_id)
    output.write_text(json.dumps({"run_id": result.run_id, "success": result.success, **timings}))
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), *sys.argv[2:3]))
