{#- `name as {{ inline_cte() }} (...)`: a CTE read more than once is computed again where it is
    read instead of stored first. DuckDB stores such a CTE whole before the query reads it; for
    tens of millions of wide rows that copy spills to disk, while each reader needs a few
    columns (which it reads from the columnar table directly) or a filtered part. Other engines
    inline CTEs unless told otherwise and do not accept the hint. -#}
{% macro inline_cte() -%}
    {{ return(adapter.dispatch('inline_cte')()) }}
{%- endmacro %}

{% macro default__inline_cte() -%}{%- endmacro %}

{% macro duckdb__inline_cte() -%}not materialized{%- endmacro %}
