{#- Every move in the stage history is in lifecycle_transitions. -#}

{#- Reported as a check on the stage history (the test reads other tables too). -#}
{{ config(meta={'dagster': {'ref': {'name': 'fct_lead_stage_history'}}}) }}

select history.person_id, history.visit_number, history.previous_stage, history.stage
from {{ ref('fct_lead_stage_history') }} as history
left join {{ ref('lifecycle_transitions') }} as transitions
    on history.previous_stage = transitions.from_stage
    and history.stage = transitions.to_stage
where history.previous_stage is not null
    and transitions.to_stage is null
