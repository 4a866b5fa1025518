{#- The points ledger: every point of every score, traceable to a rule and an event. A score is
    exactly the sum of its rows' points_as_of: rule points after the per-period cap, decay as of
    as_of and the component weight; recycle resets; manual adjustments; and rows that apply the
    component and total caps and floors.
    One row per (person, rulebook, rule, activity or attribute, recycle, adjustment, bound). -#}

with

as_of as (
    select as_of from {{ ref('int_scoring_as_of') }}
),

rulebooks as (
    select * from {{ ref('rulebooks') }}
),

decay_profiles as (
    select * from {{ ref('decay_profiles') }}
),

decay_steps as (
    select * from {{ ref('decay_steps') }}
),

profile_rows as (
    select
        person_id,
        rulebook_id,
        rule_id,
        component,
        category,
        description,
        'profile' as source_type,
        cast(null as {{ dbt.type_string() }}) as activity_id,
        cast(null as {{ dbt.type_string() }}) as activity_type,
        cast(null as {{ dbt.type_string() }}) as product_line,
        event_at,
        points,
        points as points_after_cap,
        cast(1 as {{ type_double() }}) as decay_factor
    from {{ ref('int_profile_rule_hits') }}
),

activity_hits as (
    select
        hits.*,
        {{ age_in_days('hits.event_at', '(select as_of from as_of)') }} as age_days
    from {{ ref('int_activity_rule_hits') }} as hits
),

activity_step_factors as (
    select
        activity_hits.person_id,
        activity_hits.activity_id,
        activity_hits.rulebook_id,
        activity_hits.rule_id,
        decay_steps.factor as step_factor,
        row_number() over (
            partition by activity_hits.person_id, activity_hits.activity_id, activity_hits.rulebook_id,
                activity_hits.rule_id
            order by decay_steps.max_age_days
        ) as step_rank
    from activity_hits
    inner join decay_steps
        on activity_hits.decay_profile_id = decay_steps.decay_profile_id
        and activity_hits.age_days <= decay_steps.max_age_days
),

activity_rows as (
    select
        activity_hits.person_id as person_id,
        activity_hits.rulebook_id as rulebook_id,
        activity_hits.rule_id as rule_id,
        'engagement' as component,
        activity_hits.category as category,
        activity_hits.description as description,
        'activity' as source_type,
        activity_hits.activity_id as activity_id,
        activity_hits.activity_type as activity_type,
        activity_hits.product_line as product_line,
        activity_hits.event_at as event_at,
        activity_hits.points as points,
        activity_hits.points_after_cap as points_after_cap,
        {{ decay_factor('decay_profiles', 'activity_hits.age_days', 'steps.step_factor') }} as decay_factor
    from activity_hits
    inner join decay_profiles
        on activity_hits.decay_profile_id = decay_profiles.decay_profile_id
    left join activity_step_factors as steps
        on activity_hits.person_id = steps.person_id
        and activity_hits.activity_id = steps.activity_id
        and activity_hits.rulebook_id = steps.rulebook_id
        and activity_hits.rule_id = steps.rule_id
        and steps.step_rank = 1
),

inactivity_rows as (
    select
        person_id,
        rulebook_id,
        rule_id,
        'engagement' as component,
        category,
        description,
        'inactivity' as source_type,
        cast(null as {{ dbt.type_string() }}) as activity_id,
        cast(null as {{ dbt.type_string() }}) as activity_type,
        cast(null as {{ dbt.type_string() }}) as product_line,
        event_at,
        points,
        points as points_after_cap,
        cast(1 as {{ type_double() }}) as decay_factor
    from {{ ref('int_inactivity_rule_hits') }}
),

rule_rows as (
    select * from profile_rows
    union all
    select * from activity_rows
    union all
    select * from inactivity_rows
),

weighted as (
    select
        rule_rows.*,
        {{ component_weight('rulebooks', 'rule_rows.component') }} as weight
    from rule_rows
    inner join rulebooks
        on rule_rows.rulebook_id = rulebooks.rulebook_id
),

{#- Points are kept as exact decimals: sums of doubles depend on the order rows are added in,
    and the same data and as_of must give the same scores to the last digit. -#}
valued as (
    select
        *,
        cast(points_after_cap * decay_factor * weight as {{ points_type() }}) as points_as_of
    from weighted
),

{#- Recycling (the guide: a recycled lead's behavior score goes back to zero, or to a share of
    what it was). Each recycle keeps recycle_reset_fraction of the engagement earned before it;
    a row earned before n recycles keeps fraction^n. The reset row of the k-th recycle after an
    activity takes away that activity's value * fraction^(k-1) * (1 - fraction). -#}
recycles as (
    select person_id, recycle_id, recycled_at, cause
    from {{ ref('int_recycles') }}
    where recycled_at <= (select as_of from as_of)
),

{#- Points earned up to the latest absolute adjustment are replaced by the score it sets, so
    later recycles do not reset them again. -#}
latest_absolute as (
    select person_id, rulebook_id, max(adjusted_at) as absolute_at
    from {{ ref('int_score_adjustments') }}
    where problem is null
        and adjustment_type = 'absolute'
    group by person_id, rulebook_id
),

resettable as (
    select valued.person_id, valued.rulebook_id, valued.rule_id, valued.activity_id, valued.event_at, valued.points_as_of
    from valued
    left join latest_absolute
        on valued.person_id = latest_absolute.person_id
        and valued.rulebook_id = latest_absolute.rulebook_id
    where valued.component = 'engagement'
        and valued.source_type in ('activity', 'inactivity')
        and (latest_absolute.absolute_at is null or valued.event_at > latest_absolute.absolute_at)
),

reset_pairs as (
    select
        resettable.person_id as person_id,
        resettable.rulebook_id as rulebook_id,
        recycles.recycle_id as recycle_id,
        resettable.points_as_of as points_as_of,
        row_number() over (
            partition by resettable.person_id, resettable.rulebook_id, resettable.rule_id, resettable.activity_id
            order by recycles.recycled_at, recycles.recycle_id
        ) as recycle_number
    from resettable
    inner join recycles
        on resettable.person_id = recycles.person_id
        and resettable.event_at < recycles.recycled_at
),

reset_sums as (
    select
        reset_pairs.person_id as person_id,
        reset_pairs.rulebook_id as rulebook_id,
        reset_pairs.recycle_id as recycle_id,
        sum(cast(
            reset_pairs.points_as_of
            * power(coalesce(rulebooks.recycle_reset_fraction, 0), reset_pairs.recycle_number - 1)
            * (coalesce(rulebooks.recycle_reset_fraction, 0) - 1)
            as {{ points_type() }}
        )) as points_as_of
    from reset_pairs
    inner join rulebooks
        on reset_pairs.rulebook_id = rulebooks.rulebook_id
    group by reset_pairs.person_id, reset_pairs.rulebook_id, reset_pairs.recycle_id
),

recycle_rows as (
    select
        recycles.person_id as person_id,
        rulebooks.rulebook_id as rulebook_id,
        'RECYCLE-RESET' as rule_id,
        'engagement' as component,
        'recycle' as category,
        'Recycled (' || recycles.cause || '): engagement kept at '
            || cast(cast(round(100 * coalesce(rulebooks.recycle_reset_fraction, 0)) as integer) as {{ dbt.type_string() }})
            || '%' as description,
        'recycle' as source_type,
        recycles.recycle_id as activity_id,
        'recycle' as activity_type,
        cast(null as {{ dbt.type_string() }}) as product_line,
        recycles.recycled_at as event_at,
        cast(0 as {{ type_double() }}) as points,
        cast(0 as {{ type_double() }}) as points_after_cap,
        cast(1 as {{ type_double() }}) as decay_factor,
        cast(1 as {{ type_double() }}) as weight,
        cast(coalesce(reset_sums.points_as_of, 0) as {{ points_type() }}) as points_as_of
    from recycles
    cross join rulebooks
    left join reset_sums
        on recycles.person_id = reset_sums.person_id
        and rulebooks.rulebook_id = reset_sums.rulebook_id
        and recycles.recycle_id = reset_sums.recycle_id
),

with_resets as (
    select * from valued
    union all
    select * from recycle_rows
),

{#- Manual adjustments, on top of everything and never decayed or reset. A delta adds its
    points. The latest absolute adjustment sets the score at its time: it replaces every point
    earned up to then (earlier adjustments included), and later points add to it. -#}
adjustments as (
    select
        *,
        row_number() over (
            partition by person_id, rulebook_id, adjustment_type
            order by adjusted_at desc, adjustment_id desc
        ) as recency_rank
    from {{ ref('int_score_adjustments') }}
    where problem is null
),

delta_rows as (
    select
        person_id,
        rulebook_id,
        'ADJUST-POINTS' as rule_id,
        'adjustment' as component,
        'adjustment' as category,
        'Adjusted by ' || author || ': ' || reason as description,
        'adjustment' as source_type,
        adjustment_id as activity_id,
        'manual_adjustment' as activity_type,
        cast(null as {{ dbt.type_string() }}) as product_line,
        adjusted_at as event_at,
        points,
        points as points_after_cap,
        cast(1 as {{ type_double() }}) as decay_factor,
        cast(1 as {{ type_double() }}) as weight,
        cast(points as {{ points_type() }}) as points_as_of
    from adjustments
    where adjustment_type = 'delta'
),

before_absolute as (
    select adjustments.adjustment_id, adjustments.rulebook_id, sum(earlier.points_as_of) as points_as_of
    from adjustments
    inner join (
        select person_id, rulebook_id, event_at, points_as_of from with_resets
        union all
        select person_id, rulebook_id, event_at, points_as_of from delta_rows
    ) as earlier
        on adjustments.person_id = earlier.person_id
        and adjustments.rulebook_id = earlier.rulebook_id
        and earlier.event_at <= adjustments.adjusted_at
    where adjustments.adjustment_type = 'absolute'
        and adjustments.recency_rank = 1
    group by adjustments.adjustment_id, adjustments.rulebook_id
),

absolute_rows as (
    select
        adjustments.person_id as person_id,
        adjustments.rulebook_id as rulebook_id,
        'ADJUST-SCORE' as rule_id,
        'adjustment' as component,
        'adjustment' as category,
        case when adjustments.recency_rank = 1
            then 'Score set by ' || adjustments.author || ': ' || adjustments.reason
            else 'Score set by ' || adjustments.author || ' (replaced by a later one): ' || adjustments.reason
        end as description,
        'adjustment' as source_type,
        adjustments.adjustment_id as activity_id,
        'manual_adjustment' as activity_type,
        cast(null as {{ dbt.type_string() }}) as product_line,
        adjustments.adjusted_at as event_at,
        adjustments.score as points,
        adjustments.score as points_after_cap,
        cast(1 as {{ type_double() }}) as decay_factor,
        cast(1 as {{ type_double() }}) as weight,
        case when adjustments.recency_rank = 1
            then cast(adjustments.score as {{ points_type() }}) - coalesce(before_absolute.points_as_of, 0)
            else cast(0 as {{ points_type() }})
        end as points_as_of
    from adjustments
    left join before_absolute
        on adjustments.adjustment_id = before_absolute.adjustment_id
        and adjustments.rulebook_id = before_absolute.rulebook_id
    where adjustments.adjustment_type = 'absolute'
),

scored_rows as (
    select * from with_resets
    union all
    select * from delta_rows
    union all
    select * from absolute_rows
),

{#- Component caps and floors. A cap does not apply when the person triggered one of the rules
    named in cap_unless_rule_ids (the guide's "capped unless a criterion is met"). -#}
bounds as (
    select * from {{ ref('score_bounds') }}
),

component_sums as (
    select person_id, rulebook_id, component, sum(points_as_of) as points_as_of
    from scored_rows
    group by person_id, rulebook_id, component
),

cap_exemptions as (
    select distinct scored_rows.person_id, scored_rows.rulebook_id, bounds.component
    from scored_rows
    inner join bounds
        on scored_rows.rulebook_id = bounds.rulebook_id
        and '|' || bounds.cap_unless_rule_ids || '|' like '%|' || scored_rows.rule_id || '|%'
),

component_bound_rows as (
    select
        component_sums.person_id as person_id,
        component_sums.rulebook_id as rulebook_id,
        case
            when component_sums.points_as_of > bounds.cap_points and cap_exemptions.person_id is null
                then 'CAP-' || upper(bounds.component)
            else 'FLOOR-' || upper(bounds.component)
        end as rule_id,
        component_sums.component as component,
        'bound' as category,
        bounds.description as description,
        'bound' as source_type,
        case
            when component_sums.points_as_of > bounds.cap_points and cap_exemptions.person_id is null
                then bounds.cap_points - component_sums.points_as_of
            when component_sums.points_as_of < bounds.floor_points
                then bounds.floor_points - component_sums.points_as_of
        end as points_as_of
    from component_sums
    inner join bounds
        on component_sums.rulebook_id = bounds.rulebook_id
        and component_sums.component = bounds.component
    left join cap_exemptions
        on component_sums.person_id = cap_exemptions.person_id
        and component_sums.rulebook_id = cap_exemptions.rulebook_id
        and component_sums.component = cap_exemptions.component
),

bounded_components as (
    select * from component_bound_rows where points_as_of is not null
),

total_sums as (
    select person_id, rulebook_id, sum(points_as_of) as points_as_of
    from (
        select person_id, rulebook_id, points_as_of from scored_rows
        union all
        select person_id, rulebook_id, points_as_of from bounded_components
    ) as all_rows
    group by person_id, rulebook_id
),

total_bound_rows as (
    select
        total_sums.person_id as person_id,
        total_sums.rulebook_id as rulebook_id,
        case when total_sums.points_as_of > bounds.cap_points then 'CAP-TOTAL' else 'FLOOR-TOTAL' end as rule_id,
        'total' as component,
        'bound' as category,
        bounds.description as description,
        'bound' as source_type,
        case
            when total_sums.points_as_of > bounds.cap_points then bounds.cap_points - total_sums.points_as_of
            when total_sums.points_as_of < bounds.floor_points then bounds.floor_points - total_sums.points_as_of
        end as points_as_of
    from total_sums
    inner join bounds
        on total_sums.rulebook_id = bounds.rulebook_id
        and bounds.component = 'total'
),

bound_rows as (
    select * from bounded_components
    union all
    select * from total_bound_rows where points_as_of is not null
),

ledger as (
    select
        person_id, rulebook_id, rule_id, component, category, description, source_type,
        activity_id, activity_type, product_line, event_at, points, points_after_cap, decay_factor,
        weight, points_as_of
    from scored_rows
    union all
    select
        person_id, rulebook_id, rule_id, component, category, description, source_type,
        cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}),
        cast(null as {{ dbt.type_string() }}), (select as_of from as_of), cast(0 as {{ type_double() }}),
        cast(0 as {{ type_double() }}), cast(1 as {{ type_double() }}), cast(1 as {{ type_double() }}),
        cast(points_as_of as {{ points_type() }})
    from bound_rows
),

final as (
    select
        {{ dbt.hash(dbt.concat(["person_id", "'|'", "rulebook_id", "'|'", "rule_id", "'|'",
            "coalesce(activity_id, '')"])) }} as ledger_row_id,
        person_id as crm_id,
        rulebook_id,
        rulebook_id = '{{ var("champion_rulebook") }}' as is_champion,
        rule_id,
        component,
        category,
        description,
        source_type,
        activity_id,
        activity_type,
        product_line,
        event_at,
        points,
        points_after_cap,
        decay_factor,
        weight,
        points_as_of,
        (select as_of from as_of) as as_of
    from ledger
)

select * from final
