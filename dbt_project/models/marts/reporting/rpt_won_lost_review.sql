{#- The guide's scoring review against sales outcomes, over the report window (the
    report_window_days days before as_of), in one tidy table: one row per section, stage and
    group, with the group's size, the size of what it is a share of, and scores.

    - entry_score_by_outcome: visits to mql, sal and opportunity that began in the window, by
      outcome (the first won or lost visit after it, else open), with the champion score at
      entry (fct_lead_stage_history; unknown before the score history starts).
    - sales_acceptance: MQL visits that began in the window, by what came next; accepted (sal
      or an opportunity straight away) gives the sales acceptance rate as its share.
    - high_score_not_converted: people whose champion score qualifies them as MQL at as_of and
      who had no opportunity created in the window or since, by current stage.
    - low_score_won: people who entered won in the window, by their champion score when the
      opportunity opened: below the MQL threshold, at or above it, or unknown.
    - disqualification_reason: CRM status changes to a disqualified status in the window, by the
      reason recorded with them. -#}

with

window_bounds as (
    {{ report_window() }}
),

threshold as (
    select mql_threshold from {{ ref('rulebooks') }}
    where rulebook_id = '{{ var("champion_rulebook") }}'
),

visits as (
    select * from {{ ref('fct_lead_stage_history') }}
),

window_visits as (
    select visits.*
    from visits
    cross join window_bounds
    where visits.entered_at >= window_bounds.window_start
        and visits.entered_at <= window_bounds.window_end
),

outcome_visits as (
    select
        window_visits.person_id,
        window_visits.visit_number,
        min(later.visit_number) as outcome_visit_number
    from window_visits
    inner join visits as later
        on window_visits.person_id = later.person_id
        and later.visit_number > window_visits.visit_number
        and later.stage in ('won', 'lost')
    where window_visits.stage in ('mql', 'sal', 'opportunity')
    group by window_visits.person_id, window_visits.visit_number
),

entry_scores as (
    select
        'entry_score_by_outcome' as section,
        window_visits.stage,
        coalesce(outcomes.stage, 'open') as group_value,
        window_visits.entry_total_score as score
    from window_visits
    left join outcome_visits
        on window_visits.person_id = outcome_visits.person_id
        and window_visits.visit_number = outcome_visits.visit_number
    left join visits as outcomes
        on outcome_visits.person_id = outcomes.person_id
        and outcome_visits.outcome_visit_number = outcomes.visit_number
    where window_visits.stage in ('mql', 'sal', 'opportunity')
),

mql_next_steps as (
    select
        'sales_acceptance' as section,
        'mql' as stage,
        case
            when handoffs.is_accepted then 'accepted'
            when handoffs.next_stage is null then 'awaiting'
            else handoffs.next_stage
        end as group_value,
        handoffs.entry_total_score as score
    from ({{ mql_handoffs() }}) as handoffs
    cross join window_bounds
    where handoffs.entered_at >= window_bounds.window_start
        and handoffs.entered_at <= window_bounds.window_end
),

opportunities_since_window_start as (
    select distinct opportunities.person_id
    from {{ ref('int_person_opportunities') }} as opportunities
    cross join window_bounds
    where opportunities.created_at >= window_bounds.window_start
        and opportunities.created_at <= window_bounds.as_of
),

high_scores as (
    select
        'high_score_not_converted' as section,
        cast(null as {{ dbt.type_string() }}) as stage,
        coalesce(current_visits.stage, 'none') as group_value,
        scores.total_score as score,
        opportunities_since_window_start.person_id is null as is_in_group
    from {{ ref('fct_lead_scores') }} as scores
    left join visits as current_visits
        on scores.person_id = current_visits.person_id
        and current_visits.is_current
    left join opportunities_since_window_start
        on scores.person_id = opportunities_since_window_start.person_id
    where scores.is_champion
        and scores.is_mql
),

winners as (
    select
        'low_score_won' as section,
        'won' as stage,
        case
            when opened.entry_total_score is null then 'unknown'
            when opened.entry_total_score < threshold.mql_threshold then 'below_threshold'
            else 'at_or_above_threshold'
        end as group_value,
        opened.entry_total_score as score
    from window_visits
    cross join threshold
    left join visits as opened
        on window_visits.person_id = opened.person_id
        and opened.visit_number = window_visits.visit_number - 1
    where window_visits.stage = 'won'
),

disqualifications as (
    select
        'disqualification_reason' as section,
        'disqualified' as stage,
        coalesce(reasons.reason, 'no reason given') as group_value,
        cast(null as {{ type_double() }}) as score
    from {{ ref('int_lead_status_changes') }} as changes
    cross join window_bounds
    left join ({{ disqualification_reasons() }}) as reasons
        on changes.crm_id = reasons.lead_id
        and changes.changed_at = reasons.changed_at
    where changes.new_status_category = 'disqualified'
        and changes.changed_at >= window_bounds.window_start
        and changes.changed_at <= window_bounds.window_end
),

members as (
    select section, stage, group_value, score, true as is_in_group from entry_scores
    union all
    select section, stage, group_value, score, true from mql_next_steps
    union all
    select section, stage, group_value, score, is_in_group from high_scores
    union all
    select section, stage, group_value, score, true from winners
    union all
    select section, stage, group_value, score, true from disqualifications
),

-- What each group is a share of: its section and stage (for high scores, every MQL at as_of).
bases as (
    select section, stage, count(*) as base_size
    from members
    group by section, stage
),

final as (
    select
        members.section,
        members.stage,
        members.group_value,
        count(*) as group_size,
        bases.base_size,
        1.0 * count(*) / bases.base_size as share,
        count(members.score) as scored,
        avg(members.score) as avg_score,
        {{ median('members.score') }} as median_score,
        window_bounds.window_start,
        window_bounds.window_end
    from members
    inner join bases
        on members.section = bases.section
        and coalesce(members.stage, '') = coalesce(bases.stage, '')
    cross join window_bounds
    where members.is_in_group
    group by
        members.section, members.stage, members.group_value, bases.base_size,
        window_bounds.window_start, window_bounds.window_end
)

select * from final
