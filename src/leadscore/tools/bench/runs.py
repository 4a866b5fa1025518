"""Measured pipeline runs: wall time and peak memory from outside, stages from Dagster's event log."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from leadscore.orchestration.dbt import DBT_PROJECT, dbt_target_path
from leadscore.tools.bench.dbt_profile import dbt_profile
from leadscore.tools.bench.landing import BenchData
from leadscore.tools.bench.measure import Measured, run_measured
from leadscore.warehouse import connect

PUBLISHING_STEPS = {"published__bi_copy"}
# The stage of a run that decided, before starting Dagster, that there was nothing to do.
NOOP_CHECK_STAGE = "no-op check"


def stage_kind(step_key: str) -> str:
    if step_key.startswith("ingest_"):
        return "ingestion"
    if step_key == "dbt_models":
        return "dbt"
    if step_key in PUBLISHING_STEPS:
        return "publishing"
    return "python"


@dataclass
class RunResult:
    name: str
    measured: Measured
    success: bool
    run_id: str
    stages: list[dict] = field(default_factory=list)
    dbt: dict = field(default_factory=dict)
    table_rows: dict[str, int] = field(default_factory=dict)  # every warehouse table after the run
    nothing_to_do: str = ""  # why no Dagster run was needed, when none was started
    failed_steps: list[str] = field(default_factory=list)
    log: Path | None = None

    @property
    def rows(self) -> int:
        return sum(stage["rows"] for stage in self.stages)

    def as_json(self) -> dict:
        wall = self.measured.wall_s
        return {
            "success": self.success, "run_id": self.run_id, "wall_s": wall,
            "cpu_s": self.measured.cpu_s, "peak_rss_mb": self.measured.peak_rss_mb, "rows": self.rows,
            "rows_per_s": round(self.rows / wall) if wall else None,
            "loadavg_before": self.measured.load_before, "loadavg_after": self.measured.load_after,
            "dbt": self.dbt, "nothing_to_do": self.nothing_to_do or None, "failed_steps": self.failed_steps,
            "log": str(self.log) if self.log else None,
        }


def warehouse(data: BenchData) -> Path:
    return data.run_dir.resolve() / "warehouse" / "leadscore.duckdb"


def pipeline_env(data: BenchData) -> dict[str, str]:
    """Every path the pipeline writes points into the benchmark's run folder."""
    run = data.run_dir.resolve()
    return {
        **os.environ,
        "LEADSCORE_HOME": str(run),
        "LEADSCORE_LANDING": str(data.landing.resolve()),
        "LEADSCORE_WAREHOUSE": str(warehouse(data)),
        "LEADSCORE_PUBLISH_DIR": str(run / "published"),
        "DAGSTER_HOME": str(run / "dagster"),
    }


def _rounded(stages: list[dict]) -> list[dict]:
    for stage in stages:
        stage["seconds"] = round(stage["seconds"], 3)
        stage["rows_per_s"] = round(stage["rows"] / stage["seconds"]) if stage["rows"] and stage["seconds"] else None
    return stages


def noop_stages(check: dict, measured: Measured) -> list[dict]:
    """A run that found nothing to do before starting Dagster: startup (interpreter, imports), the
    check itself (landing folder, warehouse, run storage) and shutdown (the rest of the wall time)."""
    end = measured.started + measured.wall_s
    windows = [("startup", "overhead", measured.started, check["start"]),
               (NOOP_CHECK_STAGE, "check", check["start"], check["end"]),
               ("shutdown", "overhead", check["end"], end)]
    return _rounded([
        {"stage": name, "kind": kind, "seconds": until - since, "rows": 0,
         "peak_rss_mb": measured.peak_rss_between(since, until)}
        for name, kind, since, until in windows
    ])


def stages_from(timings: dict, measured: Measured) -> list[dict]:
    """Every step of the run, plus the time around them, so the stages add up to the wall time:
    startup (interpreter, imports, definitions) until the run starts, the time between steps, and
    shutdown after the run ends."""
    if timings.get("noop_check"):
        return noop_stages(timings["noop_check"], measured)
    steps = sorted(
        ((key, step) for key, step in timings["steps"].items() if step["start"] and step["end"]),
        key=lambda item: item[1]["start"],
    )
    stages = [{"stage": "startup", "kind": "overhead", "seconds": timings["run_start"] - measured.started, "rows": 0,
               "peak_rss_mb": measured.peak_rss_between(measured.started, timings["run_start"])}]
    for key, step in steps:
        stages.append({"stage": key, "kind": stage_kind(key), "seconds": step["end"] - step["start"],
                       "rows": int(step["rows"]), "peak_rss_mb": measured.peak_rss_between(step["start"], step["end"])})
    in_steps = sum(stage["seconds"] for stage in stages[1:])
    stages.append({"stage": "between steps", "kind": "overhead",
                   "seconds": timings["run_end"] - timings["run_start"] - in_steps, "rows": 0, "peak_rss_mb": None})
    stages.append({"stage": "shutdown", "kind": "overhead",
                   "seconds": measured.wall_s - (timings["run_end"] - measured.started), "rows": 0,
                   "peak_rss_mb": measured.peak_rss_between(timings["run_end"], measured.started + measured.wall_s)})
    return _rounded(stages)


def prepare_dbt(data: BenchData) -> None:
    """What `make prepare` does for the default warehouse: dbt parses the project once for this
    warehouse, untimed, so the measured runs parse only what changed."""
    subprocess.run(
        [str(Path(sys.executable).with_name("dbt")), "parse", "--quiet", "--profiles-dir", ".", "--project-dir", ".",
         "--target-path", str(dbt_target_path(warehouse(data)))],
        cwd=DBT_PROJECT.project_dir, env=pipeline_env(data), check=True,
    )


def run_pipeline(data: BenchData, name: str, job: str = "materialize_all") -> RunResult:
    """One pipeline run of `job` in a fresh process, as `make run` does it (the whole job by default)."""
    output, log = data.run_dir / f"{name}.json", data.run_dir / f"{name}.log"
    measured = run_measured(
        [sys.executable, "-m", "leadscore.tools.bench.pipeline_run", str(output), job], env=pipeline_env(data),
        log_path=log,
    )
    if not output.exists():
        raise RuntimeError(f"{name} run crashed (exit {measured.returncode}); see {log}")
    timings = json.loads(Path(output).read_text())
    return RunResult(
        name=name, measured=measured, success=timings["success"], run_id=timings["run_id"] or "",
        stages=stages_from(timings, measured), dbt=dbt_profile(dbt_target_path(warehouse(data)), measured),
        table_rows=table_rows(warehouse(data)), nothing_to_do=(timings.get("noop_check") or {}).get("reason", ""),
        failed_steps=sorted(key for key, step in timings["steps"].items() if step["ok"] is False),
        log=log,
    )


def table_rows(path: Path) -> dict[str, int]:
    with connect(path, read_only=True) as con:
        tables = con.execute(
            """select table_schema, table_name from information_schema.tables
               where table_type = 'BASE TABLE' and table_catalog = current_database() order by 1, 2"""
        ).fetchall()
        return {
            f"{schema}.{table}": con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
            for schema, table in tables
        }


def run_floor(data: BenchData) -> tuple[Measured, dict]:
    output = data.run_dir / "floor.json"
    measured = run_measured(
        [sys.executable, "-m", "leadscore.tools.bench.floor", str(data.landing),
         str(data.run_dir / "floor" / "floor.duckdb"), str(output)],
        log_path=data.run_dir / "floor.log",
    )
    if measured.returncode != 0:
        raise RuntimeError(f"the floor failed (exit {measured.returncode}); see {data.run_dir / 'floor.log'}")
    # Its tables are only timed: at large size they would keep gigabytes of disk the runs need.
    shutil.rmtree(data.run_dir / "floor", ignore_errors=True)
    return measured, json.loads(output.read_text())
