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

{#- A 64-bit digest of a group's texts, whatever their order: the XOR of their hashes (for
    telling which groups changed since the last run; the value differs between engines). -#}
{% macro unordered_digest_agg(text_expr) -%}
    {{ return(adapter.dispatch('unordered_digest_agg')(text_expr)) }}
{%- endmacro %}

{% macro duckdb__unordered_digest_agg(text_expr) -%}
    bit_xor(hash({{ text_expr }}))
{%- endmacro %}

{% macro spark__unordered_digest_agg(text_expr) -%}
    bit_xor(xxhash64({{ text_expr }}))
{%- endmacro %}

{% macro trino__unordered_digest_agg(text_expr) -%}
    bitwise_xor_agg(from_big_endian_64(xxhash64(to_utf8({{ text_expr }}))))
{%- endmacro %}

{% macro default__unordered_digest_agg(text_expr) -%}
    {{ exceptions.raise_compiler_error("unordered_digest_agg: no implementation for adapter " ~ adapter.type()) }}
{%- endmacro %}
