{#- Regular expressions. Every engine spells these differently (DuckDB regexp_*, Trino
    regexp_like, Spark rlike), so models call these macros and each engine gets its own
    implementation. Patterns use the RE2 syntax that DuckDB, Trino and Spark all accept for the
    constructs used here. -#}

{% macro regex_matches(expr, pattern, case_insensitive=false) -%}
    {{ return(adapter.dispatch('regex_matches')(expr, pattern, case_insensitive)) }}
{%- endmacro %}

{% macro duckdb__regex_matches(expr, pattern, case_insensitive) -%}
    regexp_matches({{ expr }}, {{ pattern }}{% if case_insensitive %}, 'i'{% endif %})
{%- endmacro %}

{#- Spark and Trino use Java-style regular expressions: case-insensitivity is the inline (?i)
    flag. -#}
{% macro spark__regex_matches(expr, pattern, case_insensitive) -%}
    {{ expr }} rlike {% if case_insensitive %}concat('(?i)', {{ pattern }}){% else %}{{ pattern }}{% endif %}
{%- endmacro %}

{% macro trino__regex_matches(expr, pattern, case_insensitive) -%}
    regexp_like({{ expr }}, {% if case_insensitive %}concat('(?i)', {{ pattern }}){% else %}{{ pattern }}{% endif %})
{%- endmacro %}

{% macro default__regex_matches(expr, pattern, case_insensitive) -%}
    {{ exceptions.raise_compiler_error("regex_matches: no implementation for adapter " ~ adapter.type()) }}
{%- endmacro %}


{#- The text of capture group `group` of the first match, or null when there is no match or the
    group is empty. -#}
{% macro regex_extract(expr, pattern, group=1, case_insensitive=false) -%}
    {{ return(adapter.dispatch('regex_extract')(expr, pattern, group, case_insensitive)) }}
{%- endmacro %}

{% macro duckdb__regex_extract(expr, pattern, group, case_insensitive) -%}
    nullif(regexp_extract({{ expr }}, {{ pattern }}, {{ group }}{% if case_insensitive %}, 'i'{% endif %}), '')
{%- endmacro %}

{% macro spark__regex_extract(expr, pattern, group, case_insensitive) -%}
    nullif(regexp_extract({{ expr }}, {% if case_insensitive %}concat('(?i)', {{ pattern }}){% else %}{{ pattern }}{% endif %}, {{ group }}), '')
{%- endmacro %}

{#- Trino returns null where Spark returns '' when nothing matches: nullif covers both. -#}
{% macro trino__regex_extract(expr, pattern, group, case_insensitive) -%}
    {{ return(spark__regex_extract(expr, pattern, group, case_insensitive)) }}
{%- endmacro %}

{% macro default__regex_extract(expr, pattern, group, case_insensitive) -%}
    {{ exceptions.raise_compiler_error("regex_extract: no implementation for adapter " ~ adapter.type()) }}
{%- endmacro %}


{#- Replace every match. -#}
{% macro regex_replace(expr, pattern, replacement) -%}
    {{ return(adapter.dispatch('regex_replace')(expr, pattern, replacement)) }}
{%- endmacro %}

{% macro duckdb__regex_replace(expr, pattern, replacement) -%}
    regexp_replace({{ expr }}, {{ pattern }}, {{ replacement }}, 'g')
{%- endmacro %}

{#- Spark and Trino replace every match and write group references as $1, not \1. -#}
{% macro spark__regex_replace(expr, pattern, replacement) -%}
    regexp_replace({{ expr }}, {{ pattern }}, {{ java_replacement(replacement) }})
{%- endmacro %}

{% macro trino__regex_replace(expr, pattern, replacement) -%}
    {{ return(spark__regex_replace(expr, pattern, replacement)) }}
{%- endmacro %}

{#- A replacement literal with \1 group references rewritten as $1. -#}
{% macro java_replacement(replacement) -%}
    {{ modules.re.sub('\\\\([0-9])', '$\\1', replacement) }}
{%- endmacro %}

{% macro default__regex_replace(expr, pattern, replacement) -%}
    {{ exceptions.raise_compiler_error("regex_replace: no implementation for adapter " ~ adapter.type()) }}
{%- endmacro %}
