{#- Every customer account's repurchase score per rulebook at the backtest's past instants (the
    snapshots of fct_score_snapshots, so people and accounts are measured on the same dates),
    with what followed: the first opportunity the account opened after the snapshot
    (next_opportunity_opened_at; an opportunity of a customer is a repurchase). Accounts are
    customers from their first purchase; has_open_opportunity says an opportunity was open at
    the snapshot (such an account is already in a deal: the backtest leaves it out). -#}

with

snapshots as (
    select distinct score_date, snapshot_at, horizon_days, horizon_reduced
    from {{ ref('fct_score_snapshots') }}
),

customers as (
    select account_id, min(purchased_at) as customer_since
    from {{ ref('int_account_purchases') }}
    group by account_id
),

instants as (
    select customers.account_id, rulebooks.rulebook_id, snapshots.snapshot_at as scored_at
    from customers
    inner join snapshots
        on customers.customer_since < snapshots.snapshot_at
    cross join {{ ref('rulebooks') }} as rulebooks
),

scores as (
    {{ repurchase_scores_at('instants') }}
),

opportunities as (
    select account_id, created_at, is_closed, closed_at
    from {{ ref('int_account_opportunities') }}
    where has_account
),

deal_state as (
    select
        instants.account_id,
        instants.scored_at,
        max(case when {{ deal_open_at('opportunities', 'instants.scored_at') }} then 1 else 0 end) = 1
            as has_open_opportunity,
        min(case when opportunities.created_at > instants.scored_at then opportunities.created_at end)
            as next_opportunity_opened_at
    from (select distinct account_id, scored_at from instants) as instants
    left join opportunities
        on instants.account_id = opportunities.account_id
    group by instants.account_id, instants.scored_at
),

final as (
    select
        scores.account_id,
        scores.rulebook_id,
        scores.rulebook_id = '{{ var("champion_rulebook") }}' as is_champion,
        snapshots.score_date,
        snapshots.snapshot_at,
        snapshots.horizon_days,
        snapshots.horizon_reduced,
        cast(scores.repurchase_score as {{ type_double() }}) as repurchase_score,
        cast(scores.cycle_points as {{ type_double() }}) as cycle_points,
        cast(scores.signal_points as {{ type_double() }}) as signal_points,
        scores.is_repurchase_qualified,
        deal_state.has_open_opportunity,
        deal_state.next_opportunity_opened_at
    from scores
    inner join snapshots
        on scores.scored_at = snapshots.snapshot_at
    inner join deal_state
        on scores.account_id = deal_state.account_id
        and scores.scored_at = deal_state.scored_at
)

select * from final
