{#- One row per customer account (at least one won opportunity up to as_of): its purchases, its
    purchase cycle as known at its last purchase (int_account_purchase_cycles: its own median
    interval, or the product line's default), and where it is in that cycle at as_of.
    cycle_status: in_cycle before three quarters of the cycle have passed, due until the whole
    cycle has, overdue after. An open opportunity (opened, not closed by as_of) is in
    open_opportunity_id. -#}

with

as_of as (
    select as_of from {{ ref('int_scoring_as_of') }}
),

purchases as (
    select * from {{ ref('int_account_purchases') }}
),

totals as (
    select
        account_id,
        count(*) as purchases,
        min(purchased_at) as first_purchase_at,
        sum(amount) as purchased_amount
    from purchases
    group by account_id
),

last_cycles as (
    select cycles.*, purchases.amount as last_amount
    from {{ ref('int_account_purchase_cycles') }} as cycles
    inner join purchases
        on cycles.account_id = purchases.account_id
        and cycles.purchase_number = purchases.purchase_number
    where cycles.next_purchased_at is null
),

open_opportunities as (
    select deals.account_id, deals.opportunity_id, deals.opportunity_name, deals.created_at,
        row_number() over (
            partition by deals.account_id order by deals.created_at desc, deals.opportunity_id asc
        ) as recency
    from {{ ref('int_account_opportunities') }} as deals
    where deals.has_account
        and {{ deal_open_at('deals', '(select as_of from as_of)') }}
),

accounts as (
    select account_id, account_name, owner_id from {{ ref('stg_crm__accounts') }}
),

owners as (
    select user_id, {{ full_name('first_name', 'last_name') }} as owner_name
    from {{ ref('stg_crm__users') }}
),

positioned as (
    select
        last_cycles.*,
        {{ days_between('last_cycles.purchased_at', '(select as_of from as_of)') }} / {{ days_per_month() }}
            as months_since_last_purchase
    from last_cycles
),

final as (
    select
        positioned.account_id,
        accounts.account_name,
        accounts.owner_id,
        owners.owner_name,
        totals.purchases,
        totals.first_purchase_at,
        positioned.purchased_at as last_purchase_at,
        positioned.product_line as last_product_line,
        positioned.last_amount,
        totals.purchased_amount,
        positioned.intervals,
        positioned.cycle_months,
        positioned.cycle_source,
        positioned.months_since_last_purchase,
        positioned.months_since_last_purchase / positioned.cycle_months as cycle_position,
        {{ add_days('positioned.purchased_at', 'positioned.cycle_months * ' ~ days_per_month()) }} as next_purchase_due_at,
        case
            when positioned.cycle_months is null then null
            when positioned.months_since_last_purchase < 0.75 * positioned.cycle_months then 'in_cycle'
            when positioned.months_since_last_purchase <= positioned.cycle_months then 'due'
            else 'overdue'
        end as cycle_status,
        open_opportunities.opportunity_id as open_opportunity_id,
        open_opportunities.opportunity_name as open_opportunity_name
    from positioned
    inner join totals
        on positioned.account_id = totals.account_id
    left join accounts
        on positioned.account_id = accounts.account_id
    left join owners
        on accounts.owner_id = owners.user_id
    left join open_opportunities
        on positioned.account_id = open_opportunities.account_id
        and open_opportunities.recency = 1
)

select * from final
