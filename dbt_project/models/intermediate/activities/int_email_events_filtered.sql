{#- Mail security gateways (and some mail clients) open messages and follow every link before
    the reader sees them, to check for malware: those opens and clicks say nothing about the
    reader. They are flagged here, not dropped, so reports can count them; scoring reads only
    the events with is_scanner_suspect = false.

    Thresholds (project variables):
      email_scanner_seconds_after_delivery   opens and clicks this soon after delivery (60)
      email_scanner_burst_min_links          a message with this many distinct links (3)...
      email_scanner_burst_seconds            ...all clicked within this many seconds (10)
      email_scanner_min_click_domains        a click IP serving this many recipient domains (3)
      email_scanner_flag_clicks_without_open flag clicks no open preceded (true); turn off when
                                             many readers block images, so opens go unrecorded

    Incremental: a run recomputes every event of the messages that received events since the
    previous run (loads of stg_email__events none of this table's rows came from), and of the
    messages with a click from an address and day that received a click (a shared gateway is
    told by all the clicks of its day, whichever message they belong to). Every other flag
    depends on its own message's events only. An event outside those messages whose address now
    identifies another person (int_person_emails) is rewritten with that person. An edit of
    user_agent_patterns or of the variables above changes _settings_fingerprint and the next
    run recomputes every event. Events are never removed from staging, so no row is deleted.
    Spark rebuilds it in full. -#}
{%- set seconds_after_delivery = var('email_scanner_seconds_after_delivery', 60) -%}
{%- set burst_min_links = var('email_scanner_burst_min_links', 3) -%}
{%- set burst_seconds = var('email_scanner_burst_seconds', 10) -%}
{%- set min_click_domains = var('email_scanner_min_click_domains', 3) -%}
{%- set flag_clicks_without_open = var('email_scanner_flag_clicks_without_open', true) -%}

{{ config(
    materialized='incremental',
    unique_key='event_id',
    incremental_strategy=incremental_rewrite_strategy(),
    file_format=var('spark_file_format', 'parquet'),
    full_refresh=incremental_full_refresh(rebuild=(target.type == 'spark')),
    on_schema_change='sync_all_columns'
) }}

{%- set fingerprint = settings_fingerprint(['user_agent_patterns'], {
    'email_scanner_seconds_after_delivery': seconds_after_delivery,
    'email_scanner_burst_min_links': burst_min_links, 'email_scanner_burst_seconds': burst_seconds,
    'email_scanner_min_click_domains': min_click_domains,
    'email_scanner_flag_clicks_without_open': flag_clicks_without_open}) -%}
{#- A table built before this model was incremental has no _load_id: rebuilt whole once. -#}
{%- set incremental_scope = is_incremental() and stored_column_exists('_load_id') -%}
{%- set event_columns = [
    'event_id', 'person_id', 'email', 'email_domain', 'event_type', 'occurred_at', 'campaign_id', 'message_id',
    'message_key', 'clicked_url', 'clicked_url_host', 'clicked_url_path', 'user_agent', 'ip_address',
    'seconds_after_delivery', 'is_scanner_suspect', 'scanner_reason', '_settings_fingerprint',
    '_load_id'] -%}

with

run_scope as (
    select
        {% if incremental_scope -%}
        {{ fingerprint_changed('_settings_fingerprint', fingerprint) }}
        {%- else -%}
        true
        {%- endif %} as is_full_scope,
        -- Joined to every row rather than inline: computed once, not once per event.
        {{ fingerprint }} as settings_fingerprint
),

email_events as (
    select * from {{ ref('stg_email__events') }}
),

person_emails as (
    select * from {{ ref('int_person_emails') }}
),

user_agent_patterns as (
    select * from {{ ref('user_agent_patterns') }}
),

-- One message is one send to one recipient; platforms without message ids get one per
-- campaign and address.
-- The columns used below only: the CTEs read several times are materialized, and the raw
-- event JSON carried through them was most of this model's time.
all_keyed_events as {{ inline_cte() }} (
    select
        email_events.event_id,
        email_events.email,
        email_events.email_domain,
        email_events.event_type,
        email_events.occurred_at,
        email_events.campaign_id,
        email_events.message_id,
        email_events.url,
        email_events.url_host,
        email_events.url_path,
        email_events.user_agent,
        email_events.ip_address,
        coalesce(
            email_events.message_id,
            {{ dbt.concat(["coalesce(campaign_id, '')", "'|'", 'email']) }}
        ) as message_key,
        {{ seconds_since_epoch('occurred_at') }} as occurred_epoch,
        email_events._load_id
    from email_events
),

{% if incremental_scope -%}
-- The events loaded since the previous run. (Incremental runs are DuckDB's only: the CTEs read
-- several times are materialized.)
new_events as materialized (
    select message_key, event_type, ip_address, occurred_at
    from all_keyed_events
    where _load_id not in (select distinct _load_id from {{ this }})
),

-- Their messages, and those with a click from an address and day that got a new click.
scope_messages as materialized (
    select message_key from new_events
    union
    select clicks.message_key
    from all_keyed_events as clicks
    inner join (
        select distinct ip_address, cast(occurred_at as date) as click_date
        from new_events
        where event_type = 'click'
            and ip_address is not null
    ) as new_click_days
        on clicks.ip_address = new_click_days.ip_address
        and cast(clicks.occurred_at as date) = new_click_days.click_date
    where clicks.event_type = 'click'
),

{% endif -%}
-- The events recomputed: every event of the messages in scope.
keyed_events as (
    select * from all_keyed_events
    {%- if incremental_scope %}
    where (select is_full_scope from run_scope)
        or message_key in (select message_key from scope_messages)
    {%- endif %}
),

-- When the message reached the mailbox: its first delivery, else its first send.
messages as (
    select
        message_key,
        coalesce(
            min(case when event_type = 'delivered' then occurred_epoch end),
            min(case when event_type = 'sent' then occurred_epoch end)
        ) as delivered_epoch
    from keyed_events
    group by message_key
),

-- User agents repeat: match each distinct one of an open or a click against the bot patterns
-- once. Agents of the email_scanner category (webmail image proxies, Outlook's fetchers) load
-- the tracking pixel on the reader's behalf as the reader opens the message: they only count
-- against clicks.
reader_user_agents as (
    select distinct user_agent
    from keyed_events
    where event_type in ('open', 'click')
        and user_agent is not null
),

automated_user_agents as (
    select
        reader_user_agents.user_agent as user_agent,
        max(case when user_agent_patterns.bot_category <> 'email_scanner' then 1 else 0 end) as is_automated_opener
    from reader_user_agents
    inner join user_agent_patterns
        on {{ regex_matches('reader_user_agents.user_agent', 'user_agent_patterns.pattern', true) }}
    group by reader_user_agents.user_agent
),

timed_events as (
    select
        keyed_events.*,
        keyed_events.occurred_epoch - messages.delivered_epoch as seconds_after_delivery,
        coalesce(
            case
                when keyed_events.event_type = 'open' then automated_user_agents.is_automated_opener = 1
                when keyed_events.event_type = 'click' then automated_user_agents.user_agent is not null
            end,
            false
        ) as has_automated_user_agent
    from keyed_events
    left join messages
        on keyed_events.message_key = messages.message_key
    left join automated_user_agents
        on keyed_events.user_agent = automated_user_agents.user_agent
),

-- Opens a reader could have made: neither at delivery nor from an automated agent.
reader_opens as (
    select
        message_key,
        min(occurred_epoch) as first_reader_open_epoch
    from timed_events
    where event_type = 'open'
        and not has_automated_user_agent
        and coalesce(seconds_after_delivery > {{ seconds_after_delivery }}, true)
    group by message_key
),

-- A message whose links were all clicked within a few seconds of each other: link checkers
-- that run later than delivery (sandboxes) still click everything at once. Readers do click two
-- links in quick succession, rarely three or more.
click_bursts as (
    select message_key
    from timed_events
    where event_type = 'click'
    group by message_key
    having count(distinct url) >= {{ burst_min_links }}
        and max(occurred_epoch) - min(occurred_epoch) <= {{ burst_seconds }}
),

-- An address that clicks for recipients of several organisations in a day is a shared
-- gateway (a security vendor's data centre), not a reader's office or home.
click_ip_days as (
    select
        ip_address,
        cast(occurred_at as date) as click_date
    from all_keyed_events
    where event_type = 'click'
        and ip_address is not null
        {%- if incremental_scope %}
        and ((select is_full_scope from run_scope)
            or ip_address in (select ip_address from keyed_events where event_type = 'click'))
        {%- endif %}
    group by ip_address, cast(occurred_at as date)
    having count(distinct email_domain) >= {{ min_click_domains }}
),

flagged as (
    select
        timed_events.*,
        case
            when timed_events.event_type not in ('open', 'click') then null
            when timed_events.seconds_after_delivery <= {{ seconds_after_delivery }}
                then 'within_seconds_of_delivery'
            when timed_events.has_automated_user_agent
                then 'automated_user_agent'
            when timed_events.event_type = 'click' and click_bursts.message_key is not null
                then 'all_links_clicked_at_once'
            when timed_events.event_type = 'click' and click_ip_days.ip_address is not null
                then 'shared_gateway_ip'
            {% if flag_clicks_without_open -%}
            when timed_events.event_type = 'click'
                and coalesce(reader_opens.first_reader_open_epoch > timed_events.occurred_epoch, true)
                then 'click_without_open'
            {%- endif %}
        end as scanner_reason
    from timed_events
    left join click_bursts
        on timed_events.message_key = click_bursts.message_key
    left join click_ip_days
        on timed_events.ip_address = click_ip_days.ip_address
        and cast(timed_events.occurred_at as date) = click_ip_days.click_date
    left join reader_opens
        on timed_events.message_key = reader_opens.message_key
),

recomputed as (
    select
        flagged.event_id,
        person_emails.person_id,
        flagged.email,
        flagged.email_domain,
        flagged.event_type,
        flagged.occurred_at,
        flagged.campaign_id,
        flagged.message_id,
        flagged.message_key,
        flagged.url as clicked_url,
        flagged.url_host as clicked_url_host,
        flagged.url_path as clicked_url_path,
        flagged.user_agent,
        flagged.ip_address,
        flagged.seconds_after_delivery,
        flagged.scanner_reason is not null as is_scanner_suspect,
        flagged.scanner_reason,
        run_scope.settings_fingerprint as _settings_fingerprint,
        flagged._load_id
    from flagged
    cross join run_scope
    left join person_emails
        on flagged.email = person_emails.email
),

{% if incremental_scope -%}
-- Events outside the scope whose address now identifies another person (or none).
reidentified as (
    select {{ stored_columns_with(event_columns, 'earlier', {'person_id': 'person_emails.person_id'}) }}
    from {{ this }} as earlier
    left join person_emails
        on earlier.email = person_emails.email
    where earlier.person_id is distinct from person_emails.person_id
        and not (select is_full_scope from run_scope)
        and earlier.message_key not in (select message_key from scope_messages)
),

{% endif -%}
final as (
    select * from recomputed
    {%- if incremental_scope %}
    union all
    select * from reidentified
    {%- endif %}
)

select * from final
