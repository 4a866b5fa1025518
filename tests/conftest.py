"""Shared fixtures: real public sample files (read from ../shared/data when present) and one
pipeline run on generated demo data that several test modules read."""

from __future__ import annotations

import functools
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import dagster as dg
import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    """An empty landing folder for one test."""
    root = tmp_path / "landing"
    root.mkdir()
    return root


def write(path: Path, content: str | bytes) -> Path:
    """A file with its folders; text is written as UTF-8, bytes as they are."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def parse_dbt_project_if_needed() -> None:
    """The Dagster definitions read dbt's manifest when imported; `make test` builds it first
    (`make prepare`), plain `pytest` on a fresh clone builds it here."""
    if (REPO_ROOT / "dbt_project" / "target" / "manifest.json").exists():
        return
    from tests.dbt_runner import dbt_failure, run_dbt

    # The warehouse `make prepare` parses for (the Makefile's default), so the runs reuse the parse.
    parsed = run_dbt(["parse", "--quiet"], REPO_ROOT / "data" / "warehouse" / "leadscore.duckdb")
    assert parsed.returncode == 0, dbt_failure(parsed, "dbt parse")


parse_dbt_project_if_needed()

from leadscore.orchestration.definitions import build_definitions  # noqa: E402
from leadscore.settings import Settings, load_settings  # noqa: E402
from leadscore.warehouse import connect  # noqa: E402 (needs the manifest above)

SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


def shared_file(relative: str) -> Path:
    """A real sample file, or skip the test with a message saying what is missing."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"real sample {path} is absent (it lives outside the repository)")
    return path


@pytest.fixture
def con(tmp_path: Path):
    """A fresh warehouse file in the test's temporary folder."""
    connection = connect(tmp_path / "warehouse.duckdb")
    yield connection
    connection.close()


def run_pipeline(settings: Settings, as_of: str = "", job_name: str = "materialize_all", **dbt_config
                 ) -> dg.ExecuteInProcessResult:
    """One in-process run of every asset (or of the job `job_name`); `dbt_config` adds
    dbt_models settings (force)."""
    job = build_definitions(settings).resolve_job_def(job_name)
    run_config = {"ops": {"dbt_models": {"config": {"as_of": as_of, **dbt_config}}}}
    with dg.DagsterInstance.ephemeral() as instance:
        return job.execute_in_process(instance=instance, raise_on_error=False, run_config=run_config)


def tmp_settings(root: Path) -> Settings:
    return replace(
        load_settings({"LEADSCORE_HOME": str(root)}),
        landing=root / "landing", warehouse=root / "warehouse" / "leadscore.duckdb",
    )


@pytest.fixture(scope="session")
def demo_settings(tmp_path_factory) -> Settings:
    root = tmp_path_factory.mktemp("pipeline")
    settings = tmp_settings(root)
    subprocess.run(
        [sys.executable, "-m", "leadscore.demo.generate", "--size", "tiny", "--seed", "7",
         "--landing", str(settings.landing), "--truth", str(root / "truth")],
        check=True, cwd=REPO_ROOT, capture_output=True,
    )
    return settings


@pytest.fixture(scope="session")
def first_run(demo_settings: Settings) -> dg.ExecuteInProcessResult:
    return run_pipeline(demo_settings)


@pytest.fixture(scope="session")
def headless_landing(tmp_path_factory) -> Path:
    """Tiny demo data, trimmed for speed, for the tests that run `python -m leadscore.orchestration.run`."""
    from tests.headless import generate_landing

    return generate_landing(tmp_path_factory.mktemp("headless_landing"))


@pytest.fixture(scope="session")
def headless_reference(headless_landing, tmp_path_factory) -> Path:
    """The root of one uninterrupted headless run on `headless_landing` (warehouse/, published/,
    data/, dagster/ and run.out), with secrets given through the environment."""
    from tests.headless import run_env, run_to_completion

    root = tmp_path_factory.mktemp("uninterrupted")
    run_to_completion(run_env(root, headless_landing), root / "run.out")
    return root


# --- Running on several workers (pytest-xdist) -------------------------------------------------

# Session fixtures are built once per worker, so the modules that read the same shared build run
# on one worker, and every module runs whole on one worker (its module fixtures are built once).
SHARED_BUILDS = {"first_run": "demo_pipeline", "demo_settings": "demo_pipeline",
                 "headless_reference": "headless_run", "headless_landing": "headless_run"}
# Units handed out first, longest first, so the last unit to finish is a short one.
LONGEST_FIRST = ("demo_pipeline", "headless_run", "test_incremental", "test_bench", "test_scoring",
                 "test_int_activities", "test_dbt_staging", "test_int_people", "test_portability")


@functools.cache
def work_unit(module_path: str) -> str:
    """The group a test module runs in: the shared build it reads (named in its source), or itself."""
    path = REPO_ROOT / module_path
    source = path.read_text(encoding="utf-8") if path.is_file() else ""
    return next((group for name, group in SHARED_BUILDS.items() if re.search(rf"\b{name}\b", source)), path.stem)


def pytest_collection_modifyitems(config, items):
    """Longest work units first; the order within a module is kept."""
    rank = {group: position for position, group in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(work_unit(item.nodeid.split("::")[0]), len(rank)))


def pytest_xdist_make_scheduler(config, log):
    """With `-n N`: whole work units to each worker, in the collection's order."""
    from xdist.scheduler import LoadScopeScheduling

    class WorkUnitScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid.split("::")[0])

    config.option.loadscopereorder = False
    return WorkUnitScheduling(config, log)
