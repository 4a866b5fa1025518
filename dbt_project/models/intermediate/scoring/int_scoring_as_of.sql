{#- The instant scores are computed for: the `as_of` var when given, else the end of the loaded
    data (the latest activity or CRM record), never the wall clock, so two runs over the same
    data give the same scores. -#}

with

latest_activity as (
    select max(activity_at) as latest_at from {{ ref('int_activities') }}
),

latest_person as (
    select max(created_at) as latest_at from {{ ref('int_people') }}
),

resolved as (
    select
        {% if var('as_of') -%}
        cast('{{ var("as_of") }}' as timestamp) as as_of
        {%- else -%}
        greatest(
            coalesce((select latest_at from latest_activity), cast('1970-01-01' as timestamp)),
            coalesce((select latest_at from latest_person), cast('1970-01-01' as timestamp))
        ) as as_of
        {%- endif %}
)

select * from resolved
