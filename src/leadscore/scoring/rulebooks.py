"""Validation of the scoring rulebooks (the seeds in seeds/scoring/) before dbt runs anything.

Marketing ops edit these CSV files in a spreadsheet; a mistake must stop the run with a message
naming the file, the rulebook, the rule and the problem, not fail somewhere inside SQL. Rules
written as SQL expressions (operator `sql`) are parsed with sqlglot and allowed to use only the
documented attributes and a short list of functions: no subqueries, no other tables, no
statements, exactly one expression.

By hand: `python -m leadscore.scoring.rulebooks [--seeds DIR]` prints what it checked, or the problems
(exit status 1).
"""

from __future__ import annotations

import argparse
import csv
import difflib
import math
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import sqlglot
import yaml
from sqlglot import exp

from leadscore.settings import REPO_ROOT

SCORING_SEEDS = REPO_ROOT / "seeds" / "scoring"
DBT_PROJECT_FILE = REPO_ROOT / "dbt_project" / "dbt_project.yml"
# Declares the column types dbt loads each seed with; a copy's own file wins when it has one.
SEEDS_SCHEMA = SCORING_SEEDS / "_scoring__seeds.yml"

OPERATORS = ("equals", "in_list", "range", "contains", "regex", "is_missing", "sql")
CATEGORIES = ("critical", "important", "influential", "negative")
COMPONENTS = ("fit", "engagement", "data_quality")
ACTIVITY_TYPES = (
    "web_page_view", "web_visit", "email_event", "campaign_response", "sales_task", "form_submission",
    "account_signal", "company_signal", "inactivity",
)
DECAY_TYPES = ("none", "exponential", "linear", "window", "step")
CAP_PERIODS = ("day", "week", "month", "year")
# Customer rules (customer_rules.csv): what earns a customer account repurchase points.
CUSTOMER_RULE_TYPES = ("purchase_cycle", "activity", "new_product_line", "new_person")
CYCLE_SHAPES = ("linear", "stepped")

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
_FUNCTION_NAMES = re.findall(r"\w+", ALLOWED_FUNCTIONS_TEXT)


# Rule and rulebook ids are inlined into the scoring SQL as quoted literals.
_ID_PATTERN = re.compile(r"[A-Za-z0-9_.\-]+")
_LINE_BREAK = re.compile(r"\r\n?|\n")
# What DuckDB reads as a number; Python's float() would also take "1_000", "nan" and "inf".
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_NUMBER_TYPES = {"double": False, "float": False, "real": False, "decimal": False, "numeric": False,
                 "integer": True, "int": True, "bigint": True, "smallint": True}
_RULE_COLUMNS = ("rulebook_id", "rule_id", "category", "attribute", "operator", "value", "min_value", "max_value",
                 "points")
# The columns each checked seed must have.
REQUIRED_COLUMNS = {
    "rulebooks.csv": ("rulebook_id",),
    "decay_profiles.csv": ("decay_profile_id", "decay_type", "half_life_days", "lifetime_days"),
    "decay_steps.csv": ("decay_profile_id", "max_age_days"),
    "profile_rules.csv": (*_RULE_COLUMNS, "component"),
    "activity_rules.csv": (*_RULE_COLUMNS, "activity_type", "decay_profile_id", "cap_points", "cap_period"),
    "score_bounds.csv": ("rulebook_id",),
    "customer_rules.csv": ("rulebook_id", "rule_id", "rule_type", "activity_rule_id", "points", "shape",
                           "step_months", "cap_points", "decay_profile_id"),
}


class RulebookError(ValueError):
    """One or more rulebook rows cannot be used; the message lists each problem."""


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None  # None: the file as a whole
    subject: str  # the row's rule, rulebook or decay profile, e.g. "rulebook guide_v1, rule FIT-X"
    message: str

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.file} {self.message}"
        where = f"{self.file} line {self.line}"
        return f"{where}: {self.subject}: {self.message}" if self.subject else f"{where}: {self.message}"


@dataclass(frozen=True)
class CheckedRulebooks:
    """What a check that found no problem covered."""

    seeds_dir: Path
    rulebook_ids: tuple[str, ...]
    rules_per_file: dict[str, int]
    decay_profiles: int

    def __str__(self) -> str:
        rules = ", ".join(f"{count} in {file}" for file, count in self.rules_per_file.items())
        return (f"rulebooks are valid: {len(self.rulebook_ids)} rulebooks ({', '.join(self.rulebook_ids)}); "
                f"rules: {rules}; {self.decay_profiles} decay profiles; in {self.seeds_dir}")


def scoring_attributes(project_file: Path = DBT_PROJECT_FILE) -> tuple[set[str], set[str]]:
    """The attributes profile and activity rules may use, as declared in dbt_project.yml."""
    variables = yaml.safe_load(project_file.read_text(encoding="utf-8"))["vars"]
    return set(variables["scoring_profile_attributes"]), set(variables["scoring_activity_attributes"])


def check_sql_condition(expression: str, allowed_columns: set[str]) -> str | None:
    """None when `expression` is one safe boolean expression over allowed columns; else why not."""
    odd_space = re.search(r"[^\S \t\r\n]", expression)
    if odd_space:
        # sqlglot skips these as blanks but DuckDB reads them as part of a name.
        return (f"SQL condition contains the unusual blank U+{ord(odd_space.group()):04X} at character "
                f"{odd_space.start() + 1}; use a plain space")
    try:
        tokens = sqlglot.tokenize(expression, read="duckdb")
        statements = [s for s in sqlglot.parse(expression, read="duckdb") if s is not None]
    except sqlglot.errors.SqlglotError as exc:
        return f"SQL condition does not parse: {_explain_parse_error(exc, expression)}"
    except RecursionError:
        return f"SQL condition is nested too deeply in: {_one_line(expression)}"
    if any(token.comments for token in tokens):
        # The condition is inlined into a larger query: a `--` comment would swallow the rest.
        return f"SQL condition may not contain comments (-- or /* */) in: {_one_line(expression)}"
    if not statements:
        return "SQL condition is empty: write a condition in the value column"
    if len(statements) != 1:
        return f"SQL condition must be one expression, found {len(statements)} statements in: {_one_line(expression)}"
    tree = statements[0]
    for node in tree.walk():
        if isinstance(node, (exp.Select, exp.Subquery, exp.Query, exp.Table, exp.From, exp.Join)):
            return ("SQL condition may not contain a query, a subquery or a table reference "
                    f"in: {_one_line(expression)}")
        if isinstance(node, exp.Column):
            if node.table:
                return f"SQL condition may not name a table ({node.sql()})"
            if node.name.lower() not in allowed_columns:
                return (f"unknown column {node.name!r} in SQL condition"
                        + _suggestion(node.name, sorted(allowed_columns), list_them=False))
        elif isinstance(node, exp.Alias):
            # `a b` reads as "a named b": two values side by side with no operator between them.
            return (f"SQL condition does not parse: {node.alias!r} follows {node.this.sql()!r} with no operator "
                    f"between them in: {_one_line(expression)}")
        elif isinstance(node, exp.In) and not (node.expressions or node.args.get("query") or node.args.get("field")):
            return f"SQL condition does not parse: 'in' needs a list such as ('a', 'b') in: {_one_line(expression)}"
        elif isinstance(node, exp.Anonymous):
            guess = _suggestion(node.name, _FUNCTION_NAMES, list_them=False)
            return f"function {node.name}() is not allowed" + (guess or f" (allowed: {ALLOWED_FUNCTIONS_TEXT})")
        elif not isinstance(node, _ALLOWED_NODES):
            # Named as written in SQL (READ_CSV), not by sqlglot's class (READCSV).
            name = node.sql_name() if isinstance(node, exp.Func) else node.key.upper()
            return (f"{name} is not allowed in a SQL condition, in: {_one_line(expression)} "
                    f"(allowed functions: {ALLOWED_FUNCTIONS_TEXT})")
    return None


def _one_line(text: str, limit: int = 200) -> str:
    """`text` on one line of the message, cut when long."""
    flat = _LINE_BREAK.sub(" ", text)
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _incomplete_part(node_class: str) -> str:
    """What an analyst calls the piece of SQL that sqlglot's class `node_class` stands for."""
    node = getattr(exp, node_class, None)
    if not (isinstance(node, type) and issubclass(node, exp.Expression)):
        return "expression"
    if issubclass(node, exp.Between):
        return "'between ... and ...'"
    if issubclass(node, (exp.Connector, exp.Not)):
        return "condition"
    if issubclass(node, exp.Predicate):
        return "comparison"
    if issubclass(node, (exp.Binary, exp.Neg)):
        return "calculation"
    if issubclass(node, exp.Func):
        return f"call of {node.sql_names()[0].lower()}()"
    return "expression"


def _explain_parse_error(error: sqlglot.errors.SqlglotError, expression: str) -> str:
    """sqlglot's reason in the words of the person who wrote the condition (no parser classes)."""
    shown = _one_line(expression)
    if isinstance(error, sqlglot.errors.TokenError):
        for quote, name in (("'", "quote (')"), ('"', 'double quote (")'), ("$$", "dollar quote ($$)")):
            if expression.count(quote) % 2:
                return f"a {name} is not closed in: {shown}"
        return f"cannot read the text of: {shown}"
    detail = (getattr(error, "errors", None) or [{}])[0]
    description = detail.get("description") or str(error).splitlines()[0]
    highlight = detail.get("highlight") or ""
    near = f" near {highlight!r}" if highlight else ""
    missing = re.match(r"Required keyword: '\w+' missing for <class '(?:\w+\.)*(\w+)'>", description)
    if missing:
        what = f"incomplete {_incomplete_part(missing.group(1))}"
    elif description.startswith("Expecting )"):
        what = "a '(' is not closed"
    elif description.startswith("Invalid expression / Unexpected token"):
        what, near = ("a ')' has no '(' before it", "") if highlight == ")" else (f"unexpected {highlight!r}", "")
    elif description.startswith("Expected END after CASE"):
        what = "CASE without END"
    elif description.startswith("Expected TYPE after CAST"):
        what = "CAST without a type, as in cast(x as integer)"
    else:
        # Any other reason, minus the parser's class names.
        what = re.sub(r"<class '(?:\w+\.)*(\w+)'>", lambda m: m.group(1).upper(), description)
    return f"{what}{near} in: {shown}"


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


def _read(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """The header, and (line, row) for every record; a record with too few fields holds None for
    the missing ones and one with too many holds the extra values under the key None."""
    rows = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            # line_num is where the record ends; a quoted value may span several lines.
            values = [v for value in row.values() for v in (value if isinstance(value, list) else [value])]
            spanned = sum(len(_LINE_BREAK.findall(v)) for v in values if isinstance(v, str))
            rows.append((reader.line_num - spanned, row))
        return list(reader.fieldnames or []), rows


def _number(value: str | None) -> float | None:
    """The value as a number; None when empty or not a number (`_number_problem` says which)."""
    text = (value or "").strip()
    if not _NUMBER.fullmatch(text):
        return None
    number = float(text)
    return number if math.isfinite(number) else None


def _number_problem(column: str, value: str, whole: bool) -> str | None:
    text = value.strip()
    if not text:
        return None
    number = _number(text)
    if number is None:
        # A spreadsheet set to a European locale writes 1,5 for 1.5.
        hint = " (write decimals with a point, e.g. 1.5)" if re.fullmatch(r"[+-]?\d+,\d+", text) else ""
        return f"{column} must be a number, found {value!r}{hint}"
    if whole and not number.is_integer():
        return f"{column} must be a whole number, found {value!r}"
    return None


def _unreadable(value: str) -> bool:
    """A value that is neither empty nor a number: the number check reports it, once."""
    return bool(value.strip()) and _number(value) is None


def _shown(value: str) -> str:
    return "it is empty" if not value.strip() else f"found {value!r}"


def _closest(value: str, choices: Iterable[str]) -> str | None:
    """The choice `value` most likely misspells, ignoring case and surrounding blanks."""
    by_lower = {choice.lower(): choice for choice in choices}
    close = difflib.get_close_matches(value.strip().lower(), list(by_lower), n=1)
    return by_lower[close[0]] if close else None


def _suggestion(value: str, choices: Iterable[str], list_them: bool = True) -> str:
    """" (did you mean 'x'?)" for a likely misspelling, else the choices when asked to list them."""
    choices = list(choices)
    guess = _closest(value, choices)
    if guess is not None:
        return f" (did you mean {guess!r}?)"
    return f" (use {', '.join(choices)})" if list_them and choices else ""


def _unknown(what: str, value: str, choices: Iterable[str], list_them: bool = True) -> str:
    return f"unknown {what} {value!r}{_suggestion(value, choices, list_them)}"


def _not_utf8(file: str, data: bytes) -> Problem:
    """Where a seed saved in another encoding (a spreadsheet's default) first breaks."""
    try:
        data.decode("utf-8")
        start = 0
    except UnicodeDecodeError as exc:
        # Decoded whole: the CSV reader decodes in chunks, so its own error's offset is the chunk's.
        start = exc.start
    line = data[:start].count(b"\n") + 1
    return Problem(file, line, "", f"the file is not UTF-8 text (byte 0x{data[start:start + 1].hex()}); "
                                   "in the spreadsheet, save it as CSV UTF-8")


def _mixed_line_endings(data: bytes) -> int | None:
    """The first line ending otherwise than the first one (CRLF or LF), or None when all agree."""
    lines = data.split(b"\n")[:-1]  # the ended lines; the last piece has no line break
    if not lines:
        return None
    first_crlf = lines[0].endswith(b"\r")
    for number, line in enumerate(lines, start=1):
        if line.endswith(b"\r") != first_crlf:
            return number
    return None


def _subject(row: dict[str, str]) -> str:
    """Which rule, decay profile or rulebook a row of any scoring seed is about."""
    if "rule_id" in row:
        return f"rulebook {row.get('rulebook_id') or '?'}, rule {row.get('rule_id') or '?'}"
    if "decay_profile_id" in row:
        return f"decay profile {row.get('decay_profile_id') or '?'}"
    if "rulebook_id" in row:
        return f"rulebook {row.get('rulebook_id') or '?'}"
    return ""


def _number_columns(seeds_dir: Path) -> dict[str, dict[str, bool]]:
    """Per seed file, the columns dbt loads as numbers (True: whole numbers), from the seeds' YAML."""
    schema = seeds_dir / SEEDS_SCHEMA.name
    declared = yaml.safe_load((schema if schema.is_file() else SEEDS_SCHEMA).read_text(encoding="utf-8"))
    columns = {}
    for seed in declared.get("seeds") or []:
        types = (seed.get("config") or {}).get("column_types") or {}
        kinds = {name: str(kind).lower().split("(")[0].strip() for name, kind in types.items()}
        columns[f"{seed['name']}.csv"] = {name: _NUMBER_TYPES[kind] for name, kind in kinds.items()
                                          if kind in _NUMBER_TYPES}
    return columns


def validate_rulebooks(seeds_dir: Path = SCORING_SEEDS, project_file: Path = DBT_PROJECT_FILE) -> CheckedRulebooks:
    """Raise RulebookError listing every problem in the scoring seeds; else say what was checked."""
    profile_attributes, activity_attributes = scoring_attributes(project_file)
    number_columns = _number_columns(seeds_dir)
    problems: list[Problem] = []

    def problem(file: str, line: int, row: dict[str, str], message: str) -> None:
        problems.append(Problem(file, line, _subject(row), message))

    def read(file: str) -> list[tuple[int, dict[str, str]]] | None:
        """The well-formed rows of a seed; every other row is a problem. None when the file as a
        whole cannot be used (then the checks that need it are skipped, not failed row by row)."""
        path = seeds_dir / file
        if not path.is_file():
            problems.append(Problem(file, None, "", f"is missing from {seeds_dir}"))
            return None
        try:
            header, records = _read(path)
        except UnicodeDecodeError:
            problems.append(_not_utf8(file, path.read_bytes()))
            return None
        except csv.Error as exc:
            problems.append(Problem(file, None, "", f"cannot be read as CSV: {exc}"))
            return None
        mixed = _mixed_line_endings(path.read_bytes())
        if mixed is not None:
            problems.append(Problem(file, mixed, "", "this line ends differently from the lines before it (some "
                                                     "end with CRLF, others with LF, as when rows are pasted from "
                                                     "another editor): dbt cannot load such a file; save it with "
                                                     "one kind of line ending"))
            return None
        missing = [column for column in REQUIRED_COLUMNS[file] if column not in header]
        if missing:
            unexpected = [name for name in header if name not in REQUIRED_COLUMNS[file]]
            for column in missing:
                misspelt = _closest(column, unexpected)
                hint = f" (is {misspelt!r} meant to be {column!r}?)" if misspelt else ""
                problems.append(Problem(file, 1, "", f"the header has no column {column!r}{hint}"))
            return None
        rows = []
        for line, row in records:
            width = sum(value is not None for key, value in row.items() if key is not None)
            if None in row or width < len(row):
                width += len(row.get(None) or [])
                # The usual cause: a comma inside a value the spreadsheet did not quote.
                problem(file, line, row, f"has {width} fields, the header has {len(row) - (None in row)} "
                                         "(a value holding a comma must be in double quotes)")
                continue
            for column, whole in number_columns.get(file, {}).items():
                if column in row and (reason := _number_problem(column, row[column], whole)):
                    problem(file, line, row, reason)
            rows.append((line, row))
        return rows

    rulebook_rows = read("rulebooks.csv")
    rulebooks = None if rulebook_rows is None else sorted({row["rulebook_id"] for _, row in rulebook_rows})
    for line, row in rulebook_rows or []:
        if not _ID_PATTERN.fullmatch(row["rulebook_id"]):
            problem("rulebooks.csv", line, row,
                    f"rulebook_id may hold only letters, digits, '_', '-' and '.' (found {row['rulebook_id']!r})")

    def check_rulebook_id(file: str, line: int, row: dict[str, str]) -> None:
        if rulebooks is not None and row["rulebook_id"] not in rulebooks:
            problem(file, line, row, f"rulebook_id {row['rulebook_id']!r} is not in rulebooks.csv"
                                     + _suggestion(row["rulebook_id"], rulebooks))

    def check_rule_id(file: str, line: int, row: dict[str, str], first_line: dict[tuple[str, str], int]) -> None:
        """A rule id unique in its rulebook, made of characters the scoring SQL can quote."""
        key = (row["rulebook_id"], row["rule_id"])
        if key in first_line:
            problem(file, line, row, f"duplicate rule_id {row['rule_id']!r} in this rulebook "
                                     f"(first on line {first_line[key]})")
        first_line.setdefault(key, line)
        if not _ID_PATTERN.fullmatch(row["rule_id"]):
            problem(file, line, row,
                    f"rule_id may hold only letters, digits, '_', '-' and '.' (found {row['rule_id']!r})")
        check_rulebook_id(file, line, row)

    profile_rows = read("decay_profiles.csv")
    decay_profiles = None if profile_rows is None else {row["decay_profile_id"]: (line, row)
                                                        for line, row in profile_rows}
    for line, row in profile_rows or []:
        kind, half_life, lifetime = row["decay_type"], row["half_life_days"], row["lifetime_days"]
        if kind not in DECAY_TYPES:
            problem("decay_profiles.csv", line, row, _unknown("decay_type", kind, DECAY_TYPES))
        elif kind == "exponential" and not _unreadable(half_life) and not (_number(half_life) or 0) > 0:
            problem("decay_profiles.csv", line, row,
                    f"exponential decay needs half_life_days above 0 ({_shown(half_life)})")
        elif kind in ("linear", "window") and not _unreadable(lifetime) and not (_number(lifetime) or 0) > 0:
            problem("decay_profiles.csv", line, row, f"{kind} decay needs lifetime_days above 0 ({_shown(lifetime)})")
        elif kind in ("linear", "window") and not (_number(lifetime) or 0.0).is_integer():
            # The daily score history counts windows in whole days.
            problem("decay_profiles.csv", line, row,
                    f"{kind} decay needs a whole number of lifetime_days (found {lifetime!r})")
    step_rows = read("decay_steps.csv")
    stepped = set()
    for line, row in step_rows or []:
        profile_id, age = row["decay_profile_id"], row["max_age_days"]
        stepped.add(profile_id)
        if decay_profiles is not None and profile_id not in decay_profiles:
            problem("decay_steps.csv", line, row, f"decay_profile_id {profile_id!r} is not in decay_profiles.csv"
                                                  + _suggestion(profile_id, decay_profiles))
        if not _unreadable(age) and not ((_number(age) or 0) > 0 and _number(age).is_integer()):
            problem("decay_steps.csv", line, row,
                    f"max_age_days must be a whole number of days above 0 ({_shown(age)})")
    for profile_id, (line, row) in (decay_profiles or {}).items():
        if row["decay_type"] == "step" and step_rows is not None and profile_id not in stepped:
            problem("decay_profiles.csv", line, row, f"step decay {profile_id!r} has no rows in decay_steps.csv")

    rules_per_file = {}
    activity_rule_ids: dict[str, set[str]] = {}
    for file, attributes, other_attributes, is_activity in (
        ("profile_rules.csv", profile_attributes, activity_attributes, False),
        ("activity_rules.csv", activity_attributes, profile_attributes, True),
    ):
        rows = read(file)
        if rows is None:
            continue
        rules_per_file[file] = len(rows)
        first_line: dict[tuple[str, str], int] = {}
        for line, row in rows:
            check_rule_id(file, line, row, first_line)
            if is_activity:
                activity_rule_ids.setdefault(row["rulebook_id"], set()).add(row["rule_id"])
            if row["category"] not in CATEGORIES:
                problem(file, line, row, _unknown("category", row["category"], CATEGORIES))
            if not row["points"].strip():
                problem(file, line, row, "points is empty (give the points the rule adds, negative to take away)")
            if is_activity:
                if row["activity_type"] == "inactivity" and (
                    row["operator"] != "range" or row["attribute"] != "days_without_web_activity"
                ):
                    problem(file, line, row, "an inactivity rule is a range on days_without_web_activity "
                                             f"(found operator {row['operator']!r} on attribute {row['attribute']!r})")
                if row["activity_type"] not in ACTIVITY_TYPES:
                    problem(file, line, row, _unknown("activity_type", row["activity_type"], ACTIVITY_TYPES))
                if decay_profiles is not None and row["decay_profile_id"] not in decay_profiles:
                    problem(file, line, row, _unknown("decay_profile_id", row["decay_profile_id"], decay_profiles))
                if row["cap_points"].strip() and not row["cap_period"].strip():
                    problem(file, line, row, f"cap_points needs a cap_period (use {', '.join(CAP_PERIODS)})")
                elif row["cap_points"].strip() and row["cap_period"] not in CAP_PERIODS:
                    problem(file, line, row, _unknown("cap_period", row["cap_period"], CAP_PERIODS))
            elif row["component"] not in COMPONENTS:
                problem(file, line, row, _unknown("component", row["component"], COMPONENTS))
            operator = row["operator"]
            if operator not in OPERATORS:
                problem(file, line, row, _unknown("operator", operator, OPERATORS))
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
                hint = _suggestion(attribute, sorted(attributes), list_them=False)
                problem(file, line, row, f"unknown attribute {attribute!r}"
                        + (hint or _where_attributes_are(attribute, is_activity, other_attributes)))
            if operator == "range" and row["min_value"].strip() == "" and row["max_value"].strip() == "":
                problem(file, line, row, "a range needs min_value or max_value")
            if operator in ("equals", "in_list", "contains", "regex") and row["value"] == "":
                problem(file, line, row, f"operator {operator} needs a value")
            elif operator == "regex" and (reason := check_regex(row["value"])):
                problem(file, line, row, reason)

    customer_rows = read("customer_rules.csv")
    if customer_rows is not None:
        rules_per_file["customer_rules.csv"] = len(customer_rows)
    first_customer_line: dict[tuple[str, str], int] = {}
    for line, row in customer_rows or []:
        file = "customer_rules.csv"
        check_rule_id(file, line, row, first_customer_line)
        kind = row["rule_type"]
        if kind not in CUSTOMER_RULE_TYPES:
            problem(file, line, row, _unknown("rule_type", kind, CUSTOMER_RULE_TYPES))
            continue
        if not row["points"].strip():
            problem(file, line, row, "points is empty (give the points the rule adds)")
        if kind == "purchase_cycle":
            if not _unreadable(row["points"]) and not (_number(row["points"]) or 0) > 0:
                problem(file, line, row, f"a purchase cycle needs points above 0, the points of one whole cycle "
                                         f"({_shown(row['points'])})")
            if row["shape"] not in CYCLE_SHAPES:
                problem(file, line, row, _unknown("shape", row["shape"], CYCLE_SHAPES))
            elif row["shape"] == "stepped" and not (_number(row["step_months"]) or 0) > 0:
                problem(file, line, row,
                        f"stepped cycle points need step_months above 0 ({_shown(row['step_months'])})")
            continue
        if kind in ("activity", "new_product_line"):
            known = activity_rule_ids.get(row["rulebook_id"])
            if known is not None and row["activity_rule_id"] not in known:
                problem(file, line, row, f"activity_rule_id {row['activity_rule_id']!r} is not a rule of this "
                                         "rulebook in activity_rules.csv" + _suggestion(row["activity_rule_id"], known))
        if decay_profiles is not None and row["decay_profile_id"] not in decay_profiles:
            problem(file, line, row, _unknown("decay_profile_id", row["decay_profile_id"], decay_profiles))

    for line, row in read("score_bounds.csv") or []:
        check_rulebook_id("score_bounds.csv", line, row)
    if problems:
        # In the order an analyst reads the files: a row's number and rule problems together.
        files = list(dict.fromkeys(p.file for p in problems))
        problems.sort(key=lambda p: (files.index(p.file), p.line or 0))
        raise RulebookError(
            f"{len(problems)} problem(s) in the scoring rulebooks ({seeds_dir}):\n"
            + "\n".join(f"- {p}" for p in problems)
        )
    return CheckedRulebooks(seeds_dir, tuple(rulebooks or ()), rules_per_file, len(decay_profiles or {}))


def _where_attributes_are(attribute: str, is_activity: bool, other_attributes: set[str]) -> str:
    """Where to look when a rule names an attribute its file does not know."""
    if attribute in other_attributes:
        kind, other = ("a profile", "profile_rules.csv") if is_activity else ("an activity", "activity_rules.csv")
        return f" ({attribute} is {kind} attribute: use it in {other})"
    if not is_activity and "." in attribute:
        return " (a CRM custom field is written custom_fields.<Field__c>)"
    variable = "scoring_activity_attributes" if is_activity else "scoring_profile_attributes"
    return f" (the attributes are listed under {variable} in dbt_project/dbt_project.yml)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m leadscore.scoring.rulebooks",
        description="Check the scoring rulebooks (the CSV seeds) the way each run checks them before dbt.",
    )
    parser.add_argument("--seeds", type=Path, default=SCORING_SEEDS, metavar="DIR",
                        help=f"folder holding rulebooks.csv and the rule files (default: {SCORING_SEEDS}); "
                             "a seeds folder with a scoring/ subfolder works too")
    seeds_dir = parser.parse_args(argv).seeds
    if not (seeds_dir / "rulebooks.csv").exists() and (seeds_dir / "scoring" / "rulebooks.csv").exists():
        seeds_dir = seeds_dir / "scoring"
    if not seeds_dir.is_dir():
        print(f"no such folder: {seeds_dir}", file=sys.stderr)
        return 1
    try:
        checked = validate_rulebooks(seeds_dir)
    except RulebookError as error:
        print(error, file=sys.stderr)
        return 1
    print(checked)
    return 0


if __name__ == "__main__":
    sys.exit(main())
