{#- The funnel per stage and month (UTC): how many people entered and left the stage, how many of
    those who entered moved forward (to a later main-path stage: not recycled, disqualified or
    lost), time spent in the stage, and the stage's SLAs due and breached that month. -#}

with

stages as (
    select * from {{ ref('lifecycle_stages') }}
),

visits as (
    select
        history.*,
        lead(history.stage) over (partition by history.person_id order by history.visit_number) as next_stage
    from {{ ref('fct_lead_stage_history') }} as history
),

visits_with_order as (
    select
        visits.*,
        current_stage.stage_order,
        next_stage.stage_order as next_stage_order,
        coalesce(next_stage.is_side_state, false) or visits.next_stage = 'lost' as next_is_setback
    from visits
    inner join stages as current_stage
        on visits.stage = current_stage.stage
    left join stages as next_stage
        on visits.next_stage = next_stage.stage
),

entries as (
    select
        stage,
        {{ dbt.date_trunc('month', 'entered_at') }} as period_start,
        count(*) as entered,
        sum(case when next_stage_order > stage_order and not next_is_setback then 1 else 0 end) as moved_forward,
        {{ stable_avg('case when exited_at is not null then days_in_stage end') }} as avg_days_in_stage,
        {{ median('case when exited_at is not null then days_in_stage end') }} as median_days_in_stage
    from visits_with_order
    group by stage, {{ dbt.date_trunc('month', 'entered_at') }}
),

exits as (
    select stage, {{ dbt.date_trunc('month', 'exited_at') }} as period_start, count(*) as exited
    from visits
    where exited_at is not null
    group by stage, {{ dbt.date_trunc('month', 'exited_at') }}
),

slas as (
    select
        visits.stage,
        {{ dbt.date_trunc('month', 'sla.due_at') }} as period_start,
        count(*) as sla_due,
        sum(case when sla.status = 'breached' then 1 else 0 end) as sla_breached
    from {{ ref('fct_lead_sla') }} as sla
    inner join visits
        on sla.person_id = visits.person_id
        and sla.visit_number = visits.visit_number
    group by visits.stage, {{ dbt.date_trunc('month', 'sla.due_at') }}
),

periods as (
    select stage, period_start from entries
    union
    select stage, period_start from exits
    union
    select stage, period_start from slas
),

final as (
    select
        periods.stage,
        stages.stage_order,
        cast(periods.period_start as date) as period_start,
        coalesce(entries.entered, 0) as entered,
        coalesce(exits.exited, 0) as exited,
        coalesce(entries.moved_forward, 0) as moved_forward,
        case when entries.entered > 0 then 1.0 * entries.moved_forward / entries.entered end as forward_rate,
        entries.avg_days_in_stage,
        entries.median_days_in_stage,
        coalesce(slas.sla_due, 0) as sla_due,
        coalesce(slas.sla_breached, 0) as sla_breached
    from periods
    inner join stages
        on periods.stage = stages.stage
    left join entries
        on periods.stage = entries.stage
        and periods.period_start = entries.period_start
    left join exits
        on periods.stage = exits.stage
        and periods.period_start = exits.period_start
    left join slas
        on periods.stage = slas.stage
        and periods.period_start = slas.period_start
)

select * from final
