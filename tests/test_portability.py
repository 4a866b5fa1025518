"""The portability lint: every compiled model must run with the same meaning on Spark and Trino.
Hand-made SQL with each denied construct is caught at the right line; portable equivalents and
constructs that come out of macros with Spark and Trino implementations pass."""

from __future__ import annotations

import pytest

from leadscore.tools.portability import Finding, MacroIndex, Model, compile_project, lint_manifest, lint_model


@pytest.fixture(scope="session")
def compiled_manifest(tmp_path_factory):
    return compile_project(tmp_path_factory.mktemp("portability"))


def test_every_model_of_the_project_ports_to_spark_and_trino(compiled_manifest):
    findings = lint_manifest(compiled_manifest)
    assert findings == [], "\n".join(str(f) for f in findings)


def lint(sql: str) -> list[Finding]:
    return lint_model(Model(name="my_model", path="models/my_model.sql", compiled_sql=sql, raw_sql=sql))


# (SQL with the construct on line 3, the rule's name as the finding shows it)
DENIED = [
    ("select a\nfrom t\nqualify row_number() over (partition by a order by b) = 1", "QUALIFY"),
    ("select\n  a,\n  log(b) as magnitude\nfrom t", "log(x)"),
    ("select\n  a,\n  array_agg(b order by c) as bs\nfrom t group by a", "ordered array_agg"),
    ("select\n  a,\n  list(b order by c) as bs\nfrom t group by a", "ordered array_agg"),
    ("select\n  a,\n  string_agg(b, ',' order by c) as bs\nfrom t group by a", "ordered array_agg"),
    ("select\n  a,\n  try_cast(b as integer) as b\nfrom t", "try_cast"),
    ("select\n  a,\n  hash(b) as key\nfrom t", "hash()"),
    ("select\n  a,\n  b + interval 1 month as due\nfrom t", "interval in months"),
    ("select\n  a,\n  date_add(b, interval '2 years') as due\nfrom t", "date arithmetic"),
    ("select\n  a,\n  regexp_matches(b, 'x', 'i') as hit\nfrom t", "regular expression"),
    ("select\n  a,\n  regexp_replace(b, 'x', 'y') as c\nfrom t", "regular expression"),
    ("select\n  a,\n  epoch(b) as seconds\nfrom t", "epoch or time formatting"),
    ("select\n  a,\n  strftime(b, '%Y-%m') as month\nfrom t", "epoch or time formatting"),
    ("select\n  a,\n  strptime(b, '%d/%b/%Y') as day\nfrom t", "epoch or time formatting"),
    ("select\n  a,\n  date_diff('day', b, c) as days\nfrom t", "date arithmetic"),
    ("select\n  a,\n  median(b) as mid\nfrom t group by a", "median or quantile"),
    ("select\n  a,\n  quantile_cont(b, 0.9) as p90\nfrom t group by a", "median or quantile"),
    ("select\n  a,\n  json_extract_string(b, '$.x') as x\nfrom t", "JSON extraction"),
    ("select\n  a,\n  b ->> '$.x' as x\nfrom t", "JSON extraction"),
    ("select\n  a,\n  string_split(b, ',')[1] as first\nfrom t", "DuckDB list"),
    ("select\n  a,\n  {'k': b} as s\nfrom t", "DuckDB list"),
    ("select a\nfrom t\ncross join generate_series(1, 3) as g(n)", "DuckDB list"),
    ("select\n  a,\n  try(b / c) as ratio\nfrom t", "DuckDB list"),
    ("select\n  a,\n  cast(b as timestamptz) as at\nfrom t", "DuckDB-only type"),
    ("select\n  a,\n  b::hugeint as big\nfrom t", "DuckDB-only type"),
    ("select\n  a,\n  replace(b, 'it''s', '') as c\nfrom t", "quote inside a string literal"),
    ("select\n  a,\n  cast(b as varchar) as c\nfrom t", "text type"),
    ("select\n  a,\n  strip_accents(b) as c\nfrom t", "function unknown to other engines"),
    ("select a\nfrom t\nunion by name select a from u", "DuckDB select extension"),
    ("with recursive\nseed as (select 1 as n),\nwalk as (select n from seed union select n + 1 from walk where n < 3)\n"
     "select * from walk", "recursive CTE"),
    ("with recursive\nseed as (select 1 as n),\n"
     "walk as (select n from seed union all select n + 1 from walk where n < 3)\nselect * from walk", "recursive CTE"),
    ("with u as (select 1)\nselect\n  * exclude (b)\nfrom t", "DuckDB select extension"),
]


@pytest.mark.parametrize(("sql", "rule"), DENIED, ids=[f"{i}-{rule}" for i, (_, rule) in enumerate(DENIED)])
def test_a_denied_construct_is_reported_with_model_line_and_construct(sql, rule):
    findings = lint(sql)
    assert [(f.model, f.path, f.line) for f in findings if rule in f.construct] == [
        ("my_model", "models/my_model.sql", 3)
    ], findings
    assert all(f.line == 3 for f in findings), findings
    message = str(findings[0])
    assert message.startswith("my_model (models/my_model.sql, line 3): ") and rule in message


def test_each_occurrence_is_reported_at_its_own_line():
    sql = "select\n  log(a) as x,\n  b,\n  log(c) as y\nfrom t"
    assert [f.line for f in lint(sql)] == [2, 4]


ALLOWED = """
with ranked as (
    select a, b, row_number() over (partition by a order by b) as rank_in_a
    from t
)
select
    a,
    ln(b) as natural_log,
    log10(b) as decimal_log,
    log(2, b) as binary_log,
    md5(a) as key,
    b + interval 3 day as due,
    cast(b as decimal(18, 6)) as points,
    cast(b as double) as ratio,
    cast(b as timestamp) as at,
    coalesce(nullif(trim(a), ''), 'none') as label,
    a || '-' || b as joined,
    greatest(a, b) as top,
    date_trunc('day', b) as day,
    timezone as zone_column,
    count(*) over (partition by a) as in_group
from ranked
where rank_in_a = 1 and a like 'x%'
"""


def test_portable_equivalents_pass():
    assert lint(ALLOWED) == []


def test_unparseable_sql_is_reported():
    [finding] = lint("select a from t where (")
    assert finding.construct == "unparseable SQL" and finding.model == "my_model"


def macro(name: str, sql: str, calls: tuple[str, ...] = ()) -> tuple[str, dict]:
    return f"macro.leadscore.{name}", {
        "name": name, "package_name": "leadscore", "macro_sql": sql, "depends_on": {"macros": list(calls)},
    }


FOLD = macro("fold", "{{ return(adapter.dispatch('fold')(x)) }}", ("macro.leadscore.duckdb__fold",))
DUCKDB_FOLD = macro("duckdb__fold", "{% macro duckdb__fold(x) %}strip_accents({{ x }}){% endmacro %}")
SPARK_FOLD = macro("spark__fold", "{% macro spark__fold(x) %}translate({{ x }}, 'é', 'e'){% endmacro %}")
TRINO_FOLD = macro("trino__fold", "{% macro trino__fold(x) %}translate({{ x }}, 'é', 'e'){% endmacro %}")
RAISING_TRINO_FOLD = macro(
    "trino__fold", "{% macro trino__fold(x) %}{{ exceptions.raise_compiler_error('no') }}{% endmacro %}"
)
MACRO_MODEL = Model(
    name="people", path="models/people.sql",
    compiled_sql="select\n  strip_accents(name) as name_key\nfrom people",
    raw_sql="select\n  {{ fold('name') }} as name_key\nfrom people",
    macro_ids=("macro.leadscore.fold",),
)


def test_a_construct_from_a_macro_with_spark_and_trino_implementations_passes():
    macros = MacroIndex(dict([FOLD, DUCKDB_FOLD, SPARK_FOLD, TRINO_FOLD]))
    assert lint_model(MACRO_MODEL, macros) == []


@pytest.mark.parametrize("siblings", [[SPARK_FOLD], [SPARK_FOLD, RAISING_TRINO_FOLD]], ids=["missing", "raising"])
def test_a_construct_from_a_macro_without_a_trino_implementation_names_the_macro(siblings):
    macros = MacroIndex(dict([FOLD, DUCKDB_FOLD, *siblings]))
    [finding] = lint_model(MACRO_MODEL, macros)
    assert (finding.model, finding.line) == ("people", 2)
    assert "strip_accents" in finding.construct and "duckdb__fold" in finding.reason


def test_a_construct_written_in_the_model_is_reported_even_when_a_portable_macro_also_writes_it():
    model = Model(
        name="people", path="models/people.sql",
        compiled_sql="select\n  strip_accents(name) as a,\n  strip_accents(title) as b\nfrom people",
        raw_sql="select\n  {{ fold('name') }} as a,\n  strip_accents(title) as b\nfrom people",
        macro_ids=("macro.leadscore.fold",),
    )
    macros = MacroIndex(dict([FOLD, DUCKDB_FOLD, SPARK_FOLD, TRINO_FOLD]))
    assert [(f.path, f.line) for f in lint_model(model, macros)] == [("models/people.sql", 3)]
