{#- Every SLA calendar has HH:MM opening and closing times, closes after it opens on the same
    day, and names its working days with known three-letter day names. -#}
{%- set day_names = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] %}

with

calendars as (
    select * from {{ ref('sla_calendars') }}
),

problems as (
    select calendar, 'opens_at or closes_at is not HH:MM (00:00 to 23:59)' as problem
    from calendars
    where not {{ regex_matches('opens_at', "'^([01][0-9]|2[0-3]):[0-5][0-9]$'") }}
        or not {{ regex_matches('closes_at', "'^([01][0-9]|2[0-3]):[0-5][0-9]$'") }}

    union all

    select calendar, 'closes_at is not later than opens_at' as problem
    from calendars
    where closes_at <= opens_at

    union all

    select calendar, 'working_days must be pipe-separated names among {{ day_names | join("|") }}' as problem
    from calendars
    where not {{ regex_matches('lower(working_days)', "'^(" ~ day_names | join('|') ~ ")([|](" ~ day_names | join('|') ~ "))*$'") }}
)

select * from problems
