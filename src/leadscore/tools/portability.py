"""Portability lint: every compiled dbt model must also run, with the same meaning, on Spark and Trino.

Each model's compiled SQL (DuckDB) is parsed with sqlglot, translated to the Spark and Trino
dialects with unsupported constructs raised as errors, and searched for a deny-list of constructs
that either do not exist on those engines or translate silently wrong (see DENY_RULES).

A denied construct is allowed when it comes out of a macro that gives each engine its own SQL:
dbt's cross-database macros (dateadd, datediff, safe_cast, listagg...) or a project macro whose
DuckDB implementation `duckdb__x` has `spark__x` and `trino__x` siblings. Written in the model
itself, or in a macro with no Spark or Trino implementation, it is a finding naming the model,
the line and the construct.

    python -m leadscore.tools.portability                 # seeds and compiles into a scratch DuckDB
    python -m leadscore.tools.portability --manifest PATH  # lints an already compiled manifest.json
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError, UnsupportedError

from leadscore.settings import REPO_ROOT

DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
TARGET_DIALECTS = ("spark", "trino")
# dbt's own macro packages: their cross-database macros have Spark and Trino implementations in
# dbt-spark and dbt-trino.
DBT_PACKAGES = {"dbt", "dbt_duckdb"}
ENGINES_BESIDES_DUCKDB = ("spark", "trino")

# Types that exist on DuckDB only, or mean something else on Spark and Trino.
DUCKDB_ONLY_TYPES = {
    exp.DataType.Type.TIMESTAMPTZ, exp.DataType.Type.TIMESTAMPLTZ, exp.DataType.Type.INT128,
    exp.DataType.Type.UINT128, exp.DataType.Type.UBIGINT, exp.DataType.Type.UINT,
    exp.DataType.Type.USMALLINT, exp.DataType.Type.UTINYINT, exp.DataType.Type.JSON,
    exp.DataType.Type.UUID, exp.DataType.Type.LIST, exp.DataType.Type.ARRAY, exp.DataType.Type.STRUCT,
    exp.DataType.Type.MAP, exp.DataType.Type.UNION, exp.DataType.Type.ENUM, exp.DataType.Type.INTERVAL,
}
# Other names DuckDB accepts for those types.
TYPE_SPELLINGS = {
    exp.DataType.Type.INT128: ("hugeint",), exp.DataType.Type.UINT128: ("uhugeint",),
    exp.DataType.Type.TIMESTAMPTZ: ("timestamp with time zone",), exp.DataType.Type.UINT: ("uinteger",),
}
CALENDAR_UNITS = {"MONTH", "MONTHS", "QUARTER", "QUARTERS", "YEAR", "YEARS"}


@dataclass(frozen=True)
class Finding:
    """One construct of one model that does not port."""

    model: str
    path: str
    line: int
    construct: str
    reason: str

    def __str__(self) -> str:
        return f"{self.model} ({self.path}, line {self.line}): {self.construct}: {self.reason}"


@dataclass(frozen=True)
class DenyRule:
    """A construct that breaks on Spark or Trino. `matches` returns the SQL word the construct
    is spelled with (searched in model and macro sources), or None when the node is fine."""

    name: str
    reason: str
    matches: Callable[[exp.Expression], str | None]
    # True when dbt's own macros may produce the construct from Python (type names): report it
    # only where a model or a macro writes it out.
    only_where_written: bool = False


def _function_word(node: exp.Expression) -> str:
    """The name a function is written with in DuckDB SQL (`median`, `strip_accents`), or `re:` and
    a pattern of its spellings."""
    if isinstance(node, exp.Anonymous):
        return node.name.lower()
    if isinstance(node, exp.JSONExtractScalar):
        return r"re:\bjson_extract_string\b|->>"
    if isinstance(node, exp.JSONExtract):
        return r"re:\bjson_extract\b|->(?!>)"
    if isinstance(node, exp.DateDiff | exp.TimestampDiff):
        return r"re:\b(date_diff|datediff|timestampdiff)\s*\("
    if isinstance(node, exp.DateAdd | exp.DateSub):
        return r"re:\b(date_add|date_sub)\s*\("
    if isinstance(node, exp.GroupConcat):
        return r"re:\b(string_agg|group_concat|listagg)\b"
    if isinstance(node, exp.ArrayAgg):
        return r"re:\b(array_agg|list)\b"
    return node.sql(dialect="duckdb").split("(", 1)[0].strip().lower()


def _of_type(*types: type[exp.Expression]) -> Callable[[exp.Expression], str | None]:
    return lambda node: _function_word(node) if isinstance(node, types) else None


def _qualify(node: exp.Expression) -> str | None:
    return "qualify" if isinstance(node, exp.Qualify) else None


def _single_argument_log(node: exp.Expression) -> str | None:
    return "log" if isinstance(node, exp.Log) and node.args.get("expression") is None else None


def _ordered_aggregate(node: exp.Expression) -> str | None:
    if isinstance(node, exp.ArrayAgg | exp.GroupConcat) and node.find(exp.Order):
        return _function_word(node)
    return None


def _calendar_interval(node: exp.Expression) -> str | None:
    if not isinstance(node, exp.Interval):
        return None
    unit = node.args.get("unit")
    text = (unit.name if unit is not None else node.this.name if node.this is not None else "").upper()
    return "interval" if any(word in CALENDAR_UNITS for word in text.split()) else None


def _duckdb_only_type(node: exp.Expression) -> str | None:
    if isinstance(node, exp.DataType) and node.this in DUCKDB_ONLY_TYPES:
        name = node.sql(dialect="duckdb").split("(", 1)[0].split("[", 1)[0].lower()
        spellings = "|".join(re.escape(s) for s in [name, *TYPE_SPELLINGS.get(node.this, ())])
        return rf"re:(\bas\s+|::\s*)({spellings})"
    return None


def _quote_in_literal(node: exp.Expression) -> str | None:
    if isinstance(node, exp.Literal) and node.is_string and "'" in node.this:
        return node.sql(dialect="duckdb")
    return None


def _text_type(node: exp.Expression) -> str | None:
    if isinstance(node, exp.DataType) and node.this == exp.DataType.Type.TEXT:
        return r"re:(\bas\s+|::\s*)(varchar|text|string)\b"
    return None


def _duckdb_select_extension(node: exp.Expression) -> str | None:
    if isinstance(node, exp.Star) and (node.args.get("except_") or node.args.get("replace")):
        return r"re:\*\s*(exclude|replace)\b"
    if isinstance(node, exp.Union) and node.args.get("by_name"):
        return r"re:\bunion\s+(all\s+)?by\s+name\b"
    if isinstance(node, exp.TableSample):
        return r"re:\b(using\s+sample|tablesample)\b"
    return None


def _recursive_cte(node: exp.Expression) -> str | None:
    """A CTE that reads itself (through UNION or UNION ALL)."""
    if not (isinstance(node, exp.CTE) and isinstance(node.this, exp.Union)):
        return None
    name = node.alias_or_name
    if any(table.name == name for table in node.this.find_all(exp.Table)):
        return rf"re:(?<![\w.]){re.escape(name)}\s+as\s*\("
    return None


def _unknown_function(node: exp.Expression) -> str | None:
    return node.name.lower() if isinstance(node, exp.Anonymous) else None


def _list_construct(node: exp.Expression) -> str | None:
    if isinstance(node, exp.Bracket | exp.Struct | exp.Array | exp.Lambda):
        return {exp.Bracket: "[", exp.Array: "[", exp.Struct: "{", exp.Lambda: "->"}[type(node)]
    return None


DENY_RULES: tuple[DenyRule, ...] = (
    DenyRule("QUALIFY", "Spark and Trino have no QUALIFY: filter on row_number() in a subquery", _qualify),
    DenyRule(
        "log(x)", "one-argument log is base 10 on DuckDB and natural on Spark: write ln(x) or log10(x)",
        _single_argument_log,
    ),
    DenyRule(
        "ordered array_agg/list/string_agg",
        "Spark's collect_list keeps no order and older Spark has no string_agg: use the sorted_text_agg "
        "macro (dbt-spark's listagg drops its order by) or row_number() and a join",
        _ordered_aggregate,
    ),
    DenyRule("try_cast", "try_cast becomes a failing cast on some engines: use dbt.safe_cast", _of_type(exp.TryCast)),
    DenyRule("hash()", "hash() gives different numbers on every engine: use dbt.hash (md5 text)", 
             lambda node: "hash" if isinstance(node, exp.Anonymous) and node.name.lower() == "hash" else None),
    DenyRule(
        "interval in months, quarters or years",
        "calendar intervals mistranslate for Trino: use dbt.dateadd",
        _calendar_interval,
    ),
    DenyRule(
        "regular expression function",
        "flags, replace-all and no-match results differ per engine: use the regex_matches, regex_extract "
        "and regex_replace macros",
        _of_type(exp.RegexpLike, exp.RegexpILike, exp.RegexpReplace, exp.RegexpExtract, exp.RegexpSplit),
    ),
    DenyRule(
        "epoch or time formatting",
        "epoch() keeps fractions of seconds that Spark's unix_timestamp drops, and format strings "
        "translate loosely: use dbt.datediff or a project macro",
        _of_type(
            exp.TimeToUnix, exp.UnixToTime, exp.StrToTime, exp.StrToUnix, exp.StrToDate, exp.TimeToStr,
            exp.UnixToStr,
        ),
    ),
    DenyRule(
        "date arithmetic function",
        "day-boundary and unit semantics differ (Spark's datediff takes days only): use dbt.datediff, "
        "dbt.dateadd",
        _of_type(exp.DateDiff, exp.TimestampDiff, exp.DateAdd, exp.DateSub),
    ),
    DenyRule(
        "median or quantile",
        "Trino has only approximate percentiles and Spark turns percentile_cont into an approximation: "
        "use the median or quantile macro",
        _of_type(exp.Median, exp.Quantile, exp.PercentileCont, exp.PercentileDisc),
    ),
    DenyRule(
        "JSON extraction",
        "JSON path syntax and quoting of keys differ per engine: use the json_text_field or "
        "custom_field_text macro",
        _of_type(exp.JSONExtract, exp.JSONExtractScalar),
    ),
    DenyRule(
        "DuckDB list, struct or table function",
        "lists are 1-based on DuckDB and 0-based on Spark; struct literals, lambdas, unnest and "
        "generate_series/range have no common form",
        lambda node: _list_construct(node) or _of_type(exp.GenerateSeries, exp.Unnest, exp.Explode, exp.Try)(node),
    ),
    DenyRule(
        "quote inside a string literal",
        "Spark reads 'it''s' as two adjacent literals and drops the quote: write \\x27 in a regular "
        "expression, or build the text with chr(39)",
        _quote_in_literal,
    ),
    DenyRule(
        "text type",
        "Spark 4 rejects varchar without a length and Trino has no text or string type: use "
        "dbt.type_string()",
        _text_type, only_where_written=True,
    ),
    DenyRule(
        "DuckDB select extension",
        "select * exclude/replace, union by name and using sample are DuckDB's: list the columns",
        _duckdb_select_extension,
    ),
    DenyRule(
        "recursive CTE",
        "Spark 4.0 parses recursive CTEs but cannot plan them (internal error: no plan for UnionLoop), "
        "and Trino's recursion needs UNION ALL, which does not stop on cycles: give the walk a macro "
        "with a Spark and Trino implementation",
        _recursive_cte,
    ),
    DenyRule("DuckDB-only type", "this type does not exist, or means something else, on Spark or Trino",
             _duckdb_only_type),
    DenyRule(
        "function unknown to other engines",
        "sqlglot knows no Spark or Trino equivalent of this DuckDB function: give it a macro with "
        "duckdb__/spark__/trino__ implementations",
        _unknown_function,
    ),
)


def _line_of(node: exp.Expression) -> int:
    """The compiled line of a node: its own position, else the first of its descendants'."""
    lines = [n.meta["line"] for n in node.walk() if "line" in n.meta]
    return min(lines) if lines else 0


def _without_jinja(source: str) -> str:
    """A model's SQL with Jinja blocks and comments blanked (kept line for line)."""
    pattern = r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}|--[^\n]*"
    return re.sub(pattern, lambda m: re.sub(r"[^\n]", " ", m.group(0)), source, flags=re.S)


def _word_pattern(word: str) -> re.Pattern[str]:
    """How a construct is searched in SQL text: a name, an exact spelling, or `re:` and a pattern."""
    if word.startswith("re:"):
        return re.compile(word.removeprefix("re:"), re.I)
    if re.fullmatch(r"\w+", word):
        return re.compile(rf"(?<![\w.]){re.escape(word)}\b", re.I)
    return re.compile(re.escape(word))


@dataclass(frozen=True)
class MacroIndex:
    """The macros of a manifest, to tell where a construct of compiled SQL came from."""

    macros: dict[str, dict]

    def closure(self, macro_ids: list[str]) -> list[str]:
        seen: list[str] = []
        stack = list(macro_ids)
        while stack:
            macro_id = stack.pop()
            if macro_id in seen or macro_id not in self.macros:
                continue
            seen.append(macro_id)
            stack.extend(self.macros[macro_id].get("depends_on", {}).get("macros", []))
        return seen

    def is_portable(self, macro_id: str) -> bool:
        """dbt's own macros, or a project macro `duckdb__x` with spark__x and trino__x siblings that
        do more than raise an error."""
        macro = self.macros[macro_id]
        if macro.get("package_name") in DBT_PACKAGES:
            return True
        name = macro["name"]
        if not name.startswith("duckdb__"):
            return False
        base = name.removeprefix("duckdb__")
        package = macro["package_name"]
        siblings = [self.macros.get(f"macro.{package}.{engine}__{base}") for engine in ENGINES_BESIDES_DUCKDB]
        return all(m is not None and "raise_compiler_error" not in m.get("macro_sql", "") for m in siblings)

    def source_of(self, word: str, macro_ids: list[str]) -> tuple[str | None, bool]:
        """The macro among `macro_ids` (and what they call) that writes `word`, and whether that
        macro is portable. A non-portable writer wins over a portable one."""
        pattern = _word_pattern(word)
        writers = [
            m for m in self.closure(macro_ids) if pattern.search(_without_jinja(self.macros[m].get("macro_sql", "")))
        ]
        for macro_id in writers:
            if not self.is_portable(macro_id):
                return self.macros[macro_id]["name"], False
        return (self.macros[writers[0]]["name"], True) if writers else (None, False)


@dataclass(frozen=True)
class Model:
    """What the lint needs of one compiled model."""

    name: str
    path: str
    compiled_sql: str
    raw_sql: str = ""
    macro_ids: tuple[str, ...] = ()


def _denied(tree: exp.Expression) -> Iterator[tuple[exp.Expression, DenyRule, str]]:
    for node in tree.walk(bfs=False):  # depth first: roughly the order of the text
        for rule in DENY_RULES:
            word = rule.matches(node)
            if word and isinstance(node, exp.Func) and re.fullmatch(r"\w+", word):
                word = rf"re:(?<![\w.]){word}\s*\("  # a call, not a column of the same name
            if word:
                yield node, rule, word
                break


def _untranslatable(tree: exp.Expression) -> Iterator[tuple[exp.Expression, str, str]]:
    """Nodes sqlglot cannot write in a target dialect: the smallest failing node of each failure."""
    for dialect in TARGET_DIALECTS:
        try:
            tree.sql(dialect=dialect, unsupported_level=ErrorLevel.RAISE)
            continue
        except UnsupportedError as error:
            message = str(error).strip().splitlines()[0]
        failing = [
            node for node in tree.walk()
            if isinstance(node, exp.Func) and _fails(node, dialect)
        ]
        smallest = [n for n in failing if not any(o is not n and _is_ancestor(n, o) for o in failing)]
        for node in smallest or [tree]:
            yield node, dialect, message


def _is_ancestor(ancestor: exp.Expression, node: exp.Expression) -> bool:
    parent = node.parent
    while parent is not None:
        if parent is ancestor:
            return True
        parent = parent.parent
    return False


def _fails(node: exp.Expression, dialect: str) -> bool:
    try:
        node.sql(dialect=dialect, unsupported_level=ErrorLevel.RAISE)
        return False
    except UnsupportedError:
        return True


def lint_model(model: Model, macros: MacroIndex | None = None) -> list[Finding]:
    """The findings of one model (empty when it ports)."""
    macros = macros or MacroIndex({})
    try:
        tree = sqlglot.parse_one(model.compiled_sql, read="duckdb")
    except ParseError as error:
        first = error.errors[0] if error.errors else {}
        return [Finding(model.name, model.path, first.get("line", 0), "unparseable SQL", str(error).splitlines()[0])]

    raw = _without_jinja(model.raw_sql)
    findings: dict[tuple[int, str], Finding] = {}
    seen_in_raw: dict[str, int] = {}

    def report(node: exp.Expression, construct: str, word: str, reason: str, only_where_written: bool) -> None:
        # Written in the model itself: point at the model's own line.
        # The n-th such construct of the compiled SQL is taken to be the n-th written in the model.
        matches = list(_word_pattern(word).finditer(raw)) if raw else []
        if matches:
            index = min(seen_in_raw.get(word, 0), len(matches) - 1)
            seen_in_raw[word] = index + 1
            line, where = raw.count("\n", 0, matches[index].start()) + 1, model.path
        else:
            macro_name, portable = macros.source_of(word, list(model.macro_ids))
            if portable or (only_where_written and macro_name is None):
                return
            line, where = _line_of(node), model.path + " compiled"
            if macro_name:
                reason = f"{reason} (written in macro {macro_name}, which has no spark__/trino__ implementation)"
        findings.setdefault((line, construct), Finding(model.name, where, line, construct, reason))

    for node, rule, word in _denied(tree):
        shown = word if not word.startswith("re:") else _function_word(node)
        report(node, f"{rule.name} `{shown}`", word, rule.reason, rule.only_where_written)
    for node, dialect, message in _untranslatable(tree):
        word = _function_word(node) if isinstance(node, exp.Func) else ""
        report(node, f"untranslatable to {dialect} `{word}`", word or "\0", f"sqlglot: {message}", False)
    return sorted(findings.values(), key=lambda f: (f.line, f.construct))


def models_of_manifest(manifest: dict) -> list[Model]:
    """The compiled models of a manifest (`dbt compile` output)."""
    models = []
    for node in manifest["nodes"].values():
        if node.get("resource_type") != "model":
            continue
        if not node.get("compiled_code"):
            raise ValueError(f"model {node['name']} has no compiled SQL: run `dbt compile` first")
        models.append(Model(
            name=node["name"], path=node["original_file_path"], compiled_sql=node["compiled_code"],
            raw_sql=node.get("raw_code", ""), macro_ids=tuple(node.get("depends_on", {}).get("macros", [])),
        ))
    return sorted(models, key=lambda m: m.name)


def lint_manifest(manifest_path: Path) -> list[Finding]:
    manifest = json.loads(manifest_path.read_text())
    macros = MacroIndex(manifest["macros"])
    return [finding for model in models_of_manifest(manifest) for finding in lint_model(model, macros)]


def compile_project(work_dir: Path) -> Path:
    """Seed a scratch DuckDB and `dbt compile` the project against it (rule macros read the seeds);
    returns the compiled manifest.json. Nothing is written into the repository."""
    target = work_dir / "target"
    env = {
        **os.environ, "LEADSCORE_WAREHOUSE": str(work_dir / "lint.duckdb"), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    dbt = Path(sys.executable).with_name("dbt")
    for command in ("seed", "compile"):
        result = subprocess.run(
            [str(dbt), command, "--quiet", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
             str(DBT_PROJECT_DIR), "--target-path", str(target), "--log-path", str(work_dir / "logs")],
            cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True,
        )
        if result.returncode != 0:
            raise RuntimeError(f"dbt {command} failed:\n{result.stdout}\n{result.stderr}")
    return target / "manifest.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--manifest", type=Path, help="a compiled manifest.json (default: compile now)")
    args = parser.parse_args(argv)
    if args.manifest:
        findings = lint_manifest(args.manifest)
    else:
        with tempfile.TemporaryDirectory(prefix="leadscore-portability-") as work_dir:
            findings = lint_manifest(compile_project(Path(work_dir)))
    for finding in findings:
        print(finding)
    print(f"{len(findings)} construct(s) that do not port to {' and '.join(TARGET_DIALECTS)}")
    return 1 if findings else 0


if __name__ == "__main__":
    raise SystemExit(main())
