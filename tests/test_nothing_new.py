"""A run with nothing to do ends before Dagster starts. After a complete run the headless runner says
so without importing Dagster or dbt and without changing a byte of the warehouse. A new, empty or
rewritten landing file, an edited seed or model, `--force`, another `as_of`, a locked warehouse, a
build whose run did not complete, a partial build, a run still going, a failed last run or one
with other check settings each mean a normal run."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import dagster as dg
import pytest

from leadscore import nothing_new
from leadscore.build_state import DBT_INPUTS
from leadscore.orchestration.definitions import build_definitions
from leadscore.orchestration.run import check_settings
from leadscore.settings import Settings
from leadscore.warehouse import connect
from tests.conftest import tmp_settings
from tests.headless import held_open_elsewhere

REPO_ROOT = Path(__file__).resolve().parent.parent
HIT = ('203.0.113.7 - - [01/Jul/2026:14:02:11 +0200] "GET /pricing HTTP/1.1" 200 5120 "-" '
       '"Mozilla/5.0 (X11; Linux x86_64) Firefox/126.0" "v-1"\n')


@pytest.fixture
def built(first_run, demo_settings: Settings) -> Settings:
    """The demo warehouse after complete runs (other modules' runs leave it complete too)."""
    assert first_run.success
    return demo_settings


def verdict(settings: Settings, dagster_home: Path, **overrides) -> nothing_new.Verdict:
    arguments = {"landing": settings.landing, "warehouse": settings.warehouse, "dagster_home": dagster_home,
                 **overrides}
    return nothing_new.check(**arguments)


def landing_copy(settings: Settings, target: Path) -> Path:
    """The landing folder as delivered: same relative paths, bytes and modification times."""
    shutil.copytree(settings.landing, target)
    return target


def warehouse_copy(settings: Settings, root: Path) -> Settings:
    copy = tmp_settings(root)
    copy.warehouse.parent.mkdir(parents=True)
    shutil.copy(settings.warehouse, copy.warehouse)
    return replace(copy, landing=settings.landing)


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "absent"


def imported_modules(importtime_output: str) -> set[str]:
    """Module names from `python -X importtime` lines: 'import time: self | cumulative | name'."""
    return {line.rsplit("|", 1)[1].strip() for line in importtime_output.splitlines()
            if line.startswith("import time:") and line.count("|") == 2}


def test_after_a_complete_run_the_next_one_ends_before_dagster_and_changes_nothing(built, tmp_path):
    dagster_home = tmp_path / "dagster"
    assert verdict(built, dagster_home).nothing_to_do
    files = [built.warehouse, built.warehouse.with_name(built.warehouse.name + ".wal")]
    before = {path: file_digest(path) for path in files}
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADSCORE_") and k != "DAGSTER_HOME"}
    env.update(LEADSCORE_HOME=str(built.home), LEADSCORE_LANDING=str(built.landing),
               LEADSCORE_WAREHOUSE=str(built.warehouse), LEADSCORE_PUBLISH_DIR=str(built.publish_dir),
               DAGSTER_HOME=str(dagster_home))

    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "leadscore.orchestration.run"],
                          cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=300)

    assert done.returncode == 0, done.stdout + done.stderr
    first_line = done.stdout.splitlines()[0]
    assert first_line.startswith("Nothing new since the last build (") and first_line.endswith("nothing to do.")
    assert "People scored" in done.stdout and "Warehouse:" in done.stdout  # the usual summary
    modules = imported_modules(done.stderr)
    assert "leadscore.nothing_new" in modules  # the listing is complete enough to trust
    assert not {name for name in modules if name.split(".")[0] in ("dagster", "dagster_dbt", "dbt")}
    assert {path: file_digest(path) for path in files} == before
    assert not dagster_home.exists()  # no Dagster run, not even an instance


@pytest.mark.parametrize("change", ["new file", "new empty file", "rewritten file"])
def test_a_new_or_rewritten_landing_file_means_a_run(built, tmp_path, change):
    landing = landing_copy(built, tmp_path / "landing")
    assert verdict(built, tmp_path / "dagster", landing=landing).nothing_to_do  # a faithful copy
    if change == "new file":
        (landing / "weblogs" / "2026" / "07").mkdir(parents=True, exist_ok=True)
        (landing / "weblogs" / "2026" / "07" / "access-2026-07-01.log").write_text(HIT)
    elif change == "new empty file":  # recorded by the next run as an empty delivery
        (landing / "forms" / "form-submissions-2026-07-01.csv").write_bytes(b"")
    else:
        rewritten = sorted((landing / "signals").rglob("*.csv"))[0]
        rewritten.write_bytes(rewritten.read_bytes() + b"\n")

    result = verdict(built, tmp_path / "dagster", landing=landing)

    assert not result.nothing_to_do
    assert "new or changed landing file" in result.reason


def test_a_landing_file_touched_but_not_changed_is_still_nothing_new(built, tmp_path):
    # Files are known by their contents: the ingestion would read this one again and load nothing.
    landing = landing_copy(built, tmp_path / "landing")
    touched = sorted((landing / "crm").rglob("*.csv"))[0]
    os.utime(touched, ns=(touched.stat().st_atime_ns, touched.stat().st_mtime_ns + 10**9))
    assert verdict(built, tmp_path / "dagster", landing=landing).nothing_to_do


def dbt_inputs_copy(target: Path) -> list[Path]:
    """The dbt project and seeds as the build key reads them, in a folder the test may edit."""
    copies = []
    for source in DBT_INPUTS:
        copy = target / source.parent.name / source.name
        copy.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, copy)
        else:
            shutil.copy(source, copy)
        copies.append(copy)
    return copies


@pytest.mark.parametrize("edit", ["seed", "model", "new macro"])
def test_an_edited_seed_or_model_means_a_run(built, tmp_path, edit):
    inputs = dbt_inputs_copy(tmp_path / "project")
    assert verdict(built, tmp_path / "dagster", dbt_inputs=inputs).nothing_to_do  # a faithful copy
    models, macros, seeds = inputs[0], inputs[1], inputs[-1]
    if edit == "seed":
        rules = seeds / "scoring" / "activity_rules.csv"
        header, first, *rest = rules.read_text().splitlines(keepends=True)
        rules.write_text("".join([header, *rest, first]))  # the same rules in another order
    elif edit == "model":
        model = sorted(models.rglob("*.sql"))[0]
        model.write_text(model.read_text() + "\n-- edited\n")
    else:
        (macros / "an_unused_macro.sql").write_text("{% macro an_unused_macro() %}1{% endmacro %}\n")

    assert not verdict(built, tmp_path / "dagster", dbt_inputs=inputs).nothing_to_do


def test_force_or_another_as_of_means_a_run(built, tmp_path):
    home = tmp_path / "dagster"
    assert not verdict(built, home, force=True).nothing_to_do
    # The demo was built to the end of its data, without as_of.
    assert not verdict(built, home, as_of="2026-03-31").nothing_to_do
    bad = verdict(built, home, as_of="last tuesday")
    assert not bad.nothing_to_do and "last tuesday" in bad.reason  # the run reports it


def test_no_warehouse_or_a_locked_one_means_a_run(built, tmp_path):
    home = tmp_path / "dagster"
    assert not verdict(built, home, warehouse=tmp_path / "none" / "leadscore.duckdb").nothing_to_do
    copy = warehouse_copy(built, tmp_path / "copy")
    with held_open_elsewhere(copy.warehouse):
        locked = verdict(copy, home)
    assert not locked.nothing_to_do and "locked" in locked.reason


def test_a_build_whose_run_did_not_complete_means_a_run(built, tmp_path):
    copy = warehouse_copy(built, tmp_path / "copy")
    assert verdict(copy, tmp_path / "dagster").nothing_to_do
    # What a run killed after dbt, while publishing, leaves behind.
    with connect(copy.warehouse) as con:
        con.execute("update ops.dbt_builds set completed = false "
                    "where built_at = (select max(built_at) from ops.dbt_builds)")
    assert not verdict(copy, tmp_path / "dagster").nothing_to_do


def test_a_partial_dbt_build_is_not_taken_for_a_whole_one(built, tmp_path):
    copy = warehouse_copy(built, tmp_path / "copy")
    # One seed rebuilt, then its build marked complete: the rest of the project was not built.
    selection = [dg.AssetKey(["seeds", "rulebooks"]), dg.AssetKey(["ops", "dbt_builds"])]
    job = build_definitions(copy).resolve_job_def("materialize_all")
    with dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False, asset_selection=selection,
                                        run_config={"ops": {"dbt_models": {"config": {"as_of": ""}}}})
    assert result.success
    built_now = {event.asset_key.to_user_string() for event in result.get_asset_materialization_events()}
    assert built_now == {"seeds/rulebooks", "ops/dbt_builds"}

    assert not verdict(copy, tmp_path / "dagster").nothing_to_do


def add_run(home: Path, status: dg.DagsterRunStatus, tags: dict[str, str] | None = None) -> None:
    home.mkdir(exist_ok=True)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.add_run(dg.DagsterRun(job_name="materialize_all", status=status, tags=tags or {}))


def test_a_run_still_going_a_failed_last_run_or_other_check_settings_mean_a_run(built, tmp_path):
    home = tmp_path / "dagster"
    same = {nothing_new.CHECK_SETTINGS_TAG: check_settings(built)}

    def nothing_to_do() -> bool:
        return verdict(built, home, check_settings=check_settings(built)).nothing_to_do

    add_run(home, dg.DagsterRunStatus.SUCCESS, same)
    assert nothing_to_do()
    add_run(home, dg.DagsterRunStatus.STARTED, same)  # going, or its process was killed
    assert not nothing_to_do()

    home = tmp_path / "dagster_failed"
    add_run(home, dg.DagsterRunStatus.SUCCESS, same)
    add_run(home, dg.DagsterRunStatus.FAILURE, same)
    assert not nothing_to_do()
    add_run(home, dg.DagsterRunStatus.SUCCESS, same)  # a later run succeeded
    assert nothing_to_do()

    # Stricter quarantine limit than the last run's: the same data may now fail its checks.
    stricter = check_settings(replace(built, quarantine_max_rate=0.001))
    add_run(home, dg.DagsterRunStatus.SUCCESS, {nothing_new.CHECK_SETTINGS_TAG: stricter})
    assert not nothing_to_do()
    add_run(home, dg.DagsterRunStatus.SUCCESS)  # started elsewhere (UI, schedule): settings unknown
    assert not nothing_to_do()
