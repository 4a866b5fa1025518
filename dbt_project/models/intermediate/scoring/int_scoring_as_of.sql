{#- The instant scores are computed for: the `as_of` var when given, else the end of the loaded
    data, never the wall clock, so two runs over the same data give the same scores. The end of
    the data is the latest event time of any loaded record: activities, people and accounts
    created, opportunities created and closed, lead history changes and score adjustments. So a
    CRM export with deals only (no people, no activity) is scored as of its latest deal.

    An open deal's close date is the date it is expected to close, often in the future: only
    closed deals' close dates count (as midnight UTC of that day). -#}

with

event_times as (
    select max(activity_at) as latest_at from {{ ref('int_activities') }}
    union all
    select max(created_at) as latest_at from {{ ref('int_people') }}
    union all
    select max(created_at) as latest_at from {{ ref('stg_crm__accounts') }}
    union all
    select max(created_at) as latest_at from {{ ref('stg_crm__opportunities') }}
    union all
    select max(cast(close_date as {{ dbt.type_timestamp() }})) as latest_at
    from {{ ref('stg_crm__opportunities') }}
    where is_closed
    union all
    select max(changed_at) as latest_at from {{ ref('stg_crm__lead_history') }}
    union all
    select max(adjusted_at) as latest_at from {{ ref('stg_adjustments__score_adjustments') }}
),

resolved as (
    {% if var('as_of') -%}
    select cast('{{ var("as_of") }}' as timestamp) as as_of
    {%- else -%}
    select coalesce(max(latest_at), cast('1970-01-01' as timestamp)) as as_of
    from event_times
    {%- endif %}
)

select * from resolved
