{#- Why each customer account has its repurchase score: one row per account, rulebook, rule and
    source (the purchase the cycle counts from, the activity or the new person) with the points
    it gives at as_of, in words. The rows of an account and rulebook add up to cycle_points plus
    signal_points of fct_account_repurchase_scores (before its bounds). -#}

with

as_of as (
    select as_of from {{ ref('int_scoring_as_of') }}
),

live as (
    select
        terms.*,
        cast(terms.term_points * {{ term_share_at('terms', '(select as_of from as_of)') }} as {{ points_type() }})
            as points_at_as_of
    from {{ ref('int_repurchase_score_events') }} as terms
    where terms.starts_at <= (select as_of from as_of)
        and (terms.ends_at is null or terms.ends_at > (select as_of from as_of))
),

by_source as (
    select
        account_id,
        rulebook_id,
        rule_id,
        source_type,
        source_id,
        min(person_id) as person_id,
        min(description) as description,
        min(event_at) as event_at,
        min(purchase_number) as purchase_number,
        min(cycle_months) as cycle_months,
        min(cycle_source) as cycle_source,
        sum(points_at_as_of) as points
    from live
    group by account_id, rulebook_id, rule_id, source_type, source_id
),

final as (
    select
        by_source.account_id,
        by_source.rulebook_id,
        by_source.rulebook_id = '{{ var("champion_rulebook") }}' as is_champion,
        by_source.rule_id,
        by_source.source_type,
        by_source.source_id,
        by_source.person_id,
        by_source.description,
        by_source.event_at,
        cast(by_source.points as {{ type_double() }}) as points,
        case by_source.source_type
            when 'purchase_cycle' then
                {{ one_decimal(days_between('by_source.event_at', '(select as_of from as_of)') ~ ' / ' ~ days_per_month()) }}
                || ' of ' || {{ one_decimal('by_source.cycle_months') }} || ' months into its cycle, '
                || case by_source.cycle_source
                    when 'own_history' then 'its own from '
                        || cast(by_source.purchase_number as {{ dbt.type_string() }}) || ' purchases'
                    else 'the default for its product line'
                end
            when 'activity' then 'on ' || cast(cast(by_source.event_at as date) as {{ dbt.type_string() }})
            else 'created ' || cast(cast(by_source.event_at as date) as {{ dbt.type_string() }})
        end as explanation
    from by_source
    where by_source.points <> 0
)

select * from final
