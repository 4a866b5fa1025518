{#- Which person each first-party visitor cookie belongs to, so the cookie's whole web history
    (before and after the moment it was tied) is credited to that person.

    A cookie is tied to a person
      - by a form submission made with it (the email typed -> int_person_emails), or
      - by a genuine email click followed, within `identity_email_click_window_seconds`
        (project variable, default 60; 0 turns it off), by the cookie landing on the clicked
        link (same path, same utm_campaign): the browser the reader opened the link in. Only
        unambiguous pairs count: one cookie for the click and one reader for the landing.
    A cookie tied to several people (a shared computer) keeps the first. -#}
{%- set click_window_seconds = var('identity_email_click_window_seconds', 60) -%}
{#- Email platforms and web servers log on different clocks. -#}
{%- set clock_tolerance_seconds = 5 -%}
{#- A landing is looked for in the time buckets of this width its click's window touches (at most
    two): joining on the path alone paired every click with every landing on the same page,
    which grows with the square of the traffic. -#}
{%- set bucket_seconds = click_window_seconds + clock_tolerance_seconds -%}

with

form_submissions as (
    select * from {{ ref('stg_forms__submissions') }}
),

person_emails as (
    select * from {{ ref('int_person_emails') }}
),

email_events as (
    select * from {{ ref('int_email_events_filtered') }}
),

hits as (
    select * from {{ ref('stg_weblogs__hits') }}
),

form_identities as (
    select
        form_submissions.visitor_id as visitor_id,
        person_emails.person_id as person_id,
        form_submissions.submitted_at as identified_at,
        'form_submission' as identification_method,
        1 as method_rank,
        form_submissions.submission_id as source_id
    from form_submissions
    inner join person_emails
        on form_submissions.email = person_emails.email
    where form_submissions.visitor_id is not null
),

reader_clicks as (
    select
        event_id,
        person_id,
        occurred_at,
        {{ seconds_since_epoch('occurred_at') }} as occurred_epoch,
        clicked_url_path,
        {{ query_parameter(request_query_string('clicked_url'), 'utm_campaign') }} as utm_campaign
    from email_events
    where event_type = 'click'
        and not is_scanner_suspect
        and person_id is not null
        and clicked_url_path is not null
        and {{ click_window_seconds }} > 0
),

-- The buckets a click's window [click - tolerance, click + window] touches: one, or two in a row.
click_bucket_range as (
    select
        reader_clicks.*,
        cast(floor((reader_clicks.occurred_epoch - {{ clock_tolerance_seconds }}) / {{ bucket_seconds }})
            as {{ dbt.type_bigint() }}) as first_bucket,
        cast(floor((reader_clicks.occurred_epoch + {{ click_window_seconds }}) / {{ bucket_seconds }})
            as {{ dbt.type_bigint() }}) as last_bucket
    from reader_clicks
),

click_buckets as (
    select
        click_bucket_range.*,
        click_bucket_range.first_bucket + offsets.bucket_offset as time_bucket
    from click_bucket_range
    cross join (
        select 0 as bucket_offset
        union all
        select 1 as bucket_offset
    ) as offsets
    where click_bucket_range.first_bucket + offsets.bucket_offset <= click_bucket_range.last_bucket
),

landings as (
    select
        hit_id,
        visitor_id,
        url_path,
        utm_campaign,
        {{ seconds_since_epoch('requested_at') }} as requested_epoch,
        cast(floor({{ seconds_since_epoch('requested_at') }} / {{ bucket_seconds }}) as {{ dbt.type_bigint() }})
            as time_bucket
    from hits
    where traffic_class = 'human'
        and visitor_id is not null
        and http_method = 'GET'
        and not is_static_asset
        and {{ click_window_seconds }} > 0
),

click_landings as (
    select
        reader_clicks.event_id as event_id,
        reader_clicks.person_id as person_id,
        reader_clicks.occurred_at as occurred_at,
        landings.hit_id as hit_id,
        landings.visitor_id as visitor_id
    from click_buckets as reader_clicks
    inner join landings
        on reader_clicks.clicked_url_path = landings.url_path
        and reader_clicks.time_bucket = landings.time_bucket
        and (reader_clicks.utm_campaign is null or reader_clicks.utm_campaign = landings.utm_campaign)
        and landings.requested_epoch >= reader_clicks.occurred_epoch - {{ clock_tolerance_seconds }}
        and landings.requested_epoch <= reader_clicks.occurred_epoch + {{ click_window_seconds }}
),

-- Two readers clicking the same link in the same minute, or two cookies landing on it, leave
-- the pair ambiguous.
visitors_per_click as (
    select
        event_id,
        count(distinct visitor_id) as visitor_count
    from click_landings
    group by event_id
),

readers_per_landing as (
    select
        hit_id,
        count(distinct person_id) as reader_count
    from click_landings
    group by hit_id
),

email_click_identities as (
    select
        click_landings.visitor_id as visitor_id,
        click_landings.person_id as person_id,
        click_landings.occurred_at as identified_at,
        'email_click' as identification_method,
        2 as method_rank,
        click_landings.event_id as source_id
    from click_landings
    inner join visitors_per_click
        on click_landings.event_id = visitors_per_click.event_id
    inner join readers_per_landing
        on click_landings.hit_id = readers_per_landing.hit_id
    where visitors_per_click.visitor_count = 1
        and readers_per_landing.reader_count = 1
),

identities as (
    select * from form_identities
    union all
    select * from email_click_identities
),

people_per_visitor as (
    select
        visitor_id,
        count(distinct person_id) as people_count
    from identities
    group by visitor_id
),

ranked as (
    select
        identities.*,
        row_number() over (
            partition by identities.visitor_id
            order by identities.identified_at, identities.method_rank, identities.person_id, identities.source_id
        ) as identity_rank
    from identities
),

final as (
    select
        ranked.visitor_id,
        ranked.person_id,
        ranked.identified_at,
        ranked.identification_method,
        ranked.source_id,
        people_per_visitor.people_count
    from ranked
    inner join people_per_visitor
        on ranked.visitor_id = people_per_visitor.visitor_id
    where ranked.identity_rank = 1
)

select * from final
