"""Rulebook validation: a bad rule stops the run before scoring, with a message naming it."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from assets.scoring.rulebooks import SCORING_SEEDS, RulebookError, check_sql_condition, validate_rulebooks


def test_the_default_rulebooks_are_valid():
    validate_rulebooks()


def _with_rule(tmp_path: Path, **changes: str) -> Path:
    """A copy of the scoring seeds with one extra profile rule."""
    seeds = tmp_path / "scoring"
    shutil.copytree(SCORING_SEEDS, seeds)
    rule = {
        "rulebook_id": "guide_v1", "rule_id": "BAD-RULE", "description": "test", "category": "critical",
        "component": "fit", "attribute": "", "operator": "sql", "value": "is_us", "min_value": "",
        "max_value": "", "points": "5",
    }
    rule.update(changes)
    with (seeds / "profile_rules.csv").open("a", newline="", encoding="utf-8") as handle:
        csv.DictWriter(handle, fieldnames=list(rule), lineterminator="\n").writerow(rule)
    return seeds


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
