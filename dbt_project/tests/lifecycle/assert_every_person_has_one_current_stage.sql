{#- Every person scored has exactly one current stage. -#}

{#- Reported as a check on the stage history (the test reads other tables too). -#}
{{ config(meta={'dagster': {'ref': {'name': 'fct_lead_stage_history'}}}) }}

with people as (
    select distinct person_id from {{ ref('fct_lead_scores') }}
),
current_stages as (
    select person_id, count(*) as current_stages
    from {{ ref('fct_lead_stage_history') }}
    where is_current
    group by person_id
)
select people.person_id, coalesce(current_stages.current_stages, 0) as current_stages
from people
left join current_stages
    on people.person_id = current_stages.person_id
where coalesce(current_stages.current_stages, 0) <> 1
