"""How tests run dbt: the dbt installed next to this interpreter, as a subprocess (dbt-duckdb
would keep the warehouse file locked inside the test process), on a given warehouse, with its
own target folder so tests running side by side never share dbt's artifacts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

DBT_PROJECT = Path(__file__).resolve().parent.parent / "dbt_project"
# The dbt next to this interpreter (the project's virtualenv), else the one on PATH.
DBT = Path(sys.executable).parent / "dbt"
if not DBT.exists():
    DBT = Path(shutil.which("dbt") or "dbt")


def run_dbt(args: list[str] | tuple[str, ...], warehouse: Path | str, target_path: Path | None = None,
            project_dir: Path = DBT_PROJECT, dbt_vars: dict | None = None,
            timeout: float = 600) -> subprocess.CompletedProcess:
    """`dbt <args>` on `warehouse` (profiles.yml of `project_dir`); its logs go to the target folder."""
    command = [str(DBT), *args, "--profiles-dir", "."]
    if target_path is not None:
        command += ["--target-path", str(target_path), "--log-path", str(Path(target_path) / "logs")]
    if dbt_vars:
        command += ["--vars", yaml.safe_dump(dbt_vars)]
    env = {**os.environ, "LEADSCORE_WAREHOUSE": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    return subprocess.run(command, cwd=project_dir, env=env, capture_output=True, text=True, timeout=timeout)


def dbt_failure(result: subprocess.CompletedProcess, what: str = "dbt") -> str:
    """The end of dbt's output, for an assertion message."""
    return f"{what} failed:\n{result.stdout[-6000:]}{result.stderr[-2000:]}"
