{#- The raw inputs of the predictive model's features: one row per snapshot instant of
    dim_feature_snapshots and master person known then (person_created_at < snapshot_at)
    not converted at or before it (fct_conversions). In snapshot_mode, at as_of only, every
    master person, converted or not (is_converted is the label).

    Everything but converted_at and is_converted (the label) is known before the snapshot: profile
    attributes that do not come from sales work, the latest activity strictly before it (any
    age), and per activity kind the activities in the 7, 30 and 90 days before it (activity_at in
    [snapshot_at - days, snapshot_at)), in columns named <kind>_<days>d. The kinds are business
    logic and are defined here, in `activity_kinds`: a person's own activities, and the account
    signals at the company of their work email (as the company_signal rules match them). The
    model's transforms (log counts, capped recency, one-hot profile, standardization) stay with
    the fit, in src/leadscore/feedback/predictive.py, which also describes each kind. -#}

{%- set windows_days = [7, 30, 90] %}
{#- kind -> condition on int_activities, for a person's own activities. -#}
{%- set person_kinds = {
    'page_view': "activity_type = 'web_page_view'",
    'pricing_page': "activity_type = 'web_page_view' and page_category = 'pricing'",
    'demo_contact_page': "activity_type = 'web_page_view' and page_category in ('demo_request', 'contact')",
    'evaluation_page': "activity_type = 'web_page_view' and page_category in ('product', 'case_study', 'buying_guide', 'data_sheet', 'rfp_template', 'docs', 'video')",
    'off_target_page': "activity_type = 'web_page_view' and page_category in ('careers', 'investors', 'press', 'team')",
    'web_visit': "activity_type = 'web_visit'",
    'email_open': "activity_type = 'email_event' and email_event_type = 'open'",
    'email_click': "activity_type = 'email_event' and email_event_type = 'click'",
    'email_negative': "activity_type = 'email_event' and email_event_type in ('unsubscribe', 'bounce', 'spam_report')",
    'campaign_response': "activity_type = 'campaign_response'",
    'webinar_attended': "activity_type = 'campaign_response' and member_status_category = 'attended'",
    'sales_call': "activity_type = 'sales_task' and task_activity_type = 'call'",
    'sales_meeting': "activity_type = 'sales_task' and task_activity_type = 'meeting'",
    'sales_email': "activity_type = 'sales_task' and task_activity_type = 'email'",
    'form_fill': "activity_type = 'form_submission'",
    'high_intent_form': "activity_type = 'form_submission' and form_name in ('demo-request', 'contact-us', 'pricing-quote', 'rfp-template-download')",
} %}
{#- kind -> condition on the account signals at the person's company. -#}
{%- set company_kinds = {
    'company_intent': "signal_type = 'intent_topic' and signal_strength >= 60",
    'company_signal': "true",
} %}
{%- set kinds = (person_kinds.keys() | list) + (company_kinds.keys() | list) %}
{#- Profile attributes set when the record is created or from the person's title and company;
    the fields a record only gets during sales work would tell a past snapshot the future. -#}
{%- set profile_attributes = [
    'seniority', 'job_role', 'industry', 'employee_band', 'revenue_band', 'is_served_country',
    'is_english_speaking_country', 'is_free_mail', 'lead_source', 'name_has_digits', 'is_isp_company',
] %}

with

snapshots as (
    select snapshot_at from {{ ref('dim_feature_snapshots') }}
),

people as (
    select * from {{ ref('int_people') }} where is_master
),

population as (
    select
        snapshots.snapshot_at,
        people.person_created_at,
        conversions.converted_at,
        conversions.person_id is not null as is_converted,
        {%- for attribute in profile_attributes %}
        cast(people.{{ attribute }} as {{ dbt.type_string() }}) as {{ attribute }},
        {%- endfor %}
        people.person_id
    from snapshots
    inner join people
        {%- if var('snapshot_mode') %}
        -- One snapshot, everyone in it: a record of the export counts as known at as_of, and
        -- the converted are the positives the fit learns from.
        on people.person_created_at <= snapshots.snapshot_at
    left join {{ ref('fct_conversions') }} as conversions
        on conversions.person_id = people.person_id
        {%- else %}
        on people.person_created_at < snapshots.snapshot_at
    left join {{ ref('fct_conversions') }} as conversions
        on conversions.person_id = people.person_id
    -- People already converted (in a deal, or customers) cannot convert for the first time.
    where conversions.person_id is null
        or conversions.converted_at > snapshots.snapshot_at
        {%- endif %}
),

-- Each activity that counts, with one flag per kind it is of (a page view of the pricing page
-- is both a page view and a pricing page view).
activity_kinds as (
    select
        person_id,
        activity_at,
        {%- for kind, condition in person_kinds.items() %}
        coalesce({{ condition }}, false) as is_{{ kind }},
        {%- endfor %}
        {%- for kind in company_kinds %}
        false as is_{{ kind }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ ref('int_activities') }}
    where person_id is not null
    union all
    select
        people.person_id,
        signals.activity_at,
        {%- for kind in person_kinds %}
        false as is_{{ kind }},
        {%- endfor %}
        {%- for kind, condition in company_kinds.items() %}
        coalesce({{ condition }}, false) as is_{{ kind }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ ref('int_activities') }} as signals
    inner join people
        on signals.company_domain = people.email_domain
    where signals.activity_type = 'account_signal'
        and not coalesce(people.is_free_mail, false)
),

windowed as (
    select
        population.snapshot_at,
        population.person_id,
        {%- for kind in kinds %}
        {%- set kind_loop = loop %}
        {%- for days in windows_days %}
        count(case when activity_kinds.is_{{ kind }}
            and activity_kinds.activity_at >= {{ dbt.dateadd('day', -days, 'population.snapshot_at') }}
            then 1 end) as {{ kind }}_{{ days }}d{{ ',' if not (kind_loop.last and loop.last) }}
        {%- endfor %}
        {%- endfor %}
    from population
    inner join activity_kinds
        on activity_kinds.person_id = population.person_id
        and activity_kinds.activity_at < population.snapshot_at
        and activity_kinds.activity_at >= {{ dbt.dateadd('day', -(windows_days | max), 'population.snapshot_at') }}
    group by population.snapshot_at, population.person_id
),

-- The latest activity strictly before each snapshot, any age: activities and snapshots of a
-- person in time order (a snapshot before an activity at the same instant), each snapshot taking
-- the latest activity before it.
person_timeline as (
    select person_id, activity_at as event_at, 1 as tie_order, activity_at
    from {{ ref('int_activities') }}
    where person_id is not null
    union all
    select person_id, snapshot_at as event_at, 0 as tie_order, null as activity_at
    from population
),

last_activity as (
    select snapshot_at, person_id, last_activity_at
    from (
        select
            event_at as snapshot_at,
            person_id,
            tie_order,
            max(activity_at) over (
                partition by person_id order by event_at, tie_order rows between unbounded preceding and current row
            ) as last_activity_at
        from person_timeline
    ) as ordered
    where tie_order = 0
),

final as (
    select
        population.snapshot_at,
        population.person_id,
        population.person_created_at,
        population.converted_at,
        population.is_converted,
        {%- for attribute in profile_attributes %}
        population.{{ attribute }},
        {%- endfor %}
        last_activity.last_activity_at,
        {%- for kind in kinds %}
        {%- set kind_loop = loop %}
        {%- for days in windows_days %}
        coalesce(windowed.{{ kind }}_{{ days }}d, 0) as {{ kind }}_{{ days }}d{{ ',' if not (kind_loop.last and loop.last) }}
        {%- endfor %}
        {%- endfor %}
    from population
    left join windowed
        on windowed.snapshot_at = population.snapshot_at
        and windowed.person_id = population.person_id
    left join last_activity
        on last_activity.snapshot_at = population.snapshot_at
        and last_activity.person_id = population.person_id
)

select * from final
