{#- The working time of each SLA calendar that a policy uses: one row per working day (a working
    day of the calendar's week that is not one of its holidays, in its own time zone), with the
    opening and closing times in UTC and the calendar's working seconds before that day. A
    deadline of N working hours then becomes a lookup: the window in which the working seconds
    reach the start's plus N * 3600. Days run from the day before the first entry into a stage
    such a policy watches to far enough after as_of for the longest deadline, even with a single
    working day a week. -#}
{%- set day_names = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] %}

with

as_of as (
    select as_of from {{ ref('int_scoring_as_of') }}
),

calendars as (
    select
        calendar,
        timezone,
        cast(substr(opens_at, 1, 2) as integer) * 3600 + cast(substr(opens_at, 4, 2) as integer) * 60
            as opens_second,
        cast(substr(closes_at, 1, 2) as integer) * 3600 + cast(substr(closes_at, 4, 2) as integer) * 60
            as closes_second,
        '|' || lower(working_days) || '|' as working_days_key
    from {{ ref('sla_calendars') }}
    where calendar in (select calendar from {{ ref('sla_policies') }})
),

-- Calendar days to cover after as_of: the longest deadline in working days, as weeks of one
-- working day, plus a month for holiday seasons.
horizons as (
    select
        coalesce(max(
            ceiling(policies.due_hours * 3600.0 / (calendars.closes_second - calendars.opens_second)) * 7
        ), 0) + 31 as days_after_as_of
    from {{ ref('sla_policies') }} as policies
    inner join calendars
        on policies.calendar = calendars.calendar
),

days as (
    {{ day_numbers(
        day_number("(select min(entered_at) from " ~ ref('fct_lead_stage_history')
            ~ " where stage in (select stage from " ~ ref('sla_policies') ~ " where calendar is not null))") ~ " - 1",
        day_number("(select as_of from as_of)") ~ " + (select days_after_as_of from horizons)"
    ) }}
),

working_days as (
    select
        calendars.calendar,
        days.dn,
        {{ day_date('days.dn') }} as local_date,
        calendars.timezone,
        calendars.opens_second,
        calendars.closes_second
    from calendars
    cross join days
    -- Day 0 (1970-01-01) was a Thursday, so (dn + 3) mod 7 counts from Monday.
    where calendars.working_days_key like '%|' || case mod(days.dn + 3, 7)
            {%- for name in day_names %}
            when {{ loop.index0 }} then '{{ name }}'
            {%- endfor %}
        end || '|%'
),

open_days as (
    select working_days.*
    from working_days
    left join {{ ref('sla_holidays') }} as holidays
        on working_days.calendar = holidays.calendar
        and working_days.local_date = holidays.holiday_date
    where holidays.holiday_date is null
),

windows as (
    select
        calendar,
        dn,
        local_date,
        {{ local_to_utc(dbt.dateadd('second', 'opens_second', 'cast(local_date as timestamp)'), 'timezone') }}
            as opens_at,
        {{ local_to_utc(dbt.dateadd('second', 'closes_second', 'cast(local_date as timestamp)'), 'timezone') }}
            as closes_at
    from open_days
),

final as (
    select
        calendar,
        local_date,
        opens_at,
        closes_at,
        {{ dbt.datediff('opens_at', 'closes_at', 'second') }} as window_seconds,
        coalesce(sum({{ dbt.datediff('opens_at', 'closes_at', 'second') }}) over (
            partition by calendar order by dn rows between unbounded preceding and 1 preceding
        ), 0) as seconds_before
    from windows
)

select * from final
