{#- Building blocks of the feedback reports (campaign and rule conversion, score distribution,
    won/lost review, rule effectiveness, ROI). -#}

{#- The `fraction` quantile (0 to 1, continuous) of `expr` over a group. -#}
{% macro quantile(expr, fraction) -%}
    {{ return(adapter.dispatch('quantile')(expr, fraction)) }}
{%- endmacro %}

{% macro duckdb__quantile(expr, fraction) -%}
    quantile_cont({{ expr }}, {{ fraction }})
{%- endmacro %}

{% macro spark__quantile(expr, fraction) -%}
    percentile({{ expr }}, {{ fraction }})
{%- endmacro %}

{% macro trino__quantile(expr, fraction) -%}
    approx_percentile({{ expr }}, {{ fraction }})
{%- endmacro %}

{% macro default__quantile(expr, fraction) -%}
    percentile_cont({{ fraction }}) within group (order by {{ expr }})
{%- endmacro %}

{#- One row: as_of and the conversion window, the report_window_days days that end
    conversion_horizon_days before as_of, so that everyone touched in it had the whole horizon
    to convert by as_of. -#}
{% macro conversion_window() -%}
    select
        as_of,
        {{ dbt.dateadd('day', -(var('report_window_days') + var('conversion_horizon_days')), 'as_of') }} as window_start,
        {{ dbt.dateadd('day', -var('conversion_horizon_days'), 'as_of') }} as window_end
    from {{ ref('int_scoring_as_of') }}
{%- endmacro %}

{#- One row: as_of and the report window, the report_window_days days before as_of. -#}
{% macro report_window() -%}
    select
        as_of,
        {{ dbt.dateadd('day', -var('report_window_days'), 'as_of') }} as window_start,
        as_of as window_end
    from {{ ref('int_scoring_as_of') }}
{%- endmacro %}

{#- Each row of `starts` (a CTE with `key_columns`, person_id and started_at) with is_converted:
    1 when the person converts for the first time (fct_conversions) after started_at, within
    conversion_horizon_days and by as_of (CTE `window_bounds`), else 0. People converted at or
    before started_at (in a deal already, or customers) are left out: a repurchase or a second
    deal is not a conversion. In snapshot_mode (no event times), 1 when the person converted. -#}
{% macro conversions_after(starts, key_columns) -%}
    select
        {%- for column in key_columns %}
        {{ starts }}.{{ column }},
        {%- endfor %}
        {{ starts }}.person_id,
        {{ starts }}.started_at,
        {%- if var('snapshot_mode') %}
        case when conversions.person_id is not null then 1 else 0 end as is_converted
        {%- else %}
        case when conversions.converted_at <= {{ dbt.dateadd('day', var('conversion_horizon_days'), starts ~ '.started_at') }}
            and conversions.converted_at <= window_bounds.as_of then 1 else 0 end as is_converted
        {%- endif %}
    from {{ starts }}
    cross join window_bounds
    left join {{ ref('fct_conversions') }} as conversions
        on {{ starts }}.person_id = conversions.person_id
    {%- if not var('snapshot_mode') %}
    where conversions.person_id is null
        or conversions.converted_at > {{ starts }}.started_at
    {%- endif %}
{%- endmacro %}

{#- The disqualification reason recorded with each lead status change (Salesforce keeps it in a
    field of its own, changed with the status): one row per lead and change time. -#}
{% macro disqualification_reasons() -%}
    select lead_id, changed_at, max(new_value) as reason
    from {{ ref('stg_crm__lead_history') }}
    where lower(field_name) in {{ lower_literals(var('crm_disqualification_reason_fields')) }}
        and new_value is not null
    group by lead_id, changed_at
{%- endmacro %}

{#- Every MQL stage visit with what came next (null while still MQL) and whether sales accepted
    it: the next visit is sal, or an opportunity opened straight away. -#}
{% macro mql_handoffs() -%}
    select
        mql_visits.person_id,
        mql_visits.visit_number,
        mql_visits.entered_at,
        mql_visits.entry_total_score,
        next_visits.stage as next_stage,
        coalesce(next_visits.stage in ('sal', 'opportunity'), false) as is_accepted
    from {{ ref('fct_lead_stage_history') }} as mql_visits
    left join {{ ref('fct_lead_stage_history') }} as next_visits
        on mql_visits.person_id = next_visits.person_id
        and next_visits.visit_number = mql_visits.visit_number + 1
    where mql_visits.stage = 'mql'
{%- endmacro %}
