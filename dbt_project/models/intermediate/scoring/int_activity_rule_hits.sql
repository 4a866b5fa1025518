{#- Activity (behavior) rules that match an activity: one row per activity, rulebook and rule,
    with the points after the rule's cap per period (for example web visits at most N points a
    day): within a period the earliest activities get their points first.

    Incremental per person: a person's hits are a function of their activities (company signals
    included) and the activity rules. A run recomputes the people whose activities changed
    (_inputs_digest) and every person after an edit of the rules (_settings_fingerprint); see
    macros/incremental/keyed_rewrites.sql. Spark rebuilds it in full. -#}

{{ keyed_rewrite_config(['person_id']) }}

{%- set detail_columns = var('scoring_activity_attributes') | reject('equalto', 'days_without_web_activity') | list %}
{%- set fingerprint = settings_fingerprint(['activity_rules'], {'activity_attributes': detail_columns}) %}

with

as_of as (
    select as_of from {{ ref('int_scoring_as_of') }}
),

person_activities as (
    select * from {{ ref('int_activities') }}
    where person_id is not null
        and activity_at <= (select as_of from as_of)
),

-- Company signals: an account signal (intent, funding, hiring) also counts for each person whose
-- e-mail domain is the signal's company domain, as activity type `company_signal`. Rulebooks
-- without company_signal rules are unaffected.
company_signal_activities as (
    select
        signals.activity_id || '|' || people.person_id as activity_id,
        people.person_id as person_id,
        'company_signal' as activity_type,
        signals.activity_at as activity_at,
        signals.product_line as product_line
        {%- for column in detail_columns %},
        signals.{{ column }} as {{ column }}
        {%- endfor %}
    from {{ ref('int_activities') }} as signals
    inner join {{ ref('int_people') }} as people
        on signals.company_domain = people.email_domain
    where signals.activity_type = 'account_signal'
        and signals.activity_at <= (select as_of from as_of)
        and people.is_master
        and not coalesce(people.is_free_mail, false)
),

activities as (
    select
        activity_id, person_id, activity_type, activity_at, product_line
        {%- for column in detail_columns %}, {{ column }}{% endfor %}
    from person_activities
    union all
    select * from company_signal_activities
),

activity_digests as (
    select
        person_id,
        {{ unordered_digest_agg(['activity_id', 'activity_type', 'activity_at', 'product_line'] + detail_columns) }}
            as inputs_digest
    from activities
    group by person_id
),

scope as (
    {{ changed_digest_keys('activity_digests', ['person_id'], fingerprint) }}
),

scoped_activities as (
    select activities.*
    from activities
    {%- if is_incremental() %}
    where activities.person_id in (select person_id from scope)
    {%- endif %}
),

rules as (
    select * from {{ ref('activity_rules') }}
    where activity_type <> 'inactivity'
),

-- The attributes the rules of each activity type read (one or two): an activity's value is
-- taken once per attribute, not once per rule (a row per activity and rule was 37M rows at
-- medium size, stored and joined back).
rule_attributes as (
    select distinct activity_type, coalesce(attribute, '') as attribute
    from rules
),

activity_values as {{ inline_cte() }} (
    select
        activities.person_id as person_id,
        activities.activity_id as activity_id,
        activities.activity_type as activity_type,
        activities.activity_at as activity_at,
        activities.product_line as product_line,
        rule_attributes.attribute as attribute,
        {{ rule_attribute_text('rule_attributes.attribute', 'activities', detail_columns) }} as attribute_value
    from scoped_activities as activities
    inner join rule_attributes
        on activities.activity_type = rule_attributes.activity_type
),

-- Each rule is tested once per distinct value of its attribute: values repeat (page paths,
-- form names), and a regex read from a column is compiled again for every row it is tested on.
attribute_values as (
    select distinct activity_type, attribute, attribute_value
    from activity_values
),

matching_values as (
    select
        rules.rulebook_id,
        rules.rule_id,
        rules.product_line as rule_product_line,
        attribute_values.activity_type,
        attribute_values.attribute,
        attribute_values.attribute_value
    from attribute_values
    inner join rules
        on attribute_values.activity_type = rules.activity_type
        and attribute_values.attribute = coalesce(rules.attribute, '')
    where {{ rule_operator_matches('rules', 'attribute_values.attribute_value') }}
),

matched as (
    select
        activity_values.person_id,
        activity_values.activity_id,
        activity_values.activity_type,
        activity_values.activity_at,
        activity_values.product_line,
        matching_values.rulebook_id,
        matching_values.rule_id
    from activity_values
    inner join matching_values
        on activity_values.activity_type = matching_values.activity_type
        and activity_values.attribute = matching_values.attribute
        and {{ same_attribute_value('activity_values.attribute_value', 'matching_values.attribute_value') }}
    where matching_values.rule_product_line is null
        or matching_values.rule_product_line = activity_values.product_line
),

with_rule as (
    select
        matched.person_id as person_id,
        matched.activity_id as activity_id,
        matched.activity_type as activity_type,
        matched.activity_at as event_at,
        matched.product_line as product_line,
        matched.rulebook_id as rulebook_id,
        matched.rule_id as rule_id,
        rules.category as category,
        rules.description as description,
        rules.decay_profile_id as decay_profile_id,
        cast(rules.points as {{ type_double() }}) as points,
        cast(rules.cap_points as {{ type_double() }}) as cap_points,
        case rules.cap_period
            when 'day' then {{ dbt.date_trunc('day', 'matched.activity_at') }}
            when 'week' then {{ dbt.date_trunc('week', 'matched.activity_at') }}
            when 'month' then {{ dbt.date_trunc('month', 'matched.activity_at') }}
            when 'year' then {{ dbt.date_trunc('year', 'matched.activity_at') }}
        end as cap_period_start
    from matched
    inner join rules
        on matched.rulebook_id = rules.rulebook_id
        and matched.rule_id = rules.rule_id
),

running as (
    select
        *,
        sum(points) over (
            partition by person_id, rulebook_id, rule_id, cap_period_start
            order by event_at, activity_id
            rows between unbounded preceding and current row
        ) - points as points_before_in_period
    from with_rule
),

capped as (
    select
        running.person_id,
        running.activity_id,
        running.activity_type,
        running.event_at,
        running.product_line,
        running.rulebook_id,
        running.rule_id,
        running.category,
        running.description,
        running.decay_profile_id,
        running.points,
        case
            when running.cap_points is null or running.points <= 0 then running.points
            else greatest(0, least(running.points, running.cap_points - running.points_before_in_period))
        end as points_after_cap,
        activity_digests.inputs_digest as _inputs_digest,
        run_values.fingerprint as _settings_fingerprint
    from running
    -- The digest joins the final rows: joined before the window it cost a third of the model.
    inner join activity_digests
        on running.person_id = activity_digests.person_id
    {{ run_values(fingerprint) }}
)

select * from capped
{{ tombstone_rows('scope', 'activity_digests', ['person_id']) }}
