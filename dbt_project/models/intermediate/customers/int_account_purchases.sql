{#- Every purchase of a customer account up to as_of: its won opportunities, at the time they
    closed (int_account_opportunities: the close date, never before the deal opened), numbered
    in order, with the time since the account's previous purchase in months (365.25 / 12 days).
    Deals without an account are not purchases of anyone. -#}

with

as_of as (
    select as_of from {{ ref('int_scoring_as_of') }}
),

won as (
    select account_id, opportunity_id, closed_at as purchased_at, amount, product_line
    from {{ ref('int_account_opportunities') }}
    where is_won
        and has_account
        and closed_at is not null
        and closed_at <= (select as_of from as_of)
),

numbered as (
    select
        *,
        row_number() over (partition by account_id order by purchased_at, opportunity_id) as purchase_number,
        lag(purchased_at) over (partition by account_id order by purchased_at, opportunity_id)
            as previous_purchased_at,
        lead(purchased_at) over (partition by account_id order by purchased_at, opportunity_id)
            as next_purchased_at
    from won
),

final as (
    select
        account_id,
        opportunity_id,
        purchase_number,
        purchased_at,
        amount,
        product_line,
        previous_purchased_at,
        next_purchased_at,
        {{ days_between('previous_purchased_at', 'purchased_at') }} / {{ days_per_month() }} as months_since_previous
    from numbered
)

select * from final
