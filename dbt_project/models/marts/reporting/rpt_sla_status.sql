{#- Service-level agreements per policy and status as of as_of (fct_lead_sla). -#}

select
    policy,
    status,
    count(*) as slas
from {{ ref('fct_lead_sla') }}
group by policy, status
