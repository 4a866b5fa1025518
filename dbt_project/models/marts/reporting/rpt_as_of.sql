{#- One row: the instant the scores behind the reports are computed as of (null before anyone is
    scored). -#}

select max(as_of) as as_of
from {{ ref('fct_lead_scores') }}
