{#- Profile (fit, data quality, profile-based engagement) rules that hold for a person: one row
    per person, rulebook and rule. Evaluated on master records only (one per real person). -#}

with

as_of as (
    select as_of from {{ ref('int_scoring_as_of') }}
),

-- Only people who exist at as_of (scoring a past date must not see later records).
people as (
    select * from {{ ref('int_people') }}
    where is_master
        and person_created_at <= (select as_of from as_of)
),

rules as (
    select * from {{ ref('profile_rules') }}
),

candidates as (
    select
        people.person_id as person_id,
        people.person_created_at as created_at,
        rules.rulebook_id as rulebook_id,
        rules.rule_id as rule_id,
        rules.operator as operator,
        rules.value as value,
        rules.min_value as min_value,
        rules.max_value as max_value,
        {{ rule_attribute_text('rules.attribute', 'people', var('scoring_profile_attributes'), true) }}
            as attribute_value
    from people
    cross join rules
    where rules.operator <> 'sql'
),

matching_values as (
    {{ matching_rule_values('candidates') }}
),

data_driven_hits as (
    select candidates.person_id, candidates.rulebook_id, candidates.rule_id
    from candidates
    inner join matching_values
        on {{ same_rule_value('candidates', 'matching_values') }}
),

sql_rule_hits as (
    {{ sql_rule_hits(ref('profile_rules'), 'people', 'person_id') }}
),

hits as (
    select * from data_driven_hits
    union all
    select * from sql_rule_hits
),

described as (
    select
        hits.person_id as person_id,
        hits.rulebook_id as rulebook_id,
        hits.rule_id as rule_id,
        rules.component as component,
        rules.category as category,
        rules.description as description,
        cast(rules.points as {{ type_double() }}) as points,
        people.person_created_at as event_at
    from hits
    inner join rules
        on hits.rulebook_id = rules.rulebook_id
        and hits.rule_id = rules.rule_id
    inner join people
        on hits.person_id = people.person_id
)

select * from described
