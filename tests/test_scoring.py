"""The scoring engine end to end on generated data, in a copy of the dbt project (so a test can
edit the rulebook seeds like an analyst would)."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from leadscore.ingest.sources import SOURCES, ingest_source
from leadscore.warehouse import connect
from tests.conftest import REPO_ROOT
from tests.dbt_runner import dbt_failure, run_dbt

AS_OF = "2026-06-30 00:00:00"


class Project:
    """A copy of dbt_project/ and seeds/ with its own warehouse."""

    def __init__(self, root: Path):
        self.root = root
        self.dbt_dir = root / "dbt_project"
        self.warehouse = root / "warehouse.duckdb"

    def dbt(self, *args: str, as_of: str = AS_OF, **dbt_vars: object) -> subprocess.CompletedProcess:
        result = run_dbt(args, self.warehouse, project_dir=self.dbt_dir, dbt_vars={"as_of": as_of, **dbt_vars})
        assert result.returncode == 0, dbt_failure(result)
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


def write_adjustments(landing: Path) -> None:
    """Reps' adjustments on the first leads of the export: points, scores set by hand (one
    replacing another), and one naming a lead that does not exist."""
    with next(landing.glob("crm/*/Lead.csv")).open(newline="", encoding="utf-8-sig") as handle:
        leads = [row["Id"] for row in csv.DictReader(handle)][:3]
    rows = [
        "adjustment_id,crm_id,rulebook_id,points,score,reason,author,adjusted_at",
        f"T1,{leads[0]},,-7,,Not the buyer,rep1,2026-01-05T09:00:00Z",
        f"T2,{leads[0]},,,40,Budget confirmed on a call,rep1,2026-02-10T12:00:00Z",
        f"T3,{leads[1]},guide_v1,,0,Wrong contact details,rep2,2026-05-20T08:30:00Z",
        f"T4,{leads[1]},guide_v1,,25,Right contact found,rep2,2026-05-27T08:30:00Z",
        f"T5,{leads[2]},,12,,Met at a trade show,rep2,2026-04-02T16:00:00Z",
        "T6,00Q000000000000XXX,,5,,Typo in the Id,rep2,2026-04-02T16:00:00Z",
    ]
    path = landing / "adjustments" / "test-adjustments.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(rows) + "\n")


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Project:
    root = tmp_path_factory.mktemp("scoring")
    shutil.copytree(REPO_ROOT / "dbt_project", root / "dbt_project",
                    ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    shutil.copytree(REPO_ROOT / "seeds", root / "seeds")
    landing = root / "landing"
    subprocess.run(
        [sys.executable, "-m", "leadscore.demo.generate", "--size", "tiny", "--seed", "11", "--landing", str(landing),
         "--truth", str(root / "truth")],
        check=True, cwd=REPO_ROOT, capture_output=True,
    )
    write_adjustments(landing)
    project = Project(root)
    with connect(project.warehouse) as con:
        for source in SOURCES:
            ingest_source(con, landing, source)
    project.dbt("build", "--exclude-resource-type", "unit_test")
    return project


SCORES = "select * from marts.fct_lead_scores order by person_id, rulebook_id"
LEDGER = "select * exclude (ledger_row_id) from marts.fct_score_ledger order by all"
DAILY = "select * from marts.fct_lead_score_daily order by person_id, rulebook_id, score_date"


def test_every_score_is_the_sum_of_its_ledger_rows(project):
    mismatches = project.query("""
        select s.person_id, s.rulebook_id, s.total_score, coalesce(l.total, 0)
        from marts.fct_lead_scores s
        left join (select person_id, rulebook_id, sum(points_as_of) as total
                   from marts.fct_score_ledger group by all) l using (person_id, rulebook_id)
        where abs(s.total_score - coalesce(l.total, 0)) > 1e-9""")
    assert mismatches == []
    people, rulebooks = project.query(
        "select count(distinct person_id), count(distinct rulebook_id) from marts.fct_lead_scores")[0]
    assert people > 100 and rulebooks == 3
    assert project.query("select count(*) from marts.fct_lead_scores where is_champion")[0][0] == people


def test_every_column_of_every_model_is_documented(project):
    """BI users read the yml descriptions: no column may appear in a table without one."""
    documented = {}
    for path in (project.dbt_dir / "models").rglob("*.yml"):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models") or []:
            documented[model["name"]] = {c["name"] for c in model.get("columns") or [] if c.get("description")}
            # dbt silently ignores unit tests nested under a model: they belong at the top level.
            assert "unit_tests" not in model, f"{path}: unit_tests under model {model['name']}"
    columns = project.query("""
        select table_name, column_name from duckdb_columns()
        where schema_name in ('staging', 'intermediate', 'marts') order by all""")
    undocumented = [(t, c) for t, c in columns if c not in documented.get(t, set())]
    assert undocumented == []
    assert {"fct_score_ledger", "fct_lead_scores", "fct_lead_score_daily", "fct_lead_product_scores",
            "fct_account_scores"} <= {t for t, _ in columns}


def test_the_same_data_and_as_of_give_identical_scores(project):
    before = (project.query(SCORES), project.query(LEDGER), project.query(DAILY))
    project.dbt("build", "--select", "int_scoring_as_of+", "--exclude-resource-type", "unit_test")
    assert (project.query(SCORES), project.query(LEDGER), project.query(DAILY)) == before


def totals(project: Project) -> dict[tuple[str, str], float]:
    rows = project.query("select person_id, rulebook_id, total_score from marts.fct_lead_scores")
    return {(person_id, rulebook): float(total) for person_id, rulebook, total in rows}


def mql_flags(project: Project) -> dict[tuple[str, str], bool]:
    rows = project.query("select person_id, rulebook_id, is_mql from marts.fct_lead_scores")
    return {(c, r): bool(m) for c, r, m in rows}


def rule_points(project: Project) -> dict[tuple[str, str, str], float]:
    rows = project.query(
        "select person_id, rulebook_id, rule_id, sum(points_as_of) from marts.fct_score_ledger group by all")
    return {(c, b, r): float(p) for c, b, r, p in rows}


def test_changing_one_rule_rescores_exactly_the_people_it_touches(project):
    scores_before = totals(project)
    touched = {person_id for (person_id,) in project.query(
        "select distinct person_id from marts.fct_score_ledger "
        "where rulebook_id = 'guide_v1' and rule_id = 'ACT-PRICING-PAGE' and points_as_of <> 0")}
    # guide_v1 resets engagement to zero on recycling, and a score set by hand replaces the points
    # before it: points earned before either no longer count.
    counted = {person_id for (person_id,) in project.query(
        "select distinct hit.person_id from marts.fct_score_ledger as hit "
        "where hit.rulebook_id = 'guide_v1' and hit.rule_id = 'ACT-PRICING-PAGE' and hit.points_as_of <> 0 "
        "and not exists (select 1 from marts.fct_score_ledger as recycle where recycle.person_id = hit.person_id "
        "and recycle.rulebook_id = 'guide_v1' and recycle.event_at >= hit.event_at "
        "and (recycle.source_type = 'recycle' or recycle.rule_id = 'ADJUST-SCORE'))")}
    capped = {person_id for (person_id,) in project.query(
        "select distinct person_id from marts.fct_score_ledger "
        "where rulebook_id = 'guide_v1' and source_type = 'bound'")}
    assert touched, "the demo data should have pricing page views"

    mql_before = mql_flags(project)
    rule_points_before = rule_points(project)

    project.edit_rule("ACT-PRICING-PAGE", "30")
    project.dbt("build", "--select", "activity_rules+", "--exclude-resource-type", "unit_test")

    scores_after = totals(project)
    # The build's own account of what moved equals a diff of the scores before and after.
    mql_after = mql_flags(project)
    expected_changes = {
        key: (round(scores_after[key] - scores_before[key], 6),
              "gained" if mql_after[key] and not mql_before[key] else
              "lost" if mql_before[key] and not mql_after[key] else None)
        for key in scores_after
        if abs(scores_after[key] - scores_before[key]) > 1e-9 or mql_after[key] != mql_before[key]
    }
    reported = project.query("select person_id, rulebook_id, change_kind, score_change, mql_change, rulebook_changed "
                             "from marts.rpt_score_changes")
    assert {(c, r): (round(float(d), 6), m) for c, r, _, d, m, _ in reported} == expected_changes
    assert {kind for _, _, kind, *_ in reported} == {"changed"}
    assert {r for _, r, *_, changed in reported if changed} == {"guide_v1"}
    rule_points_after = rule_points(project)
    moved_by_rule = {}
    for key in rule_points_before.keys() | rule_points_after.keys():
        change = rule_points_after.get(key, 0.0) - rule_points_before.get(key, 0.0)
        if abs(change) > 1e-9:
            people, points = moved_by_rule.get(key[1:], (0, 0.0))
            moved_by_rule[key[1:]] = (people + 1, points + change)
    per_rule = project.query("select rulebook_id, rule_id, people_moved, points_change from marts.rpt_rule_changes")
    assert {(b, r): (n, round(float(p), 6)) for b, r, n, p in per_rule} == {
        key: (n, round(p, 6)) for key, (n, p) in moved_by_rule.items()}
    assert ("guide_v1", "ACT-PRICING-PAGE") in moved_by_rule
    changed = {person_id for (person_id, rulebook), total in scores_after.items()
               if abs(total - scores_before[(person_id, rulebook)]) > 1e-9 and rulebook == "guide_v1"}
    assert changed <= touched
    # Everyone the rule still counts for is rescored, except people held at a cap either way.
    assert counted - capped <= changed
    # The score history was rebuilt with the new points.
    assert history_against_scores(project, "2026-06-29")[1] == []
    # The challenger rulebook did not move.
    assert all(abs(scores_after[key] - scores_before[key]) < 1e-9 for key in scores_before if key[1] != "guide_v1")


COMPONENTS = ("fit_score", "engagement_score", "data_quality_score", "adjustment_score", "total_score")


def history_against_scores(project: Project, score_date: str) -> tuple[int, list[tuple]]:
    """Compare each person's daily row for `score_date` with fct_lead_scores (computed as of the
    midnight after it): how many rows, and the ones that differ."""
    differs = " or ".join(f"abs(d.{c} - s.{c}) > 1e-4" for c in COMPONENTS)
    count = project.query(f"""
        select count(*) from marts.fct_lead_scores s
        join marts.fct_lead_score_daily d using (person_id, rulebook_id)
        where d.score_date = date '{score_date}'""")[0][0]
    mismatches = project.query(f"""
        select s.person_id, s.rulebook_id, {", ".join(f"s.{c}, d.{c}" for c in COMPONENTS)}
        from marts.fct_lead_scores s
        left join marts.fct_lead_score_daily d
            on d.person_id = s.person_id and d.rulebook_id = s.rulebook_id and d.score_date = date '{score_date}'
        where d.person_id is null or {differs}""")
    return count, mismatches


def close(rows_a: list[tuple], rows_b: list[tuple]) -> bool:
    """Same keys and the same scores to 1e-4 (the history sums in floating point)."""
    if len(rows_a) != len(rows_b):
        return False
    return all(
        a[:4] == b[:4] and all(abs(float(x) - float(y)) < 1e-4 for x, y in zip(a[4:9], b[4:9], strict=True))
        for a, b in zip(rows_a, rows_b, strict=True)
    )


# Slow (make test-slow): two more scoring builds, the second incremental.
@pytest.mark.slow
def test_score_history_gives_the_ledger_scores_of_any_past_day_and_builds_incrementally(project):
    kinds = dict(project.query("select source_type, count(*) from marts.fct_score_ledger group by all"))
    assert kinds.get("recycle", 0) > 0 and kinds.get("adjustment", 0) > 0, kinds
    assert project.query("select count(*) from marts.fct_score_ledger where rule_id = 'ADJUST-SCORE'")[0][0] >= 3

    # The last complete day before as_of (2026-06-30 00:00) is the current score.
    count, mismatches = history_against_scores(project, "2026-06-29")
    assert mismatches == [] and count == project.query("select count(*) from marts.fct_lead_scores")[0][0]
    history = project.query(DAILY)

    # Scoring as of an earlier midnight gives the history's scores of the day before; the
    # incremental history drops the days after it, keeps the others and adds the earlier days
    # a full build as of that midnight covers (the 120 days before it).
    project.dbt("build", "--select", "int_scoring_as_of+", "--exclude-resource-type", "unit_test",
                as_of="2026-04-01 00:00:00")
    count, mismatches = history_against_scores(project, "2026-03-31")
    assert count > 0 and mismatches == []
    first, last = project.query("select min(score_date), max(score_date) from marts.fct_lead_score_daily")[0]
    assert (first.isoformat(), last.isoformat()) == ("2025-12-02", "2026-03-31")
    history_start = min(row[3] for row in history)
    assert close([row for row in project.query(DAILY) if row[3] >= history_start],
                 [row for row in history if row[3].isoformat() <= "2026-03-31"])

    # Building forward again, incrementally, gives the same history as the full build.
    project.dbt("build", "--select", "int_scoring_as_of+", "--exclude-resource-type", "unit_test")
    assert close(project.query(DAILY), history)


# Instants for the timeline: over a year before as_of (2026-06-30 00:00), midnights, and odd
# times between events, where only decay moves a score.
PAST_INSTANTS = ("2025-02-11 07:13:00", "2025-06-30 23:59:59", "2025-12-24 13:45:30", "2026-04-01 00:00:00",
                 "2026-05-20 17:31:07", "2026-06-29 06:00:00")
LEDGER_MODELS = ("int_scoring_as_of", "int_activity_rule_hits", "int_profile_rule_hits", "int_inactivity_rule_hits",
                 "int_recycles", "int_score_adjustments", "int_score_events", "int_score_ledger",
                 "int_score_ledger_sum_rows", "fct_score_ledger", "fct_lead_scores")


# Slow (make test-slow): the ledger models built again at six past instants.
@pytest.mark.slow
def test_the_timeline_gives_the_ledger_score_at_any_instant(project, tmp_path):
    """scores_at() on the timeline built as of 2026-06-30 equals, to 1e-6, the scores the ledger
    gives when it is built with as_of = each past instant, for every person and rulebook."""
    instants = ", ".join(f"(timestamp '{instant}')" for instant in PAST_INSTANTS)
    compiled = project.dbt("compile", "--quiet", "--inline", f"""
        -- depends_on: {{{{ ref('decay_profiles') }}}}
        with instants as (select * from (values {instants}) as listed (score_at)),
        requests as (
            select people.person_id, people.rulebook_id, instants.score_at
            from (select distinct person_id, rulebook_id from {{{{ ref('int_score_timeline') }}}}) as people
            cross join instants
        )
        {{{{ scores_at('requests') }}}}""").stdout
    timeline_scores = {}
    with duckdb.connect(str(project.warehouse), read_only=True) as con:
        for row in con.execute(f"select person_id, rulebook_id, cast(score_at as varchar), {', '.join(COMPONENTS)} "
                               f"from ({compiled})").fetchall():
            timeline_scores[row[:3]] = row[3:]
        # Some requests fall between change points where an exponential term is decaying.
        decaying = con.execute(f"""
            select count(*) from ({compiled}) as scored
            join intermediate.int_score_timeline as t
                on t.person_id = scored.person_id and t.rulebook_id = scored.rulebook_id
                and scored.score_at > t.changed_at
                and scored.score_at < coalesce(t.valid_until, (select as_of from intermediate.int_scoring_as_of))
            where t.engagement_exp_30d <> 0""").fetchone()[0]
    assert decaying > 50

    past = Project(project.root)
    for instant in PAST_INSTANTS:
        past.warehouse = tmp_path / f"{instant[:10]}.duckdb"
        shutil.copy(project.warehouse, past.warehouse)
        past.dbt("run", "--select", *LEDGER_MODELS, as_of=instant)
        ledger_scores = {
            (row[0], row[1], instant): row[2:]
            for row in past.query(f"select person_id, rulebook_id, {', '.join(COMPONENTS)} from marts.fct_lead_scores")}
        at_instant = {key: value for key, value in timeline_scores.items() if key[2] == instant}
        assert set(at_instant) == set(ledger_scores), instant
        assert len({key[0] for key in ledger_scores}) >= 50, instant
        differences = [(key, ledger_scores[key], at_instant[key]) for key in ledger_scores
                       if any(abs(float(a) - float(b)) > 1e-6 for a, b in zip(ledger_scores[key], at_instant[key],
                                                                                strict=True))]
        assert differences == [], instant
