{#- Casts from the raw text columns. Ingestion has already rejected values that do not parse
    (see src/leadscore/ingest/mapping.py), so plain casts are safe here. -#}

{#- Blank text -> null, otherwise trimmed. -#}
{% macro clean_text(expr) -%}
    nullif(trim({{ expr }}), '')
{%- endmacro %}

{#- CRM booleans: 1/true/yes/y are true, anything else (0/false/no/n/empty) is false, as
    Salesforce exports leave false checkboxes empty. -#}
{% macro to_boolean(expr) -%}
    coalesce(lower(trim({{ expr }})) in ('1', 'true', 'yes', 'y'), false)
{%- endmacro %}

{#- Integers may be written as "12.0" by spreadsheet tools. -#}
{% macro to_integer(expr) -%}
    cast(cast({{ expr }} as {{ type_double() }}) as {{ dbt.type_bigint() }})
{%- endmacro %}

{% macro to_double(expr) -%}
    cast({{ expr }} as {{ type_double() }})
{%- endmacro %}

{% macro to_date(expr) -%}
    cast({{ expr }} as date)
{%- endmacro %}

{#- dbt.type_float() is single precision on DuckDB; amounts need double precision. -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double
{%- endmacro %}

{#- The load metadata every staging model carries from its raw table (which load, file and line a
    row came from, and when it was loaded), optionally qualified by a CTE alias. -#}
{% macro load_metadata(alias=none) -%}
    {%- set p = alias ~ '.' if alias else '' -%}
    {{ p }}_load_id as _load_id,
        {{ p }}_source_file as _source_file,
        {{ p }}_source_line as _source_line,
        {{ to_utc_timestamp(p ~ '_loaded_at') }} as _loaded_at
{%- endmacro %}

{#- dbt.safe_cast is a plain cast on DuckDB and Trino, which stops the whole query at the first
    value that does not convert (a range rule meeting "Select" in a custom field). These make
    it null instead; Spark's cast already gives null outside ANSI mode, as dbt-spark relies on. -#}
{% macro duckdb__safe_cast(field, type) -%}
    try_cast({{ field }} as {{ type }})
{%- endmacro %}

{% macro trino__safe_cast(field, type) -%}
    try_cast({{ field }} as {{ type }})
{%- endmacro %}

{% macro spark__safe_cast(field, type) -%}
    cast({{ field }} as {{ type }})
{%- endmacro %}
