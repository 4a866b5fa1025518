with

source as (
    select * from {{ source('crm', 'users') }}
),

renamed as (
    select
        user_id,
        first_name,
        last_name,
        lower(trim(email)) as email,
        title,
        department,
        manager_id,
        coalesce(lower(trim(is_active)) in ('1', 'true', 'yes', 'y'), false) as is_active,
        cast(cast(created_at as timestamptz) as timestamp) as created_at,
        _loaded_at
    from source
)

select * from renamed
