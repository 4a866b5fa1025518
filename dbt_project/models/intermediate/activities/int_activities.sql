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
        {{ activity_columns({
            'activity_type': "'web_page_view'",
            'person_id': "person_id",
            'activity_at': "viewed_at",
            'product_line': "product_line",
            'url_path': "url_path",
            'page_category': "page_category",
            'source_model': "'int_web_page_views'",
            'source_id': "page_view_id",
        }) }}
    from page_views
    where person_id is not null
),

web_visit_activities as (
    select
        {{ activity_columns({
            'activity_type': "'web_visit'",
            'person_id': "person_id",
            'activity_at': "started_at",
            'product_line': "product_line",
            'url_path': "landing_url_path",
            'page_category': "landing_page_category",
            'page_views': "page_views",
            'source_model': "'int_web_visits'",
            'source_id': "visit_id",
        }) }}
    from visits
    where person_id is not null
),

-- Sends and deliveries are the company's doing, not the reader's.
email_event_activities as (
    select
        {{ activity_columns({
            'activity_type': "'email_event'",
            'person_id': "email_events.person_id",
            'activity_at': "email_events.occurred_at",
            'product_line': "campaigns.product_line",
            'url_path': "email_events.clicked_url_path",
            'page_category': "case when email_events.event_type = 'click' then categorized_pages.page_category end",
            'email_event_type': "email_events.event_type",
            'email_campaign_id': "email_events.campaign_id",
            'clicked_url': "email_events.clicked_url",
            'campaign_type': "campaigns.campaign_type",
            'source_model': "'int_email_events_filtered'",
            'source_id': "email_events.event_id",
        }) }}
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
        {{ activity_columns({
            'activity_type': "'campaign_response'",
            'person_id': "person_records.person_id",
            'activity_at': "coalesce(cast(campaign_members.first_responded_date as " ~ dbt.type_timestamp() ~ "), campaign_members.created_at)",
            'product_line': "campaigns.product_line",
            'campaign_id': "campaign_members.campaign_id",
            'campaign_type': "campaigns.campaign_type",
            'member_status_category': "campaign_members.member_status_category",
            'source_model': "'stg_crm__campaign_members'",
            'source_id': "campaign_members.campaign_member_id",
        }) }}
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
        {{ activity_columns({
            'activity_type': "'sales_task'",
            'person_id': "person_records.person_id",
            'activity_at': "coalesce(tasks.completed_at, cast(tasks.activity_date as " ~ dbt.type_timestamp() ~ "), tasks.created_at)",
            'task_activity_type': "tasks.activity_type",
            'call_duration_seconds': "tasks.call_duration_seconds",
            'source_model': "'stg_crm__tasks'",
            'source_id': "tasks.task_id",
        }) }}
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
        {{ activity_columns({
            'activity_type': "'form_submission'",
            'person_id': "person_emails.person_id",
            'activity_at': "form_submissions.submitted_at",
            'product_line': "categorized_pages.product_line",
            'url_path': "form_submissions.page_path",
            'page_category': "categorized_pages.page_category",
            'form_name': "form_submissions.form_name",
            'source_model': "'stg_forms__submissions'",
            'source_id': "form_submissions.submission_id",
        }) }}
    from form_submissions
    inner join person_emails
        on form_submissions.email = person_emails.email
    left join categorized_pages
        on form_submissions.page_path = categorized_pages.url_path
),

account_signal_activities as (
    select
        {{ activity_columns({
            'activity_type': "'account_signal'",
            'company_domain': "company_domain",
            'activity_at': "observed_at",
            'signal_type': "signal_type",
            'signal_topic': "topic",
            'signal_strength': "strength",
            'source_model': "'stg_signals__account_signals'",
            'source_id': "signal_id",
        }) }}
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
