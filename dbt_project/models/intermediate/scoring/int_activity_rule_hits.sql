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

candidates as (
    select
        activities.person_id as person_id,
        activities.activity_id as activity_id,
        activities.activity_type as activity_type,
        activities.activity_at as activity_at,
        activities.product_line as product_line,
        rules.rulebook_id as rulebook_id,
        rules.rule_id as rule_id,
        rules.operator as operator,
        rules.value as value,
        rules.min_value as min_value,
        rules.max_value as max_value,
        rules.product_line as rule_product_line,
        {{ rule_attribute_text('rules.attribute', 'activities',
            var('scoring_activity_attributes') | reject('equalto', 'days_without_web_activity') | list) }}
            as attribute_value
    from scoped_activities as activities
    inner join rules
        on activities.activity_type = rules.activity_type
),

matching_values as (
    {{ matching_rule_values('candidates') }}
),

matched as (
    select candidates.*
    from candidates
    inner join matching_values
        on {{ same_rule_value('candidates', 'matching_values') }}
    where candidates.rule_product_line is null or candidates.rule_product_line = candidates.product_line
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
