{#- One row per SLA instance: each entry into a stage that a policy of sla_policies watches, with
    its owner (the person's CRM record owner, or their account's owner for a policy whose owner
    is account_owner) and the owner's manager, the deadline and warning
    time (round the clock, or in the working hours of the policy's calendar), when it was met,
    and its status as of as_of: met (in time), breached (met late or not
    met by the deadline), at_risk (open past the warning time) or open. -#}

with

as_of as (
    select as_of from {{ ref('int_scoring_as_of') }}
),

policies as (
    select * from {{ ref('sla_policies') }}
),

visits as (
    select * from {{ ref('fct_lead_stage_history') }}
),

owners as (
    select
        people.person_id,
        people.owner_id,
        users.manager_id,
        accounts.owner_id as account_owner_id,
        account_owners.manager_id as account_owner_manager_id
    from {{ ref('int_people') }} as people
    left join {{ ref('stg_crm__users') }} as users
        on people.owner_id = users.user_id
    left join {{ ref('stg_crm__accounts') }} as accounts
        on people.account_id = accounts.account_id
    left join {{ ref('stg_crm__users') }} as account_owners
        on accounts.owner_id = account_owners.user_id
    where people.is_master
),

windows as (
    select * from {{ ref('int_sla_working_windows') }}
),

instances as (
    select
        visits.person_id,
        policies.policy,
        policies.met_by,
        policies.met_stages,
        policies.calendar,
        visits.visit_number,
        visits.entered_at as started_at,
        visits.exited_at,
        visits.stage,
        cast(round(policies.due_hours * policies.warn_share * 3600) as integer) as warn_seconds,
        cast(round(policies.due_hours * 3600) as integer) as due_seconds
    from visits
    inner join policies
        on visits.stage = policies.stage
),

-- For a calendar's working hours: the working seconds of the calendar before the start. The
-- first window that closes after the start gives the least (later ones start later).
working_starts as (
    select
        instances.person_id,
        instances.policy,
        instances.visit_number,
        min(windows.seconds_before + case
            when instances.started_at > windows.opens_at
                then {{ dbt.datediff('windows.opens_at', 'instances.started_at', 'second') }}
            else 0
        end) as start_second
    from instances
    inner join windows
        on instances.calendar = windows.calendar
        and windows.closes_at > instances.started_at
    group by instances.person_id, instances.policy, instances.visit_number
),

-- The warning time and deadline: round the clock, or the moment the calendar's working
-- seconds reach the start's plus the allowed time.
clocks as (
    select
        instances.*,
        case
            when instances.calendar is null
                then {{ dbt.dateadd('second', 'instances.warn_seconds', 'instances.started_at') }}
            else {{ dbt.dateadd('second', 'working_starts.start_second + instances.warn_seconds - warn_windows.seconds_before', 'warn_windows.opens_at') }}
        end as warn_at,
        case
            when instances.calendar is null
                then {{ dbt.dateadd('second', 'instances.due_seconds', 'instances.started_at') }}
            else {{ dbt.dateadd('second', 'working_starts.start_second + instances.due_seconds - due_windows.seconds_before', 'due_windows.opens_at') }}
        end as due_at
    from instances
    left join working_starts
        on instances.person_id = working_starts.person_id
        and instances.policy = working_starts.policy
        and instances.visit_number = working_starts.visit_number
    left join windows as warn_windows
        on instances.calendar = warn_windows.calendar
        and working_starts.start_second + instances.warn_seconds > warn_windows.seconds_before
        and working_starts.start_second + instances.warn_seconds
            <= warn_windows.seconds_before + warn_windows.window_seconds
    left join windows as due_windows
        on instances.calendar = due_windows.calendar
        and working_starts.start_second + instances.due_seconds > due_windows.seconds_before
        and working_starts.start_second + instances.due_seconds
            <= due_windows.seconds_before + due_windows.window_seconds
),

-- The first completed call, email or meeting with the person at or after the start.
first_touches as (
    select instances.person_id, instances.policy, instances.visit_number, min(touches.activity_at) as touched_at
    from instances
    inner join {{ ref('int_activities') }} as touches
        on instances.person_id = touches.person_id
        and touches.activity_type = 'sales_task'
        and touches.activity_at >= instances.started_at
        and touches.activity_at <= (select as_of from as_of)
    where instances.met_by = 'sales_touch'
    group by instances.person_id, instances.policy, instances.visit_number
),

-- Leaving the stage for one of the policy's stages.
next_stages as (
    select person_id, visit_number - 1 as visit_number, stage as next_stage
    from visits
),

met as (
    select
        clocks.*,
        case clocks.met_by
            when 'sales_touch' then first_touches.touched_at
            when 'stage_exit' then case
                when '|' || clocks.met_stages || '|' like '%|' || next_stages.next_stage || '|%'
                    then clocks.exited_at
            end
        end as met_at
    from clocks
    left join first_touches
        on clocks.person_id = first_touches.person_id
        and clocks.policy = first_touches.policy
        and clocks.visit_number = first_touches.visit_number
    left join next_stages
        on clocks.person_id = next_stages.person_id
        and clocks.visit_number = next_stages.visit_number
),

final as (
    select
        met.person_id,
        met.policy,
        met.visit_number,
        met.calendar,
        case when policies.owner = 'account_owner' and owners.account_owner_id is not null
            then owners.account_owner_id else owners.owner_id end as owner_id,
        case when policies.owner = 'account_owner' and owners.account_owner_id is not null
            then owners.account_owner_manager_id else owners.manager_id end as manager_id,
        met.started_at,
        met.warn_at,
        met.due_at,
        met.met_at,
        case
            when met.met_at is not null and met.met_at <= met.due_at then 'met'
            when met.met_at is not null or (select as_of from as_of) > met.due_at then 'breached'
            when (select as_of from as_of) >= met.warn_at then 'at_risk'
            else 'open'
        end as status,
        case
            when coalesce(met.met_at, (select as_of from as_of)) > met.due_at
                then {{ dbt.datediff('met.due_at', 'coalesce(met.met_at, (select as_of from as_of))', 'second') }} / {{ to_double(3600) }}
            else 0
        end as hours_late,
        {{ dbt.hash(dbt.concat(["met.person_id", "'|'", "met.policy", "'|'", "cast(met.started_at as " ~ dbt.type_string() ~ ")"])) }}
            as sla_id
    from met
    inner join policies
        on met.policy = policies.policy
    left join owners
        on met.person_id = owners.person_id
)

select * from final
