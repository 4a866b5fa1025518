{#- The points ledger's rows computed from sums at as_of, which move whenever the points they
    sum do: the reset rows of recycles, the rows of scores set by hand (the score minus every
    point earned up to it) and the rows that apply the component and total caps and floors.
    Built whole each run from int_score_ledger valued at as_of (ledger_value_at) and the
    recycle and absolute terms of int_score_events; fct_score_ledger publishes both. -#}

{{ config(materialized='table') }}

with

as_of as (
    select as_of from {{ ref('int_scoring_as_of') }}
),

ledger_rows as {{ inline_cte() }} (
    select
        ledger.person_id,
        ledger.rulebook_id,
        ledger.rule_id,
        ledger.component,
        ledger.source_type,
        ledger.event_at,
        ledger.recycle_epoch,
        ledger.absolute_epoch,
        {{ ledger_value_at('ledger', '(select as_of from as_of)', 'points_as_of') }} as points_as_of
    from {{ ref('int_score_ledger') }} as ledger
),

marks as (
    select * from {{ ref('int_score_events') }}
    where term_kind in ('recycle', 'absolute')
),

{#- Recycling (the guide: a recycled lead's behavior score goes back to zero, or to a share of
    what it was). Each recycle keeps recycle_reset_fraction of the engagement earned before it;
    a row earned before n recycles keeps fraction^n. The reset row of the k-th recycle after an
    activity takes away that activity's value * fraction^(k-1) * (1 - fraction). Points earned up
    to the latest absolute adjustment are replaced by the score it sets, so recycles do not
    reset them. -#}
recycles as (
    select person_id, rulebook_id, source_id as recycle_id, event_at as recycled_at, description,
        term_factor as reset_fraction, recycle_epoch as recycle_number
    from marks
    where term_kind = 'recycle'
),

absolutes as (
    select
        person_id, rulebook_id, source_id as adjustment_id, event_at as adjusted_at, description,
        term_points as score, absolute_epoch,
        count(*) over (partition by person_id, rulebook_id) as absolutes
    from marks
    where term_kind = 'absolute'
),

latest_absolute as (
    select * from absolutes where absolute_epoch = absolutes - 1
),

resettable as (
    select ledger_rows.*
    from ledger_rows
    left join latest_absolute
        on ledger_rows.person_id = latest_absolute.person_id
        and ledger_rows.rulebook_id = latest_absolute.rulebook_id
    where ledger_rows.component = 'engagement'
        and ledger_rows.source_type in ('activity', 'inactivity')
        and ledger_rows.absolute_epoch = coalesce(latest_absolute.absolutes, 0)
),

reset_sums as (
    select
        recycles.person_id as person_id,
        recycles.rulebook_id as rulebook_id,
        recycles.recycle_id as recycle_id,
        sum(cast(
            resettable.points_as_of
            * power(recycles.reset_fraction, recycles.recycle_number - resettable.recycle_epoch - 1)
            * (recycles.reset_fraction - 1)
            as {{ points_type() }}
        )) as points_as_of
    from resettable
    inner join recycles
        on resettable.person_id = recycles.person_id
        and resettable.rulebook_id = recycles.rulebook_id
        and recycles.recycle_number > resettable.recycle_epoch
    group by recycles.person_id, recycles.rulebook_id, recycles.recycle_id
),

recycle_rows as (
    select
        recycles.person_id as person_id,
        recycles.rulebook_id as rulebook_id,
        'RECYCLE-RESET' as rule_id,
        'engagement' as component,
        'recycle' as category,
        recycles.description as description,
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
    left join reset_sums
        on recycles.person_id = reset_sums.person_id
        and recycles.rulebook_id = reset_sums.rulebook_id
        and recycles.recycle_id = reset_sums.recycle_id
),

before_absolute as (
    select latest_absolute.adjustment_id, latest_absolute.rulebook_id, sum(earlier.points_as_of) as points_as_of
    from latest_absolute
    inner join (
        select person_id, rulebook_id, event_at, points_as_of from ledger_rows
        union all
        select person_id, rulebook_id, event_at, points_as_of from recycle_rows
    ) as earlier
        on latest_absolute.person_id = earlier.person_id
        and latest_absolute.rulebook_id = earlier.rulebook_id
        and earlier.event_at <= latest_absolute.adjusted_at
    group by latest_absolute.adjustment_id, latest_absolute.rulebook_id
),

absolute_rows as (
    select
        absolutes.person_id as person_id,
        absolutes.rulebook_id as rulebook_id,
        'ADJUST-SCORE' as rule_id,
        'adjustment' as component,
        'adjustment' as category,
        case when absolutes.absolute_epoch = absolutes.absolutes - 1
            then absolutes.description
            else replace(absolutes.description, 'Score set by ', 'Score set (replaced by a later one) by ')
        end as description,
        'adjustment' as source_type,
        absolutes.adjustment_id as activity_id,
        'manual_adjustment' as activity_type,
        cast(null as {{ dbt.type_string() }}) as product_line,
        absolutes.adjusted_at as event_at,
        absolutes.score as points,
        absolutes.score as points_after_cap,
        cast(1 as {{ type_double() }}) as decay_factor,
        cast(1 as {{ type_double() }}) as weight,
        case when absolutes.absolute_epoch = absolutes.absolutes - 1
            then cast(absolutes.score as {{ points_type() }}) - coalesce(before_absolute.points_as_of, 0)
            else cast(0 as {{ points_type() }})
        end as points_as_of
    from absolutes
    left join before_absolute
        on absolutes.adjustment_id = before_absolute.adjustment_id
        and absolutes.rulebook_id = before_absolute.rulebook_id
),

scored_rows as {{ inline_cte() }} (
    select person_id, rulebook_id, rule_id, component, event_at, points_as_of from ledger_rows
    union all
    select person_id, rulebook_id, rule_id, component, event_at, points_as_of from recycle_rows
    union all
    select person_id, rulebook_id, rule_id, component, event_at, points_as_of from absolute_rows
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

cap_waivers as (
    {{ cap_waivers('scored_rows', 'event_at') }}
),

-- The bound rows take each component from its sum to its bounded value (bounded_points, as the
-- score timeline bounds it).
component_bound_rows as (
    select
        component_sums.person_id as person_id,
        component_sums.rulebook_id as rulebook_id,
        component_sums.component as component,
        bounds.description as description,
        component_sums.points_as_of as raw_points,
        {{ bounded_points('component_sums.points_as_of', 'bounds', 'cap_waivers.waived_from is not null') }}
            as bounded_points
    from component_sums
    inner join bounds
        on component_sums.rulebook_id = bounds.rulebook_id
        and component_sums.component = bounds.component
    left join cap_waivers
        on component_sums.person_id = cap_waivers.person_id
        and component_sums.rulebook_id = cap_waivers.rulebook_id
        and component_sums.component = cap_waivers.component
),

bounded_components as (
    select
        person_id,
        rulebook_id,
        case when bounded_points < raw_points then 'CAP-' else 'FLOOR-' end || upper(component) as rule_id,
        component,
        'bound' as category,
        description,
        'bound' as source_type,
        bounded_points - raw_points as points_as_of
    from component_bound_rows
    where bounded_points <> raw_points
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
        'total' as component,
        bounds.description as description,
        total_sums.points_as_of as raw_points,
        {{ bounded_points('total_sums.points_as_of', 'bounds') }} as bounded_points
    from total_sums
    inner join bounds
        on total_sums.rulebook_id = bounds.rulebook_id
        and bounds.component = 'total'
),

bound_rows as (
    select * from bounded_components
    union all
    select
        person_id,
        rulebook_id,
        case when bounded_points < raw_points then 'CAP-TOTAL' else 'FLOOR-TOTAL' end,
        component,
        'bound',
        description,
        'bound',
        bounded_points - raw_points
    from total_bound_rows
    where bounded_points <> raw_points
),

sum_rows as (
    select
        person_id, rulebook_id, rule_id, component, category, description, source_type,
        activity_id, activity_type, product_line, event_at, points, points_after_cap, decay_factor,
        weight, points_as_of
    from recycle_rows
    union all
    select
        person_id, rulebook_id, rule_id, component, category, description, source_type,
        activity_id, activity_type, product_line, event_at, points, points_after_cap, decay_factor,
        weight, points_as_of
    from absolute_rows
    union all
    select
        person_id, rulebook_id, rule_id, component, category, description, source_type,
        cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}),
        cast(null as {{ dbt.type_string() }}), cast(null as timestamp), cast(0 as {{ type_double() }}),
        cast(0 as {{ type_double() }}), cast(1 as {{ type_double() }}), cast(1 as {{ type_double() }}),
        cast(points_as_of as {{ points_type() }})
    from bound_rows
),

final as (
    select
        {{ ledger_row_id() }} as ledger_row_id,
        person_id,
        rulebook_id,
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
        points_as_of
    from sum_rows
)

select * from final
