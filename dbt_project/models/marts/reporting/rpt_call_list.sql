{#- Today's call list for sales: the champion rulebook's open leads as of as_of, in the order a rep
    should call them, at most `call_list_size` people (200).

    Open: the current lifecycle stage is not disqualified, lost, won or opportunity, the person
    is no customer, has no opportunity open at as_of and may be called (not do_not_call).
    Order: MQLs first, then the total score, then recent engagement points, then the latest
    activity, then person_id, so ties at the score cap still get a stable, useful order.

    mql_at: for an MQL, the latest time the champion score crossed the threshold upwards.
    top_reasons: the rules that weigh most in the score, the same text the CRM is sent
    (fct_score_reasons).
    sla: the service-level agreement of the current stage visit not met yet, the most urgent
    first (breached, at risk, open, then the earliest deadline). -#}

with

as_of as (
    select as_of from {{ ref('int_scoring_as_of') }}
),

champion_scores as (
    select person_id, total_score, recent_engagement_score, last_activity_at, is_mql, as_of
    from {{ ref('fct_lead_scores') }}
    where is_champion
),

people as (
    select
        person_id,
        person_name,
        email,
        company_name,
        owner_id,
        owner_name,
        current_stage,
        is_customer,
        do_not_call
    from {{ ref('dim_people') }}
),

-- Deals open at as_of: created by then and not closed by then.
open_opportunities as (
    select distinct person_id
    from {{ ref('int_person_opportunities') }}
    where created_at <= (select as_of from as_of)
        and (closed_at is null or closed_at > (select as_of from as_of))
),

open_leads as (
    select champion_scores.*, people.person_name, people.email, people.company_name, people.owner_id,
        people.owner_name, people.current_stage
    from champion_scores
    inner join people
        on champion_scores.person_id = people.person_id
    left join open_opportunities
        on champion_scores.person_id = open_opportunities.person_id
    where coalesce(people.current_stage, 'name') not in ('disqualified', 'lost', 'won', 'opportunity', 'customer', 'repurchase_qualified')
        and not coalesce(people.is_customer, false)
        and not coalesce(people.do_not_call, false)
        and open_opportunities.person_id is null
),

ranked as (
    select
        *,
        row_number() over (
            order by is_mql desc, total_score desc, recent_engagement_score desc,
                last_activity_at desc nulls last, person_id asc
        ) as call_rank
    from open_leads
),

call_list as (
    select * from ranked
    where call_rank <= {{ var('call_list_size', 200) }}
),

mql_crossings as (
    select person_id, max(crossed_at) as mql_at
    from {{ ref('int_mql_crossings') }}
    where is_champion
        and direction = 'qualified'
        and crossed_at <= (select as_of from as_of)
    group by person_id
),

current_visits as (
    select person_id, visit_number
    from {{ ref('fct_lead_stage_history') }}
    where is_current
),

unmet_slas as (
    select
        slas.person_id,
        slas.policy,
        slas.status,
        slas.due_at,
        row_number() over (
            partition by slas.person_id
            order by case slas.status when 'breached' then 1 when 'at_risk' then 2 else 3 end,
                slas.due_at, slas.policy
        ) as urgency_rank
    from {{ ref('fct_lead_sla') }} as slas
    inner join current_visits
        on slas.person_id = current_visits.person_id
        and slas.visit_number = current_visits.visit_number
    where slas.met_at is null
),

final as (
    select
        call_list.call_rank,
        call_list.person_id,
        call_list.person_name,
        call_list.email,
        call_list.company_name,
        call_list.owner_id,
        call_list.owner_name,
        call_list.current_stage,
        call_list.total_score,
        call_list.recent_engagement_score,
        call_list.is_mql,
        case when call_list.is_mql then mql_crossings.mql_at end as mql_at,
        call_list.last_activity_at,
        reasons.top_reasons,
        unmet_slas.policy as sla_policy,
        unmet_slas.status as sla_status,
        unmet_slas.due_at as sla_due_at,
        call_list.as_of
    from call_list
    left join mql_crossings
        on call_list.person_id = mql_crossings.person_id
    left join {{ ref('fct_score_reasons') }} as reasons
        on call_list.person_id = reasons.person_id
    left join unmet_slas
        on call_list.person_id = unmet_slas.person_id
        and unmet_slas.urgency_rank = 1
)

select * from final
