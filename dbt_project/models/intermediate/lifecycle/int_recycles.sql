{#- Every recycle (back to nurturing), up to as_of: a rep or marketing ops moving the lead into a
    recycled CRM status, or the rule "no activity for recycle_after_days_without_activity days
    after sales accepted the lead" (var; null turns the rule off). The rule fires at the first
    such gap while the lead is still in its working status; it reads activities and CRM statuses
    only, never scores, so scoring can reset on it. -#}

with

as_of as (
    select as_of from {{ ref('int_scoring_as_of') }}
),

status_changes as (
    select
        *,
        lead(changed_at) over (partition by crm_id order by changed_at, status_change_id) as next_change_at
    from {{ ref('int_lead_status_changes') }}
    where changed_at <= (select as_of from as_of)
),

crm_recycles as (
    select
        status_change_id as recycle_id,
        person_id,
        changed_at as recycled_at,
        'crm' as recycled_by,
        'CRM status ' || coalesce(old_status, '?') || ' -> ' || coalesce(new_status, '?')
            || coalesce(' by ' || changed_by_user_id, '') as cause
    from status_changes
    where is_recycle
),

{% set gap_days = var('recycle_after_days_without_activity', none) %}
{% if gap_days is not none %}
-- Sales-accepted periods: from the change into a working status to the next status change.
accepted as (
    select status_change_id, person_id, changed_at as accepted_at,
        coalesce(next_change_at, (select as_of from as_of)) as period_end
    from status_changes
    where new_status_category = 'working'
),

-- The period's start and its activities, each with the next one (or the period's end).
touches as (
    select status_change_id, person_id, accepted_at, period_end, touch_at,
        lead(touch_at) over (partition by status_change_id order by touch_at) as next_touch_at
    from (
        select status_change_id, person_id, accepted_at, period_end, accepted_at as touch_at from accepted
        union all
        select accepted.status_change_id, accepted.person_id, accepted.accepted_at, accepted.period_end,
            activities.activity_at
        from accepted
        inner join {{ ref('int_activities') }} as activities
            on accepted.person_id = activities.person_id
            and activities.activity_at > accepted.accepted_at
            and activities.activity_at < accepted.period_end
        where activities.activity_type in ('sales_task', 'web_page_view', 'web_visit', 'form_submission', 'email_event')
    ) as period_touches
),

rule_recycles as (
    select
        'rule:' || status_change_id as recycle_id,
        person_id,
        min({{ dbt.dateadd('day', gap_days, 'touch_at') }}) as recycled_at,
        'rule' as recycled_by,
        'no activity for {{ gap_days }} days after sales acceptance' as cause
    from touches
    where {{ dbt.dateadd('day', gap_days, 'touch_at') }} < coalesce(next_touch_at, period_end)
        and {{ dbt.dateadd('day', gap_days, 'touch_at') }} <= (select as_of from as_of)
    group by status_change_id, person_id
),
{% endif %}

final as (
    select * from crm_recycles
    {% if gap_days is not none -%}
    union all
    select * from rule_recycles
    {%- endif %}
)

select * from final
