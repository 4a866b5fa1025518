with

source as (
    select * from {{ source('crm', 'lead_history') }}
),

-- A record appears once per export that contains it: keep its latest version.
latest as (
    {{ latest_version('source', 'lead_history_id', 'created_at') }}
),

renamed as (
    select
        lead_history_id as lead_history_id,
        lead_id as lead_id,
        {{ clean_text('field_name') }} as field_name,
        old_value as old_value,
        new_value as new_value,
        created_by_id as changed_by_user_id,
        {{ to_boolean('is_deleted') }} as is_deleted,
        {{ to_utc_timestamp('created_at') }} as changed_at,
        custom_fields as custom_fields,
        _load_id as _load_id,
        _source_file as _source_file,
        _source_line as _source_line,
        {{ to_utc_timestamp('_loaded_at') }} as _loaded_at
    from latest
)

select * from renamed
