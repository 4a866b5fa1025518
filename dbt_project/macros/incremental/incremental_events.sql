{#- Helpers of the incremental models (the event models stg_weblogs__hits, stg_email__events,
    int_email_events_filtered, int_web_page_views, int_web_visits, and the per-person ones): what
    a run must recompute, derived from the data, so that incremental runs and a full rebuild give
    the same rows. -#}

{#- A fingerprint of the seed rows (if any) and settings (project variables) a model's rows
    were computed with. A model stores it in every row; when it changes, the next run
    recomputes every row (seeds are rebuilt at each run, so an edited seed would otherwise reach
    only new rows). -#}
{% macro settings_fingerprint(seed_names, settings) -%}
    {%- if not seed_names %}
    md5({{ json_literal(settings) }})
    {%- else %}
    md5(
        coalesce((
            select {{ sorted_text_agg('row_text', "'\\n'") }}
            from (
                {%- for seed in seed_names %}
                select '{{ seed }} ' || {{ row_text('seed_row', ref(seed)) }} as row_text from {{ ref(seed) }} as seed_row
                {{- ' union all' if not loop.last }}
                {%- endfor %}
            ) as seed_rows
        ), '')
        || {{ json_literal(settings) }}
    )
    {%- endif %}
{%- endmacro %}

{#- True when the model must recompute every row: a full build, or a fingerprint (see above)
    other than the one its rows were built with. Use inside a `select`, as a scalar. -#}
{% macro fingerprint_changed(fingerprint_column, current_fingerprint) -%}
    {%- if is_incremental() -%}
    {%- do require_built_column(fingerprint_column) -%}
    coalesce((select max({{ fingerprint_column }}) from {{ this }}) <> {{ current_fingerprint }}, true)
    {%- else -%}
    true
    {%- endif -%}
{%- endmacro %}

{#- Stop with a clear message when the incremental model's table was built by a version
    without `column` (an incremental run would otherwise fail on a missing column). -#}
{% macro require_built_column(column) -%}
    {%- if execute and is_incremental() and not stored_column_exists(column) -%}
    {{ exceptions.raise_compiler_error(
        this ~ " was built by an earlier version without the column " ~ column ~ ": rebuild it once with "
        ~ "`dbt build --full-refresh -s " ~ this.identifier ~ "+`") }}
    {%- endif -%}
{%- endmacro %}

{#- The select list `columns` of the stored rows `alias`, with the columns of `replaced` (a dict
    of column -> SQL expression) replaced: how an incremental model rewrites some columns of
    rows it does not recompute (a new person, a tombstone's null). -#}
{% macro stored_columns_with(columns, alias, replaced) -%}
    {%- for column in columns %}
    {% if column in replaced %}{{ replaced[column] }} as {{ column }}{% else %}{{ alias }}.{{ column }}{% endif %}
    {{- ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
