{#- Everything that can move a person between lifecycle stages, up to as_of, one row per event:
    the first web visit before the person was known (anonymous), the CRM record's creation
    (name), champion MQL crossings, CRM status changes (sales accepted, disqualified), recycles,
    opportunities opened and closed, customers and their accounts' repurchase crossings, and
    MQLs that expired: a champion score that stayed under
    the threshold for the rulebook's mql_expiry_days (seed; empty: never) goes back to nurturing,
    but only from the mql stage (only_from_stage: sales acceptance stops the clock). The stage
    history decides which of them move the person. -#}

with

as_of as (
    select as_of from {{ ref('int_scoring_as_of') }}
),

people as (
    select person_id, person_created_at, person_type
    from {{ ref('int_people') }}
    where is_master
        and person_created_at <= (select as_of from as_of)
),

first_visits as (
    select activities.person_id, min(activities.activity_at) as first_visit_at
    from {{ ref('int_activities') }} as activities
    inner join people
        on activities.person_id = people.person_id
    where activities.activity_type in ('web_page_view', 'web_visit')
        and activities.activity_at < people.person_created_at
    group by activities.person_id
),

status_changes as (
    select * from {{ ref('int_lead_status_changes') }}
    where changed_at <= (select as_of from as_of)
),

-- Salesforce keeps the disqualification reason in its own field, changed with the status.
reasons as (
    {{ disqualification_reasons() }}
),

opportunities as (
    select * from {{ ref('int_person_opportunities') }}
    where created_at <= (select as_of from as_of)
),

events as (
    select person_id, first_visit_at as event_at, 'anonymous' as stage,
        'first web visit' as cause, cast(null as {{ dbt.type_string() }}) as source_id
    from first_visits
    union all
    select person_id, person_created_at, 'name', 'CRM ' || person_type || ' created', person_id as source_id
    from people
    union all
    select person_id, crossed_at, 'mql',
        'score ' || cast(cast(round(total_score, 1) as decimal(10, 1)) as {{ dbt.type_string() }})
            || ' crossed ' || cast(cast(mql_threshold as decimal(10, 1)) as {{ dbt.type_string() }})
            || case crossing_kind
                when 'earned' then coalesce(' with ' || crossing_rule_id, '')
                when 'expired' then coalesce(' as ' || crossing_rule_id || ' expired', '')
                when 'recycled' then ' at a recycle'
                when 'score_set' then ' (score set by hand)'
                when 'created' then ' when the record was created'
                when 'decay' then ' as negative points decayed'
                else ''
            end,
        crossing_source_id
    from {{ ref('int_mql_crossings') }}
    where is_champion
        and direction = 'qualified'
        and crossed_at <= (select as_of from as_of)
    union all
    select
        status_changes.person_id,
        status_changes.changed_at,
        case status_changes.new_status_category
            when 'working' then 'sal'
            when 'disqualified' then 'disqualified'
        end,
        'CRM status ' || coalesce(status_changes.old_status, '?') || ' -> ' || coalesce(status_changes.new_status, '?')
            || coalesce(': ' || reasons.reason, '')
            || coalesce(' by ' || status_changes.changed_by_user_id, ''),
        status_changes.status_change_id
    from status_changes
    left join reasons
        on status_changes.crm_id = reasons.lead_id
        and status_changes.changed_at = reasons.changed_at
    where status_changes.new_status_category in ('working', 'disqualified')
    union all
    select person_id, recycled_at, 'recycled',
        case recycled_by when 'rule' then 'recycled by rule: ' else '' end || cause, recycle_id
    from {{ ref('int_recycles') }}
    where recycled_at <= (select as_of from as_of)
    union all
    select person_id, created_at, 'opportunity', 'opportunity ' || coalesce(opportunity_name, opportunity_id) || ' opened',
        opportunity_id
    from opportunities
    union all
    select person_id, closed_at, case when is_won then 'won' else 'lost' end,
        'opportunity ' || coalesce(opportunity_name, opportunity_id) || case when is_won then ' won' else ' lost' end,
        opportunity_id
    from opportunities
    where is_closed
        and closed_at <= (select as_of from as_of)
),

stages as (
    select stage, stage_order from {{ ref('lifecycle_stages') }}
),

champion_crossings as (
    select * from {{ ref('int_mql_crossings') }}
    where is_champion
        and crossed_at <= (select as_of from as_of)
),

expiry as (
    select cast(mql_expiry_days as {{ type_double() }}) as expiry_days
    from {{ ref('rulebooks') }}
    where rulebook_id = '{{ var("champion_rulebook") }}'
        and mql_expiry_days is not null
),

-- Each fall under the threshold, with the next time the score qualified again.
drops as (
    select
        fall.person_id,
        fall.crossed_at as dropped_at,
        fall.mql_threshold,
        min(requalified.crossed_at) as requalified_at
    from champion_crossings as fall
    left join champion_crossings as requalified
        on fall.person_id = requalified.person_id
        and requalified.direction = 'qualified'
        and requalified.crossed_at > fall.crossed_at
    where fall.direction = 'unqualified'
    group by fall.person_id, fall.crossed_at, fall.mql_threshold
),

expiries as (
    select
        drops.person_id,
        {{ add_days('drops.dropped_at', 'expiry.expiry_days') }} as expired_at,
        'MQL expired: score under ' || cast(cast(drops.mql_threshold as decimal(10, 1)) as {{ dbt.type_string() }})
            || ' for ' || cast(cast(expiry.expiry_days as decimal(10, 1)) as {{ dbt.type_string() }})
            || ' days without sales acceptance' as cause
    from drops
    cross join expiry
    where {{ add_days('drops.dropped_at', 'expiry.expiry_days') }} <= (select as_of from as_of)
        and (drops.requalified_at is null
            or drops.requalified_at > {{ add_days('drops.dropped_at', 'expiry.expiry_days') }})
),

-- Customers: the people of a won deal become customers when it closes, and stay customers
-- after a lost deal once their account has bought. The champion's repurchase crossings of the
-- account (int_repurchase_crossings) move its customers to repurchase_qualified and back.
account_deals as (
    select opportunities.*, accounts.account_id
    from opportunities
    inner join {{ ref('int_account_opportunities') }} as accounts
        on opportunities.opportunity_id = accounts.opportunity_id
    where opportunities.is_closed
        and opportunities.closed_at <= (select as_of from as_of)
),

account_customers as (
    select account_id, person_id, min(closed_at) as customer_since
    from account_deals
    where is_won
        and account_id is not null
    group by account_id, person_id
),

customer_events as (
    select person_id, closed_at as event_at, 'customer' as stage,
        'customer since opportunity ' || coalesce(opportunity_name, opportunity_id) || ' won' as cause,
        opportunity_id as source_id, 'won' as only_from_stage
    from account_deals
    where is_won
    union all
    select account_deals.person_id, account_deals.closed_at, 'customer',
        'still a customer after opportunity ' || coalesce(account_deals.opportunity_name, account_deals.opportunity_id)
            || ' lost',
        account_deals.opportunity_id, 'lost'
    from account_deals
    inner join (
        select account_id, min(purchased_at) as first_purchase_at
        from {{ ref('int_account_purchases') }}
        group by account_id
    ) as buyers
        on account_deals.account_id = buyers.account_id
        and buyers.first_purchase_at < account_deals.closed_at
    where not account_deals.is_won
    union all
    select
        account_customers.person_id,
        crossings.crossed_at,
        case crossings.direction when 'qualified' then 'repurchase_qualified' else 'customer' end,
        'repurchase score ' || {{ one_decimal('crossings.repurchase_score') }}
            || case crossings.direction when 'qualified' then ' crossed ' else ' fell under ' end
            || {{ one_decimal('crossings.repurchase_threshold') }}
            || coalesce(' with ' || crossings.crossing_rule_id, ''),
        'repurchase ' || crossings.account_id || ' ' || cast(crossings.crossed_at as {{ dbt.type_string() }}),
        case crossings.direction when 'qualified' then 'customer' else 'repurchase_qualified' end
    from {{ ref('int_repurchase_crossings') }} as crossings
    inner join account_customers
        on crossings.account_id = account_customers.account_id
        and crossings.crossed_at >= account_customers.customer_since
    where crossings.is_champion
        and crossings.crossed_at <= (select as_of from as_of)
),

all_events as (
    select *, cast(null as {{ dbt.type_string() }}) as only_from_stage from events
    union all
    select person_id, expired_at, 'recycled', cause,
        'mql expiry ' || cast(expired_at as {{ dbt.type_string() }}), 'mql'
    from expiries
    union all
    select * from customer_events
),

final as (
    select
        events.person_id as person_id,
        events.event_at,
        events.stage,
        events.cause,
        events.source_id,
        events.only_from_stage,
        -- Events at the same instant apply in funnel order (created, then qualified, then accepted...).
        row_number() over (
            partition by events.person_id
            order by events.event_at, stages.stage_order, events.source_id
        ) as event_number
    from all_events as events
    inner join stages
        on events.stage = stages.stage
)

select * from final
