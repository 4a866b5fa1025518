{#- The average of a floating-point expression, rounded to `digits` decimals. DuckDB sums doubles
    in parallel, in an order that changes from run to run, so the last bits of a plain avg() vary:
    rounding them away keeps rebuilds of the same data identical. -#}
{% macro stable_avg(expression, digits=6) -%}
    round(avg({{ expression }}), {{ digits }})
{%- endmacro %}

{#- The sum of a floating-point expression, rounded the same way (money amounts, say). -#}
{% macro stable_sum(expression, digits=6) -%}
    round(sum({{ expression }}), {{ digits }})
{%- endmacro %}

{#- The texts of a group joined with `delimiter` (a SQL string literal) in ascending order, the
    same string on every engine (for fingerprints). dbt.listagg cannot serve: dbt-spark drops its
    order by clause, so the order on Spark would follow the data's partitions. Strings sort by
    code point everywhere (DuckDB's default collation, Spark's array_sort, Trino's varchar). -#}
{% macro sorted_text_agg(text_expr, delimiter) -%}
    {{ return(adapter.dispatch('sorted_text_agg')(text_expr, delimiter)) }}
{%- endmacro %}

{% macro duckdb__sorted_text_agg(text_expr, delimiter) -%}
    string_agg({{ text_expr }}, {{ delimiter }} order by {{ text_expr }})
{%- endmacro %}

{% macro spark__sorted_text_agg(text_expr, delimiter) -%}
    array_join(array_sort(collect_list({{ text_expr }})), {{ delimiter }})
{%- endmacro %}

{% macro trino__sorted_text_agg(text_expr, delimiter) -%}
    array_join(array_sort(array_agg({{ text_expr }})), {{ delimiter }})
{%- endmacro %}

{% macro default__sorted_text_agg(text_expr, delimiter) -%}
    {{ exceptions.raise_compiler_error("sorted_text_agg: no implementation for adapter " ~ adapter.type()) }}
{%- endmacro %}
