"""Where the dbt build's time goes, from the artifacts of the run's dbt invocation: its target
folder (beside the warehouse, see `leadscore.orchestration.dbt.dbt_target_path`) holds `run_results.json`
with each node's execution time, and `dbt.log`, which says whether dbt could parse partially.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from leadscore.tools.bench.measure import Measured

TOP_MODELS = 12


def _log_messages(log: Path) -> list[tuple[str, str]]:
    """(event name, message) of each JSON line of dbt's log file."""
    messages = []
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            try:
                info = json.loads(line).get("info", {})
            except json.JSONDecodeError:
                continue
            messages.append((info.get("name", ""), info.get("msg", "")))
    return messages


def parse_note(log: Path) -> str:
    """What the last dbt invocation in `log` said about parsing: why it parsed everything, if it did."""
    if not log.exists():
        return "no dbt.log"
    note = "unknown"
    rotated = log.with_name(log.name + ".1")  # dbt rotates its log; an invocation may start in it
    messages = [*(_log_messages(rotated) if rotated.exists() else []), *_log_messages(log)]
    for name, message in messages:
        if name == "MainReportArgs":  # a new invocation starts
            note = "partial parsing used"
        elif "partial pars" in message.lower():
            note = message.strip()[:200]
    return note


def _execution_window(node: dict) -> tuple[float, float] | None:
    """When dbt executed `node` (epoch seconds), from its `execute` timing."""
    for timing in node.get("timing", []):
        if timing.get("name") == "execute" and timing.get("started_at") and timing.get("completed_at"):
            started, completed = (datetime.fromisoformat(timing[key].replace("Z", "+00:00"))
                                  for key in ("started_at", "completed_at"))
            return started.timestamp(), completed.timestamp()
    return None


def dbt_profile(folder: Path, measured: Measured | None = None) -> dict:
    """Seconds per kind of node, the slowest models, the models that held the most memory (the
    run's process tree sampled while each executed; dbt runs one node at a time) and the parse
    note of the last invocation."""
    results_file = folder / "run_results.json"
    if not results_file.exists():
        return {"found": False}
    results = json.loads(results_file.read_text())
    by_kind: dict[str, float] = {}
    nodes = []
    for node in results["results"]:
        kind = node["unique_id"].split(".", 1)[0]
        seconds = float(node.get("execution_time") or 0.0)
        by_kind[kind] = round(by_kind.get(kind, 0.0) + seconds, 3)
        window = _execution_window(node)
        peak = measured.peak_rss_between(*window) if measured and window else None
        nodes.append({"node": node["unique_id"].split(".", 2)[-1], "kind": kind, "seconds": round(seconds, 3),
                      "status": node.get("status"), "peak_rss_mb": peak})
    models = sorted((n for n in nodes if n["kind"] in ("model", "seed", "snapshot")), key=lambda n: -n["seconds"])
    by_memory = sorted((n for n in nodes if n["peak_rss_mb"] is not None), key=lambda n: -n["peak_rss_mb"])
    return {
        "found": True,
        "elapsed_s": round(float(results.get("elapsed_time") or 0.0), 3),
        "seconds_by_kind": by_kind,
        "nodes_by_kind": {kind: sum(1 for n in nodes if n["kind"] == kind) for kind in by_kind},
        "slowest_models": models[:TOP_MODELS],
        "largest_memory_nodes": by_memory[:TOP_MODELS],
        "parse": parse_note(folder / "dbt.log"),
    }
