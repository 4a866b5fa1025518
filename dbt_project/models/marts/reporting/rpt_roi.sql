{#- The guide's ROI table: the same indicators over the roi_period_days before and after
    roi_change_date (a scoring change; by default roi_change_days_before_as_of, else
    roi_period_days, before as_of), one row per period; nothing after as_of counts.

    - Leads passed to sales: MQL stage visits that began in the period; accepted: the next
      visit was sal or an opportunity (fct_lead_stage_history, whose MQLs come from the score
      history: none before its first day).
    - Deals (CRM opportunities, every type) closed in the period, by close date: won share, revenue
      per won deal and in total, sales cycle (days from creation to close).
    - Days from MQL to won: for each won stage visit that began in the period, days since the
      person's latest MQL visit before it (wins without an MQL are left out). -#}

with

as_of as (
    select as_of from {{ ref('int_scoring_as_of') }}
),

-- The change compared: the var roi_change_date, else roi_change_days_before_as_of days before
-- as_of (by default roi_period_days, so the "after" period ends at as_of): never a fixed date,
-- which another data set's history would miss.
change_date as (
    {% if var('roi_change_date', none) -%}
    select cast('{{ var("roi_change_date") }}' as {{ dbt.type_timestamp() }}) as changed_at
    {%- else -%}
    {%- set days_before = var('roi_change_days_before_as_of', none) or var('roi_period_days') -%}
    select {{ dbt.dateadd('day', -days_before, 'as_of') }} as changed_at from as_of
    {%- endif %}
),

periods as (
    select
        'before' as period,
        {{ dbt.dateadd('day', -var('roi_period_days'), 'changed_at') }} as period_start,
        changed_at as period_end
    from change_date
    union all
    select
        'after',
        changed_at,
        {{ dbt.dateadd('day', var('roi_period_days'), 'changed_at') }}
    from change_date
),

handoffs as (
    select * from ({{ mql_handoffs() }}) as handoffs
    where entered_at <= (select as_of from as_of)
),

handoff_counts as (
    select
        periods.period,
        count(handoffs.person_id) as leads_passed_to_sales,
        cast(sum(case when handoffs.is_accepted then 1 else 0 end) as {{ dbt.type_bigint() }}) as leads_accepted
    from periods
    left join handoffs
        on handoffs.entered_at >= periods.period_start
        and handoffs.entered_at < periods.period_end
    group by periods.period
),

-- A deal never closes before it was opened (the CRM keeps a close date only).
closed_deals as (
    select
        opportunity_id,
        amount,
        is_won,
        created_at,
        greatest(cast(close_date as {{ dbt.type_timestamp() }}), created_at) as closed_at
    from {{ ref('stg_crm__opportunities') }}
    where not is_deleted
        and is_closed
),

deals as (
    select
        closed_deals.*,
        {{ days_between('created_at', 'closed_at') }} as cycle_days
    from closed_deals
    where closed_deals.closed_at <= (select as_of from as_of)
),

deal_counts as (
    select
        periods.period,
        count(deals.opportunity_id) as deals_closed,
        cast(sum(case when deals.is_won then 1 else 0 end) as {{ dbt.type_bigint() }}) as deals_won,
        {{ stable_avg('case when deals.is_won then deals.amount end') }} as revenue_per_deal,
        {{ stable_sum('case when deals.is_won then deals.amount end') }} as total_revenue,
        {{ stable_avg('deals.cycle_days') }} as avg_sales_cycle_days,
        {{ median('deals.cycle_days') }} as median_sales_cycle_days
    from periods
    left join deals
        on deals.closed_at >= periods.period_start
        and deals.closed_at < periods.period_end
    group by periods.period
),

visits as (
    select * from {{ ref('fct_lead_stage_history') }}
),

wins_after_mql as (
    select
        wins.person_id,
        wins.entered_at as won_at,
        max(mqls.entered_at) as last_mql_at
    from visits as wins
    inner join visits as mqls
        on wins.person_id = mqls.person_id
        and mqls.stage = 'mql'
        and mqls.visit_number < wins.visit_number
    where wins.stage = 'won'
    group by wins.person_id, wins.entered_at
),

win_durations as (
    select
        periods.period,
        count(wins_after_mql.person_id) as wins_after_mql,
        {{ stable_avg(days_between('wins_after_mql.last_mql_at', 'wins_after_mql.won_at')) }} as avg_days_mql_to_won,
        {{ median(days_between('wins_after_mql.last_mql_at', 'wins_after_mql.won_at')) }} as median_days_mql_to_won
    from periods
    left join wins_after_mql
        on wins_after_mql.won_at >= periods.period_start
        and wins_after_mql.won_at < periods.period_end
    group by periods.period
),

final as (
    select
        periods.period,
        cast(periods.period_start as date) as period_start,
        cast(periods.period_end as date) as period_end,
        periods.period_end <= (select as_of from as_of) as is_complete,
        handoff_counts.leads_passed_to_sales,
        handoff_counts.leads_accepted,
        1.0 * handoff_counts.leads_accepted / nullif(handoff_counts.leads_passed_to_sales, 0) as acceptance_rate,
        deal_counts.deals_closed,
        deal_counts.deals_won,
        1.0 * deal_counts.deals_won / nullif(deal_counts.deals_closed, 0) as win_rate,
        win_durations.wins_after_mql,
        win_durations.avg_days_mql_to_won,
        win_durations.median_days_mql_to_won,
        deal_counts.revenue_per_deal,
        coalesce(deal_counts.total_revenue, 0) as total_revenue,
        deal_counts.avg_sales_cycle_days,
        deal_counts.median_sales_cycle_days,
        (select as_of from as_of) as as_of
    from periods
    inner join handoff_counts
        on periods.period = handoff_counts.period
    inner join deal_counts
        on periods.period = deal_counts.period
    inner join win_durations
        on periods.period = win_durations.period
)

select * from final
