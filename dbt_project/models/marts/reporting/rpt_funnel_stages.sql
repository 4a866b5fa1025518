{#- The funnel per stage over every month of rpt_funnel: entries, entries that moved forward, SLAs
    due and breached, and the share of entries that moved forward. -#}

with

totals as (
    select
        stage,
        stage_order,
        cast(sum(entered) as {{ dbt.type_bigint() }}) as entered,
        cast(sum(moved_forward) as {{ dbt.type_bigint() }}) as moved_forward,
        cast(sum(sla_due) as {{ dbt.type_bigint() }}) as sla_due,
        cast(sum(sla_breached) as {{ dbt.type_bigint() }}) as sla_breached
    from {{ ref('rpt_funnel') }}
    group by stage, stage_order
),

rates as (
    select
        totals.*,
        case when totals.entered > 0 then {{ to_double('totals.moved_forward') }} / totals.entered * 1000 end
            as forward_per_mille
    from totals
),

-- Three decimals, a half going to the even digit (0.0625 -> 0.062) as pandas rounds, so the
-- report's funnel table shows the figures it showed when it computed them itself.
final as (
    select
        stage,
        stage_order,
        entered,
        moved_forward,
        sla_due,
        sla_breached,
        case
            when forward_per_mille - floor(forward_per_mille) = 0.5 and mod(floor(forward_per_mille), 2) = 0
                then floor(forward_per_mille)
            else round(forward_per_mille)
        end / 1000 as forward_rate
    from rates
)

select * from final
