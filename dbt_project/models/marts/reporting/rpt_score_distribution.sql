{#- The guide's score review ("how many leads score 0-10, 11-20... ? any negative scores,
    outliers, a decay mechanism?"): per rulebook, people per 10-point band of total score, per
    grade and per segment as of as_of, with the anomalies in each group; then one row per
    anomaly and the rule most responsible for it.

    Anomalies (a person may have several):
    - negative_score: total score below zero;
    - high_outlier / low_outlier: total score above Q3 + k * IQR / below Q1 - k * IQR of the
      rulebook's scores (k = score_outlier_iqr_multiplier);
    - never_decaying: the person earned positive engagement from activities, all of them more
      than score_decay_check_days before as_of, and not a point of it has decayed (their
      activity rows' points_as_of add up to their points after cap, times the weight).
    The responsible rule is the one whose rows add the most points in the anomaly's direction
    (the most negative for negative_score and low_outlier; for never_decaying, among activity
    rows). -#}

with

scores as (
    select person_id, rulebook_id, is_champion, as_of, total_score, grade, segment
    from {{ ref('fct_lead_scores') }}
),

ledger as (
    select * from {{ ref('fct_score_ledger') }}
),

fences as (
    select
        rulebook_id,
        -- Of doubles: DuckDB interpolates decimals to their scale, Spark in double precision.
        {{ quantile(to_double('total_score'), 0.25) }} as first_quartile,
        {{ quantile(to_double('total_score'), 0.75) }} as third_quartile
    from scores
    group by rulebook_id
),

activity_engagement as (
    select
        person_id,
        rulebook_id,
        sum(points_after_cap * weight) as undecayed_points,
        sum(points_as_of) as points_as_of,
        max(event_at) as last_activity_at
    from ledger
    where source_type = 'activity'
        and component = 'engagement'
    group by person_id, rulebook_id
),

flagged as (
    select
        scores.*,
        fences.third_quartile + {{ var('score_outlier_iqr_multiplier') }} * (fences.third_quartile - fences.first_quartile)
            as high_fence,
        fences.first_quartile - {{ var('score_outlier_iqr_multiplier') }} * (fences.third_quartile - fences.first_quartile)
            as low_fence,
        case when scores.total_score < 0 then 1 else 0 end as is_negative,
        case when activity_engagement.undecayed_points > 0
            and activity_engagement.points_as_of >= activity_engagement.undecayed_points - 0.000001
            and activity_engagement.last_activity_at
                < {{ dbt.dateadd('day', -var('score_decay_check_days'), 'scores.as_of') }}
            then 1 else 0 end as is_never_decaying
    from scores
    inner join fences
        on scores.rulebook_id = fences.rulebook_id
    left join activity_engagement
        on scores.person_id = activity_engagement.person_id
        and scores.rulebook_id = activity_engagement.rulebook_id
),

people as (
    select
        flagged.*,
        case when flagged.total_score > flagged.high_fence then 1 else 0 end as is_high_outlier,
        case when flagged.total_score < flagged.low_fence then 1 else 0 end as is_low_outlier
    from flagged
),

anomalies as (
    select person_id, rulebook_id, 'negative_score' as anomaly, 'down' as direction, false as activity_only
    from people where is_negative = 1
    union all
    select person_id, rulebook_id, 'high_outlier', 'up', false from people where is_high_outlier = 1
    union all
    select person_id, rulebook_id, 'low_outlier', 'down', false from people where is_low_outlier = 1
    union all
    select person_id, rulebook_id, 'never_decaying', 'up', true from people where is_never_decaying = 1
),

rule_points as (
    select
        anomalies.person_id,
        anomalies.rulebook_id,
        anomalies.anomaly,
        ledger.rule_id,
        row_number() over (
            partition by anomalies.person_id, anomalies.rulebook_id, anomalies.anomaly
            order by case when anomalies.direction = 'up' then -sum(ledger.points_as_of)
                else sum(ledger.points_as_of) end, ledger.rule_id
        ) as rule_rank
    from anomalies
    inner join ledger
        on anomalies.person_id = ledger.person_id
        and anomalies.rulebook_id = ledger.rulebook_id
        and (not anomalies.activity_only or ledger.source_type = 'activity')
    group by anomalies.person_id, anomalies.rulebook_id, anomalies.anomaly, anomalies.direction, ledger.rule_id
),

-- Every group a person counts in: a score band, a grade, a segment, an anomaly.
memberships as (
    select
        person_id,
        rulebook_id,
        'score_band' as section,
        {{ dbt.concat([
            "'['", "cast(cast(floor(total_score / 10) * 10 as " ~ dbt.type_int() ~ ") as " ~ dbt.type_string() ~ ")",
            "', '", "cast(cast(floor(total_score / 10) * 10 + 10 as " ~ dbt.type_int() ~ ") as " ~ dbt.type_string() ~ ")",
            "')'"
        ]) }} as group_value,
        cast(floor(total_score / 10) * 10 as {{ dbt.type_int() }}) as group_order,
        cast(null as {{ dbt.type_string() }}) as rule_id
    from people
    union all
    select person_id, rulebook_id, 'grade', grade, null, null from people
    union all
    select person_id, rulebook_id, 'segment', segment, null, null from people
    union all
    select anomalies.person_id, anomalies.rulebook_id, 'anomaly', anomalies.anomaly, null, rule_points.rule_id
    from anomalies
    left join rule_points
        on anomalies.person_id = rule_points.person_id
        and anomalies.rulebook_id = rule_points.rulebook_id
        and anomalies.anomaly = rule_points.anomaly
        and rule_points.rule_rank = 1
),

rulebook_people as (
    select rulebook_id, count(*) as people from scores group by rulebook_id
),

final as (
    select
        memberships.rulebook_id,
        people.is_champion,
        memberships.section,
        memberships.group_value,
        memberships.group_order,
        memberships.rule_id,
        count(*) as people,
        1.0 * count(*) / rulebook_people.people as share_of_people,
        avg(people.total_score) as avg_total_score,
        min(people.total_score) as min_total_score,
        max(people.total_score) as max_total_score,
        cast(sum(people.is_negative) as {{ dbt.type_bigint() }}) as negative_scores,
        cast(sum(people.is_high_outlier + people.is_low_outlier) as {{ dbt.type_bigint() }}) as outliers,
        cast(sum(people.is_never_decaying) as {{ dbt.type_bigint() }}) as never_decaying,
        min(memberships.person_id) as example_person_id,
        people.low_fence as outlier_low_fence,
        people.high_fence as outlier_high_fence,
        people.as_of
    from memberships
    inner join people
        on memberships.person_id = people.person_id
        and memberships.rulebook_id = people.rulebook_id
    inner join rulebook_people
        on memberships.rulebook_id = rulebook_people.rulebook_id
    group by
        memberships.rulebook_id, people.is_champion, memberships.section, memberships.group_value,
        memberships.group_order, memberships.rule_id, rulebook_people.people, people.low_fence,
        people.high_fence, people.as_of
)

select * from final
