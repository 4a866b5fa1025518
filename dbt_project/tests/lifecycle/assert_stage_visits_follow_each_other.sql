{#- Visits of a person follow each other without gap or overlap, in time order: each ends when
    the next begins, and none ends before it began. -#}
select person_id, visit_number, entered_at, exited_at, next_entered_at
from (
    select
        *,
        lead(entered_at) over (partition by person_id order by visit_number) as next_entered_at
    from {{ ref('fct_lead_stage_history') }}
) as visits
where exited_at < entered_at
    or (next_entered_at is not null and exited_at <> next_entered_at)
    or (next_entered_at is null and exited_at is not null)
