{#- The guide's campaign-to-opportunity table (Adobe's feedback loop): for each CRM campaign and
    each behaviour rule of the champion rulebook, the people it touched in the conversion window
    and how many of them converted for the first time (fct_conversions: by default their first
    opportunity) after their first touch in the window, within conversion_horizon_days; people
    converted before it (in a deal, customers) are left out. A campaign touches its members (whatever their status, when
    they were added); a rule touches the people it gave a ledger row to (at the activity). -#}

with

window_bounds as (
    {{ conversion_window() }}
),

person_records as (
    select crm_id, person_id from {{ ref('int_person_records') }}
),

campaigns as (
    select * from {{ ref('stg_crm__campaigns') }}
    where not is_deleted
),

campaign_touches as (
    select
        'campaign' as kind,
        members.campaign_id as campaign_or_rule,
        person_records.person_id as person_id,
        members.created_at as touched_at
    from {{ ref('stg_crm__campaign_members') }} as members
    inner join person_records
        on coalesce(members.contact_id, members.lead_id) = person_records.crm_id
    inner join campaigns
        on members.campaign_id = campaigns.campaign_id
    where not members.is_deleted
),

-- Behaviour rules: activity and inactivity rows of the champion's ledger.
rule_touches as (
    select
        'rule' as kind,
        rule_id as campaign_or_rule,
        person_id,
        event_at as touched_at
    from {{ ref('fct_score_ledger') }}
    where is_champion
        and source_type in ('activity', 'inactivity')
),

touches as (
    select * from campaign_touches
    union all
    select * from rule_touches
),

first_touches as (
    select
        touches.kind,
        touches.campaign_or_rule,
        touches.person_id,
        min(touches.touched_at) as started_at
    from touches
    cross join window_bounds
    where touches.touched_at >= window_bounds.window_start
        and touches.touched_at < window_bounds.window_end
    group by touches.kind, touches.campaign_or_rule, touches.person_id
),

conversions as (
    {{ conversions_after('first_touches', ['kind', 'campaign_or_rule']) }}
),

counts as (
    select
        kind,
        campaign_or_rule,
        count(*) as people_touched,
        cast(sum(is_converted) as {{ dbt.type_bigint() }}) as people_converted
    from conversions
    group by kind, campaign_or_rule
),

labels as (
    select
        'campaign' as kind,
        campaign_id as campaign_or_rule,
        campaign_name as label,
        campaign_type as category,
        cast(null as {{ dbt.type_int() }}) as points
    from campaigns
    union all
    select
        'rule',
        rule_id,
        description,
        category,
        points
    from {{ ref('activity_rules') }}
    where rulebook_id = '{{ var("champion_rulebook") }}'
),

final as (
    select
        counts.kind,
        counts.campaign_or_rule,
        labels.label,
        labels.category,
        labels.points,
        counts.people_touched,
        counts.people_converted,
        1.0 * counts.people_converted / counts.people_touched as conversion_ratio,
        window_bounds.window_start,
        window_bounds.window_end,
        window_bounds.as_of
    from counts
    cross join window_bounds
    left join labels
        on counts.kind = labels.kind
        and counts.campaign_or_rule = labels.campaign_or_rule
)

select * from final
