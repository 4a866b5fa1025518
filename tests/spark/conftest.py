"""The same dbt project on a local Spark: the raw tables of a DuckDB pipeline run on tiny demo data
are exported to Parquet and registered as Spark tables (the dbt sources), then dbt seeds and runs
every model with the `spark` target in this process. Runs with `make test-spark`, which installs
pyspark and dbt-spark and sets LEADSCORE_SPARK_TESTS=1; skipped otherwise, as it takes minutes."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from leadscore.settings import Settings
from leadscore.warehouse import connect
from tests.conftest import REPO_ROOT

DBT_DIR = REPO_ROOT / "dbt_project"


def _require_spark() -> None:
    if not os.environ.get("LEADSCORE_SPARK_TESTS"):
        pytest.skip("the Spark comparison runs with `make test-spark` (LEADSCORE_SPARK_TESTS=1)")
    for module in ("pyspark", "dbt.adapters.spark"):
        pytest.importorskip(module, reason=f"{module} is not installed: `make test-spark` installs the Spark extra")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("no Java runtime: Spark needs Java 17")


@dataclass
class SparkRun:
    """The outcome of `dbt seed` and `dbt run` on Spark: the session to read tables with and
    dbt's status and message per model."""

    session: object
    statuses: dict[str, str] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)
    # The second `dbt run` of the incremental models: status and resolved full_refresh config.
    rerun_statuses: dict[str, str] = field(default_factory=dict)
    rerun_full_refresh: dict[str, object] = field(default_factory=dict)


def export_raw_tables(warehouse: Path, directory: Path) -> dict[str, Path]:
    """Each table of the DuckDB schema `raw` as one Parquet file."""
    directory.mkdir(parents=True, exist_ok=True)
    with connect(warehouse, read_only=True) as con:
        tables = [row[0] for row in con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw' order by 1"
        ).fetchall()]
        paths = {}
        for table in tables:
            paths[table] = directory / f"{table}.parquet"
            con.execute(f"copy raw.{table} to '{paths[table]}' (format parquet)")
    return paths


def start_spark(root: Path):
    """A local Spark session configured like the `spark` target of profiles.yml; dbt's session
    connection picks it up."""
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master("local[2]").appName("leadscore-parity")
        .config("spark.sql.catalogImplementation", "in-memory")
        .config("spark.sql.warehouse.dir", str(root / "spark-warehouse"))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.parser.escapedStringLiterals", "true")
        .config("spark.sql.ansi.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )


def run_dbt_on_spark(root: Path) -> SparkRun:
    """`dbt seed`, `dbt run`, then a second `dbt run` of the incremental models, as the pipeline's
    next run would do (on Parquet tables they rebuild in full)."""
    from dbt.cli.main import dbtRunner

    common = [
        "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR), "--target", "spark",
        "--target-path", str(root / "target"), "--log-path", str(root / "logs"), "--quiet",
    ]
    runner = dbtRunner()
    seeded = runner.invoke(["seed", *common])
    if not seeded.success:
        raise RuntimeError(f"dbt seed on Spark failed: {seeded.exception or seeded.result}")
    run = SparkRun(session=None)
    for result in runner.invoke(["run", *common]).result or []:
        run.statuses[result.node.name] = str(result.status)
        run.messages[result.node.name] = (result.message or "").splitlines()[0] if result.message else ""
    rerun = runner.invoke(["run", "--select", "config.materialized:incremental", *common])
    # The models, not the project's on-run-start and on-run-end hooks that run with them.
    for result in (r for r in rerun.result or [] if r.node.resource_type == "model"):
        run.rerun_statuses[result.node.name] = str(result.status)
        run.rerun_full_refresh[result.node.name] = result.node.config.full_refresh
    return run


@pytest.fixture(scope="session")
def spark_run(request, demo_settings: Settings, tmp_path_factory) -> SparkRun:
    _require_spark()
    # Asked for after the skip: without Spark the DuckDB run is not built for nothing.
    first_run = request.getfixturevalue("first_run")
    assert first_run.success, "the DuckDB run the Spark run is compared with failed"
    root = tmp_path_factory.mktemp("spark")
    session = start_spark(root)
    session.sql("create database if not exists raw")
    for table, path in export_raw_tables(demo_settings.warehouse, root / "raw").items():
        session.sql(f"create table raw.{table} using parquet location '{path}'")
    run = run_dbt_on_spark(root)
    run.session = session
    failed = {name: run.messages[name] for name, status in run.statuses.items() if status != "success"}
    print(f"\ndbt on Spark: {len(run.statuses) - len(failed)} of {len(run.statuses)} models built")
    for name, message in sorted(failed.items()):
        print(f"  not built: {name}: {run.statuses[name]} {message}")
    yield run
    session.stop()
