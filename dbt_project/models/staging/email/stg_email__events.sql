{#- Incremental: a run reads only the lines of loads it has not read, and keeps the events not
    kept before (an event already kept came in an earlier delivery, which wins). -#}
{{ config(
    materialized='incremental',
    unique_key='event_id',
    incremental_strategy=incremental_rewrite_strategy(),
    file_format=var('spark_file_format', 'parquet'),
    full_refresh=incremental_full_refresh(),
    on_schema_change='fail'
) }}

with

source as (
    select * from {{ source('email', 'events') }}
    {%- if is_incremental() %}
    where _load_id not in (select distinct _load_id from {{ this }})
        and event_id not in (select event_id from {{ this }})
    {%- endif %}
),

-- Email platforms re-send events (webhook retries, overlapping exports): the first delivery of
-- an event id wins.
deliveries as (
    select
        source.*,
        row_number() over (
            partition by source.event_id
            order by source._loaded_at, source._source_file, source._source_line
        ) as delivery_rank
    from source
),

first_deliveries as (
    select * from deliveries
    where delivery_rank = 1
),

-- `SPAMREPORT`, `Spam Report` and `spam-report` all become `spam_report`.
event_types as (
    select
        first_deliveries.*,
        {{ to_snake_case('event_type') }} as event_type_key
    from first_deliveries
),

renamed as (
    select
        event_id as event_id,
        case
            -- `processed` (accepted for sending) is not a send: HubSpot reports both.
            when event_type_key in ('sent', 'send') then 'sent'
            when event_type_key in ('delivered', 'delivery') then 'delivered'
            when event_type_key in ('open', 'opened', 'opens') then 'open'
            when event_type_key in ('click', 'clicked', 'clicks') then 'click'
            when event_type_key in ('unsubscribe', 'unsubscribed', 'unsub') then 'unsubscribe'
            when event_type_key in ('bounce', 'bounced', 'hard_bounce', 'soft_bounce', 'hardbounce', 'softbounce') then 'bounce'
            when event_type_key in ('spam_report', 'spamreport', 'spam', 'complaint', 'spam_complaint') then 'spam_report'
            else 'other'
        end as event_type,
        event_type as event_type_raw,
        {{ to_utc_timestamp('occurred_at') }} as occurred_at,
        {{ normalize_email('email') }} as email,
        {{ email_domain(normalize_email('email')) }} as email_domain,
        campaign_id as campaign_id,
        message_id as message_id,
        url as url,
        {{ url_host('url') }} as url_host,
        {{ url_path('url') }} as url_path,
        user_agent as user_agent,
        ip_address as ip_address,
        bounce_reason as bounce_reason,
        event_json as event_json,
        {{ load_metadata() }}
    from event_types
)

select * from renamed
