"""Where the dbt build's time goes, from the artifacts of the run's dbt invocation: its target
folder (beside the warehouse, see `orchestration.dbt.dbt_target_path`) holds `run_results.json`
with each node's execution time, and `dbt.log`, which says whether dbt could parse partially.
"""

from __future__ import annotations

import json
from pathlib import Path

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


def dbt_profile(folder: Path) -> dict:
    """Seconds per kind of node, the slowest models and the parse note of the last invocation."""
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
        nodes.append({"node": node["unique_id"].split(".", 2)[-1], "kind": kind, "seconds": round(seconds, 3),
                      "status": node.get("status")})
    models = sorted((n for n in nodes if n["kind"] in ("model", "seed", "snapshot")), key=lambda n: -n["seconds"])
    return {
        "found": True,
        "elapsed_s": round(float(results.get("elapsed_time") or 0.0), 3),
        "seconds_by_kind": by_kind,
        "nodes_by_kind": {kind: sum(1 for n in nodes if n["kind"] == kind) for kind in by_kind},
        "slowest_models": models[:TOP_MODELS],
        "parse": parse_note(folder / "dbt.log"),
    }
