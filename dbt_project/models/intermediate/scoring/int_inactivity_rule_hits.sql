{#- Inactivity penalties over the whole history (the guide: no web activity for a month, -5).
    A person's days without web activity count from their last web page view or visit, or from
    the record's creation when none came before it. Each such quiet period that reaches an
    inactivity rule's minimum gives one penalty: it applies from the period's start plus the
    rule's minimum days until the next web activity (or the rule's maximum days, if it has one).
    Inactivity rules are ranges on days_without_web_activity (checked with the rulebooks).
    None in snapshot_mode: a one-snapshot export has no history to be inactive in. -#}

with

as_of as (
    select as_of from {{ ref('int_scoring_as_of') }}
),

people as (
    select person_id, person_created_at as created_at from {{ ref('int_people') }}
    where is_master
        and person_created_at <= (select as_of from as_of)
),

web_activity as (
    select distinct activities.person_id, activities.activity_at
    from {{ ref('int_activities') }} as activities
    inner join people
        on activities.person_id = people.person_id
    where activities.activity_type in ('web_page_view', 'web_visit')
        and activities.activity_at <= (select as_of from as_of)
),

first_web_activity as (
    select person_id, min(activity_at) as first_web_at
    from web_activity
    group by person_id
),

-- Every instant from which days without web activity start counting.
quiet_starts as (
    select person_id, activity_at as quiet_since from web_activity
    union all
    select people.person_id, people.created_at
    from people
    left join first_web_activity
        on people.person_id = first_web_activity.person_id
    where first_web_activity.first_web_at is null
        or first_web_activity.first_web_at > people.created_at
),

quiet_periods as (
    select
        quiet_starts.person_id,
        quiet_starts.quiet_since,
        lead(quiet_starts.quiet_since) over (
            partition by quiet_starts.person_id order by quiet_starts.quiet_since
        ) as quiet_until,
        people.created_at
    from quiet_starts
    inner join people
        on quiet_starts.person_id = people.person_id
),

rules as (
    select * from {{ ref('activity_rules') }}
    where activity_type = 'inactivity'
),

penalties as (
    select
        quiet_periods.person_id as person_id,
        rules.rulebook_id as rulebook_id,
        rules.rule_id as rule_id,
        rules.category as category,
        rules.description as description,
        cast(rules.points as {{ type_double() }}) as points,
        quiet_periods.quiet_since as quiet_since,
        {{ dbt.dateadd('day', 'cast(coalesce(rules.min_value, 0) as integer)', 'quiet_periods.quiet_since') }}
            as event_at,
        quiet_periods.created_at as created_at,
        case
            when rules.max_value is null then quiet_periods.quiet_until
            when quiet_periods.quiet_until is null
                then {{ dbt.dateadd('day', 'cast(rules.max_value as integer)', 'quiet_periods.quiet_since') }}
            else least(quiet_periods.quiet_until,
                {{ dbt.dateadd('day', 'cast(rules.max_value as integer)', 'quiet_periods.quiet_since') }})
        end as ends_at
    from quiet_periods
    cross join rules
),

final as (
    select
        person_id,
        rulebook_id,
        rule_id,
        category,
        description,
        points,
        -- one id per quiet period, so the ledger can tell a person's penalties apart
        'quiet since ' || cast(quiet_since as {{ dbt.type_string() }}) as penalty_id,
        event_at,
        -- a penalty dated before the record existed counts from the record's creation
        greatest(event_at, created_at) as starts_at,
        ends_at
    from penalties
    where event_at <= (select as_of from as_of)
        and (ends_at is null or ends_at > greatest(event_at, created_at))
        {%- if var('snapshot_mode') %}
        -- A snapshot export has no history to be inactive in.
        and false
        {%- endif %}
)

select * from final
