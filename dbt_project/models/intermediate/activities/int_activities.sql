{#- Every scorable activity in one table: one row per activity, the input of the scoring
    ledger. Person activities carry person_id (activities nobody can be credited with are left
    out); account signals carry the company domain instead, and are matched to accounts when
    scored. account_id stays empty here: people get their account from int_people.

    Only genuine activity is here: human page views and visits of identified people, email
    events other than sends and deliveries without the security-scanner suspects, campaign
    responses, completed sales calls, emails and meetings, form submissions and account
    signals. Detail columns are null where they do not apply. -#}

with

page_views as (
    select * from {{ ref('int_web_page_views') }}
),

visits as (
    select * from {{ ref('int_web_visits') }}
),

email_events as (
    select * from {{ ref('int_email_events_filtered') }}
),

campaigns as (
    select * from {{ ref('stg_crm__campaigns') }}
),

campaign_members as (
    select * from {{ ref('stg_crm__campaign_members') }}
),

tasks as (
    select * from {{ ref('stg_crm__tasks') }}
),

form_submissions as (
    select * from {{ ref('stg_forms__submissions') }}
),

account_signals as (
    select * from {{ ref('stg_signals__account_signals') }}
),

person_records as (
    select * from {{ ref('int_person_records') }}
),

person_emails as (
    select * from {{ ref('int_person_emails') }}
),

-- Pages named by email links and form pages get the categories of web pages.
linked_paths as (
    select clicked_url_path as url_path from email_events where event_type = 'click'
    union all
    select page_path as url_path from form_submissions
),

{{ categorized_pages_ctes('linked_paths', 'categorized_pages') }},

web_page_view_activities as (
    select
        'web_page_view' as activity_type,
        person_id,
        cast(null as {{ dbt.type_string() }}) as company_domain,
        viewed_at as activity_at,
        product_line,
        url_path,
        page_category,
        cast(null as {{ dbt.type_bigint() }}) as page_views,
        cast(null as {{ dbt.type_string() }}) as email_event_type,
        cast(null as {{ dbt.type_string() }}) as email_campaign_id,
        cast(null as {{ dbt.type_string() }}) as clicked_url,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        cast(null as {{ dbt.type_string() }}) as campaign_type,
        cast(null as {{ dbt.type_string() }}) as member_status_category,
        cast(null as {{ dbt.type_string() }}) as task_activity_type,
        cast(null as {{ dbt.type_bigint() }}) as call_duration_seconds,
        cast(null as {{ dbt.type_string() }}) as form_name,
        cast(null as {{ dbt.type_string() }}) as signal_type,
        cast(null as {{ dbt.type_string() }}) as signal_topic,
        cast(null as {{ type_double() }}) as signal_strength,
        'int_web_page_views' as source_model,
        page_view_id as source_id
    from page_views
    where person_id is not null
),

web_visit_activities as (
    select
        'web_visit' as activity_type,
        person_id,
        cast(null as {{ dbt.type_string() }}) as company_domain,
        started_at as activity_at,
        product_line,
        landing_url_path as url_path,
        landing_page_category as page_category,
        page_views,
        cast(null as {{ dbt.type_string() }}) as email_event_type,
        cast(null as {{ dbt.type_string() }}) as email_campaign_id,
        cast(null as {{ dbt.type_string() }}) as clicked_url,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        cast(null as {{ dbt.type_string() }}) as campaign_type,
        cast(null as {{ dbt.type_string() }}) as member_status_category,
        cast(null as {{ dbt.type_string() }}) as task_activity_type,
        cast(null as {{ dbt.type_bigint() }}) as call_duration_seconds,
        cast(null as {{ dbt.type_string() }}) as form_name,
        cast(null as {{ dbt.type_string() }}) as signal_type,
        cast(null as {{ dbt.type_string() }}) as signal_topic,
        cast(null as {{ type_double() }}) as signal_strength,
        'int_web_visits' as source_model,
        visit_id as source_id
    from visits
    where person_id is not null
),

-- Sends and deliveries are the company's doing, not the reader's.
email_event_activities as (
    select
        'email_event' as activity_type,
        email_events.person_id,
        cast(null as {{ dbt.type_string() }}) as company_domain,
        email_events.occurred_at as activity_at,
        campaigns.product_line,
        email_events.clicked_url_path as url_path,
        case when email_events.event_type = 'click' then categorized_pages.page_category end as page_category,
        cast(null as {{ dbt.type_bigint() }}) as page_views,
        email_events.event_type as email_event_type,
        email_events.campaign_id as email_campaign_id,
        email_events.clicked_url,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        campaigns.campaign_type,
        cast(null as {{ dbt.type_string() }}) as member_status_category,
        cast(null as {{ dbt.type_string() }}) as task_activity_type,
        cast(null as {{ dbt.type_bigint() }}) as call_duration_seconds,
        cast(null as {{ dbt.type_string() }}) as form_name,
        cast(null as {{ dbt.type_string() }}) as signal_type,
        cast(null as {{ dbt.type_string() }}) as signal_topic,
        cast(null as {{ type_double() }}) as signal_strength,
        'int_email_events_filtered' as source_model,
        email_events.event_id as source_id
    from email_events
    left join campaigns
        on email_events.campaign_id = campaigns.campaign_id
    left join categorized_pages
        on email_events.clicked_url_path = categorized_pages.url_path
    where email_events.person_id is not null
        and email_events.event_type in ('open', 'click', 'unsubscribe', 'bounce', 'spam_report')
        and not email_events.is_scanner_suspect
),

-- Members who did something (responded, registered, attended, missed it, came to the booth);
-- members only sent to are not activity.
campaign_response_activities as (
    select
        'campaign_response' as activity_type,
        person_records.person_id,
        cast(null as {{ dbt.type_string() }}) as company_domain,
        coalesce(cast(campaign_members.first_responded_date as {{ dbt.type_timestamp() }}), campaign_members.created_at)
            as activity_at,
        campaigns.product_line,
        cast(null as {{ dbt.type_string() }}) as url_path,
        cast(null as {{ dbt.type_string() }}) as page_category,
        cast(null as {{ dbt.type_bigint() }}) as page_views,
        cast(null as {{ dbt.type_string() }}) as email_event_type,
        cast(null as {{ dbt.type_string() }}) as email_campaign_id,
        cast(null as {{ dbt.type_string() }}) as clicked_url,
        campaign_members.campaign_id,
        campaigns.campaign_type,
        campaign_members.member_status_category,
        cast(null as {{ dbt.type_string() }}) as task_activity_type,
        cast(null as {{ dbt.type_bigint() }}) as call_duration_seconds,
        cast(null as {{ dbt.type_string() }}) as form_name,
        cast(null as {{ dbt.type_string() }}) as signal_type,
        cast(null as {{ dbt.type_string() }}) as signal_topic,
        cast(null as {{ type_double() }}) as signal_strength,
        'stg_crm__campaign_members' as source_model,
        campaign_members.campaign_member_id as source_id
    from campaign_members
    inner join person_records
        on coalesce(campaign_members.contact_id, campaign_members.lead_id) = person_records.crm_id
    left join campaigns
        on campaign_members.campaign_id = campaigns.campaign_id
    where not campaign_members.is_deleted
        and campaign_members.member_status_category in ('responded', 'registered', 'attended', 'no_show', 'visited_booth')
        and coalesce(cast(campaign_members.first_responded_date as {{ dbt.type_timestamp() }}), campaign_members.created_at)
            is not null
),

-- Calls, emails and meetings done (not planned) with a lead or contact.
sales_task_activities as (
    select
        'sales_task' as activity_type,
        person_records.person_id,
        cast(null as {{ dbt.type_string() }}) as company_domain,
        coalesce(tasks.completed_at, cast(tasks.activity_date as {{ dbt.type_timestamp() }}), tasks.created_at)
            as activity_at,
        cast(null as {{ dbt.type_string() }}) as product_line,
        cast(null as {{ dbt.type_string() }}) as url_path,
        cast(null as {{ dbt.type_string() }}) as page_category,
        cast(null as {{ dbt.type_bigint() }}) as page_views,
        cast(null as {{ dbt.type_string() }}) as email_event_type,
        cast(null as {{ dbt.type_string() }}) as email_campaign_id,
        cast(null as {{ dbt.type_string() }}) as clicked_url,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        cast(null as {{ dbt.type_string() }}) as campaign_type,
        cast(null as {{ dbt.type_string() }}) as member_status_category,
        tasks.activity_type as task_activity_type,
        tasks.call_duration_seconds,
        cast(null as {{ dbt.type_string() }}) as form_name,
        cast(null as {{ dbt.type_string() }}) as signal_type,
        cast(null as {{ dbt.type_string() }}) as signal_topic,
        cast(null as {{ type_double() }}) as signal_strength,
        'stg_crm__tasks' as source_model,
        tasks.task_id as source_id
    from tasks
    inner join person_records
        on tasks.who_id = person_records.crm_id
    where not tasks.is_deleted
        and (tasks.is_closed or tasks.completed_at is not null)
        and tasks.activity_type in ('call', 'email', 'meeting')
        and coalesce(tasks.completed_at, cast(tasks.activity_date as {{ dbt.type_timestamp() }}), tasks.created_at)
            is not null
),

form_submission_activities as (
    select
        'form_submission' as activity_type,
        person_emails.person_id,
        cast(null as {{ dbt.type_string() }}) as company_domain,
        form_submissions.submitted_at as activity_at,
        categorized_pages.product_line,
        form_submissions.page_path as url_path,
        categorized_pages.page_category,
        cast(null as {{ dbt.type_bigint() }}) as page_views,
        cast(null as {{ dbt.type_string() }}) as email_event_type,
        cast(null as {{ dbt.type_string() }}) as email_campaign_id,
        cast(null as {{ dbt.type_string() }}) as clicked_url,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        cast(null as {{ dbt.type_string() }}) as campaign_type,
        cast(null as {{ dbt.type_string() }}) as member_status_category,
        cast(null as {{ dbt.type_string() }}) as task_activity_type,
        cast(null as {{ dbt.type_bigint() }}) as call_duration_seconds,
        form_submissions.form_name,
        cast(null as {{ dbt.type_string() }}) as signal_type,
        cast(null as {{ dbt.type_string() }}) as signal_topic,
        cast(null as {{ type_double() }}) as signal_strength,
        'stg_forms__submissions' as source_model,
        form_submissions.submission_id as source_id
    from form_submissions
    inner join person_emails
        on form_submissions.email = person_emails.email
    left join categorized_pages
        on form_submissions.page_path = categorized_pages.url_path
),

account_signal_activities as (
    select
        'account_signal' as activity_type,
        cast(null as {{ dbt.type_string() }}) as person_id,
        company_domain,
        observed_at as activity_at,
        cast(null as {{ dbt.type_string() }}) as product_line,
        cast(null as {{ dbt.type_string() }}) as url_path,
        cast(null as {{ dbt.type_string() }}) as page_category,
        cast(null as {{ dbt.type_bigint() }}) as page_views,
        cast(null as {{ dbt.type_string() }}) as email_event_type,
        cast(null as {{ dbt.type_string() }}) as email_campaign_id,
        cast(null as {{ dbt.type_string() }}) as clicked_url,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        cast(null as {{ dbt.type_string() }}) as campaign_type,
        cast(null as {{ dbt.type_string() }}) as member_status_category,
        cast(null as {{ dbt.type_string() }}) as task_activity_type,
        cast(null as {{ dbt.type_bigint() }}) as call_duration_seconds,
        cast(null as {{ dbt.type_string() }}) as form_name,
        signal_type,
        topic as signal_topic,
        strength as signal_strength,
        'stg_signals__account_signals' as source_model,
        signal_id as source_id
    from account_signals
    where company_domain is not null
),

activities as (
    select * from web_page_view_activities
    union all
    select * from web_visit_activities
    union all
    select * from email_event_activities
    union all
    select * from campaign_response_activities
    union all
    select * from sales_task_activities
    union all
    select * from form_submission_activities
    union all
    select * from account_signal_activities
),

final as (
    select
        {{ dbt.hash(dbt.concat(['activity_type', "':'", 'source_id'])) }} as activity_id,
        person_id,
        cast(null as {{ dbt.type_string() }}) as account_id,
        activity_type,
        activity_at,
        cast(activity_at as date) as activity_date,
        product_line,
        url_path,
        page_category,
        page_views,
        email_event_type,
        email_campaign_id,
        clicked_url,
        campaign_id,
        campaign_type,
        member_status_category,
        task_activity_type,
        call_duration_seconds,
        form_name,
        signal_type,
        signal_topic,
        signal_strength,
        company_domain,
        source_model,
        source_id
    from activities
)

select * from final
