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
    the fit, in src/leadscore/feedback/predictive.py, which also describes each kind.

    Incremental per row (snapshot, person): a person's rows are a function of their profile,
    conversion and activities (company signals included), so a run recomputes every row of
    the people whose inputs changed (_inputs_digest), the rows of snapshots not built before
    (as_of moves at every run), and every row after a change of the kinds, windows or profile
    attributes below (_settings_fingerprint); rows no longer in the population are deleted.
    The running counts stream a person's activities from 90 days (the longest window) before
    the earliest snapshot computed for them; the latest activity before that comes from a plain
    aggregate. See macros/incremental/keyed_rewrites.sql; Spark rebuilds it in full. -#}

{{ keyed_rewrite_config(['snapshot_at', 'person_id'], on_schema_change='append_new_columns') }}

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
{#- The definitions as a digest: their conditions hold quotes, which a SQL literal would carry
    in a form Spark reads differently. -#}
{%- set fingerprint = settings_fingerprint([], {'definitions': local_md5(tojson({
    'windows_days': windows_days, 'person_kinds': person_kinds, 'company_kinds': company_kinds,
    'profile_attributes': profile_attributes, 'snapshot_mode': var('snapshot_mode')}))}) %}
{%- set longest_window_days = windows_days | max %}
{%- set digested_person_columns = ['people.person_created_at', 'conversions.converted_at',
    'conversions.person_id is not null', 'activity_digests.activities_digest'] %}
{%- for attribute in profile_attributes %}{% do digested_person_columns.append('people.' ~ attribute) %}{% endfor %}
{%- set digested_activity_columns = ['activity_id', 'activity_at', 'is_own'] %}
{%- for kind in kinds %}{% do digested_activity_columns.append('is_' ~ kind) %}{% endfor %}

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
-- is both a page view and a pricing page view); is_own: the person's own, not their company's.
activity_kinds as {{ inline_cte() }} (
    select
        person_id,
        activity_id,
        activity_at,
        true as is_own,
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
        signals.activity_id,
        signals.activity_at,
        false as is_own,
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

-- What a person's rows are computed from, in one digest per person.
person_digests as (
    select
        people.person_id,
        {{ row_hash(digested_person_columns) }} as inputs_digest
    from people
    left join {{ ref('fct_conversions') }} as conversions
        on people.person_id = conversions.person_id
    left join (
        select
            person_id,
            {{ unordered_digest_agg(digested_activity_columns) }} as activities_digest
        from activity_kinds
        group by person_id
    ) as activity_digests
        on people.person_id = activity_digests.person_id
),

{% if is_incremental() -%}
-- The rows to compute: every snapshot of the people whose digest changed (all of them after a
-- settings change or on a table built without digests), and everyone at the snapshots not
-- built before.
changed_people as (
    {{ changed_digest_keys('person_digests', ['person_id'], fingerprint) }}
),

scope as (
    select population.snapshot_at, population.person_id
    from population
    where population.person_id in (select person_id from changed_people)
        or population.snapshot_at not in (select distinct snapshot_at from {{ this }})
),

{% endif -%}
-- With the digests stored on the rows, joined here rather than to the wide rows at the end: at
-- 50M log lines one more hash table beside that last join ran out of the 3 GB memory limit.
scoped_population as (
    select population.*, person_digests.inputs_digest
    from population
    inner join person_digests
        on population.person_id = person_digests.person_id
    {%- if is_incremental() %}
    inner join scope
        on population.snapshot_at = scope.snapshot_at
        and population.person_id = scope.person_id
    {%- endif %}
),

-- From when the windows of a person's scoped snapshots count activities: the longest window
-- before the earliest one.
counted_from as (
    select
        person_id,
        {{ dbt.dateadd('day', -longest_window_days, 'min(snapshot_at)') }} as counted_from
    from scoped_population
    group by person_id
),

counted_activities as (
    select activity_kinds.*
    from activity_kinds
    inner join counted_from
        on activity_kinds.person_id = counted_from.person_id
    where activity_kinds.activity_at >= counted_from.counted_from
),

-- The latest own activity before that: any age counts for last_activity_at.
earlier_activity as (
    select
        activity_kinds.person_id,
        max(activity_kinds.activity_at) as last_activity_at
    from activity_kinds
    inner join counted_from
        on activity_kinds.person_id = counted_from.person_id
    where activity_kinds.activity_at < counted_from.counted_from
        and activity_kinds.is_own
    group by activity_kinds.person_id
),

{#- A person's activities and snapshots in one stream, ordered by instant in microseconds times
    two, plus one for an activity. Each snapshot puts four marks in it: at snapshot_at and 7,
    30 and 90 days before. A mark sorts before an activity at the same instant, so the running
    count at a mark is the activities strictly before its instant, and the activities in
    [snapshot_at - days, snapshot_at) are the count at the snapshot's mark minus the count at
    its mark `days` before. Running counts per kind are one sort of the stream; joining the
    activities of the last 90 days to every snapshot and counting them in one wide aggregate
    ran out of memory at large size. -#}
stream as (
    select
        person_id,
        cast(null as timestamp) as snapshot_at,
        0 as lookback_days,
        2 * cast(round({{ seconds_since_epoch('activity_at') }} * 1000000) as bigint) + 1 as stream_key,
        case when is_own then activity_at end as own_activity_at,
        {%- for kind in kinds %}
        case when is_{{ kind }} then 1 else 0 end as is_{{ kind }}{{ ',' if not loop.last }}
        {%- endfor %}
    from counted_activities
    union all
    select
        population.person_id,
        population.snapshot_at,
        lookbacks.lookback_days,
        2 * cast(round({{ seconds_since_epoch('population.snapshot_at') }} * 1000000) as bigint)
            - 2 * cast(lookbacks.lookback_days as {{ dbt.type_bigint() }}) * 86400 * 1000000,
        cast(null as timestamp),
        {%- for kind in kinds %}
        0{{ ',' if not loop.last }}
        {%- endfor %}
    from scoped_population as population
    cross join (
        {%- for days in [0] + windows_days %}
        select {{ days }} as lookback_days{{ ' union all' if not loop.last }}
        {%- endfor %}
    ) as lookbacks
),

-- At each mark: the activities of each kind before it, and the latest of the person's own.
running_counts as (
    select
        snapshot_at,
        person_id,
        lookback_days,
        max(own_activity_at) over running as last_activity_at,
        {%- for kind in kinds %}
        sum(is_{{ kind }}) over running as {{ kind }}_so_far{{ ',' if not loop.last }}
        {%- endfor %}
    from stream
    window running as (partition by person_id order by stream_key rows between unbounded preceding and current row)
),

-- At each snapshot: the activities of each kind in each window before it, and the latest of the
-- person's own activities strictly before it (any age).
windowed as (
    select
        snapshot_at,
        person_id,
        max(case when lookback_days = 0 then last_activity_at end) as last_activity_at,
        {%- for kind in kinds %}
        {%- set kind_loop = loop %}
        {%- for days in windows_days %}
        cast(sum(case
            when lookback_days = 0 then {{ kind }}_so_far
            when lookback_days = {{ days }} then -{{ kind }}_so_far
            else 0
        end) as {{ dbt.type_bigint() }}) as {{ kind }}_{{ days }}d{{ ',' if not (kind_loop.last and loop.last) }}
        {%- endfor %}
        {%- endfor %}
    from running_counts
    where snapshot_at is not null
    group by snapshot_at, person_id
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
        -- The stream's latest is later than any before it.
        coalesce(windowed.last_activity_at, earlier_activity.last_activity_at) as last_activity_at,
        {%- for kind in kinds %}
        {%- for days in windows_days %}
        windowed.{{ kind }}_{{ days }}d,
        {%- endfor %}
        {%- endfor %}
        population.inputs_digest as _inputs_digest,
        run_values.fingerprint as _settings_fingerprint
    from scoped_population as population
    inner join windowed
        on windowed.snapshot_at = population.snapshot_at
        and windowed.person_id = population.person_id
    left join earlier_activity
        on population.person_id = earlier_activity.person_id
    {{ run_values(fingerprint) }}
)

select * from final
{{ tombstone_rows('scope', 'population', ['snapshot_at', 'person_id']) }}
