{#- The not-null checks of a model's columns in one test and one scan: one row per listed column
    that holds nulls, with how many rows do. (One test per column cost about 40 ms of dbt's own
    time each on tiny data, plus a scan of the model each, a view's whole query included; at
    medium size the merge saved little, see docs/performance.md.)
    The rows stay readable as a view, dbt_test__audit.<test name> (for instance
    not_null_fct_lead_scores), which names the columns when the test fails. -#}
{% test not_null_columns(model, columns) %}

{{ config(store_failures_as='view') }}

with null_counts as (
    select
    {%- for column in columns %}
        sum(case when {{ column }} is null then 1 else 0 end) as nulls_{{ loop.index }}
        {{- "," if not loop.last }}
    {%- endfor %}
    from {{ model }}
)

{% for column in columns -%}
select
    '{{ column }}' as column_name,
    nulls_{{ loop.index }} as null_rows
from null_counts
where nulls_{{ loop.index }} > 0
{%- if not loop.last %}
union all
{% endif %}
{%- endfor %}

{% endtest %}
