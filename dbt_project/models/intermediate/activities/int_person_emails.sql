{#- One row per normalised email address and the person it identifies: form submissions and
    email events name people by address only. All records of one person share its person_id in
    int_people; when people int_people kept apart share an address, a live record wins over a
    deleted one, then the oldest. -#}

with

person_records as (
    select
        email as email,
        person_id as person_id,
        case when is_deleted then 1 else 0 end as is_deleted_rank,
        case when is_master then 1 else 2 end as record_rank,
        created_at as created_at
    from {{ ref('int_people') }}
),

ranked as (
    select
        email,
        person_id,
        row_number() over (
            partition by email
            order by is_deleted_rank, record_rank, created_at nulls last, person_id
        ) as email_rank
    from person_records
    where email is not null
),

final as (
    select
        email,
        person_id
    from ranked
    where email_rank = 1
)

select * from final
