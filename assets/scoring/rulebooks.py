"""Validation of the scoring rulebooks (the seeds in seeds/scoring/) before dbt runs anything.

Marketing ops edit these CSV files in a spreadsheet; a mistake must stop the run with a message
naming the file, the rulebook, the rule and the problem, not fail somewhere inside SQL. Rules
written as SQL expressions (operator `sql`) are parsed with sqlglot and allowed to use only the
documented attributes and a short list of functions: no subqueries, no other tables, no
statements, exactly one expression.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import sqlglot
import yaml
from sqlglot import exp

from orchestration.settings import REPO_ROOT

SCORING_SEEDS = REPO_ROOT / "seeds" / "scoring"
DBT_PROJECT_FILE = REPO_ROOT / "dbt_project" / "dbt_project.yml"

OPERATORS = ("equals", "in_list", "range", "contains", "regex", "is_missing", "sql")
CATEGORIES = ("critical", "important", "influential", "negative")
COMPONENTS = ("fit", "engagement", "data_quality")
ACTIVITY_TYPES = (
    "web_page_view", "web_visit", "email_event", "campaign_response", "sales_task", "form_submission",
    "account_signal", "company_signal", "inactivity",
)
DECAY_TYPES = ("none", "exponential", "linear", "window", "step")
CAP_PERIODS = ("day", "week", "month", "year")

# Expression nodes a SQL rule may contain: comparisons, boolean logic, arithmetic, literals,
# CASE, IN/BETWEEN/LIKE, casts, and a few scalar functions. Anything else is refused.
_ALLOWED_NODES: tuple[type[exp.Expression], ...] = (
    exp.Column, exp.Identifier, exp.Literal, exp.Boolean, exp.Null, exp.Paren, exp.Tuple,
    exp.And, exp.Or, exp.Not, exp.Xor,
    exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Is, exp.NullSafeEQ, exp.NullSafeNEQ,
    exp.In, exp.Between, exp.Like, exp.ILike,
    exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.Neg, exp.DPipe,
    exp.Case, exp.If, exp.Cast, exp.TryCast, exp.DataType,
    exp.Lower, exp.Upper, exp.Trim, exp.Length, exp.Coalesce, exp.Abs, exp.Round, exp.Floor,
    exp.Ceil, exp.Greatest, exp.Least, exp.Substring, exp.StrPosition, exp.RegexpLike,
    exp.StartsWith, exp.Concat, exp.Nullif,
)
ALLOWED_FUNCTIONS_TEXT = (
    "lower, upper, trim, length, coalesce, nullif, abs, round, floor, ceil, greatest, least, "
    "substring, strpos/position, regexp_matches, starts_with, concat, cast, case"
)


# Rule and rulebook ids are inlined into the scoring SQL as quoted literals.
_ID_PATTERN = re.compile(r"[A-Za-z0-9_.\-]+")
_LINE_BREAK = re.compile(r"\r\n?|\n")


class RulebookError(ValueError):
    """One or more rulebook rows cannot be used; the message lists each problem."""


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    rulebook_id: str
    rule_id: str
    message: str

    def __str__(self) -> str:
        return f"{self.file} line {self.line}: rulebook {self.rulebook_id}, rule {self.rule_id}: {self.message}"


def scoring_attributes(project_file: Path = DBT_PROJECT_FILE) -> tuple[set[str], set[str]]:
    """The attributes profile and activity rules may use, as declared in dbt_project.yml."""
    variables = yaml.safe_load(project_file.read_text(encoding="utf-8"))["vars"]
    return set(variables["scoring_profile_attributes"]), set(variables["scoring_activity_attributes"])


def check_sql_condition(expression: str, allowed_columns: set[str]) -> str | None:
    """None when `expression` is one safe boolean expression over allowed columns; else why not."""
    odd_space = re.search(r"[^\S \t\r\n]", expression)
    if odd_space:
        # sqlglot skips these as blanks but DuckDB reads them as part of a name.
        return f"SQL condition contains the unusual blank U+{ord(odd_space.group()):04X}; use a plain space"
    try:
        tokens = sqlglot.tokenize(expression, read="duckdb")
        statements = [s for s in sqlglot.parse(expression, read="duckdb") if s is not None]
    except sqlglot.errors.SqlglotError as exc:
        return f"SQL condition does not parse: {str(exc).splitlines()[0]}"
    except RecursionError:
        return "SQL condition is nested too deeply"
    if any(token.comments for token in tokens):
        # The condition is inlined into a larger query: a `--` comment would swallow the rest.
        return "SQL condition may not contain comments"
    if len(statements) != 1:
        return f"SQL condition must be one expression, found {len(statements)} statements"
    tree = statements[0]
    for node in tree.walk():
        if isinstance(node, (exp.Select, exp.Subquery, exp.Query, exp.Table, exp.From, exp.Join)):
            return "SQL condition may not contain a query, a subquery or a table reference"
        if isinstance(node, exp.Column):
            if node.table:
                return f"SQL condition may not name a table ({node.sql()})"
            if node.name.lower() not in allowed_columns:
                return f"unknown column {node.name!r} in SQL condition"
        elif isinstance(node, exp.Anonymous):
            return f"function {node.name}() is not allowed (allowed: {ALLOWED_FUNCTIONS_TEXT})"
        elif not isinstance(node, _ALLOWED_NODES):
            return f"{node.key.upper()} is not allowed in a SQL condition (allowed: {ALLOWED_FUNCTIONS_TEXT})"
    return None


def check_regex(pattern: str) -> str | None:
    """None when DuckDB's regular expression engine (RE2) accepts `pattern`; else why not. The
    pattern stays data (a column value), never SQL text, so this is about failing early and by
    name rather than in the middle of the dbt build."""
    try:
        with duckdb.connect() as con:
            con.execute("select regexp_matches('', ?)", [pattern])
    except duckdb.Error as exc:
        return f"regular expression {pattern!r} is not valid: {str(exc).splitlines()[0]}"
    return None


def _read(path: Path) -> list[tuple[int, dict[str, str]]]:
    """(line, row) for every record; a record with too few fields holds None for the missing
    ones and one with too many holds the extra values under the key None."""
    rows = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            # line_num is where the record ends; a quoted value may span several lines.
            values = [v for value in row.values() for v in (value if isinstance(value, list) else [value])]
            spanned = sum(len(_LINE_BREAK.findall(v)) for v in values if isinstance(v, str))
            rows.append((reader.line_num - spanned, row))
    return rows


def _number(value: str | None) -> float | None:
    if value is None or value.strip() == "":
        return None
    return float(value)


def validate_rulebooks(seeds_dir: Path = SCORING_SEEDS, project_file: Path = DBT_PROJECT_FILE) -> None:
    """Raise RulebookError listing every problem in the scoring seeds; return quietly if none."""
    profile_attributes, activity_attributes = scoring_attributes(project_file)
    problems: list[Problem] = []

    def problem(file: str, line: int, row: dict[str, str], message: str) -> None:
        problems.append(Problem(file, line, row.get("rulebook_id") or "?", row.get("rule_id") or "?", message))

    def read(file: str) -> list[tuple[int, dict[str, str]]]:
        """The well-formed rows of a seed; every other row is a problem."""
        rows = []
        for line, row in _read(seeds_dir / file):
            width = sum(value is not None for key, value in row.items() if key is not None)
            if None in row or width < len(row):
                width += len(row.get(None) or [])
                problem(file, line, row, f"has {width} fields, the header has {len(row) - (None in row)}")
            else:
                rows.append((line, row))
        return rows

    rulebooks = set()
    for line, row in read("rulebooks.csv"):
        rulebooks.add(row["rulebook_id"])
        if not _ID_PATTERN.fullmatch(row["rulebook_id"]):
            problem("rulebooks.csv", line, row, "rulebook_id may hold only letters, digits, '_', '-' and '.'")
    decay_profiles = {}
    for line, row in read("decay_profiles.csv"):
        decay_profiles[row["decay_profile_id"]] = row
        kind = row["decay_type"]
        if kind not in DECAY_TYPES:
            problem("decay_profiles.csv", line, row, f"unknown decay_type {kind!r} (use {', '.join(DECAY_TYPES)})")
        elif kind == "exponential" and not (_number(row["half_life_days"]) or 0) > 0:
            problem("decay_profiles.csv", line, row, "exponential decay needs half_life_days > 0")
        elif kind in ("linear", "window") and not (_number(row["lifetime_days"]) or 0) > 0:
            problem("decay_profiles.csv", line, row, f"{kind} decay needs lifetime_days > 0")
        elif kind in ("linear", "window") and not _number(row["lifetime_days"]).is_integer():
            # The daily score history counts windows in whole days.
            problem("decay_profiles.csv", line, row, f"{kind} decay needs a whole number of lifetime_days")
    stepped = set()
    for line, row in read("decay_steps.csv"):
        stepped.add(row["decay_profile_id"])
        age = _number(row["max_age_days"])
        if age is None or age <= 0 or not age.is_integer():
            problem("decay_steps.csv", line, {"rule_id": row["decay_profile_id"]},
                    "max_age_days must be a whole number of days above 0")
    for profile_id, row in decay_profiles.items():
        if row["decay_type"] == "step" and profile_id not in stepped:
            problem("decay_profiles.csv", 0, row, f"step decay {profile_id} has no rows in decay_steps.csv")

    for file, attributes, is_activity in (
        ("profile_rules.csv", profile_attributes, False),
        ("activity_rules.csv", activity_attributes, True),
    ):
        seen: set[tuple[str, str]] = set()
        for line, row in read(file):
            key = (row["rulebook_id"], row["rule_id"])
            if key in seen:
                problem(file, line, row, "duplicate rule_id in this rulebook")
            seen.add(key)
            if not _ID_PATTERN.fullmatch(row["rule_id"]):
                problem(file, line, row, "rule_id may hold only letters, digits, '_', '-' and '.'")
            if row["rulebook_id"] not in rulebooks:
                problem(file, line, row, "rulebook_id is not in rulebooks.csv")
            if row["category"] not in CATEGORIES:
                problem(file, line, row, f"unknown category {row['category']!r} (use {', '.join(CATEGORIES)})")
            try:
                _number(row["points"]) if row["points"].strip() else problem(file, line, row, "points is empty")
                _number(row["min_value"]), _number(row["max_value"])
            except ValueError:
                problem(file, line, row, "points, min_value and max_value must be numbers")
            if is_activity:
                if row["activity_type"] == "inactivity" and (
                    row["operator"] != "range" or row["attribute"] != "days_without_web_activity"
                ):
                    problem(file, line, row, "an inactivity rule is a range on days_without_web_activity")
                if row["activity_type"] not in ACTIVITY_TYPES:
                    problem(file, line, row, f"unknown activity_type {row['activity_type']!r}")
                if row["decay_profile_id"] not in decay_profiles:
                    problem(file, line, row, f"unknown decay_profile_id {row['decay_profile_id']!r}")
                if row["cap_points"].strip() and row["cap_period"] not in CAP_PERIODS:
                    problem(file, line, row, f"cap_period must be one of {', '.join(CAP_PERIODS)}")
            elif row["component"] not in COMPONENTS:
                problem(file, line, row, f"unknown component {row['component']!r} (use {', '.join(COMPONENTS)})")
            operator = row["operator"]
            if operator not in OPERATORS:
                problem(file, line, row, f"unknown operator {operator!r} (use {', '.join(OPERATORS)})")
                continue
            if operator == "sql":
                reason = check_sql_condition(row["value"], attributes)
                if reason:
                    problem(file, line, row, reason)
                continue
            attribute = row["attribute"]
            if attribute not in attributes and not (
                not is_activity and attribute.startswith("custom_fields.") and len(attribute) > 14
            ):
                problem(file, line, row, f"unknown attribute {attribute!r}")
            if operator == "range" and row["min_value"].strip() == "" and row["max_value"].strip() == "":
                problem(file, line, row, "a range needs min_value or max_value")
            if operator in ("equals", "in_list", "contains", "regex") and row["value"] == "":
                problem(file, line, row, f"operator {operator} needs a value")
            elif operator == "regex" and (reason := check_regex(row["value"])):
                problem(file, line, row, reason)

    for line, row in read("score_bounds.csv"):
        if row["rulebook_id"] not in rulebooks:
            problem("score_bounds.csv", line, row, "rulebook_id is not in rulebooks.csv")
    if problems:
        raise RulebookError(
            f"{len(problems)} problem(s) in the scoring rulebooks ({seeds_dir}):\n"
            + "\n".join(f"- {p}" for p in problems)
        )


if __name__ == "__main__":
    validate_rulebooks()
    print("rulebooks are valid")
