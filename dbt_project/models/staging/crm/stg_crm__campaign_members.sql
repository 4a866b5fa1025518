with

source as (
    select * from {{ source('crm', 'campaign_members') }}
),

-- A record appears once per export that contains it: keep its latest version.
latest as (
    {{ latest_version('source', 'campaign_member_id', 'last_modified_at') }}
),

-- Member statuses are free text per campaign ("Registered - No Show", "Visited Booth"):
-- lower snake case first, then one category scoring rules can rely on.
statuses as (
    select
        latest.*,
        {{ to_snake_case('status') }} as member_status
    from latest
),

renamed as (
    select
        campaign_member_id as campaign_member_id,
        campaign_id as campaign_id,
        lead_id as lead_id,
        contact_id as contact_id,
        member_status,
        case
            when {{ regex_matches('member_status', "'no_?show|did_?not_?attend|absent|missed'") }}
                then 'no_show'
            when {{ regex_matches('member_status', "'booth|badge_?scan'") }}
                then 'visited_booth'
            when {{ regex_matches('member_status', "'attended|joined|participated|watched|on_?demand'") }}
                then 'attended'
            when {{ regex_matches('member_status', "'regist|rsvp|signed_?up|accepted|enrolled'") }}
                then 'registered'
            when {{ regex_matches('member_status', "'respond|opened|clicked|replied|download|submitted|engaged'") }}
                then 'responded'
            when {{ regex_matches('member_status', "'sent|deliver|emailed|invited|targeted|planned|added'") }}
                then 'sent'
            when {{ to_boolean('has_responded') }}
                then 'responded'
            else 'other'
        end as member_status_category,
        {{ to_boolean('has_responded') }} as has_responded,
        {{ to_date('first_responded_date') }} as first_responded_date,
        {{ to_boolean('is_deleted') }} as is_deleted,
        {{ to_utc_timestamp('created_at') }} as created_at,
        {{ to_utc_timestamp('last_modified_at') }} as last_modified_at,
        custom_fields as custom_fields,
        {{ load_metadata() }}
    from statuses
)

select * from renamed
