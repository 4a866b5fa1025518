"""Runtime configuration, read from environment variables in this one place.

- LEADSCORE_HOME: base for the relative paths below (default: the repository root).
- LEADSCORE_WAREHOUSE: the DuckDB file the pipeline writes (default data/warehouse/leadscore.duckdb).
- LEADSCORE_LANDING: where source files land (default data/landing).
- LEADSCORE_CRM_MAPPING: CRM column mapping, a bundled name or a YAML path (default salesforce).
- LEADSCORE_DBT_VARS: dbt vars of this deployment, a YAML mapping or the path of a .yml file
  holding one (what converting means, snapshot mode...; see docs/configuration.md).
- LEADSCORE_QUARANTINE_MAX_RATE: share of a source's rows in quarantine above which its check
  blocks downstream work (default 0.05).
- LEADSCORE_OUTPUT_DIR: where a run writes what it produces for people and tools (the CRM sync
  exports, the report, the BI copy, the run log). Default: a folder beside the warehouse named
  after it (data/warehouse/leadscore_outputs for the default warehouse), so two warehouses run
  from one checkout never overwrite each other's outputs.
- LEADSCORE_PUBLISH_DIR: the copy BI tools read (default <output dir>/published).
- LEADSCORE_PUBLISH_PERSONAL_DATA: keep, hash or drop the columns tagged personal_data in the
  published copy (default keep).
- LEADSCORE_PUBLISH_HASH_SALT: the secret salt of hashed personal data (required with hash;
  read when publishing, never stored).
- LEADSCORE_AUTOMATION: `on` starts the schedules and the new-file sensor as soon as a Dagster
  daemon runs (default off: turn them on in the UI).
- LEADSCORE_FRESHNESS_MAX_LAG_HOURS: how many hours a source's newest event may lag the newest
  event of any source, as a default and per-source limits (default 48,signals=840).
- LEADSCORE_ROW_COUNT_MAX_DROP, LEADSCORE_ROW_COUNT_MAX_JUMP: the share by which a key table's row
  count may fall or rise against the previous run before its check warns (defaults 0.2 and 1.0).
- DAGSTER_HOME: Dagster's run and event storage (default data/dagster).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from leadscore.checks.freshness import DEFAULT_MAX_LAG_HOURS, parse_max_lag_hours
from leadscore.checks.row_counts import DEFAULT_LIMITS

REPO_ROOT = Path(__file__).resolve().parents[2]  # src/leadscore/settings.py


@dataclass(frozen=True)
class Settings:
    home: Path
    warehouse: Path
    landing: Path
    crm_mapping: str
    quarantine_max_rate: float
    dagster_home: Path
    output_dir: Path
    publish_dir: Path
    publish_personal_data: str
    automation: bool = False
    freshness_max_lag_hours: str = DEFAULT_MAX_LAG_HOURS
    row_count_max_drop: float = DEFAULT_LIMITS.max_drop
    row_count_max_jump: float = DEFAULT_LIMITS.max_jump

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def exports_dir(self) -> Path:
        return self.output_dir / "exports"

    @property
    def report_path(self) -> Path:
        return self.output_dir / "reports" / "lead_scoring_report.html"

    @property
    def run_log_path(self) -> Path:
        return self.output_dir / "logs" / "last_run.log"


def outputs_beside(warehouse: Path) -> Path:
    """The default output folder of a warehouse: beside its file, named after it."""
    return warehouse.parent / f"{warehouse.stem}_outputs"


def _path(env: dict[str, str], name: str, default: Path, home: Path) -> Path:
    value = env.get(name)
    path = Path(value) if value else default
    return path if path.is_absolute() else (home / path)


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Read the settings from `env` (the process environment by default)."""
    env = dict(os.environ if env is None else env)
    home = Path(env.get("LEADSCORE_HOME") or REPO_ROOT).resolve()
    freshness = env.get("LEADSCORE_FRESHNESS_MAX_LAG_HOURS") or DEFAULT_MAX_LAG_HOURS
    try:
        parse_max_lag_hours(freshness)
    except ValueError as error:
        raise ValueError(f"LEADSCORE_FRESHNESS_MAX_LAG_HOURS: {error}") from None
    warehouse = _path(env, "LEADSCORE_WAREHOUSE", Path("data/warehouse/leadscore.duckdb"), home)
    output_dir = _path(env, "LEADSCORE_OUTPUT_DIR", outputs_beside(warehouse), home)
    return Settings(
        home=home,
        warehouse=warehouse,
        landing=_path(env, "LEADSCORE_LANDING", Path("data/landing"), home),
        crm_mapping=env.get("LEADSCORE_CRM_MAPPING") or "salesforce",
        quarantine_max_rate=float(env.get("LEADSCORE_QUARANTINE_MAX_RATE") or 0.05),
        dagster_home=_path(env, "DAGSTER_HOME", Path("data/dagster"), home),
        output_dir=output_dir,
        publish_dir=_path(env, "LEADSCORE_PUBLISH_DIR", output_dir / "published", home),
        publish_personal_data=env.get("LEADSCORE_PUBLISH_PERSONAL_DATA") or "keep",
        automation=_switch(env, "LEADSCORE_AUTOMATION"),
        freshness_max_lag_hours=freshness,
        row_count_max_drop=float(env.get("LEADSCORE_ROW_COUNT_MAX_DROP") or DEFAULT_LIMITS.max_drop),
        row_count_max_jump=float(env.get("LEADSCORE_ROW_COUNT_MAX_JUMP") or DEFAULT_LIMITS.max_jump),
    )


def _switch(env: dict[str, str], name: str) -> bool:
    value = (env.get(name) or "off").strip().lower()
    if value not in ("on", "off", "true", "false", "1", "0"):
        raise ValueError(f"{name}={value!r}: expected on or off")
    return value in ("on", "true", "1")
