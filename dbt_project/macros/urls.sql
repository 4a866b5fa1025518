{#- Pieces of URLs and request paths. -#}

{#- Host of an absolute URL, lower-case, without port or credentials; null for `-`, relative
    or unparseable values. -#}
{% macro url_host(expr) -%}
    lower({{ regex_extract(expr, "'^[A-Za-z][A-Za-z0-9+.-]*://(?:[^/?#@]*@)?([^/?#:]+)'") }})
{%- endmacro %}

{#- Path of an absolute URL (`https://a.com/x/y?q=1` -> `/x/y`); `/` when it has none. -#}
{% macro url_path(expr) -%}
    case
        when {{ regex_matches(expr, "'^[A-Za-z][A-Za-z0-9+.-]*://'") }}
            then coalesce({{ regex_extract(expr, "'^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*([^?#]*)'") }}, '/')
    end
{%- endmacro %}

{#- Path of a request target without its query string (`/pricing?a=1` -> `/pricing`). Not
    dbt.split_part: dbt-spark's escapes the delimiter with a backslash that the spark target,
    which reads string literals as written, would keep. -#}
{% macro request_path_without_query(expr) -%}
    {{ regex_replace(expr, "'[?].*$'", "''") }}
{%- endmacro %}

{#- Query string of a request target, without the `?`; null when there is none. -#}
{% macro request_query_string(expr) -%}
    {{ regex_extract(expr, "'^[^?]*\\?([^#]*)'") }}
{%- endmacro %}

{#- Value of one query parameter, URL-decoded, trimmed and lower-cased (UTM values are
    free text that marketers type in mixed case); null when absent or empty. -#}
{% macro query_parameter(query_string, name) -%}
    nullif(lower(trim({{ url_decode(regex_extract(query_string, "'(?:^|&)" ~ name ~ "=([^&#]*)'")) }})), '')
{%- endmacro %}

{% macro url_decode(expr) -%}
    {{ return(adapter.dispatch('url_decode')(expr)) }}
{%- endmacro %}

{#- Malformed escapes (invalid UTF-8, common in attack traffic) leave the text as it is. -#}
{% macro duckdb__url_decode(expr) -%}
    coalesce(try(url_decode(replace({{ expr }}, '+', ' '))), {{ expr }})
{%- endmacro %}

{% macro spark__url_decode(expr) -%}
    coalesce(try_url_decode(replace({{ expr }}, '+', ' ')), {{ expr }})
{%- endmacro %}

{% macro trino__url_decode(expr) -%}
    coalesce(try(url_decode(replace({{ expr }}, '+', ' '))), {{ expr }})
{%- endmacro %}

{% macro default__url_decode(expr) -%}
    {{ exceptions.raise_compiler_error("url_decode: no implementation for adapter " ~ adapter.type()) }}
{%- endmacro %}
