{#- Incremental: a run classifies only the lines of new loads, then re-derives the attack-window
    flag of the hits already classified that the new lines can change: the hits of the same
    clients within `attack_client_window_days` of them (read with that many days more of context
    on each side). How late a line arrives does not matter: the range comes from the data. An edit
    of the seeds user_agent_patterns or web_attack_paths, or of the window, changes
    _settings_fingerprint and the next run reclassifies every line. Rows a run writes carry the
    newest load time it read (_batch_loaded_at): int_web_page_views finds what changed with it. -#}
{{ config(
    materialized='incremental',
    unique_key='hit_id',
    incremental_strategy=incremental_rewrite_strategy(),
    file_format=var('spark_file_format', 'parquet'),
    full_refresh=incremental_full_refresh(),
    on_schema_change='fail'
) }}

{#- How long an attacking client's other requests count as attack traffic: credential
    stuffers also fetch ordinary pages, before and after their attack requests. -#}
{%- set attack_window_days = var('attack_client_window_days', 7) -%}
{%- set fingerprint = settings_fingerprint(
    ['user_agent_patterns', 'web_attack_paths'], {'attack_client_window_days': attack_window_days}) -%}
{#- The columns known from the line itself, before the attack window is applied. -#}
{%- set line_columns = [
    'hit_id', 'requested_at', 'client_ip', 'auth_user', 'visitor_id', 'request_line', 'http_method',
    'request_uri', 'url_path', 'query_string', 'utm_source', 'utm_medium', 'utm_campaign',
    'http_protocol', 'status_code', 'response_bytes', 'referrer', 'referrer_host', 'user_agent',
    'browser_family', 'os_family', 'device_type', 'is_static_asset', 'bot_category',
    'is_attack_request', '_load_id', '_source_file', '_source_line', '_loaded_at'] -%}

with

-- Computed once per run and joined to every row: inline in the select list, DuckDB hashed the
-- seeds again for each line (half the model's time at ten million lines).
run_scope as (
    select
        {{ fingerprint_changed('_settings_fingerprint', fingerprint) }} as is_full_scope,
        {{ fingerprint }} as settings_fingerprint
),

-- The lines to classify: those of loads not classified yet (every line when the fingerprint
-- changed).
source as {{ inline_cte() }} (
    select * from {{ source('weblogs', 'hits') }}
    {%- if is_incremental() %}
    where (select is_full_scope from run_scope)
        or _load_id not in (select distinct _load_id from {{ this }})
    {%- endif %}
),

user_agent_patterns as (
    select * from {{ ref('user_agent_patterns') }}
),

web_attack_paths as (
    select * from {{ ref('web_attack_paths') }}
),

parsed as {{ inline_cte() }} (
    select
        {{ dbt.hash(dbt.concat(['_source_file', "':'", 'cast(_source_line as ' ~ dbt.type_string() ~ ')'])) }} as hit_id,
        {{ parse_access_log_timestamp('request_time') }} as requested_at,
        client_ip as client_ip,
        nullif(auth_user, '-') as auth_user,
        nullif(nullif(trim(visitor_id), '-'), '') as visitor_id,
        request as request_line,
        http_method as http_method,
        request_path as request_uri,
        {{ request_path_without_query('request_path') }} as url_path,
        {{ request_query_string('request_path') }} as query_string,
        http_protocol as http_protocol,
        cast(status as integer) as status_code,
        case when response_bytes <> '-' then {{ to_integer('response_bytes') }} end as response_bytes,
        nullif(nullif(trim(referrer), '-'), '') as referrer,
        nullif(nullif(trim(user_agent), '-'), '') as user_agent,
        {{ load_metadata() }}
    from source
),

-- User agents repeat a lot: classify each distinct one once. A missing one is matched as ''.
user_agents as (
    select distinct coalesce(user_agent, '') as user_agent_key
    from parsed
),

user_agent_pattern_matches as (
    select
        user_agents.user_agent_key as user_agent_key,
        user_agent_patterns.bot_category as bot_category,
        row_number() over (
            partition by user_agents.user_agent_key
            order by user_agent_patterns.priority
        ) as match_rank
    from user_agents
    inner join user_agent_patterns
        on {{ regex_matches('user_agents.user_agent_key', 'user_agent_patterns.pattern', true) }}
),

user_agent_details as (
    select
        user_agents.user_agent_key as user_agent_key,
        bots.bot_category as bot_category,
        case
            when user_agents.user_agent_key = '' then null
            when {{ regex_matches('user_agents.user_agent_key', "'edg(e|a|ios)?/'", true) }} then 'Edge'
            when {{ regex_matches('user_agents.user_agent_key', "'opr/|opera'", true) }} then 'Opera'
            when {{ regex_matches('user_agents.user_agent_key', "'samsungbrowser'", true) }} then 'Samsung Internet'
            when {{ regex_matches('user_agents.user_agent_key', "'firefox/|fxios/|iceweasel'", true) }} then 'Firefox'
            when {{ regex_matches('user_agents.user_agent_key', "'chrome/|crios/|chromium/'", true) }} then 'Chrome'
            when {{ regex_matches('user_agents.user_agent_key', "'msie |trident/'", true) }} then 'Internet Explorer'
            when {{ regex_matches('user_agents.user_agent_key', "'version/[0-9.]+.*safari/|(iphone|ipad|ipod).*applewebkit'", true) }} then 'Safari'
            else 'Other'
        end as browser_family,
        case
            when user_agents.user_agent_key = '' then null
            when {{ regex_matches('user_agents.user_agent_key', "'iphone|ipad|ipod|\\bios\\b'", true) }} then 'iOS'
            when {{ regex_matches('user_agents.user_agent_key', "'android'", true) }} then 'Android'
            when {{ regex_matches('user_agents.user_agent_key', "'windows phone'", true) }} then 'Windows Phone'
            when {{ regex_matches('user_agents.user_agent_key', "'\\bcros\\b'", true) }} then 'Chrome OS'
            when {{ regex_matches('user_agents.user_agent_key', "'windows'", true) }} then 'Windows'
            when {{ regex_matches('user_agents.user_agent_key', "'mac os x|macintosh'", true) }} then 'macOS'
            when {{ regex_matches('user_agents.user_agent_key', "'linux|x11|ubuntu|fedora|debian'", true) }} then 'Linux'
            else 'Other'
        end as os_family,
        case
            when bots.bot_category is not null then 'bot'
            when {{ regex_matches('user_agents.user_agent_key', "'ipad|tablet|kindle|silk/|playbook|sm-t[0-9]|gt-p[0-9]|nexus (7|9|10)\\b'", true) }} then 'tablet'
            when {{ regex_matches('user_agents.user_agent_key', "'android'", true) }}
                and not {{ regex_matches('user_agents.user_agent_key', "'mobile'", true) }} then 'tablet'
            when {{ regex_matches('user_agents.user_agent_key', "'mobi|iphone|ipod|android|windows phone|blackberry|bb10|opera mini|midp|up\\.browser|symbian|nokia'", true) }} then 'mobile'
            else 'desktop'
        end as device_type
    from user_agents
    left join user_agent_pattern_matches as bots
        on user_agents.user_agent_key = bots.user_agent_key
        and bots.match_rank = 1
),

-- Request targets repeat too: match each distinct one against the attack paths once.
request_uris as (
    select distinct request_uri
    from parsed
    where request_uri is not null
),

attack_uris as (
    select
        request_uris.request_uri as request_uri,
        max(case when web_attack_paths.only_without_visitor_cookie then 0 else 1 end) as is_attack_always,
        max(case when web_attack_paths.only_without_visitor_cookie then 1 else 0 end) as is_attack_without_cookie
    from request_uris
    inner join web_attack_paths
        on {{ regex_matches('request_uris.request_uri', 'web_attack_paths.pattern', true) }}
    group by request_uris.request_uri
),

classified as {{ inline_cte() }} (
    select
        parsed.*,
        {{ regex_matches('parsed.url_path', "'\\.(css|js|mjs|map|png|jpe?g|gif|svg|ico|webp|avif|bmp|tiff?|woff2?|ttf|otf|eot)$'", true) }} as is_static_asset,
        user_agent_details.bot_category as bot_category,
        user_agent_details.browser_family as browser_family,
        user_agent_details.os_family as os_family,
        user_agent_details.device_type as device_type,
        coalesce(
            attack_uris.is_attack_always = 1
            or (attack_uris.is_attack_without_cookie = 1 and parsed.visitor_id is null),
            false
        )
        -- Not HTTP at all: TLS or SSH handshakes and binary probes sent to the web port. (`-` is
        -- a browser that opened a connection and sent nothing: not an attack.)
        or (parsed.http_method is null and parsed.request_line is not null and parsed.request_line <> '-')
            as is_attack_request
    from parsed
    left join user_agent_details
        on coalesce(parsed.user_agent, '') = user_agent_details.user_agent_key
    left join attack_uris
        on parsed.request_uri = attack_uris.request_uri
),

-- Everything known from the line itself.
new_hits as {{ inline_cte() }} (
    select
        hit_id,
        requested_at,
        client_ip,
        auth_user,
        visitor_id,
        request_line,
        http_method,
        request_uri,
        url_path,
        query_string,
        {{ query_parameter('query_string', 'utm_source') }} as utm_source,
        {{ query_parameter('query_string', 'utm_medium') }} as utm_medium,
        {{ query_parameter('query_string', 'utm_campaign') }} as utm_campaign,
        http_protocol,
        status_code,
        response_bytes,
        referrer,
        {{ url_host('referrer') }} as referrer_host,
        user_agent,
        browser_family,
        os_family,
        device_type,
        is_static_asset,
        bot_category,
        is_attack_request,
        _load_id,
        _source_file,
        _source_line,
        _loaded_at
    from classified
),

{% if is_incremental() -%}
-- Hits classified before, of the clients of the new hits: those within the window of a new hit
-- are classified again; those up to one more window away are context (their attack requests).
new_client_spans as (
    select
        client_ip,
        min(requested_at) as first_at,
        max(requested_at) as last_at
    from new_hits
    group by client_ip
),

earlier_hits as (
    select
        {%- for column in line_columns %}
        earlier.{{ column }},
        {%- endfor %}
        earlier.requested_at >= {{ dbt.dateadd('day', -attack_window_days, 'new_client_spans.first_at') }}
            and earlier.requested_at <= {{ dbt.dateadd('day', attack_window_days, 'new_client_spans.last_at') }}
            as is_in_scope
    from {{ this }} as earlier
    inner join new_client_spans
        on earlier.client_ip = new_client_spans.client_ip
        and earlier.requested_at >= {{ dbt.dateadd('day', -2 * attack_window_days, 'new_client_spans.first_at') }}
        and earlier.requested_at <= {{ dbt.dateadd('day', 2 * attack_window_days, 'new_client_spans.last_at') }}
    where not (select is_full_scope from run_scope)
),

{% endif -%}
window_hits as {{ inline_cte() }} (
    select new_hits.*, true as is_in_scope
    from new_hits
    {%- if is_incremental() %}
    union all
    select * from earlier_hits
    {%- endif %}
),

-- A hit is from an attacking client when the same client made an attack request within the
-- window before or after it. Attack requests are few: each client's are merged into spans (two
-- attacks at most two windows apart share one), widened by the window, and every hit looks up
-- the span of its client that holds it. No sort or join back of all hits by client and time,
-- which spilled tens of GB to disk at 50M lines.
-- One row per client and instant: a scanner sends several attack requests in the same second,
-- and with ties the lag below and the running sum after it could order them differently, which
-- put one instant in two spans (a hit joined twice, as in 57 duplicated hits at large size).
attack_requests as (
    select
        client_ip,
        requested_at,
        lag(requested_at) over (partition by client_ip order by requested_at) as previous_attack_at
    from (
        select distinct client_ip, requested_at
        from window_hits
        where is_attack_request and requested_at is not null
    ) as attack_instants
),

attack_span_numbers as (
    select
        client_ip,
        requested_at,
        sum(
            case
                when previous_attack_at is null
                    or previous_attack_at < {{ dbt.dateadd('day', -2 * attack_window_days, 'requested_at') }}
                    then 1
                else 0
            end
        ) over (
            partition by client_ip
            order by requested_at
            rows between unbounded preceding and current row
        ) as span_number
    from attack_requests
),

attack_spans as (
    select
        client_ip,
        {{ dbt.dateadd('day', -attack_window_days, 'min(requested_at)') }} as starts_at,
        {{ dbt.dateadd('day', attack_window_days, 'max(requested_at)') }} as ends_at
    from attack_span_numbers
    group by client_ip, span_number
),

-- Spans of one client never overlap, so a hit matches at most one.
attack_clients as (
    select
        window_hits.*,
        attack_spans.client_ip is not null as is_from_attacking_client
    from window_hits
    left join attack_spans
        on window_hits.client_ip = attack_spans.client_ip
        and window_hits.requested_at >= attack_spans.starts_at
        and window_hits.requested_at <= attack_spans.ends_at
    where window_hits.is_in_scope
),

renamed as (
    select
        {%- for column in line_columns if not column.startswith('_') %}
        attack_clients.{{ column }},
        {%- endfor %}
        attack_clients.is_from_attacking_client,
        case
            when attack_clients.is_attack_request or attack_clients.is_from_attacking_client then 'attack'
            when attack_clients.bot_category is not null then 'bot'
            else 'human'
        end as traffic_class,
        attack_clients._load_id,
        attack_clients._source_file,
        attack_clients._source_line,
        attack_clients._loaded_at,
        run_scope.settings_fingerprint as _settings_fingerprint,
        -- The newest load this run read: models built from these hits find what changed since
        -- their own last run with it (load-time metadata, like _loaded_at).
        batch.loaded_at as _batch_loaded_at
    from attack_clients
    cross join run_scope
    cross join (select max(_loaded_at) as loaded_at from new_hits) as batch
)

select * from renamed
