{#- Deal outcomes by account as of as_of, whether or not anyone at the account is a known person:
    one row per account with deals, and one row "(no account)" for the deals that name none, so
    every deal is counted exactly once.

    A deal counts once created by as_of (a deal without a creation date always counts). It is
    closed when the CRM says so and its close date is by as_of (a closed deal without a close
    date counts as closed, with no cycle); otherwise it is open at as_of. Win rate: won among
    closed. Revenue won: the amounts of the won deals. Cycle: days from creation to close over
    the closed deals (int_account_opportunities). -#}

with

as_of as (
    select as_of from {{ ref('int_scoring_as_of') }}
),

deals as (
    select
        opportunities.*,
        opportunities.is_closed
            and (opportunities.closed_at is null or opportunities.closed_at <= as_of.as_of) as is_closed_by_as_of
    from {{ ref('int_account_opportunities') }} as opportunities
    cross join as_of
    where opportunities.created_at is null or opportunities.created_at <= as_of.as_of
),

outcomes as (
    select
        deals.*,
        deals.is_closed_by_as_of and deals.is_won as is_won_by_as_of,
        deals.is_closed_by_as_of and not deals.is_won as is_lost_by_as_of
    from deals
),

by_account as (
    select
        coalesce(account_id, '(no account)') as account_key,
        max(account_id) as account_id,
        max(account_name) as account_name,
        count(*) as deals,
        cast(sum(case when is_closed_by_as_of then 0 else 1 end) as {{ dbt.type_bigint() }}) as open_deals,
        cast(sum(case when is_closed_by_as_of then 1 else 0 end) as {{ dbt.type_bigint() }}) as closed_deals,
        cast(sum(case when is_won_by_as_of then 1 else 0 end) as {{ dbt.type_bigint() }}) as won_deals,
        cast(sum(case when is_lost_by_as_of then 1 else 0 end) as {{ dbt.type_bigint() }}) as lost_deals,
        {{ stable_sum('case when is_won_by_as_of then amount end') }} as revenue_won,
        {{ stable_avg('case when is_closed_by_as_of then cycle_days end') }} as avg_cycle_days,
        {{ median('case when is_closed_by_as_of then cycle_days end') }} as median_cycle_days,
        cast(sum(case when has_person then 1 else 0 end) as {{ dbt.type_bigint() }}) as deals_with_people,
        cast(sum(case when created_at is null then 1 else 0 end) as {{ dbt.type_bigint() }}) as deals_without_created_date,
        min(created_at) as first_created_at,
        max(case when is_closed_by_as_of then closed_at end) as last_closed_at
    from outcomes
    group by coalesce(account_id, '(no account)')
),

final as (
    select
        by_account.account_key,
        by_account.account_id,
        by_account.account_name,
        coalesce(by_account.account_name, by_account.account_id, '(no account)') as account_label,
        by_account.account_id is not null as has_account,
        by_account.deals,
        by_account.open_deals,
        by_account.closed_deals,
        by_account.won_deals,
        by_account.lost_deals,
        1.0 * by_account.won_deals / nullif(by_account.closed_deals, 0) as win_rate,
        coalesce(by_account.revenue_won, 0) as revenue_won,
        by_account.avg_cycle_days,
        by_account.median_cycle_days,
        by_account.deals_with_people,
        by_account.deals - by_account.deals_with_people as deals_without_people,
        by_account.deals_without_created_date,
        by_account.first_created_at,
        by_account.last_closed_at,
        as_of.as_of
    from by_account
    cross join as_of
)

select * from final
