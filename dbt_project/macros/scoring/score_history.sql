{#- Helpers of the score timeline and the daily trend: whole days since 1970-01-01 (UTC), a
    calendar of day numbers, and a fingerprint of a seed row. -#}

{#- The day (whole days since 1970-01-01) a UTC timestamp falls on. -#}
{% macro day_number(ts) -%}
    {{ dbt.datediff("cast('1970-01-01' as date)", "cast(" ~ ts ~ " as date)", 'day') }}
{%- endmacro %}

{#- The date of a day number. -#}
{% macro day_date(day_number_expr) -%}
    cast({{ dbt.dateadd('day', day_number_expr, "cast('1970-01-01' as date)") }} as date)
{%- endmacro %}

{#- One row per day number `dn` from `first_expr` to `last_expr` (scalar subqueries). -#}
{% macro day_numbers(first_expr, last_expr) -%}
    {{ return(adapter.dispatch('day_numbers')(first_expr, last_expr)) }}
{%- endmacro %}

{% macro duckdb__day_numbers(first_expr, last_expr) -%}
    select cast(range as integer) as dn from range(cast(({{ first_expr }}) as bigint), cast(({{ last_expr }}) as bigint) + 1)
{%- endmacro %}

{% macro spark__day_numbers(first_expr, last_expr) -%}
    select explode(sequence(cast(({{ first_expr }}) as int), cast(({{ last_expr }}) as int))) as dn
{%- endmacro %}

{% macro trino__day_numbers(first_expr, last_expr) -%}
    select cast(dn as integer) as dn
    from unnest(sequence(cast(({{ first_expr }}) as bigint), cast(({{ last_expr }}) as bigint))) as day_numbers (dn)
{%- endmacro %}

{% macro default__day_numbers(first_expr, last_expr) -%}
    {{ exceptions.raise_compiler_error("day_numbers: no implementation for adapter " ~ adapter.type()) }}
{%- endmacro %}

{#- A text fingerprint of a whole row of `relation_alias` (a row of `relation`), for detecting
    rulebook edits: every column as text, in the relation's column order, null as an empty
    field. Columns are read from the warehouse, so the same text comes out on every engine;
    floating-point columns go through a decimal first, as Spark writes 1e8 as `1.0E8` and DuckDB
    as `100000000.0`. Six decimals: from a double, DuckDB's decimal(38, 10) of 499999999.99 ends
    in ...0256 where Spark's ends in zeros, and Spark writes a decimal of more than six places
    that is zero as `0E-10`; an edit below a millionth of a point does not change the fingerprint. -#}
{% macro row_text(relation_alias, relation) -%}
    {%- set columns = adapter.get_columns_in_relation(relation) if execute else [] -%}
    {%- set fields = [] -%}
    {%- for column in columns -%}
        {%- set value = relation_alias ~ "." ~ adapter.quote(column.name) -%}
        {%- if column.is_float() -%}
        {%- set value = "cast(" ~ value ~ " as decimal(38, 6))" -%}
        {%- endif -%}
        {%- do fields.append("coalesce(cast(" ~ value ~ " as " ~ dbt.type_string() ~ "), '')") -%}
        {%- if not loop.last %}{% do fields.append("'|'") %}{% endif -%}
    {%- endfor -%}
    {%- if fields -%}
    {{ dbt.concat(fields) }}
    {%- else -%}
    cast(null as {{ dbt.type_string() }})
    {%- endif -%}
{%- endmacro %}

{#- The last non-null value of `expr` in the window it is used with (`... over w`). -#}
{% macro last_non_null(expr) -%}
    {{ return(adapter.dispatch('last_non_null')(expr)) }}
{%- endmacro %}

{% macro duckdb__last_non_null(expr) -%}
    last_value({{ expr }} ignore nulls)
{%- endmacro %}

{% macro spark__last_non_null(expr) -%}
    last_value({{ expr }}) ignore nulls
{%- endmacro %}

{% macro trino__last_non_null(expr) -%}
    last_value({{ expr }}) ignore nulls
{%- endmacro %}

{% macro default__last_non_null(expr) -%}
    {{ exceptions.raise_compiler_error("last_non_null: no implementation for adapter " ~ adapter.type()) }}
{%- endmacro %}

{#- The median of `expr` over a group. -#}
{% macro median(expr) -%}
    {{ return(adapter.dispatch('median')(expr)) }}
{%- endmacro %}

{% macro duckdb__median(expr) -%}
    median({{ expr }})
{%- endmacro %}

{#- Spark's percentile is exact and interpolates like DuckDB's median. -#}
{% macro spark__median(expr) -%}
    percentile({{ expr }}, 0.5)
{%- endmacro %}

{#- Trino has no exact percentile: approx_percentile is within about 1% of rank. -#}
{% macro trino__median(expr) -%}
    approx_percentile({{ expr }}, 0.5)
{%- endmacro %}

{% macro default__median(expr) -%}
    percentile_cont(0.5) within group (order by {{ expr }})
{%- endmacro %}
