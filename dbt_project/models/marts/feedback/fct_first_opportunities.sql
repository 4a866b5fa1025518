{#- Each person's first opportunity, whichever of their records carries it: the label of the
    predictive score and the outcome the backtests measure every scorer against. -#}

select
    person_id as crm_id,
    min(created_at) as first_opportunity_at
from {{ ref('int_person_opportunities') }}
group by person_id
