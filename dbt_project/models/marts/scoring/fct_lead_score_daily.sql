{#- Daily score trend for BI: one row per person, rulebook and complete day (UTC) of the last
    `score_history_days` days before as_of (120), with the scores as of the end of the day (the
    midnight after it). A view of int_score_daily, which reads the score timeline at each
    midnight and keeps the days of timelines that did not change between runs. Lifecycle facts
    never come from here; they read the timeline, whose history is complete.

    No as_of column: the hourly run (selector fresh_scores) leaves the trend as the daily run
    built it, so the as_of of the latest run would mislabel it, and BI copies would rewrite its
    rows every hour for that one column. fct_lead_scores.as_of says when scores were computed. -#}

{{ config(materialized='view') }}

select
    daily.person_id as person_id,
    daily.rulebook_id,
    daily.rulebook_id = '{{ var("champion_rulebook") }}' as is_champion,
    daily.score_date,
    daily.fit_score,
    daily.engagement_score,
    daily.data_quality_score,
    daily.adjustment_score,
    daily.total_score,
    fingerprints.fingerprint as rulebook_fingerprint
from {{ ref('int_score_daily') }} as daily
inner join {{ ref('int_rulebook_fingerprints') }} as fingerprints
    on daily.rulebook_id = fingerprints.rulebook_id
