"""Security promises: hostile scoring rules stop the run before any SQL and change no table,
rule values stay data whatever quotes they hold, secrets come from the environment and are
written nowhere, and the UI listens on localhost unless told otherwise."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from leadscore.scoring.rulebooks import SCORING_SEEDS, RulebookError, validate_rulebooks
from tests.dbt_runner import dbt_failure, run_dbt
from tests.headless import (
    REPO_ROOT,
    SECRET_SALT,
    SECRET_WEBHOOK,
    differences,
    finish,
    run_env,
    run_id,
    start_run,
)

# (rule id, attribute, condition): each tries to read or write outside the person's attributes.
HOSTILE_PROFILE_RULES = [
    ("INJ-SUBQUERY", "(select count(*) from raw.crm_leads) > 0", "may not contain a query"),
    ("INJ-DROP", "is_us; drop table raw.crm_leads", "found 2 statements"),
    ("INJ-CLOSE-PAREN", "is_us), false) or (select true from raw.crm_users", "does not parse"),
    ("INJ-READ-FILE", "read_csv('/etc/passwd') is not null", "is not allowed"),
    ("INJ-COPY", "is_us; copy raw.crm_leads to '/tmp/leads.csv'", "found 2 statements"),
    ("INJ-ATTACH", "is_us; attach '/tmp/other.duckdb' as other", "found 2 statements"),
    ("INJ-GETENV", "getenv('LEADSCORE_PUBLISH_HASH_SALT') = 'x'", "is not allowed"),
    ("INJ-SETTING", "current_setting('home_directory') <> ''", "is not allowed"),
    ("INJ-SET-VARIABLE", "is_us; set variable leak = 1", "found 2 statements"),
    ("INJ-GETVARIABLE", "getvariable('leadscore_publish_salt') is not null", "is not allowed"),
    ("INJ-PRAGMA", "is_us; pragma database_list", "found 2 statements"),
    ("INJ-OTHER-COLUMN", "email = 'ceo@example.com'", "unknown column 'email'"),
    ("INJ-CONCAT", "seniority = 'vp' || (select max(email) from raw.crm_leads)", "may not contain a query"),
    ("INJ-QUOTED-SCHEMA", '"raw"."crm_leads"."email" is not null', "may not name a table"),
    ("INJ-SEEDS-TABLE", '"seeds"."rulebooks".mql_threshold > 0', "may not name a table"),
    ("INJ-COMMENT", "is_us --", "may not contain comments"),
    ("INJ-DOLLAR", "seniority = $$vp$$ or exists (select 1 from raw.quarantine)", "not allowed"),
]


def copy_project(root: Path) -> Path:
    """The code, dbt project (with its prepared manifest) and seeds, as a user's checkout."""
    for folder in ("src", "seeds"):
        shutil.copytree(REPO_ROOT / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO_ROOT / "dbt_project", root / "dbt_project",
                    ignore=shutil.ignore_patterns("logs", "dbt_packages", "dbt_models-*", "run", "compiled"))
    return root


def append_rules(path: Path, rows: list[dict[str, str]]) -> list[int]:
    """Append rows to a seed CSV; return the line number of each."""
    first = path.read_text(encoding="utf-8").count("\n") + 1
    with path.open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    with path.open("a", encoding="utf-8", newline="") as handle:
        csv.DictWriter(handle, fieldnames=header, lineterminator="\n").writerows(rows)
    return list(range(first, first + len(rows)))


def profile_rule(rule_id: str, operator: str, value: str, attribute: str = "") -> dict[str, str]:
    return {"rulebook_id": "guide_v1", "rule_id": rule_id, "description": "hostile", "category": "critical",
            "component": "fit", "attribute": attribute, "operator": operator, "value": value,
            "min_value": "", "max_value": "", "points": "5"}


def test_hostile_sql_rules_in_the_seeds_stop_the_dbt_step_before_any_sql_and_change_no_table(
    headless_reference, headless_landing, tmp_path
):
    project = copy_project(tmp_path / "checkout")
    profile_lines = append_rules(project / "seeds" / "scoring" / "profile_rules.csv",
                                 [profile_rule(rule_id, "sql", condition) for rule_id, condition, _ in
                                  HOSTILE_PROFILE_RULES])
    activity_rule = {"rulebook_id": "guide_v1", "rule_id": "INJ-ACTIVITY", "description": "hostile",
                     "category": "critical", "activity_type": "web_page_view", "attribute": "",
                     "operator": "sql", "value": "url_path like '%' and (select 1) = 1", "min_value": "",
                     "max_value": "", "points": "5", "decay_profile_id": "none", "cap_points": "",
                     "cap_period": "", "product_line": ""}
    (activity_line,) = append_rules(project / "seeds" / "scoring" / "activity_rules.csv", [activity_rule])
    # The warehouse of a finished run: any table the step touched would differ from the reference.
    root = tmp_path / "run"
    (root / "warehouse").mkdir(parents=True)
    shutil.copy(headless_reference / "warehouse" / "leadscore.duckdb", root / "warehouse" / "leadscore.duckdb")

    output = root / "run.out"
    env = {**run_env(root, headless_landing), "PYTHONPATH": str(project / "src")}
    assert finish(start_run(env, output, cwd=project), output) == 1, output.read_text()
    text = output.read_text()
    assert f"scoring rulebooks ({project / 'seeds' / 'scoring'})" in text, text  # the copy's seeds were read
    for (rule_id, _, problem), line in zip(HOSTILE_PROFILE_RULES, profile_lines, strict=True):
        assert f"profile_rules.csv line {line}: rulebook guide_v1, rule {rule_id}: " in text, rule_id
        named = re.search(rf"rule {rule_id}: (.*)", text).group(1)
        assert problem in named, (rule_id, named)
    assert f"activity_rules.csv line {activity_line}: rulebook guide_v1, rule INJ-ACTIVITY: " in text
    assert differences(headless_reference / "warehouse" / "leadscore.duckdb", root / "warehouse" / "leadscore.duckdb") \
        == []
    # dbt never started: no target folder for this run.
    assert not list((project / "dbt_project" / "target").glob(f"dbt_models-{run_id(output)[:7]}-*"))


# People whose attribute holds quotes, backslashes and dollar quotes, and rules whose values do.
PEOPLE = [
    ("P-QUOTE", "O'Brien"),
    ("P-DOLLAR", "it's $$12\\"),
    ("P-DROP", "a'); drop table raw.canary; --"),
    ("P-PLAIN", "plain"),
]
LITERAL_RULES = [
    ("EQ-QUOTE", "equals", "o'brien"),
    ("IN-MIXED", "in_list", "$$x$$|it's $$12\\|O'Brien"),
    ("CONTAINS-DROP", "contains", "'); drop table raw.canary"),
    ("CONTAINS-BACKSLASH", "contains", "\\"),
    ("REGEX-DOLLAR", "regex", "^it's \\$\\$[0-9]+\\\\$"),
    ("EQ-DROP", "equals", "a'); drop table raw.canary; --"),
    ("EQ-DOLLAR-QUOTE", "equals", "$$ or 1=1 or $$"),
]
# Worked out by hand from the operators' meaning (case-insensitive text comparison).
EXPECTED_HITS = {
    ("EQ-QUOTE", "P-QUOTE"), ("IN-MIXED", "P-QUOTE"), ("IN-MIXED", "P-DOLLAR"), ("CONTAINS-DROP", "P-DROP"),
    ("CONTAINS-BACKSLASH", "P-DOLLAR"), ("REGEX-DOLLAR", "P-DOLLAR"), ("EQ-DROP", "P-DROP"),
}


def test_rule_values_with_quotes_backslashes_and_dollar_quotes_stay_data(tmp_path):
    project = copy_project(tmp_path)
    seeds = project / "seeds" / "scoring"
    with (seeds / "profile_rules.csv").open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    with (seeds / "profile_rules.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(profile_rule(rule_id, operator, value, "title") for rule_id, operator, value in LITERAL_RULES)
    with (seeds / "hostile_people.csv").open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows([("person_id", "attribute_value"), *PEOPLE])
    validate_rulebooks(seeds)  # nothing here is refused: these are ordinary values

    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema raw; create table raw.canary as select 1 as alive")
    dbt_dir = project / "dbt_project"
    seeded = run_dbt(["seed", "--select", "profile_rules", "hostile_people"], warehouse, project_dir=dbt_dir)
    assert seeded.returncode == 0, dbt_failure(seeded)
    query = ("select r.rule_id, p.person_id from {{ ref('profile_rules') }} as r "
             "cross join {{ ref('hostile_people') }} as p "
             "where {{ rule_operator_matches('r', 'p.attribute_value') }}")
    shown = run_dbt(["--quiet", "show", "--inline", query, "--limit", "-1", "--output", "json"], warehouse,
                    project_dir=dbt_dir)
    assert shown.returncode == 0, dbt_failure(shown)
    rows = json.loads(shown.stdout[shown.stdout.index("{"):])["show"]
    assert {(row["rule_id"], row["person_id"]) for row in rows} == EXPECTED_HITS
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select alive from raw.canary").fetchall() == [(1,)]


def test_a_regex_rule_that_does_not_compile_is_named_before_the_run(tmp_path):
    seeds = tmp_path / "scoring"
    shutil.copytree(SCORING_SEEDS, seeds)
    (line,) = append_rules(seeds / "profile_rules.csv", [profile_rule("BAD-REGEX", "regex", "(vp|director", "title")])
    with pytest.raises(RulebookError, match=rf"profile_rules.csv line {line}: rulebook guide_v1, rule BAD-REGEX: "
                                            r"regular expression '\(vp\|director' is not valid"):
        validate_rulebooks(seeds)


def test_secrets_given_in_the_environment_are_used_and_written_nowhere(headless_reference):
    # Used: the published emails are the salted hashes.
    with duckdb.connect(str(headless_reference / "warehouse" / "leadscore.duckdb"), read_only=True) as con:
        emails = dict(con.execute("select person_id, email from marts.dim_people where email is not null").fetchall())
    with duckdb.connect(str(headless_reference / "published" / "leadscore.duckdb"), read_only=True) as con:
        published = dict(con.execute(
            "select person_id, email from marts.dim_people where email is not null").fetchall())
    assert emails and published.keys() == emails.keys()
    for person_id, email in emails.items():
        assert published[person_id] == hashlib.sha256((SECRET_SALT + email.strip().lower()).encode()).hexdigest()
    # Written nowhere: not in the warehouse, Dagster's run storage and logs, the exports, the
    # report, the published copy, the console, nor dbt's files of this run.
    written = [p for p in headless_reference.rglob("*") if p.is_file()]
    dbt_target = REPO_ROOT / "dbt_project" / "target"
    written += [p for p in dbt_target.glob(f"dbt_models-{run_id(headless_reference / 'run.out')[:7]}-*/**/*")
                if p.is_file()]
    assert any(p.suffix == ".db" for p in written) and any(p.name == "run.out" for p in written)
    for secret in (SECRET_SALT, SECRET_WEBHOOK, SECRET_WEBHOOK.split("//")[1]):
        leaks = [str(p) for p in written if secret.encode() in p.read_bytes()]
        assert leaks == [], f"{secret!r} found in {leaks}"


def test_the_ui_listens_on_localhost_by_default():
    def dev_command(*overrides: str) -> str:
        env = {k: v for k, v in os.environ.items() if k != "DEV_HOST"}
        printed = subprocess.run(["make", "-n", "dev", *overrides], cwd=REPO_ROOT, env=env,
                                 capture_output=True, text=True, check=True).stdout
        (line,) = [line for line in printed.splitlines() if "dagster dev" in line]
        return line

    assert re.search(r"dagster dev .*-h 127\.0\.0\.1(\s|$)", dev_command())
    # Listening elsewhere is a deliberate choice on the command line.
    assert re.search(r"-h 0\.0\.0\.0(\s|$)", dev_command("DEV_HOST=0.0.0.0"))
