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

{% macro default__regex_replace(expr, pattern, replacement) -%}
    {{ exceptions.raise_compiler_error("regex_replace: no implementation for adapter " ~ adapter.type()) }}
{%- endmacro %}
