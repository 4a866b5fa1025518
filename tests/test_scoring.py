"""The scoring engine end to end on generated data, in a copy of the dbt project (so a test can
edit the rulebook seeds like an analyst would)."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from assets.ingest.sources import SOURCES, ingest_source
from assets.warehouse import connect
from tests.conftest import REPO_ROOT

AS_OF = "2026-06-30 00:00:00"


class Project:
    """A copy of dbt_project/ and seeds/ with its own warehouse."""

    def __init__(self, root: Path):
        self.root = root
        self.dbt_dir = root / "dbt_project"
        self.warehouse = root / "warehouse.duckdb"

    def dbt(self, *args: str) -> subprocess.CompletedProcess:
        env = {**os.environ, "LEADSCORE_WAREHOUSE": str(self.warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
        dbt = Path(sys.executable).parent / "dbt"
        result = subprocess.run(
            [str(dbt), *args, "--profiles-dir", ".", "--vars", f"{{as_of: '{AS_OF}'}}"],
            cwd=self.dbt_dir, env=env, capture_output=True, text=True,
        )
        assert result.returncode == 0, result.stdout[-4000:]
        return result

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.execute(sql).fetchall()

    def edit_rule(self, rule_id: str, points: str) -> None:
        path = self.root / "seeds" / "scoring" / "activity_rules.csv"
        with path.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        for row in rows:
            if row["rulebook_id"] == "guide_v1" and row["rule_id"] == rule_id:
                row["points"] = points
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Project:
    root = tmp_path_factory.mktemp("scoring")
    shutil.copytree(REPO_ROOT / "dbt_project", root / "dbt_project",
                    ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    shutil.copytree(REPO_ROOT / "seeds", root / "seeds")
    landing = root / "landing"
    subprocess.run(
        [sys.executable, "-m", "demo.generate", "--size", "tiny", "--seed", "11", "--landing", str(landing),
         "--truth", str(root / "truth")],
        check=True, cwd=REPO_ROOT, capture_output=True,
    )
    project = Project(root)
    with connect(project.warehouse) as con:
        for source in SOURCES:
            ingest_source(con, landing, source)
    project.dbt("build", "--exclude-resource-type", "unit_test")
    return project


SCORES = "select * from marts.fct_lead_scores order by crm_id, rulebook_id"
LEDGER = "select * exclude (ledger_row_id) from marts.fct_score_ledger order by all"


def test_every_score_is_the_sum_of_its_ledger_rows(project):
    mismatches = project.query("""
        select s.crm_id, s.rulebook_id, s.total_score, coalesce(l.total, 0)
        from marts.fct_lead_scores s
        left join (select crm_id, rulebook_id, sum(points_as_of) as total
                   from marts.fct_score_ledger group by all) l using (crm_id, rulebook_id)
        where abs(s.total_score - coalesce(l.total, 0)) > 1e-9""")
    assert mismatches == []
    people, rulebooks = project.query(
        "select count(distinct crm_id), count(distinct rulebook_id) from marts.fct_lead_scores")[0]
    assert people > 100 and rulebooks == 2
    assert project.query("select count(*) from marts.fct_lead_scores where is_champion")[0][0] == people


def test_the_same_data_and_as_of_give_identical_scores(project):
    before = (project.query(SCORES), project.query(LEDGER))
    project.dbt("build", "--select", "int_scoring_as_of+", "--exclude-resource-type", "unit_test")
    assert (project.query(SCORES), project.query(LEDGER)) == before


def totals(project: Project) -> dict[tuple[str, str], float]:
    rows = project.query("select crm_id, rulebook_id, total_score from marts.fct_lead_scores")
    return {(crm_id, rulebook): float(total) for crm_id, rulebook, total in rows}


def test_changing_one_rule_rescores_exactly_the_people_it_touches(project):
    scores_before = totals(project)
    touched = {crm_id for (crm_id,) in project.query(
        "select distinct crm_id from marts.fct_score_ledger "
        "where rulebook_id = 'guide_v1' and rule_id = 'ACT-PRICING-PAGE' and points_as_of <> 0")}
    capped = {crm_id for (crm_id,) in project.query(
        "select distinct crm_id from marts.fct_score_ledger where rulebook_id = 'guide_v1' and source_type = 'bound'")}
    assert touched, "the demo data should have pricing page views"

    project.edit_rule("ACT-PRICING-PAGE", "30")
    project.dbt("build", "--select", "activity_rules+", "--exclude-resource-type", "unit_test")

    scores_after = totals(project)
    changed = {crm_id for (crm_id, rulebook), total in scores_after.items()
               if abs(total - scores_before[(crm_id, rulebook)]) > 1e-9 and rulebook == "guide_v1"}
    assert changed <= touched
    # Everyone the rule touched is rescored, except people held at a cap either way.
    assert touched - capped <= changed
    # The challenger rulebook did not move.
    assert all(abs(scores_after[key] - scores_before[key]) < 1e-9 for key in scores_before if key[1] != "guide_v1")
