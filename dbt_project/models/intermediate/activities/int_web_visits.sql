{#- Visits (sessions): the page views of one person, or of one cookie never tied to a person,
    with no pause longer than `web_visit_gap_minutes` (project variable, default 30, the usual
    web analytics session timeout). A person's page views on two devices in the same half hour
    make one visit. Page views without a cookie cannot be grouped and are not in any visit.

    Incremental per visitor key (the person, else the cookie): a key's visits are a function of
    its page views and the gap. A run recomputes the keys whose page views changed
    (_inputs_digest): a day of new page views, or a cookie now tied to a person, whose page
    views move from the cookie's key to the person's; a key left without page views loses its
    visits. A change of the gap recomputes every key (_settings_fingerprint). See
    macros/incremental/keyed_rewrites.sql; Spark rebuilds it in full. -#}

{{ keyed_rewrite_config(['visitor_key']) }}

{%- set gap_minutes = var('web_visit_gap_minutes', 30) -%}
{%- set fingerprint = settings_fingerprint([], {'web_visit_gap_minutes': gap_minutes}) %}
{#- The page view columns a visit is made of: its digest covers them all. -#}
{%- set page_view_columns = [
    'page_view_id', 'person_id', 'visitor_id', 'viewed_at', 'url_path', 'page_category', 'product_line',
    'referrer_host', 'utm_source', 'utm_medium', 'utm_campaign'] %}

with

page_views as (
    select * from {{ ref('int_web_page_views') }}
),

-- Whose visit: the person, else the cookie.
keyed_page_views as {{ inline_cte() }} (
    select
        {%- for column in page_view_columns %}
        page_views.{{ column }},
        {%- endfor %}
        case
            when page_views.person_id is not null then {{ dbt.concat(["'person:'", 'person_id']) }}
            else {{ dbt.concat(["'visitor:'", 'visitor_id']) }}
        end as visitor_key,
        {{ seconds_since_epoch('viewed_at') }} as viewed_epoch
    from page_views
    where page_views.person_id is not null
        or page_views.visitor_id is not null
),

-- Every key's digest: which keys changed, which are gone (incremental runs only).
visitor_digests as (
    select
        visitor_key,
        {{ unordered_digest_agg(page_view_columns) }} as inputs_digest
    from keyed_page_views
    group by visitor_key
),

scope as (
    {{ changed_digest_keys('visitor_digests', ['visitor_key'], fingerprint) }}
),

scoped_page_views as (
    select keyed_page_views.*
    from keyed_page_views
    {{ in_scope('keyed_page_views', 'visitor_key') }}
),

visit_starts as (
    select
        scoped_page_views.*,
        case
            when scoped_page_views.viewed_epoch - lag(scoped_page_views.viewed_epoch) over (
                partition by scoped_page_views.visitor_key
                order by scoped_page_views.viewed_epoch, scoped_page_views.page_view_id
            ) <= {{ gap_minutes * 60 }}
                then 0
            else 1
        end as is_visit_start
    from scoped_page_views
),

numbered as (
    select
        visit_starts.*,
        sum(visit_starts.is_visit_start) over (
            partition by visit_starts.visitor_key
            order by visit_starts.viewed_epoch, visit_starts.page_view_id
            rows between unbounded preceding and current row
        ) as visit_number,
        row_number() over (
            partition by visit_starts.visitor_key
            order by visit_starts.viewed_epoch, visit_starts.page_view_id
        ) as view_number
    from visit_starts
),

-- The first page view of each visit: where it came from.
landings as (
    select
        visitor_key,
        visit_number,
        visitor_id,
        url_path,
        page_category,
        referrer_host,
        utm_source,
        utm_medium,
        utm_campaign,
        row_number() over (
            partition by visitor_key, visit_number
            order by view_number
        ) as landing_rank
    from numbered
),

-- The product line the visit looked at most (the earliest first among equals).
product_line_views as (
    select
        visitor_key,
        visit_number,
        product_line,
        count(*) as product_line_page_views,
        min(view_number) as first_view_number
    from numbered
    where product_line is not null
    group by visitor_key, visit_number, product_line
),

ranked_product_lines as (
    select
        product_line_views.*,
        row_number() over (
            partition by product_line_views.visitor_key, product_line_views.visit_number
            order by product_line_views.product_line_page_views desc, product_line_views.first_view_number asc
        ) as product_line_rank
    from product_line_views
),

visits as (
    select
        visitor_key,
        visit_number,
        max(person_id) as person_id,
        min(viewed_at) as started_at,
        max(viewed_at) as ended_at,
        max(viewed_epoch) - min(viewed_epoch) as duration_seconds,
        count(*) as page_views,
        count(distinct url_path) as distinct_pages,
        count(distinct page_category) as distinct_page_categories,
        count(distinct visitor_id) as visitor_ids,
        max(case when page_category = 'pricing' then 1 else 0 end) = 1 as has_pricing_view,
        max(case when page_category = 'demo_request' then 1 else 0 end) = 1 as has_demo_request_view,
        max(case when page_category in ('data_sheet', 'buying_guide', 'rfp_template', 'case_study') then 1 else 0 end) = 1
            as has_evaluation_content_view,
        max(case when page_category = 'careers' then 1 else 0 end) = 1 as has_careers_view,
        {{ unordered_digest_agg(page_view_columns) }} as visit_digest
    from numbered
    group by visitor_key, visit_number
),

-- The digests stored with the visits, of the keys recomputed: visitor_digests' values (an
-- exclusive or of the page views' hashes, here by visit first), taken from the visits rather
-- than from all page views again: at 50M log lines that second pass, beside the sorts of the
-- windows above, ran out of the 3 GB memory limit.
recomputed_digests as (
    select
        visitor_key,
        {{ xor_agg('visit_digest') }} as inputs_digest
    from visits
    group by visitor_key
),

final as (
    select
        {{ dbt.hash(dbt.concat(['visits.visitor_key', "'|'", 'cast(visits.started_at as ' ~ dbt.type_string() ~ ')'])) }}
            as visit_id,
        visits.person_id,
        landings.visitor_id,
        visits.started_at,
        visits.ended_at,
        visits.duration_seconds,
        visits.page_views,
        visits.distinct_pages,
        visits.distinct_page_categories,
        visits.visitor_ids,
        visits.has_pricing_view,
        visits.has_demo_request_view,
        visits.has_evaluation_content_view,
        visits.has_careers_view,
        ranked_product_lines.product_line,
        landings.url_path as landing_url_path,
        landings.page_category as landing_page_category,
        landings.referrer_host,
        landings.utm_source,
        landings.utm_medium,
        landings.utm_campaign,
        visits.visitor_key,
        recomputed_digests.inputs_digest as _inputs_digest,
        run_values.fingerprint as _settings_fingerprint
    from visits
    inner join recomputed_digests
        on visits.visitor_key = recomputed_digests.visitor_key
    inner join landings
        on visits.visitor_key = landings.visitor_key
        and visits.visit_number = landings.visit_number
        and landings.landing_rank = 1
    left join ranked_product_lines
        on visits.visitor_key = ranked_product_lines.visitor_key
        and visits.visit_number = ranked_product_lines.visit_number
        and ranked_product_lines.product_line_rank = 1
    {{ run_values(fingerprint) }}
)

select * from final
{{ tombstone_rows('scope', 'visitor_digests', ['visitor_key']) }}
