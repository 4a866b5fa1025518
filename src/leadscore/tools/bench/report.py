"""The benchmark's result: one JSON document and the table printed at the end."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path

import duckdb
import psutil

from leadscore.tools.bench.measure import Measured
from leadscore.tools.bench.runs import RunResult
from leadscore.warehouse import RUN_LOG_TABLES

# In the order they run: the no-op follows the incremental run (a whole run, as `make run`), and
# the freshness run, last, is the job the hourly schedule and the new-file sensor start.
RUN_NAMES = ("cold", "incremental", "noop", "freshness")
RUN_JOBS = {"freshness": "fresh_scores"}
# The targets on the reference machine (2 cores, 24 GB); the long-run goal for the cold run is 2x
# the floor. Large data has its own memory limit.
MAX_COLD_VS_FLOOR = 6.0
MAX_INCREMENTAL_VS_COLD = 0.10
MAX_FRESHNESS_VS_COLD = 0.10
MAX_NOOP_S = 10.0
MAX_PEAK_RSS_MB = 4096.0
MAX_LARGE_PEAK_RSS_MB = 8192.0
MAX_LARGE_VS_MEDIUM = 5.5


def machine() -> dict:
    return {
        "cpus": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
    }


def _ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 3) if denominator else None


def targets(result: dict, medium_cold_s: float | None) -> dict:
    """Each target with its measured value, its limit and whether it is met."""
    checks = {
        "cold_vs_floor": (result["cold_vs_floor"], MAX_COLD_VS_FLOOR),
        "incremental_vs_cold": (result["incremental_vs_cold"], MAX_INCREMENTAL_VS_COLD),
        "freshness_vs_cold": (result["freshness_vs_cold"], MAX_FRESHNESS_VS_COLD),
        "noop_s": (result["noop_s"], MAX_NOOP_S),
        "peak_rss_mb": (result["peak_rss_mb"], MAX_LARGE_PEAK_RSS_MB if result["size"] == "large" else MAX_PEAK_RSS_MB),
    }
    if result["size"] == "large" and medium_cold_s:
        cold_ok = result["cold_vs_floor"] is not None  # the cold run succeeded
        checks["large_vs_medium_cold"] = (_ratio(result["cold_s"], medium_cold_s) if cold_ok else None,
                                          MAX_LARGE_VS_MEDIUM)
    return {
        name: {"value": value, "limit": limit, "met": value is not None and value <= limit}
        for name, (value, limit) in checks.items()
    }


def _wall(run: RunResult | None) -> float | None:
    return run.measured.wall_s if run else None


def build_result(
    size: str, seed: int, reused: bool, last_day: str, held_back: list[Path],
    floor: tuple[Measured, dict], runs: dict[str, RunResult], medium_cold_s: float | None,
    freshness: dict | None = None,
) -> dict:
    """The benchmark's figures. `runs` holds the runs measured, in RUN_NAMES order: all of them, or
    those up to the first that failed (a figure that needs a run not measured is None)."""
    floor_measured, floor_detail = floor
    cold, incremental, noop, fresh = (runs.get(name) for name in RUN_NAMES)
    freshness = freshness or {}
    # The hour counts as fresh only once everything it should change is in the warehouse and the copy.
    fresh_s = fresh.measured.wall_s if fresh and fresh.success and freshness.get("reached") and all(
        freshness["reached"].values()) else None
    cold_s = _wall(cold) if cold and cold.success else None
    ingestion_cold = sum(s["seconds"] for s in cold.stages if s["kind"] == "ingestion") if cold else 0.0
    failed = next((name for name, run in runs.items() if not run.success), None)
    result = {
        "size": size,
        "seed": seed,
        "data_reused": reused,
        "held_back_day": last_day,
        "held_back_files": [path.as_posix() for path in held_back],
        # The floor is DuckDB's own time inside its process: no interpreter start-up.
        "floor_s": floor_detail["seconds"],
        "floor_rows": sum(floor_detail["rows"].values()),
        "floor_rows_per_s": round(sum(floor_detail["rows"].values()) / floor_detail["seconds"]),
        "floor_tables_s": floor_detail["tables"],
        "floor_peak_rss_mb": floor_measured.peak_rss_mb,
        "floor_process_cpu_s": floor_measured.cpu_s,
        "cold_s": _wall(cold),
        "incremental_s": _wall(incremental),
        "noop_s": _wall(noop),
        "freshness_s": fresh_s,
        "freshness_lead": freshness.get("lead"),
        "freshness_reached": freshness.get("reached"),
        # A failed run's time is kept above, but no ratio is drawn from it.
        "cold_vs_floor": _ratio(cold_s, floor_detail["seconds"]) if cold_s else None,
        "cold_ingestion_vs_floor": _ratio(ingestion_cold, floor_detail["seconds"]) if cold else None,
        "incremental_vs_cold": _ratio(incremental.measured.wall_s, cold_s)
        if cold_s and incremental and incremental.success else None,
        "freshness_vs_cold": _ratio(fresh_s, cold_s) if fresh_s is not None and cold_s else None,
        "peak_rss_mb": max(run.measured.peak_rss_mb for run in runs.values()),
        "rows_per_s": cold.as_json()["rows_per_s"] if cold else None,
        "stages": {name: run.stages for name, run in runs.items()},
        "runs": {name: run.as_json() for name, run in runs.items()},
        "all_succeeded": failed is None and len(runs) == len(RUN_NAMES),
        "failed_run": failed,
        "runs_not_measured": [name for name in RUN_NAMES if name not in runs],
        # Tables whose row count the no-op run changed: it should change none.
        "noop_changed_tables": sorted(
            name for name in set(incremental.table_rows) | set(noop.table_rows)
            if incremental.table_rows.get(name) != noop.table_rows.get(name) and name not in RUN_LOG_TABLES
        ) if incremental and noop else None,
        "loadavg": {"floor": floor_measured.load_before, **{n: r.measured.load_before for n, r in runs.items()},
                    "end": list(runs.values())[-1].measured.load_after if runs else floor_measured.load_after},
        "machine": machine(),
    }
    result["targets"] = targets(result, medium_cold_s)
    return result


def write_result(result: dict, bench_root: Path) -> list[Path]:
    """data/bench/latest.json, and a copy per size so the README table can cite each size's last run."""
    paths = [bench_root / "latest.json", bench_root / result["size"] / "result.json"]
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=2) + "\n")
    return paths


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:,.1f}"


def _megabytes(value: float | None) -> str:
    return "" if value is None else f"{value:,.0f}"


def render_table(result: dict) -> str:
    runs = result["runs"]
    lines = [
        f"Benchmark: size {result['size']}, seed {result['seed']}"
        f" ({'data reused' if result['data_reused'] else 'data generated'}), held back {result['held_back_day']}",
        f"Machine: {result['machine']['cpus']} cores, {result['machine']['memory_gb']} GB; load average at start"
        f" {' '.join(f'{x:.1f}' for x in result['loadavg']['floor'])}",
        "",
        f"{'stage':<34} {'kind':<11} {'cold s':>9} {'incr. s':>9} {'no-op s':>9} {'fresh s':>9} {'cold rows/s':>12}"
        f" {'cold MB':>8} {'incr. MB':>8}",
    ]
    by_name = {name: {s["stage"]: s for s in result["stages"].get(name, [])} for name in RUN_NAMES}
    order = [s["stage"] for s in result["stages"]["cold"]]
    order += [name for run in RUN_NAMES for name in by_name[run] if name not in order]
    for stage in order:
        present = [by_name[run].get(stage) for run in RUN_NAMES]
        kind = next(s["kind"] for s in present if s)
        cold_rate = present[0]["rows_per_s"] if present[0] else None
        lines.append(
            f"{stage:<34} {kind:<11} "
            + " ".join(f"{_seconds(s['seconds'] if s else None):>9}" for s in present)
            + f" {'' if cold_rate is None else f'{cold_rate:,}':>12}"
            + "".join(f" {_megabytes(s.get('peak_rss_mb') if s else None):>8}" for s in present[:2])
        )
    measured = {run: runs.get(run, {}) for run in RUN_NAMES}  # a run not measured: empty columns
    lines.append(
        f"{'total (wall)':<34} {'':<11} "
        + " ".join(f"{_seconds(measured[run].get('wall_s')):>9}" for run in RUN_NAMES)
        + f" {measured['cold'].get('rows_per_s') or 0:>12,}"
    )
    lines.append(
        f"{'CPU time of the process tree (s)':<46} "
        + " ".join(f"{_seconds(measured[run].get('cpu_s')):>9}" for run in RUN_NAMES)
    )
    lines.append(
        f"{'peak RSS of the process tree (MB)':<46} "
        + " ".join(f"{_megabytes(measured[run].get('peak_rss_mb')):>9}" for run in RUN_NAMES)
    )
    for run in ("cold", "incremental"):
        nodes = measured[run].get("dbt", {}).get("largest_memory_nodes") or []
        if nodes:
            lines.append(f"dbt nodes with the highest RSS ({run}): " + ", ".join(
                f"{node['node']} {node['peak_rss_mb']:,.0f} MB" for node in nodes[:5]))
    lines += [
        "",
        f"Floor (DuckDB alone, same files): {result['floor_s']:.1f} s, {result['floor_rows']:,} rows"
        f" ({result['floor_rows_per_s']:,} rows/s)",
        f"Freshness (one more hour, lead {result['freshness_lead']}): "
        + ", ".join(f"{fact} {'yes' if ok else 'NO'}" for fact, ok in (result["freshness_reached"] or {}).items()),
        "",
        "Targets:",
    ]
    for name, target in result["targets"].items():
        lines.append(f"  {name:<24} {target['value']!s:>10}  limit {target['limit']:<8} "
                     f"{'met' if target['met'] else 'NOT MET'}")
    if result["failed_run"]:
        failed = runs[result["failed_run"]]
        steps = ", ".join(failed["failed_steps"]) or "none recorded"
        lines.append(f"\nFAILED: the {result['failed_run']} run (steps: {steps}; its log is {failed['log']})")
    if result["runs_not_measured"]:
        lines.append(f"Not measured after it: {', '.join(result['runs_not_measured'])}")
    return "\n".join(lines)
