"""Rulebook validation: a bad rule stops the run before scoring, with a message naming it."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from leadscore.scoring.rulebooks import SCORING_SEEDS, RulebookError, check_sql_condition, validate_rulebooks
from leadscore.settings import REPO_ROOT


def test_the_default_rulebooks_are_valid():
    validate_rulebooks()


def _with_rule(tmp_path: Path, **changes: str) -> Path:
    """A copy of the scoring seeds with one extra profile rule."""
    rule = {
        "rulebook_id": "guide_v1", "rule_id": "BAD-RULE", "description": "test", "category": "critical",
        "component": "fit", "attribute": "", "operator": "sql", "value": "is_us", "min_value": "",
        "max_value": "", "points": "5",
    }
    return _with_row(tmp_path, "profile_rules.csv", {**rule, **changes})


def _with_activity_rule(tmp_path: Path, **changes: str) -> Path:
    """A copy of the scoring seeds with one extra activity rule."""
    rule = {
        "rulebook_id": "guide_v1", "rule_id": "BAD-ACTIVITY", "description": "test", "category": "critical",
        "activity_type": "web_page_view", "attribute": "page_category", "operator": "equals", "value": "pricing",
        "min_value": "", "max_value": "", "points": "5", "decay_profile_id": "exp_30", "cap_points": "",
        "cap_period": "", "product_line": "",
    }
    return _with_row(tmp_path, "activity_rules.csv", {**rule, **changes})


def _with_row(tmp_path: Path, file: str, row: dict[str, str]) -> Path:
    seeds = tmp_path / "scoring"
    shutil.copytree(SCORING_SEEDS, seeds)
    with (seeds / file).open("a", newline="", encoding="utf-8") as handle:
        csv.DictWriter(handle, fieldnames=list(row), lineterminator="\n").writerow(row)
    return seeds


def _last_line(path: Path) -> int:
    """The line number of the row appended last (the seeds end with a line break)."""
    return path.read_text(encoding="utf-8").count("\n")


def _problems(seeds: Path) -> list[str]:
    """The problem lines of the message validate_rulebooks raises."""
    with pytest.raises(RulebookError) as raised:
        validate_rulebooks(seeds)
    return [line.removeprefix("- ") for line in str(raised.value).splitlines()[1:]]


@pytest.mark.parametrize(
    "condition, problem",
    [
        ("favourite_colour = 'blue'", "unknown column 'favourite_colour'"),
        ("(select count(*) from raw.crm_leads) > 0", "may not contain a query, a subquery or a table"),
        ("exists (select 1 from raw.crm_users)", "EXISTS is not allowed"),
        ("drop table raw.crm_leads", "DROP is not allowed"),
        ("is_us; drop table raw.crm_leads", "must be one expression, found 2 statements"),
        ("is_us = true; delete from raw.quarantine", "must be one expression, found 2 statements"),
        ("raw.crm_leads.is_us", "may not name a table"),
        ("read_csv('/etc/passwd') is not null", "is not allowed"),
        ("is_us and", "does not parse"),
    ],
)
def test_a_bad_sql_rule_fails_naming_the_rulebook_and_rule(tmp_path, condition, problem):
    seeds = _with_rule(tmp_path, value=condition)
    with pytest.raises(RulebookError) as raised:
        validate_rulebooks(seeds)
    message = str(raised.value)
    assert "profile_rules.csv line" in message and "rulebook guide_v1, rule BAD-RULE" in message
    assert problem in message


def test_other_rule_mistakes_are_named(tmp_path):
    seeds = _with_rule(tmp_path, operator="between", attribute="seniority", value="vp")
    with pytest.raises(RulebookError, match="rule BAD-RULE: unknown operator 'between'"):
        validate_rulebooks(seeds)
    seeds = _with_rule(tmp_path / "2", operator="equals", attribute="shoe_size", value="42")
    with pytest.raises(RulebookError, match="rule BAD-RULE: unknown attribute 'shoe_size'"):
        validate_rulebooks(seeds)
    seeds = _with_rule(tmp_path / "3", rule_id="FIT-TITLE-DIRECTOR", operator="equals", attribute="is_us",
                       value="true")
    with pytest.raises(RulebookError, match="rule FIT-TITLE-DIRECTOR: duplicate rule_id"):
        validate_rulebooks(seeds)


def test_safe_conditions_and_custom_fields_are_accepted(tmp_path):
    assert check_sql_condition("lower(seniority) in ('vp', 'director') and annual_revenue >= 1e8",
                               {"seniority", "annual_revenue"}) is None
    seeds = _with_rule(tmp_path, operator="equals", attribute="custom_fields.Budget_Confirmed__c", value="1")
    validate_rulebooks(seeds)


@pytest.mark.parametrize(
    "changes, column_and_value",
    [
        ({"points": "five"}, "points must be a number, found 'five'"),
        ({"operator": "range", "attribute": "annual_revenue", "value": "", "min_value": "1,5"},
         "min_value must be a number, found '1,5' (write decimals with a point, e.g. 1.5)"),
        ({"operator": "range", "attribute": "annual_revenue", "value": "", "max_value": "nan"},
         "max_value must be a number, found 'nan'"),
    ],
)
def test_a_bad_number_names_its_column_and_value(tmp_path, changes, column_and_value):
    seeds = _with_rule(tmp_path, **changes)
    line = _last_line(seeds / "profile_rules.csv")
    assert _problems(seeds) == [f"profile_rules.csv line {line}: rulebook guide_v1, rule BAD-RULE: {column_and_value}"]


def test_a_bad_number_outside_the_rules_is_named_not_a_crash(tmp_path):
    seeds = tmp_path / "scoring"
    shutil.copytree(SCORING_SEEDS, seeds)
    with (seeds / "decay_profiles.csv").open("a", encoding="utf-8") as handle:
        handle.write("exp_soon,exponential,thirty,,Half the points after thirty days\n")
    line = _last_line(seeds / "decay_profiles.csv")
    assert _problems(seeds) == [
        f"decay_profiles.csv line {line}: decay profile exp_soon: half_life_days must be a number, found 'thirty'"
    ]


@pytest.mark.parametrize(
    "condition, plain_words",
    [
        ("lead_source = ", "incomplete comparison near '=' in: lead_source = "),
        ("is_us and", "incomplete condition near 'and' in: is_us and"),
        ("annual_revenue between 1e6", "incomplete 'between ... and ...' near '1e6' in: annual_revenue between 1e6"),
        ("lower() = 'vp'", "incomplete call of lower() near ')' in: lower() = 'vp'"),
        ("(is_us or is_customer", "a '(' is not closed near 'is_customer' in: (is_us or is_customer"),
        ("is_us) or is_customer", "a ')' has no '(' before it in: is_us) or is_customer"),
        ("seniority = 'vp", "a quote (') is not closed in: seniority = 'vp"),
        ("seniority in", "'in' needs a list such as ('a', 'b') in: seniority in"),
        ("is_us is_customer", "'is_customer' follows 'is_us' with no operator between them in: is_us is_customer"),
    ],
)
def test_a_broken_sql_rule_is_explained_in_plain_words(tmp_path, condition, plain_words):
    seeds = _with_rule(tmp_path, value=condition)
    line = _last_line(seeds / "profile_rules.csv")
    (problem,) = _problems(seeds)
    assert problem == (f"profile_rules.csv line {line}: rulebook guide_v1, rule BAD-RULE: "
                       f"SQL condition does not parse: {plain_words}")
    for parser_detail in ("sqlglot", "<class", "Required keyword", "Col:", "Error tokenizing"):
        assert parser_detail not in problem


@pytest.mark.parametrize(
    "changes, did_you_mean",
    [
        ({"operator": "equals", "attribute": "lead_sorce", "value": "web"},
         "unknown attribute 'lead_sorce' (did you mean 'lead_source'?)"),
        ({"value": "lead_sorce = 'web'"}, "unknown column 'lead_sorce' in SQL condition (did you mean 'lead_source'?)"),
        ({"value": "lowr(title) = 'vp'"}, "function lowr() is not allowed (did you mean 'lower'?)"),
        ({"operator": "equal", "attribute": "seniority", "value": "vp"},
         "unknown operator 'equal' (did you mean 'equals'?)"),
        ({"component": "Fit"}, "unknown component 'Fit' (did you mean 'fit'?)"),
        ({"category": "critcal"}, "unknown category 'critcal' (did you mean 'critical'?)"),
    ],
)
def test_a_misspelt_profile_rule_gets_a_did_you_mean(tmp_path, changes, did_you_mean):
    seeds = _with_rule(tmp_path, **changes)
    line = _last_line(seeds / "profile_rules.csv")
    assert _problems(seeds) == [f"profile_rules.csv line {line}: rulebook guide_v1, rule BAD-RULE: {did_you_mean}"]


@pytest.mark.parametrize(
    "changes, did_you_mean",
    [
        ({"activity_type": "web_pageview"}, "unknown activity_type 'web_pageview' (did you mean 'web_page_view'?)"),
        ({"decay_profile_id": "exp30"}, "unknown decay_profile_id 'exp30' (did you mean 'exp_30'?)"),
        ({"cap_points": "10", "cap_period": "weekly"}, "unknown cap_period 'weekly' (did you mean 'week'?)"),
        ({"attribute": "seniority"},
         "unknown attribute 'seniority' (seniority is a profile attribute: use it in profile_rules.csv)"),
    ],
)
def test_a_misspelt_activity_rule_gets_a_did_you_mean(tmp_path, changes, did_you_mean):
    seeds = _with_activity_rule(tmp_path, **changes)
    line = _last_line(seeds / "activity_rules.csv")
    assert _problems(seeds) == [f"activity_rules.csv line {line}: rulebook guide_v1, rule BAD-ACTIVITY: {did_you_mean}"]


def _with_customer_rule(tmp_path: Path, **changes: str) -> Path:
    """A copy of the scoring seeds with one extra customer rule."""
    rule = {
        "rulebook_id": "guide_v2", "rule_id": "BAD-CUSTOMER", "description": "test", "rule_type": "activity",
        "activity_rule_id": "ACT-PRICING-PAGE", "points": "10", "shape": "", "step_months": "", "cap_points": "",
        "decay_profile_id": "window_60",
    }
    return _with_row(tmp_path, "customer_rules.csv", {**rule, **changes})


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"activity_rule_id": "ACT-PRICNG-PAGE"},
         "activity_rule_id 'ACT-PRICNG-PAGE' is not a rule of this rulebook in activity_rules.csv "
         "(did you mean 'ACT-PRICING-PAGE'?)"),
        ({"rule_type": "new_product"}, "unknown rule_type 'new_product' (did you mean 'new_product_line'?)"),
        ({"decay_profile_id": "exp_45"}, "unknown decay_profile_id 'exp_45'"),
        ({"rule_type": "purchase_cycle", "activity_rule_id": "", "shape": "stepped", "decay_profile_id": ""},
         "stepped cycle points need step_months above 0 (it is empty)"),
        ({"rule_type": "purchase_cycle", "activity_rule_id": "", "shape": "linear", "points": "0",
          "decay_profile_id": ""},
         "a purchase cycle needs points above 0, the points of one whole cycle (found '0')"),
        ({"rule_id": "CUS-PRICING-PAGE"}, "duplicate rule_id 'CUS-PRICING-PAGE' in this rulebook"),
    ],
)
def test_a_customer_rule_mistake_is_named(tmp_path, changes, message):
    seeds = _with_customer_rule(tmp_path, **changes)
    line = _last_line(seeds / "customer_rules.csv")
    (problem,) = _problems(seeds)
    rule = changes.get("rule_id", "BAD-CUSTOMER")
    assert problem.startswith(f"customer_rules.csv line {line}: rulebook guide_v2, rule {rule}: {message}"), problem


def test_an_unknown_rulebook_id_names_the_known_ones(tmp_path):
    seeds = _with_rule(tmp_path, rulebook_id="guide_v1_recnt")
    line = _last_line(seeds / "profile_rules.csv")
    assert _problems(seeds) == [
        f"profile_rules.csv line {line}: rulebook guide_v1_recnt, rule BAD-RULE: "
        "rulebook_id 'guide_v1_recnt' is not in rulebooks.csv (did you mean 'guide_v1_recent'?)"
    ]


def _check_from_the_command_line(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "leadscore.scoring.rulebooks", *args], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120)


def test_the_command_line_prints_only_the_problems_and_exits_1(tmp_path):
    seeds = _with_rule(tmp_path, operator="equals", attribute="lead_sorce", value="web", points="five")
    line = _last_line(seeds / "profile_rules.csv")
    checked = _check_from_the_command_line("--seeds", str(seeds))
    assert checked.returncode == 1
    assert "Traceback" not in checked.stderr + checked.stdout
    assert checked.stdout == ""
    assert checked.stderr == (
        f"2 problem(s) in the scoring rulebooks ({seeds}):\n"
        f"- profile_rules.csv line {line}: rulebook guide_v1, rule BAD-RULE: points must be a number, found 'five'\n"
        f"- profile_rules.csv line {line}: rulebook guide_v1, rule BAD-RULE: "
        "unknown attribute 'lead_sorce' (did you mean 'lead_source'?)\n"
    )


def test_the_command_line_sums_up_valid_rulebooks_in_one_line(tmp_path):
    shutil.copytree(SCORING_SEEDS, tmp_path / "seeds" / "scoring")
    checked = _check_from_the_command_line("--seeds", str(tmp_path / "seeds"))  # the folder above works too

    def rows(file: str) -> list[dict[str, str]]:
        with (SCORING_SEEDS / file).open(encoding="utf-8-sig", newline="") as handle:
            return list(csv.DictReader(handle))

    rulebook_ids = sorted(row["rulebook_id"] for row in rows("rulebooks.csv"))
    assert (checked.returncode, checked.stderr) == (0, "")
    assert checked.stdout == (
        f"rulebooks are valid: {len(rulebook_ids)} rulebooks ({', '.join(rulebook_ids)}); "
        f"rules: {len(rows('profile_rules.csv'))} in profile_rules.csv, {len(rows('activity_rules.csv'))} in "
        f"activity_rules.csv, {len(rows('customer_rules.csv'))} in customer_rules.csv; "
        f"{len(rows('decay_profiles.csv'))} decay profiles; in {tmp_path / 'seeds' / 'scoring'}\n"
    )


def test_a_seed_mixing_line_endings_is_named_with_its_first_odd_line(tmp_path):
    # Rows pasted from another editor end with CRLF under LF rows: DuckDB's CSV sniffer (dbt seed)
    # then cannot read the file at all, so the check says where it changes.
    seeds = tmp_path / "scoring"
    shutil.copytree(SCORING_SEEDS, seeds)
    rulebooks = seeds / "rulebooks.csv"
    lines = rulebooks.read_bytes().split(b"\n")
    rulebooks.write_bytes(b"\n".join(lines[:2]) + b"\n" + b"\r\n".join(lines[2:]))
    assert _problems(seeds) == [
        "rulebooks.csv line 3: this line ends differently from the lines before it (some end with CRLF, others "
        "with LF, as when rows are pasted from another editor): dbt cannot load such a file; save it with one "
        "kind of line ending"]
