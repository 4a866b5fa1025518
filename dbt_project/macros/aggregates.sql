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

{#- A 64-bit hash of the values of `expressions` (a list of SQL expressions of any type) taken
    together, computed on the values themselves (no text formatting: cheap on millions of rows).
    For telling what changed since the last run; the value differs between engines. -#}
{% macro row_hash(expressions) -%}
    {{ return(adapter.dispatch('row_hash')(expressions)) }}
{%- endmacro %}

{% macro duckdb__row_hash(expressions) -%}
    hash({{ expressions | join(', ') }})
{%- endmacro %}

{% macro spark__row_hash(expressions) -%}
    xxhash64({{ expressions | join(', ') }})
{%- endmacro %}

{% macro trino__row_hash(expressions) -%}
    {%- set texts = [] -%}
    {%- for expression in expressions -%}
        {%- do texts.append("coalesce(cast(" ~ expression ~ " as varchar), '')") -%}
    {%- endfor -%}
    from_big_endian_64(xxhash64(to_utf8({{ texts | join(" || '|' || ") }})))
{%- endmacro %}

{% macro default__row_hash(expressions) -%}
    {{ exceptions.raise_compiler_error("row_hash: no implementation for adapter " ~ adapter.type()) }}
{%- endmacro %}

{#- A 64-bit digest of a group's rows, whatever their order: the XOR of their row_hash(). The
    digests of the parts of a group combine into the group's with xor_agg. -#}
{% macro unordered_digest_agg(expressions) -%}
    {{ xor_agg(row_hash(expressions)) }}
{%- endmacro %}

{#- The exclusive or of a group's 64-bit integers. -#}
{% macro xor_agg(expression) -%}
    {{ return(adapter.dispatch('xor_agg')(expression)) }}
{%- endmacro %}

{% macro default__xor_agg(expression) -%}
    bit_xor({{ expression }})
{%- endmacro %}

{% macro trino__xor_agg(expression) -%}
    bitwise_xor_agg({{ expression }})
{%- endmacro %}
