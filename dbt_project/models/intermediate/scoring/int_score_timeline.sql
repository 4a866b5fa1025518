-- depends_on: {{ ref('decay_profiles') }}
{#- The score timeline: per person and rulebook, one row per instant where the score can change
    (points earned, a window or step ending, an inactivity penalty starting or ending, a recycle,
    an adjustment), from the record's creation to as_of, over the whole history. Each row holds
    the scores right after the change and the state that gives the exact score at any later
    instant until the next row: between changes a component moves in closed form (see
    macros/scoring/score_timeline.sql; scores_at() reads it).

    Built from int_score_events only, with running sums instead of one ledger per instant:
    - points without decay that are never reset (profile rules, delta adjustments) are running
      totals;
    - activity and inactivity terms enter the sums when they start and leave them when they end;
      a linear term adds an intercept and a slope, an exponential one a coefficient scaled to
      the person's decay origin (their record's creation);
    - a recycle keeps recycle_reset_fraction of the engagement terms earned before it: terms are
      summed per recycle epoch when the fraction is 0 (only the current epoch counts), else
      weighted by fraction^-epoch and scaled back by fraction^recycles;
    - the latest absolute adjustment replaces every point earned up to it: those terms count
      whole in engagement and are taken back in the adjustment component, which adds the score
      set minus the static points before it;
    - caps and floors apply to each component and the total, a cap waived from the first hit of
      one of its cap_unless rules.

    Incremental: a person's timeline (per rulebook) is a function of their score events, their
    record's creation and as_of. Each row keeps a digest of the first two (_inputs_digest);
    a run recomputes the timelines whose digest changed (new, late or changed events, a rule
    edit) and those with a term starting or ending between the previous as_of and this one
    (an expiry or a penalty the clock reaches), and deletes those of people gone (merged or
    removed). Every other timeline stays as stored. An edit of rulebooks, score_bounds or
    decay_profiles, or another champion, recomputes everything (_settings_fingerprint). On
    Spark the model is rebuilt in full (merging on a person's rows needs deletes a merge on a
    unique row key cannot express). -#}

{{ config(
    materialized='incremental',
    unique_key=['person_id', 'rulebook_id'],
    incremental_strategy=incremental_rewrite_strategy(),
    file_format=var('spark_file_format', 'parquet'),
    full_refresh=incremental_full_refresh(rebuild=(target.type == 'spark')),
    on_schema_change='sync_all_columns',
    pre_hook=["{% if is_incremental() %}delete from {{ this }}
        where person_id not in (
            select person_id from {{ ref('int_people') }}
            where is_master and person_created_at <= (select as_of from {{ ref('int_scoring_as_of') }}))
        or rulebook_id not in (select rulebook_id from {{ ref('rulebooks') }}){% endif %}"]
) }}

{%- set half_lives = exponential_half_lives() %}
{%- set decay_parts = ['constant', 'linear_intercept', 'linear_slope'] %}
{%- for half_life in half_lives %}{% do decay_parts.append('exp_' ~ half_life_suffix(half_life)) %}{% endfor %}
{%- set static_parts = ['fit_points', 'data_quality_points', 'engagement_static_points', 'delta_points'] %}
{%- set fingerprint = settings_fingerprint(['rulebooks', 'score_bounds', 'decay_profiles'],
    {'champion_rulebook': var('champion_rulebook')}) %}
{#- Runs on a table built by a version without the digests or stamps recompute every timeline. -#}
{%- set stored_columns = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list
    if execute and is_incremental() else [] %}
{%- set extends_stored = '_inputs_digest' in stored_columns and '_built_at' in stored_columns %}

with

as_of as (
    select as_of from {{ ref('int_scoring_as_of') }}
),

rulebooks as (
    select rulebook_id, coalesce(recycle_reset_fraction, 0) as reset_fraction from {{ ref('rulebooks') }}
),

all_people as (
    select person_id, person_created_at as created_at from {{ ref('int_people') }}
    where is_master
        and person_created_at <= (select as_of from as_of)
),

run_scope as (
    select
        {% if extends_stored -%}
        coalesce((select max(_settings_fingerprint) from {{ this }}) <> {{ fingerprint }}, true)
        {%- else -%}
        true
        {%- endif %} as is_full_scope,
        {{ fingerprint }} as settings_fingerprint,
        {{ built_at_stamp() }} as built_at
        {%- if extends_stored %},
        (select max(_computed_as_of) from {{ this }}) as previous_as_of
        {%- endif %}
),

-- What each timeline is computed from: the person's score events (what the timeline reads of
-- them; score_event_id stands for the person, rulebook, rule, source and term) and record
-- creation.
event_digests as (
    select
        events.person_id,
        events.rulebook_id,
        {{ unordered_digest_agg([
            'events.score_event_id', 'events.source_type', 'events.component', 'events.term_kind',
            'events.term_points', 'events.event_at', 'events.starts_at', 'events.ends_at', 'events.half_life_days',
            'events.lifetime_days', 'events.recycle_epoch', 'events.absolute_epoch', 'events.replaced_at']) }}
            as events_digest
    from {{ ref('int_score_events') }} as events
    group by events.person_id, events.rulebook_id
),

inputs_digests as (
    select
        all_people.person_id,
        rulebooks.rulebook_id,
        {{ row_hash(['all_people.created_at', 'coalesce(event_digests.events_digest, 0)']) }} as inputs_digest
    from all_people
    cross join rulebooks
    left join event_digests
        on all_people.person_id = event_digests.person_id
        and rulebooks.rulebook_id = event_digests.rulebook_id
),

{% if extends_stored -%}
stored_digests as (
    select person_id, rulebook_id, max(_inputs_digest) as inputs_digest
    from {{ this }}
    group by person_id, rulebook_id
),

-- The timelines to recompute: every one after a settings change or when as_of moved back;
-- else those whose inputs changed or that have a term starting or ending since the previous
-- as_of.
scope as (
    select inputs_digests.person_id, inputs_digests.rulebook_id
    from inputs_digests
    left join stored_digests
        on inputs_digests.person_id = stored_digests.person_id
        and inputs_digests.rulebook_id = stored_digests.rulebook_id
    cross join run_scope
    where run_scope.is_full_scope
        or run_scope.previous_as_of is null
        or run_scope.previous_as_of > (select as_of from as_of)
        or stored_digests.inputs_digest is null
        or stored_digests.inputs_digest <> inputs_digests.inputs_digest
    union
    select events.person_id, events.rulebook_id
    from {{ ref('int_score_events') }} as events
    cross join run_scope
    cross join as_of
    where (events.starts_at > run_scope.previous_as_of and events.starts_at <= as_of.as_of)
        or (events.ends_at > run_scope.previous_as_of and events.ends_at <= as_of.as_of)
),

people as (
    select all_people.*
    from all_people
    where all_people.person_id in (select person_id from scope)
),

{% else -%}
people as (
    select * from all_people
),

{% endif -%}
-- Events before a person's record existed count from its creation.
events as {{ inline_cte() }} (
    select
        events.*,
        people.created_at as created_at,
        greatest(events.starts_at, people.created_at) as effective_from,
        rulebooks.reset_fraction as reset_fraction,
        {{ days_between('people.created_at', 'events.event_at') }} as event_day
    from {{ ref('int_score_events') }} as events
    inner join people
        on events.person_id = people.person_id
    inner join rulebooks
        on events.rulebook_id = rulebooks.rulebook_id
    {%- if extends_stored %}
    inner join scope
        on events.person_id = scope.person_id
        and events.rulebook_id = scope.rulebook_id
    {%- endif %}
),

terms as (
    select
        *,
        -- static: never decays nor resets; decaying: activity and inactivity terms
        case when source_type in ('activity', 'inactivity') then 'decaying' else 'static' end as term_family
    from events
    where term_kind in ('constant', 'linear', 'exponential')
        and (ends_at is null or ends_at > effective_from)
),

-- Each term enters at its start and leaves at its end (when that is before as_of); a decaying
-- term replaced by a score set by hand also enters the replaced sums from then on.
term_changes as {{ inline_cte() }} (
    select terms.*, terms.effective_from as changed_at, 1 as direction, 'earned' as change_kind, 0 as is_replaced
    from terms
    union all
    select terms.*, terms.ends_at, -1, 'expired', 0
    from terms
    where terms.ends_at is not null
        and terms.ends_at <= (select as_of from as_of)
    union all
    select terms.*, greatest(terms.effective_from, terms.replaced_at), 1, 'replaced', 1
    from terms
    where terms.term_family = 'decaying'
        and terms.replaced_at is not null
        and (terms.ends_at is null or terms.ends_at > greatest(terms.effective_from, terms.replaced_at))
    union all
    select terms.*, terms.ends_at, -1, 'replaced', 1
    from terms
    where terms.term_family = 'decaying'
        and terms.replaced_at is not null
        and terms.ends_at is not null
        and terms.ends_at <= (select as_of from as_of)
        and terms.ends_at > greatest(terms.effective_from, terms.replaced_at)
),

term_coefficients as (
    select
        person_id,
        rulebook_id,
        changed_at,
        score_event_id || case when direction = 1 then '+' else '-' end
            || case when is_replaced = 1 then 'r' else '' end as change_id,
        is_replaced,
        absolute_epoch,
        case when reset_fraction = 0 then recycle_epoch else -1 end as recycle_key,
        case when reset_fraction = 0 then 1 else power(reset_fraction, -recycle_epoch) end as recycle_weight,
        direction * case when component = 'fit' and term_family = 'static' then term_points else 0 end as fit_points,
        direction * case when component = 'data_quality' and term_family = 'static' then term_points else 0 end
            as data_quality_points,
        direction * case when component = 'engagement' and term_family = 'static' then term_points else 0 end
            as engagement_static_points,
        direction * case when component = 'adjustment' and term_family = 'static' then term_points else 0 end
            as delta_points,
        case when term_family = 'decaying' and is_replaced = 0 then 1 else 0 end as is_decaying,
        direction * case when term_kind = 'constant' then term_points else 0 end as constant,
        direction * case when term_kind = 'linear' then term_points * (1 + event_day / lifetime_days) else 0 end
            as linear_intercept,
        direction * case when term_kind = 'linear' then -term_points / lifetime_days else 0 end as linear_slope
        {%- for half_life in half_lives %},
        direction * case when term_kind = 'exponential' and half_life_days = {{ half_life }}
            then term_points * power(2, event_day / {{ half_life }}) else 0 end as exp_{{ half_life_suffix(half_life) }}
        {%- endfor %}
    from term_changes
),

markers as (
    select
        person_id,
        rulebook_id,
        greatest(event_at, created_at) as changed_at,
        term_kind,
        source_id,
        term_points as score
    from events
    where term_kind in ('recycle', 'absolute')
),

-- Every instant of the timeline: the record's creation and every change after it.
instants as (
    select person_id, rulebook_id, changed_at from term_changes
    union
    select person_id, rulebook_id, changed_at from markers
    union
    select people.person_id, rulebooks.rulebook_id, people.created_at
    from people
    cross join rulebooks
    {%- if extends_stored %}
    inner join scope
        on people.person_id = scope.person_id
        and rulebooks.rulebook_id = scope.rulebook_id
    {%- endif %}
),

{#- One stream per person and rulebook in a total order, so every running sum adds the same
    numbers in the same order at every run: at each instant the term changes, then recycles and
    scores set by hand, then one probe row that reads the state after them. The live decaying
    terms add nothing to these sums (epoch_sums counts them), so they stay out of this sort. -#}
stream as (
    select
        person_id, rulebook_id, changed_at, 0 as stream_order, change_id as stream_id,
        {%- for part in static_parts %}
        {{ part }},
        {%- endfor %}
        {%- for part in decay_parts %}
        is_replaced * {{ part }} as replaced_{{ part }},
        {%- endfor %}
        0 as recycles,
        0 as absolutes,
        cast(null as {{ type_double() }}) as absolute_score
    from term_coefficients
    where is_decaying = 0
    union all
    select
        person_id, rulebook_id, changed_at, 1, term_kind || '|' || source_id,
        {%- for part in static_parts + decay_parts %}
        0,
        {%- endfor %}
        case when term_kind = 'recycle' then 1 else 0 end,
        case when term_kind = 'absolute' then 1 else 0 end,
        case when term_kind = 'absolute' then score end
    from markers
    union all
    select
        person_id, rulebook_id, changed_at, 2, '',
        {%- for part in static_parts + decay_parts %}
        0,
        {%- endfor %}
        0, 0, cast(null as {{ type_double() }})
    from instants
),

-- Running totals over the stream: static points, recycles and absolute adjustments so far,
-- and the decaying terms replaced by a score set by hand. A probe row's next row in the
-- stream is the first row of the next instant (its probe at least): the end of the probe's
-- interval.
running as (
    select
        person_id,
        rulebook_id,
        changed_at,
        stream_order,
        stream_id,
        {%- for part in static_parts %}
        sum({{ part }}) over running_window as {{ part }},
        {%- endfor %}
        {%- for part in decay_parts %}
        sum(replaced_{{ part }}) over running_window as replaced_{{ part }},
        {%- endfor %}
        sum(recycles) over running_window as recycles_so_far,
        sum(absolutes) over running_window as absolutes_so_far,
        lead(changed_at) over (
            partition by person_id, rulebook_id order by changed_at, stream_order, stream_id
        ) as next_changed_at,
        absolutes,
        absolute_score
    from stream
    window running_window as (
        partition by person_id, rulebook_id order by changed_at, stream_order, stream_id
        rows between unbounded preceding and current row
    )
),

-- Each score set by hand (numbered like absolutes_so_far) and the static points it replaced
-- (those earned up to it, read on its own row).
absolute_scores as (
    select
        person_id,
        rulebook_id,
        absolutes_so_far,
        absolute_score,
        fit_points + data_quality_points + engagement_static_points + delta_points as static_before_absolute
    from running
    where absolutes = 1
),

-- At each probe: the state after the instant's changes, with the latest score set by hand.
probes as (
    select
        running.*,
        absolute_scores.absolute_score as latest_absolute_score,
        absolute_scores.static_before_absolute as latest_static_before_absolute,
        rulebooks.reset_fraction as reset_fraction,
        case when rulebooks.reset_fraction = 0 then running.recycles_so_far else -1 end as recycle_key
    from running
    inner join rulebooks
        on running.rulebook_id = rulebooks.rulebook_id
    left join absolute_scores
        on running.person_id = absolute_scores.person_id
        and running.rulebook_id = absolute_scores.rulebook_id
        and running.absolutes_so_far = absolute_scores.absolutes_so_far
    where running.stream_order = 2
),

{#- The decaying terms of the current absolute and recycle epoch (weighted for recycles), read
    at each instant by its probe row, in the partition it reads, after the changes at the same
    instant. -#}
epoch_sums as (
    select
        person_id, rulebook_id, changed_at, stream_order,
        {%- for part in decay_parts %}
        sum(weighted_{{ part }}) over (
            partition by person_id, rulebook_id, absolute_epoch, recycle_key
            order by changed_at, stream_order, stream_id rows between unbounded preceding and current row
        ) as live_{{ part }}{{ "," if not loop.last }}
        {%- endfor %}
    from (
        select
            person_id, rulebook_id, changed_at, absolute_epoch, recycle_key, 0 as stream_order,
            change_id as stream_id,
            {%- for part in decay_parts %}
            recycle_weight * {{ part }} as weighted_{{ part }}{{ "," if not loop.last }}
            {%- endfor %}
        from term_coefficients
        where is_decaying = 1
        union all
        select
            person_id, rulebook_id, changed_at, absolutes_so_far, recycle_key, 2, '',
            {%- for part in decay_parts %}
            0{{ "," if not loop.last }}
            {%- endfor %}
        from probes
    ) as changes_and_probes
),

-- When each component's cap stops applying, one row per person and rulebook.
person_cap_waivers as (
    select
        person_id,
        rulebook_id,
        {%- for component in ['fit', 'engagement', 'data_quality', 'adjustment'] %}
        min(case when component = '{{ component }}' then waived_from end) as {{ component }}_waived_from
        {{- "," if not loop.last }}
        {%- endfor %}
    from ({{ cap_waivers('events', 'effective_from') }}) as waivers
    group by person_id, rulebook_id
),

-- What changed at each instant, for the reader: the largest change, earned before expired.
change_causes as (
    select person_id, rulebook_id, changed_at, change_kind, rule_id, source_id
    from (
        select
            person_id, rulebook_id, changed_at, change_kind, rule_id, source_id,
            row_number() over (
                partition by person_id, rulebook_id, changed_at
                order by case change_kind when 'earned' then 0 when 'expired' then 1 else 2 end,
                    abs(term_points) desc, rule_id, source_id asc
            ) as cause_rank
        from (
            select person_id, rulebook_id, changed_at, change_kind, rule_id, source_id, term_points
            from term_changes
            where is_replaced = 0
            union all
            select person_id, rulebook_id, changed_at,
                case term_kind when 'recycle' then 'recycled' else 'score_set' end,
                case term_kind when 'recycle' then 'RECYCLE-RESET' else 'ADJUST-SCORE' end,
                source_id, score
            from markers
        ) as all_changes
    ) as ranked
    where cause_rank = 1
),

state as (
    select
        latest.person_id,
        latest.rulebook_id,
        latest.changed_at,
        latest.next_changed_at as valid_until,
        people.created_at as decay_origin_at,
        latest.recycles_so_far,
        latest.absolutes_so_far,
        latest.fit_points as fit_constant,
        latest.data_quality_points as data_quality_constant,
        {%- for part in decay_parts %}
        {%- set scale = 'case when latest.reset_fraction = 0 then 1 else power(latest.reset_fraction, latest.recycles_so_far) end' %}
        {%- set replaced = 'latest.replaced_' ~ part %}
        {%- if part == 'constant' %}
        latest.engagement_static_points + {{ scale }} * epochs.live_constant + {{ replaced }} as engagement_constant,
        latest.delta_points
            + case when latest.absolutes_so_far > 0
                then latest.latest_absolute_score - latest.latest_static_before_absolute else 0 end
            - {{ replaced }} as adjustment_constant,
        {%- else %}
        {{ scale }} * epochs.live_{{ part }} + {{ replaced }} as engagement_{{ part }},
        -{{ replaced }} as adjustment_{{ part }},
        {%- endif %}
        {%- endfor %}
        {%- for component in ['fit', 'engagement', 'data_quality', 'adjustment'] %}
        coalesce(person_cap_waivers.{{ component }}_waived_from <= latest.changed_at, false) as {{ component }}_cap_waived,
        {%- endfor %}
        change_causes.change_kind,
        change_causes.rule_id as change_rule_id,
        change_causes.source_id as change_source_id
    from probes as latest
    inner join people
        on latest.person_id = people.person_id
    inner join epoch_sums as epochs
        on latest.person_id = epochs.person_id
        and latest.rulebook_id = epochs.rulebook_id
        and latest.changed_at = epochs.changed_at
        and epochs.stream_order = 2
    left join change_causes
        on latest.person_id = change_causes.person_id
        and latest.rulebook_id = change_causes.rulebook_id
        and latest.changed_at = change_causes.changed_at
    left join person_cap_waivers
        on latest.person_id = person_cap_waivers.person_id
        and latest.rulebook_id = person_cap_waivers.rulebook_id
),

final as (
    select
        state.person_id,
        state.rulebook_id,
        state.rulebook_id = '{{ var("champion_rulebook") }}' as is_champion,
        state.changed_at,
        state.valid_until,
        coalesce(state.change_kind, 'created') as change_kind,
        state.change_rule_id,
        state.change_source_id,
        {{ timeline_scores_at('state', 'state.changed_at') }},
        state.decay_origin_at,
        state.recycles_so_far,
        state.absolutes_so_far,
        state.fit_constant,
        state.data_quality_constant,
        {%- for component in ['engagement', 'adjustment'] %}
        {%- for part in decay_parts %}
        state.{{ component }}_{{ part }},
        {%- endfor %}
        {%- endfor %}
        {%- for component in ['fit', 'engagement', 'data_quality', 'adjustment'] %}
        state.{{ component }}_cap_waived,
        {%- endfor %}
        inputs_digests.inputs_digest as _inputs_digest,
        run_scope.settings_fingerprint as _settings_fingerprint,
        (select as_of from as_of) as _computed_as_of,
        run_scope.built_at as _built_at
    from state
    inner join inputs_digests
        on state.person_id = inputs_digests.person_id
        and state.rulebook_id = inputs_digests.rulebook_id
    cross join run_scope
    {{ score_bounds_joins('state') }}
)

select * from final
