{#- An account's purchase cycle as known at each of its purchases, from that purchase and the
    ones before it only (so a score at a past date never uses a later purchase): the median of
    the intervals between consecutive purchases once the account has purchase_cycle_min_purchases
    purchases (cycle_source own_history), else the default of its product line, or `any`
    (seed purchase_cycle_defaults; cycle_source default). The cycle holds from the purchase until
    the next one (next_purchased_at). -#}

{%- set min_purchases = var('purchase_cycle_min_purchases', 3) %}

with

purchases as (
    select * from {{ ref('int_account_purchases') }}
),

-- The intervals known at each purchase: its own and those of the purchases before it.
known_intervals as (
    select
        purchase.account_id,
        purchase.purchase_number,
        count(earlier.months_since_previous) as intervals,
        {{ median('earlier.months_since_previous') }} as median_interval_months
    from purchases as purchase
    inner join purchases as earlier
        on purchase.account_id = earlier.account_id
        and earlier.purchase_number <= purchase.purchase_number
    group by purchase.account_id, purchase.purchase_number
),

defaults as (
    select product_line, cycle_months from {{ ref('purchase_cycle_defaults') }}
),

final as (
    select
        purchases.account_id,
        purchases.purchase_number,
        purchases.opportunity_id,
        purchases.purchased_at,
        purchases.next_purchased_at,
        purchases.product_line,
        known_intervals.intervals,
        case when purchases.purchase_number >= {{ min_purchases }}
            then known_intervals.median_interval_months
            else coalesce(product_default.cycle_months, any_default.cycle_months)
        end as cycle_months,
        case when purchases.purchase_number >= {{ min_purchases }} then 'own_history' else 'default' end
            as cycle_source
    from purchases
    inner join known_intervals
        on purchases.account_id = known_intervals.account_id
        and purchases.purchase_number = known_intervals.purchase_number
    left join defaults as product_default
        on purchases.product_line = product_default.product_line
    left join defaults as any_default
        on any_default.product_line = 'any'
)

select * from final
