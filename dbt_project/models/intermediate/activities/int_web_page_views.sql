{#- Pages people read on the web site: one row per human page view, credited to the person
    behind the visitor cookie, including what the cookie read before it was tied to a person.

    Staging already sets aside bots that say so in their user agent and attack traffic. Two
    machine patterns remain, and the hits that show them are left out here:
      - request rate: a client address or a visitor cookie that requested more than
        `web_max_pages_per_minute` pages (project variable, default 30) within one minute is
        a scraper or a load test; all its page views of that UTC day are left out;
      - HTML only, no cookie: a run of requests of one client (address and user agent, no
        pause longer than `web_visit_gap_minutes`, default 30) that carries no visitor cookie
        and fetches no stylesheet, script or image. Browsers fetch those with the first page
        they show; link checkers of mail gateways and scripts posing as browsers read the HTML
        only. Set `web_logs_static_assets` to false when the site's assets are served from
        elsewhere (a CDN whose requests are not in this log): the rule is off then.

    Incremental: the hits staging (re)classified since the last run (stg_weblogs__hits
    _batch_loaded_at) name the client addresses and cookies whose page views can change; every
    hit of those is recomputed, read with every hit of the addresses and cookies they involve
    (the request rate, runs and cookie rules look no further), whatever its date. Page views no
    longer kept are deleted through tombstone rows (viewed_at null) removed by the post-hook. A
    page view whose cookie is now tied to another person (int_visitor_identities) is rewritten
    with that person. An edit of web_page_categories or of the variables above changes
    _settings_fingerprint and the next run recomputes every page view. -#}

{{ config(
    materialized='incremental',
    unique_key='page_view_id',
    incremental_strategy=incremental_rewrite_strategy(),
    file_format=var('spark_file_format', 'parquet'),
    full_refresh=incremental_full_refresh(),
    on_schema_change='fail',
    post_hook=["{% if table_format_supports_delete() %}delete from {{ this }} where viewed_at is null{% endif %}"]
) }}

{%- set max_pages_per_minute = var('web_max_pages_per_minute', 30) -%}
{%- set gap_minutes = var('web_visit_gap_minutes', 30) -%}
{%- set logs_static_assets = var('web_logs_static_assets', true) -%}
{%- set fingerprint = settings_fingerprint(['web_page_categories'], {
    'web_max_pages_per_minute': max_pages_per_minute, 'web_visit_gap_minutes': gap_minutes,
    'web_logs_static_assets': logs_static_assets}) -%}
{%- set page_view_columns = [
    'page_view_id', 'person_id', 'visitor_id', 'viewed_at', 'url_path', 'page_category', 'product_line',
    'referrer_host', 'utm_source', 'utm_medium', 'utm_campaign', 'client_ip', 'device_type',
    '_settings_fingerprint', '_batch_loaded_at'] -%}

with

run_scope as (
    select
        {{ fingerprint_changed('_settings_fingerprint', fingerprint) }} as is_full_scope,
        -- Joined to every row rather than inline: computed once, not once per page view.
        {{ fingerprint }} as settings_fingerprint,
        (select max(_batch_loaded_at) from {{ ref('stg_weblogs__hits') }}) as batch_loaded_at
),

{% if is_incremental() -%}
-- Addresses and cookies of the hits classified since the last run: their page views are
-- recomputed (scope), from every hit of the addresses and cookies those page views involve.
changed_hits as (
    select client_ip, visitor_id
    from {{ ref('stg_weblogs__hits') }}
    where _batch_loaded_at > coalesce(
        (select max(_batch_loaded_at) from {{ this }}), cast('1900-01-01' as {{ dbt.type_timestamp() }}))
),

scope_hits as (
    select client_ip, visitor_id
    from {{ ref('stg_weblogs__hits') }}
    where client_ip in (select client_ip from changed_hits)
        or visitor_id in (select visitor_id from changed_hits)
),

{% endif -%}
hits as {{ inline_cte() }} (
    select * from {{ ref('stg_weblogs__hits') }}
    {%- if is_incremental() %}
    where (select is_full_scope from run_scope)
        or client_ip in (select client_ip from scope_hits)
        or visitor_id in (select visitor_id from scope_hits)
    {%- endif %}
),

visitor_identities as (
    select * from {{ ref('int_visitor_identities') }}
),

-- What the browsers of people requested (attack and declared bot traffic is out already).
human_hits as (
    select
        hit_id,
        requested_at,
        {{ seconds_since_epoch('requested_at') }} as requested_epoch,
        cast(requested_at as date) as requested_date,
        client_ip,
        coalesce(user_agent, '') as user_agent_key,
        visitor_id,
        http_method,
        status_code,
        is_static_asset,
        url_path,
        referrer_host,
        utm_source,
        utm_medium,
        utm_campaign,
        device_type
    from hits
    where traffic_class = 'human'
),

-- The days of an address and of a cookie with more pages (not assets) requested within one
-- minute than allowed. Requests without a cookie are counted per address only: they share no
-- cookie.
{%- for key, name in [('client_ip', 'client'), ('visitor_id', 'visitor')] %}
fast_{{ name }}_days as (
    select
        {{ key }},
        requested_date
    from (
        select
            {{ key }},
            requested_date,
            count(*) over (
                partition by {{ key }}
                order by requested_epoch
                range between 59 preceding and current row
            ) as pages_last_minute
        from human_hits
        where not is_static_asset
            and {{ key }} is not null
    ) as page_rates
    group by {{ key }}, requested_date
    having max(pages_last_minute) > {{ max_pages_per_minute }}
),

{% endfor -%}
-- Runs of requests of one client: a pause longer than the gap starts a new run.
client_run_starts as (
    select
        human_hits.*,
        case
            when human_hits.requested_epoch - lag(human_hits.requested_epoch) over (
                partition by human_hits.client_ip, human_hits.user_agent_key
                order by human_hits.requested_epoch, human_hits.hit_id
            ) <= {{ gap_minutes * 60 }}
                then 0
            else 1
        end as is_run_start
    from human_hits
),

client_runs as (
    select
        client_run_starts.*,
        sum(client_run_starts.is_run_start) over (
            partition by client_run_starts.client_ip, client_run_starts.user_agent_key
            order by client_run_starts.requested_epoch, client_run_starts.hit_id
            rows between unbounded preceding and current row
        ) as run_number
    from client_run_starts
),

html_only_runs as (
    select
        client_ip,
        user_agent_key,
        run_number
    from client_runs
    group by client_ip, user_agent_key, run_number
    having {{ 'true' if logs_static_assets else 'false' }}
        and max(case when is_static_asset then 1 else 0 end) = 0
        and max(case when visitor_id is not null then 1 else 0 end) = 0
),

page_requests as (
    select
        client_runs.*,
        case
            when fast_client_days.client_ip is not null or fast_visitor_days.visitor_id is not null
                then 'request_rate'
            when html_only_runs.client_ip is not null
                then 'html_only_without_cookie'
        end as machine_pattern
    from client_runs
    left join fast_client_days
        on client_runs.client_ip = fast_client_days.client_ip
        and client_runs.requested_date = fast_client_days.requested_date
    left join fast_visitor_days
        on client_runs.visitor_id = fast_visitor_days.visitor_id
        and client_runs.requested_date = fast_visitor_days.requested_date
    left join html_only_runs
        on client_runs.client_ip = html_only_runs.client_ip
        and client_runs.user_agent_key = html_only_runs.user_agent_key
        and client_runs.run_number = html_only_runs.run_number
    where not client_runs.is_static_asset
        and client_runs.http_method = 'GET'
        and client_runs.status_code < 400
),

page_views as (
    select * from page_requests
    where machine_pattern is null
),

{{ categorized_pages_ctes('page_views', 'categorized_pages') }},

recomputed as (
    select
        page_views.hit_id as page_view_id,
        visitor_identities.person_id as person_id,
        page_views.visitor_id as visitor_id,
        page_views.requested_at as viewed_at,
        page_views.url_path as url_path,
        categorized_pages.page_category as page_category,
        categorized_pages.product_line as product_line,
        page_views.referrer_host as referrer_host,
        page_views.utm_source as utm_source,
        page_views.utm_medium as utm_medium,
        page_views.utm_campaign as utm_campaign,
        page_views.client_ip as client_ip,
        page_views.device_type as device_type,
        run_scope.settings_fingerprint as _settings_fingerprint,
        run_scope.batch_loaded_at as _batch_loaded_at
    from page_views
    cross join run_scope
    left join visitor_identities
        on page_views.visitor_id = visitor_identities.visitor_id
    left join categorized_pages
        on page_views.url_path = categorized_pages.url_path
    {%- if is_incremental() %}
    where run_scope.is_full_scope
        or page_views.client_ip in (select client_ip from changed_hits)
        or page_views.visitor_id in (select visitor_id from changed_hits)
    {%- endif %}
),

{% if is_incremental() -%}
-- Page views kept before that this run drops: tombstones, deleted by the post-hook.
dropped as (
    {%- set no_view_time = 'cast(null as ' ~ dbt.type_timestamp() ~ ')' %}
    select {{ stored_columns_with(page_view_columns, 'earlier', {'viewed_at': no_view_time}) }}
    from {{ this }} as earlier
    where (
            (select is_full_scope from run_scope)
            or earlier.client_ip in (select client_ip from changed_hits)
            or earlier.visitor_id in (select visitor_id from changed_hits)
        )
        and earlier.page_view_id not in (select page_view_id from recomputed)
),

-- Page views outside the scope whose cookie now belongs to another person (or to none).
reidentified as (
    select {{ stored_columns_with(page_view_columns, 'earlier', {'person_id': 'visitor_identities.person_id'}) }}
    from {{ this }} as earlier
    left join visitor_identities
        on earlier.visitor_id = visitor_identities.visitor_id
    where earlier.person_id is distinct from visitor_identities.person_id
        and earlier.page_view_id not in (select page_view_id from recomputed)
        and earlier.page_view_id not in (select page_view_id from dropped)
),

{% endif -%}
final as (
    select * from recomputed
    {%- if is_incremental() %}
    union all
    select * from dropped
    union all
    select * from reidentified
    {%- endif %}
)

select * from final
