{#- How the incremental models (stg_weblogs__hits, stg_email__events, int_web_page_views)
    rewrite rows, per engine and table format. DuckDB and Trino delete the
    rewritten keys and insert them again. Spark merges on the unique key, which needs a table
    format with row updates (var spark_file_format: delta, iceberg or hudi). Plain Parquet tables
    on Spark cannot delete or update rows: there these models are rebuilt in full at every run
    (full_refresh), never appended to, which would keep stale and duplicate rows. -#}

{% macro table_format_supports_delete() -%}
    {{ return(target.type != 'spark' or var('spark_file_format', 'parquet') in ['delta', 'iceberg', 'hudi']) }}
{%- endmacro %}

{#- The incremental_strategy config. On Parquet, Spark accepts only append; the models never
    append there, as incremental_full_refresh() rebuilds them. -#}
{% macro incremental_rewrite_strategy() -%}
    {%- if target.type == 'spark' -%}
        {{ return('merge' if table_format_supports_delete() else 'append') }}
    {%- endif -%}
    {{ return('delete+insert') }}
{%- endmacro %}

{#- The full_refresh config: true (rebuild at every run) where the table format cannot delete,
    or when `rebuild` asks for it; none otherwise (dbt's --full-refresh flag decides). -#}
{% macro incremental_full_refresh(rebuild=false) -%}
    {{ return(true if (rebuild or not table_format_supports_delete()) else none) }}
{%- endmacro %}
