{#- Inactivity penalties (the guide: no web activity for a month, -5): for each person, the days
    since the last web page view or visit (or since the record was created, for people never
    seen on the site) as of as_of, tested against the rulebook's `inactivity` rules. The penalty
    is dated when it started to apply. -#}

with

as_of as (
    select as_of from {{ ref('int_scoring_as_of') }}
),

people as (
    select person_id, person_created_at as created_at from {{ ref('int_people') }}
    where is_master
),

last_web_activity as (
    select person_id, max(activity_at) as last_web_at
    from {{ ref('int_activities') }}
    where activity_type in ('web_page_view', 'web_visit')
        and activity_at <= (select as_of from as_of)
    group by person_id
),

inactivity as (
    select
        people.person_id as person_id,
        coalesce(last_web_activity.last_web_at, people.created_at) as inactive_since,
        {{ age_in_days('coalesce(last_web_activity.last_web_at, people.created_at)', '(select as_of from as_of)') }}
            as days_without_web_activity
    from people
    left join last_web_activity
        on people.person_id = last_web_activity.person_id
    where people.created_at <= (select as_of from as_of)
),

rules as (
    select * from {{ ref('activity_rules') }}
    where activity_type = 'inactivity'
),

hits as (
    select
        inactivity.person_id as person_id,
        rules.rulebook_id as rulebook_id,
        rules.rule_id as rule_id,
        rules.category as category,
        rules.description as description,
        cast(rules.points as {{ type_double() }}) as points,
        {{ dbt.dateadd('day', 'cast(coalesce(rules.min_value, 0) as integer)', 'inactivity.inactive_since') }}
            as event_at
    from inactivity
    inner join rules
        on {{ rule_operator_matches('rules', dbt.safe_cast('inactivity.days_without_web_activity', dbt.type_string())) }}
)

select * from hits
