{#- The score timeline for BI and analysts: per person and rulebook, one row per instant the
    score changed, over the whole history, with the scores right after the change and what
    caused it. The score at an instant t is read from the row with changed_at <= t < valid_until:
    for rulebooks without exponential or linear decay it is that row's score; otherwise the
    row's state columns give it exactly (the scores_at() macro does this in SQL). -#}

{{ config(materialized='view') }}

{%- set columns = adapter.get_columns_in_relation(ref('int_score_timeline')) if execute else [] %}

select
    person_id
    {%- for column in columns if column.name != 'person_id' and not column.name.startswith('_') %},
    {{ adapter.quote(column.name) }}
    {%- endfor %}
from {{ ref('int_score_timeline') }}
