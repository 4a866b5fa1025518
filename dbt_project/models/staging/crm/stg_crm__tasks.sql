with

source as (
    select * from {{ source('crm', 'tasks') }}
),

-- A record appears once per export that contains it: keep its latest version.
latest as (
    {{ latest_version('source', 'task_id', 'last_modified_at') }}
),

renamed as (
    select
        task_id as task_id,
        who_id as who_id,
        what_id as what_id,
        account_id as account_id,
        {{ clean_text('subject') }} as subject,
        {{ clean_text('task_subtype') }} as task_subtype,
        {{ clean_text('task_type') }} as task_type,
        -- The CRM's own fields first (subtype, call fields, type), the subject line last.
        case
            when lower(trim(task_subtype)) = 'call'
                or call_duration_seconds is not null
                or call_type is not null
                then 'call'
            when lower(trim(task_subtype)) in ('email', 'listemail', 'list email')
                then 'email'
            when {{ regex_matches('task_type', "'\\b(call|phone)'", true) }}
                then 'call'
            when {{ regex_matches('task_type', "'\\be-?mail'", true) }}
                then 'email'
            when {{ regex_matches('task_type', "'meeting|demo|presentation|appointment|visit'", true) }}
                then 'meeting'
            when {{ regex_matches('subject', "'\\b(call|called|calling|callback|phone|voicemail|left vm)\\b'", true) }}
                then 'call'
            when {{ regex_matches('subject', "'^(re|fw|fwd):|\\be-?mail(ed)?\\b'", true) }}
                then 'email'
            when {{ regex_matches('subject', "'\\b(meeting|demo|presentation|appointment|visit|onsite)\\b'", true) }}
                then 'meeting'
            else 'other'
        end as activity_type,
        {{ clean_text('status') }} as task_status,
        {{ clean_text('priority') }} as priority,
        {{ to_date('activity_date') }} as activity_date,
        {{ to_utc_timestamp('completed_at') }} as completed_at,
        {{ to_integer('call_duration_seconds') }} as call_duration_seconds,
        {{ clean_text('call_type') }} as call_type,
        {{ clean_text('call_disposition') }} as call_disposition,
        owner_id as owner_id,
        {{ to_boolean('is_closed') }} as is_closed,
        {{ to_boolean('is_deleted') }} as is_deleted,
        {{ to_utc_timestamp('created_at') }} as created_at,
        {{ to_utc_timestamp('last_modified_at') }} as last_modified_at,
        custom_fields as custom_fields,
        {{ load_metadata() }}
    from latest
)

select * from renamed
