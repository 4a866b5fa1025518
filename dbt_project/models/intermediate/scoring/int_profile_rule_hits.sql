{#- Profile (fit, data quality, profile-based engagement) rules that hold for a person: one row
    per person, rulebook and rule. Evaluated on master records only (one per real person).

    Incremental per person: a person's hits are a function of their master record (every
    column: a `sql` rule may read any) and the profile rules. A run recomputes the people whose
    record changed or is new (_inputs_digest), drops those gone or created after as_of, and
    recomputes everyone after an edit of the rules or of the profile attributes
    (_settings_fingerprint); see macros/incremental/keyed_rewrites.sql. Spark rebuilds it in
    full. -#}

{{ keyed_rewrite_config(['person_id']) }}

{%- set fingerprint = settings_fingerprint(['profile_rules'],
    {'profile_attributes': var('scoring_profile_attributes')}) %}
{%- set record_columns = [] %}
{%- for column in (adapter.get_columns_in_relation(ref('int_people')) if execute else []) %}
    {%- do record_columns.append('people.' ~ adapter.quote(column.name)) %}
{%- endfor %}

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

-- What a person's hits are computed from: their whole master record.
people_digests as (
    select person_id, {{ row_hash(record_columns or ['person_id']) }} as inputs_digest
    from people
),

scope as (
    {{ changed_digest_keys('people_digests', ['person_id'], fingerprint) }}
),

scoped_people as (
    select * from people
    {%- if is_incremental() %}
    where person_id in (select person_id from scope)
    {%- endif %}
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
    from scoped_people as people
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
    {{ sql_rule_hits(ref('profile_rules'), 'scoped_people', 'person_id') }}
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
        people.person_created_at as event_at,
        people_digests.inputs_digest as _inputs_digest,
        run_values.fingerprint as _settings_fingerprint
    from hits
    inner join rules
        on hits.rulebook_id = rules.rulebook_id
        and hits.rule_id = rules.rule_id
    inner join scoped_people as people
        on hits.person_id = people.person_id
    inner join people_digests
        on hits.person_id = people_digests.person_id
    {{ run_values(fingerprint) }}
)

select * from described
{{ tombstone_rows('scope', 'people_digests', ['person_id']) }}
