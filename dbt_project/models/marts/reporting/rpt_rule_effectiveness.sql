{#- Does each rule predict opportunities? Per motion, rulebook and rule: among the people (or
    customer accounts) active in the conversion window, conversion of those who triggered the
    rule against those who did not, with the lift, its 95% confidence interval and the points
    the data suggests. Two motions, measured apart:
    - new_business, the lead rules (activity_rules, profile_rules) on people: active means an
      activity or inactivity ledger row of the rulebook in the window;
    - repurchase, the customer rules (customer_rules) on customer accounts: active means a term
      of int_repurchase_score_events starting in the window (a cycle step, a signal); triggered
      from the rule's first term in it; converted, an opportunity of the account opened after
      that start within conversion_horizon_days. Accounts with an opportunity open at the start
      are left out (already in a deal). The people_* and converted_* columns count accounts.

    - Triggered: an activity or inactivity rule with a ledger row in the window, counted from
      the first one; a profile rule the person holds at as_of, counted from their first
      activity in the window. Not triggered: counted from their first activity in the window.
    - Converted: a first conversion (fct_conversions, by default the first opportunity) after
      that start, within conversion_horizon_days. People converted at or before it (in a deal,
      customers) are left out: a repurchase or a second deal is not a conversion. In
      snapshot_mode, converted at all.
    - lift = rate_triggered / rate_not_triggered; its 95% confidence interval is the log
      relative-risk (Katz) normal approximation, exp(ln(lift) +- 1.96 * sqrt(1/a - 1/n1 + 1/c - 1/n0)),
      undefined when either group has no conversion.
    - suggested_points = ln(odds ratio) * scale, the odds ratio with 0.5 added to each cell
      (Haldane-Anscombe, so it is always defined) and scale = the rulebook's average |points|
      / average |ln(odds ratio)|, both over its rules with enough people: the same spread of
      points, redistributed by predictive strength; rounded to one decimal.
    - weighting: too_few_people when either group has fewer than rule_effectiveness_min_people
      people, else over_weighted / under_weighted when points exceed / fall short of
      suggested_points by more than rule_points_tolerance, else about_right. -#}

-- Read in snapshot_mode only; listed always, so the lineage is the same whatever the vars.
-- depends_on: {{ ref('int_people') }}

with

window_bounds as (
    {{ conversion_window() }}
),

rules as (
    select 'new_business' as motion, rulebook_id, rule_id, 'activity' as rule_kind, category, description, points
    from {{ ref('activity_rules') }}
    -- Account signal rules score accounts, never people.
    where activity_type <> 'account_signal'
    union all
    select 'new_business', rulebook_id, rule_id, 'profile', category, description, points
    from {{ ref('profile_rules') }}
    union all
    select 'repurchase', rulebook_id, rule_id, 'customer', 'customer', description, points
    from {{ ref('customer_rules') }}
),

ledger as (
    select rulebook_id, rule_id, source_type, person_id, event_at
    from {{ ref('fct_score_ledger') }}
    where source_type in ('profile', 'activity', 'inactivity')
),

window_activity as (
    select ledger.*
    from ledger
    cross join window_bounds
    where ledger.source_type in ('activity', 'inactivity')
        and ledger.event_at >= window_bounds.window_start
        and ledger.event_at < window_bounds.window_end
),

population as (
    {%- if var('snapshot_mode') %}
    -- One snapshot without event times: everyone, as of as_of.
    select distinct rules.rulebook_id, people.person_id, window_bounds.as_of as first_active_at
    from rules
    cross join (select person_id from {{ ref('int_people') }} where is_master) as people
    cross join window_bounds
    {%- else %}
    select rulebook_id, person_id, min(event_at) as first_active_at
    from window_activity
    group by rulebook_id, person_id
    {%- endif %}
),

first_triggers as (
    select rulebook_id, rule_id, person_id, min(event_at) as triggered_at
    from window_activity
    group by rulebook_id, rule_id, person_id
    union all
    select distinct ledger.rulebook_id, ledger.rule_id, ledger.person_id, population.first_active_at
    from ledger
    inner join population
        on ledger.rulebook_id = population.rulebook_id
        and ledger.person_id = population.person_id
    where ledger.source_type = 'profile'
),

-- Whether each active person converted after their first activity in the window: the outcome
-- of everyone who did not trigger a rule, counted once per rulebook instead of once per rule.
population_starts as (
    select rulebook_id, person_id, first_active_at as started_at
    from population
),

population_conversions as (
    {{ conversions_after('population_starts', ['rulebook_id']) }}
),

trigger_starts as (
    select rulebook_id, rule_id, person_id, triggered_at as started_at
    from first_triggers
),

trigger_conversions as (
    {{ conversions_after('trigger_starts', ['rulebook_id', 'rule_id']) }}
),

-- Per rule: the people who triggered it, and how those people converted from their first
-- activity (taken out of the population's counts to leave those who did not trigger it).
trigger_counts as (
    select
        trigger_conversions.rulebook_id,
        trigger_conversions.rule_id,
        count(*) as people_triggered,
        sum(trigger_conversions.is_converted) as converted_triggered,
        sum(population_conversions.is_converted) as converted_from_first_activity
    from trigger_conversions
    inner join population_conversions
        on trigger_conversions.rulebook_id = population_conversions.rulebook_id
        and trigger_conversions.person_id = population_conversions.person_id
    group by trigger_conversions.rulebook_id, trigger_conversions.rule_id
),

population_counts as (
    select rulebook_id, count(*) as people, sum(is_converted) as converted
    from population_conversions
    group by rulebook_id
),

-- The repurchase motion: customer accounts and the terms of their repurchase score.
account_window_terms as (
    select terms.rulebook_id, terms.rule_id, terms.account_id, terms.starts_at
    from {{ ref('int_repurchase_score_events') }} as terms
    cross join window_bounds
    where terms.starts_at >= window_bounds.window_start
        and terms.starts_at < window_bounds.window_end
),

account_population_starts as (
    select rulebook_id, cast(null as {{ dbt.type_string() }}) as rule_id, account_id, min(starts_at) as started_at
    from account_window_terms
    group by rulebook_id, account_id
    union all
    select rulebook_id, rule_id, account_id, min(starts_at)
    from account_window_terms
    group by rulebook_id, rule_id, account_id
),

-- Each start with is_converted (an opportunity opened after it within the horizon and by
-- as_of), accounts in an open deal at the start left out.
account_conversions as (
    select
        starts.rulebook_id,
        starts.rule_id,
        starts.account_id,
        max(case when opportunities.created_at > starts.started_at
            and opportunities.created_at <= {{ dbt.dateadd('day', var('conversion_horizon_days'), 'starts.started_at') }}
            and opportunities.created_at <= window_bounds.as_of then 1 else 0 end) as is_converted,
        max(case when {{ deal_open_at('opportunities', 'starts.started_at') }} then 1 else 0 end) as is_in_deal
    from account_population_starts as starts
    cross join window_bounds
    left join {{ ref('int_account_opportunities') }} as opportunities
        on starts.account_id = opportunities.account_id
    group by starts.rulebook_id, starts.rule_id, starts.account_id
),

account_population_conversions as (
    select rulebook_id, account_id, is_converted
    from account_conversions
    where rule_id is null
        and is_in_deal = 0
),

account_trigger_counts as (
    select
        triggers.rulebook_id,
        triggers.rule_id,
        count(*) as people_triggered,
        sum(triggers.is_converted) as converted_triggered,
        sum(population.is_converted) as converted_from_first_activity
    from account_conversions as triggers
    inner join account_population_conversions as population
        on triggers.rulebook_id = population.rulebook_id
        and triggers.account_id = population.account_id
    where triggers.rule_id is not null
        and triggers.is_in_deal = 0
    group by triggers.rulebook_id, triggers.rule_id
),

account_population_counts as (
    select rulebook_id, count(*) as people, sum(is_converted) as converted
    from account_population_conversions
    group by rulebook_id
),

motion_trigger_counts as (
    select 'new_business' as motion, trigger_counts.* from trigger_counts
    union all
    select 'repurchase', account_trigger_counts.* from account_trigger_counts
),

motion_population_counts as (
    select 'new_business' as motion, population_counts.* from population_counts
    union all
    select 'repurchase', account_population_counts.* from account_population_counts
),

counts as (
    select
        rules.motion,
        rules.rulebook_id,
        rules.rule_id,
        cast(coalesce(trigger_counts.people_triggered, 0) as {{ dbt.type_bigint() }}) as people_triggered,
        cast(coalesce(trigger_counts.converted_triggered, 0) as {{ dbt.type_bigint() }}) as converted_triggered,
        cast(coalesce(population_counts.people, 0) - coalesce(trigger_counts.people_triggered, 0) as {{ dbt.type_bigint() }})
            as people_not_triggered,
        cast(coalesce(population_counts.converted, 0) - coalesce(trigger_counts.converted_from_first_activity, 0)
            as {{ dbt.type_bigint() }}) as converted_not_triggered
    from rules
    left join motion_trigger_counts as trigger_counts
        on rules.motion = trigger_counts.motion
        and rules.rulebook_id = trigger_counts.rulebook_id
        and rules.rule_id = trigger_counts.rule_id
    left join motion_population_counts as population_counts
        on rules.motion = population_counts.motion
        and rules.rulebook_id = population_counts.rulebook_id
),

rates as (
    select
        counts.*,
        -- In double precision: with literals such as 1.0 or 0.5, Spark computes in decimals and
        -- rounds each division to 6 decimal places.
        case when counts.people_triggered > 0
            then {{ to_double('counts.converted_triggered') }} / counts.people_triggered end as rate_triggered,
        case when counts.people_not_triggered > 0
            then {{ to_double('counts.converted_not_triggered') }} / counts.people_not_triggered end
            as rate_not_triggered,
        ln(
            (({{ to_double('counts.converted_triggered') }} + 0.5)
                * (counts.people_not_triggered - counts.converted_not_triggered + 0.5))
            / ((counts.people_triggered - counts.converted_triggered + 0.5) * (counts.converted_not_triggered + 0.5))
        ) as log_odds_ratio,
        -- Both relative-risk terms need a conversion in each group.
        case when counts.converted_triggered > 0 and counts.converted_not_triggered > 0 then sqrt(
            {{ to_double(1) }} / counts.converted_triggered - {{ to_double(1) }} / counts.people_triggered
            + {{ to_double(1) }} / counts.converted_not_triggered - {{ to_double(1) }} / counts.people_not_triggered
        ) end as log_lift_standard_error,
        counts.people_triggered >= {{ var('rule_effectiveness_min_people') }}
            and counts.people_not_triggered >= {{ var('rule_effectiveness_min_people') }} as has_enough_people
    from counts
),

scales as (
    select
        rates.motion,
        rates.rulebook_id,
        avg(abs(rules.points)) / nullif({{ stable_avg('abs(rates.log_odds_ratio)') }}, 0) as points_per_log_odds
    from rates
    inner join rules
        on rates.motion = rules.motion
        and rates.rulebook_id = rules.rulebook_id
        and rates.rule_id = rules.rule_id
    where rates.has_enough_people
    group by rates.motion, rates.rulebook_id
),

suggestions as (
    select
        rates.*,
        case when rates.has_enough_people then
            round(rates.log_odds_ratio * scales.points_per_log_odds, 1)
        end as suggested_points
    from rates
    left join scales
        on rates.motion = scales.motion
        and rates.rulebook_id = scales.rulebook_id
),

final as (
    select
        rates.motion,
        rates.rulebook_id,
        rates.rulebook_id = '{{ var("champion_rulebook") }}' as is_champion,
        rates.rule_id,
        rules.rule_kind,
        rules.category,
        rules.description,
        rules.points,
        rates.people_triggered,
        rates.converted_triggered,
        rates.rate_triggered,
        rates.people_not_triggered,
        rates.converted_not_triggered,
        rates.rate_not_triggered,
        rates.rate_triggered / nullif(rates.rate_not_triggered, 0) as lift,
        case when rates.log_lift_standard_error is not null then exp(
            ln(rates.rate_triggered / rates.rate_not_triggered) - 1.96 * rates.log_lift_standard_error
        ) end as lift_ci_lower,
        case when rates.log_lift_standard_error is not null then exp(
            ln(rates.rate_triggered / rates.rate_not_triggered) + 1.96 * rates.log_lift_standard_error
        ) end as lift_ci_upper,
        rates.log_odds_ratio,
        rates.suggested_points,
        case
            when rates.suggested_points is null then 'too_few_people'
            when rules.points - rates.suggested_points > {{ var('rule_points_tolerance') }} then 'over_weighted'
            when rates.suggested_points - rules.points > {{ var('rule_points_tolerance') }} then 'under_weighted'
            else 'about_right'
        end as weighting,
        window_bounds.window_start,
        window_bounds.window_end,
        window_bounds.as_of
    from suggestions as rates
    inner join rules
        on rates.motion = rules.motion
        and rates.rulebook_id = rules.rulebook_id
        and rates.rule_id = rules.rule_id
    cross join window_bounds
)

select * from final
