{#- Reading the score timeline (int_score_timeline / fct_score_timeline). Between two change
    points a component moves in closed form: its constant, plus a linear part (intercept + slope
    * days since decay_origin_at) and one exponential part per half-life (coefficient *
    0.5 ^ (days since decay_origin_at / half-life)). The bounds (caps and floors) apply to the
    value, as the ledger's bound rows do. -#}

{#- The half-lives (days) of the exponential decay profiles, read from the decay_profiles seed's
    table when the model runs (not its ref, which a unit test replaces with its given rows); each
    is a column of the timeline. Models that call it declare `-- depends_on:` the seed. -#}
{% macro exponential_half_lives() -%}
    {%- set half_lives = [] -%}
    {%- if execute -%}
        {%- set relation = api.Relation.create(
            database=(target.database if target.database is defined else none),
            schema=generate_schema_name('seeds', none), identifier='decay_profiles') -%}
        {%- set result = run_query(
            "select distinct cast(half_life_days as " ~ type_double() ~ ") from " ~ relation
            ~ " where decay_type = 'exponential' and half_life_days is not null order by 1") -%}
        {%- for row in result.rows -%}
            {%- do half_lives.append(row[0]) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(half_lives) }}
{%- endmacro %}

{#- The column suffix of a half-life: 30 -> 30d, 7.5 -> 7_5d. -#}
{% macro half_life_suffix(half_life) -%}
    {%- if half_life == (half_life | int) -%}{{ half_life | int }}d{%- else -%}{{ (half_life | string) | replace('.', '_') }}d{%- endif -%}
{%- endmacro %}

{#- The state columns of a decaying component, in order. -#}
{% macro decaying_state_columns(component) -%}
    {%- set columns = [component ~ '_linear_intercept', component ~ '_linear_slope'] -%}
    {%- for half_life in exponential_half_lives() -%}
        {%- do columns.append(component ~ '_exp_' ~ half_life_suffix(half_life)) -%}
    {%- endfor -%}
    {{ return(columns) }}
{%- endmacro %}

{#- The raw (unbounded) value of `component` of timeline row `row_alias` at instant `at_ts`
    (within the row's interval). fit and data_quality have no decaying part. -#}
{% macro timeline_component_at(row_alias, component, at_ts) -%}
    {%- if component in ['engagement', 'adjustment'] -%}
    (coalesce({{ row_alias }}.{{ component }}_constant, 0)
        + coalesce({{ row_alias }}.{{ component }}_linear_intercept, 0)
        + coalesce({{ row_alias }}.{{ component }}_linear_slope * {{ days_between(row_alias ~ '.decay_origin_at', at_ts) }}, 0)
        {%- for half_life in exponential_half_lives() %}
        + coalesce({{ row_alias }}.{{ component }}_exp_{{ half_life_suffix(half_life) }}
            * power(0.5, {{ days_between(row_alias ~ '.decay_origin_at', at_ts) }} / {{ half_life }}), 0)
        {%- endfor -%})
    {%- else -%}
    coalesce({{ row_alias }}.{{ component }}_constant, 0)
    {%- endif -%}
{%- endmacro %}

{#- A component after its cap and floor (score_bounds row `bounds_alias`); the cap does not
    apply while `waived` is true (the person triggered one of its cap_unless rules). -#}
{% macro bounded_points(raw, bounds_alias, waived='false') -%}
    case
        when {{ bounds_alias }}.cap_points is not null and {{ raw }} > {{ bounds_alias }}.cap_points
            and not coalesce({{ waived }}, false)
            then {{ bounds_alias }}.cap_points
        when {{ bounds_alias }}.floor_points is not null and {{ raw }} < {{ bounds_alias }}.floor_points
            then {{ bounds_alias }}.floor_points
        else {{ raw }}
    end
{%- endmacro %}

{#- Joins of score_bounds for the four components and the total, aliased <component>_bounds,
    for a relation `row_alias` with a rulebook_id. -#}
{% macro score_bounds_joins(row_alias) -%}
    {%- for component in ['fit', 'engagement', 'data_quality', 'adjustment', 'total'] %}
    left join {{ ref('score_bounds') }} as {{ component }}_bounds
        on {{ row_alias }}.rulebook_id = {{ component }}_bounds.rulebook_id
        and {{ component }}_bounds.component = '{{ component }}'
    {%- endfor %}
{%- endmacro %}

{#- One score of timeline row `row_alias` at instant `at_ts`: `score` is fit, engagement,
    data_quality, adjustment (each after its own bounds) or total (the bounded components' sum
    after the total bounds), as the ledger's bound rows give them. Needs
    score_bounds_joins(row_alias) in the from clause. -#}
{% macro timeline_score_at(row_alias, at_ts, score) -%}
    {%- set components = ['fit', 'engagement', 'data_quality', 'adjustment'] -%}
    {%- set bounded = {} -%}
    {%- for component in components -%}
        {%- do bounded.update({component: bounded_points(
            timeline_component_at(row_alias, component, at_ts), component ~ '_bounds',
            row_alias ~ '.' ~ component ~ '_cap_waived')}) -%}
    {%- endfor -%}
    {%- if score == 'total' -%}
        {%- set parts = [] -%}
        {%- for component in components %}{% do parts.append(bounded[component]) %}{% endfor -%}
        {{ bounded_points('(' ~ (parts | join(' + ')) ~ ')', 'total_bounds') }}
    {%- else -%}
        {{ bounded[score] }}
    {%- endif -%}
{%- endmacro %}

{#- Whether a total score and a fit score qualify as an MQL under a rulebook: the total at or
    over its mql_threshold with at least its mql_min_fit (`thresholds_alias`: a relation with
    those two columns, a rulebooks row say). -#}
{% macro meets_mql(total_score, fit_score, thresholds_alias='rulebooks') -%}
    ({{ total_score }} >= {{ thresholds_alias }}.mql_threshold and {{ fit_score }} >= {{ thresholds_alias }}.mql_min_fit)
{%- endmacro %}

{#- Whether timeline row `row_alias` qualifies as an MQL at instant `at_ts` (`rulebooks_alias`:
    a rulebooks row; needs score_bounds_joins(row_alias)). -#}
{% macro timeline_qualifies_at(row_alias, at_ts, rulebooks_alias='rulebooks') -%}
    {{ meets_mql(timeline_score_at(row_alias, at_ts, 'total'), timeline_score_at(row_alias, at_ts, 'fit'),
        rulebooks_alias) }}
{%- endmacro %}

{#- When each person's cap of each component stops applying: the first of `rows` (with
    person_id, rulebook_id, rule_id and the instant column `at_column`) that hits one of the
    component's cap_unless_rule_ids (the guide's "capped unless a criterion is met"). One row per
    person, rulebook and component: person_id, rulebook_id, component, waived_from. -#}
{% macro cap_waivers(rows, at_column) -%}
    select
        {{ rows }}.person_id,
        {{ rows }}.rulebook_id,
        bounds.component,
        min({{ rows }}.{{ at_column }}) as waived_from
    from {{ rows }}
    inner join {{ ref('score_bounds') }} as bounds
        on {{ rows }}.rulebook_id = bounds.rulebook_id
        and '|' || bounds.cap_unless_rule_ids || '|' like '%|' || {{ rows }}.rule_id || '|%'
    group by {{ rows }}.person_id, {{ rows }}.rulebook_id, bounds.component
{%- endmacro %}

{#- The five scores of timeline row `row_alias` at instant `at_ts` as a select list
    (<prefix>fit_score ... <prefix>total_score), to a millionth of a point: the last bits of the
    decay coefficients depend on the order their sums were added in (an incremental run adds
    fewer), and would otherwise show in the digits a decimal column keeps. Needs
    score_bounds_joins(row_alias). -#}
{% macro timeline_scores_at(row_alias, at_ts, prefix='') -%}
    {%- for score in ['fit', 'engagement', 'data_quality', 'adjustment', 'total'] %}
    round({{ timeline_score_at(row_alias, at_ts, score) }}, 6) as {{ prefix }}{{ score }}_score{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- Scores at requested instants, for SQL users and BI: `requests` is a relation or CTE name
    with person_id, rulebook_id and score_at (UTC timestamp) columns; the result has one row per
    request that falls in a person's timeline (from the record's creation to as_of), with the
    request's columns and the scores the ledger would give with as_of = score_at. Example:
        with requests as (select person_id, 'guide_v2' as rulebook_id, entered_at as score_at from ...)
        {{ '{{' }} scores_at('requests') {{ '}}' }} -#}
{% macro scores_at(requests, timeline=none) -%}
    {%- set timeline = timeline or ref('int_score_timeline') -%}
    select
        {{ requests }}.*,
        {{ timeline_scores_at('timeline_row', requests ~ '.score_at') }}
    from {{ requests }}
    inner join {{ timeline }} as timeline_row
        on {{ requests }}.person_id = timeline_row.person_id
        and {{ requests }}.rulebook_id = timeline_row.rulebook_id
        and {{ requests }}.score_at >= timeline_row.changed_at
        and {{ requests }}.score_at < {{ timeline_valid_until('timeline_row') }}
    {{ score_bounds_joins('timeline_row') }}
{%- endmacro %}

{#- The end of a timeline row's interval, the far future for a person's last row (a range
    join on two inequalities stays a range join). -#}
{% macro timeline_valid_until(row_alias) -%}
    coalesce({{ row_alias }}.valid_until, cast('9999-12-31 00:00:00' as timestamp))
{%- endmacro %}
