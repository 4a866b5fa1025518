{#- The scoring engine's single input: every instant that earns, changes or resets points, per
    person and rulebook, over the whole history up to as_of. Weights, per-period caps and decay
    profiles are applied here once; the ledger (points as of as_of) and the score timeline
    (the score at every instant) both read this model and nothing else of the rules.

    Decay is written as terms: each term is worth term_points from starts_at until ends_at
    (never when null), shaped by its term_kind:
    - constant: term_points (no decay, hard windows, each step of a step profile, inactivity);
    - linear: term_points * (1 - days since event_at / lifetime_days);
    - exponential: term_points * 0.5 ^ (days since event_at / half_life_days).
    Two kinds of rows change the points of others: `recycle` (each recycle keeps the rulebook's
    recycle_reset_fraction of the engagement points earned before it) and `absolute` (a score set
    by hand replaces every point earned up to it). recycle_epoch and absolute_epoch say which of
    them came before each term, replaced_at when a score set by hand replaced it.

    Incremental per person: a run recomputes the people whose rule hits, penalties, adjustments
    or recycles changed (_inputs_digest), and every person after an edit of rulebooks or
    decay_profiles (_settings_fingerprint); see macros/incremental/keyed_rewrites.sql. Spark
    rebuilds it in full. -#}

{{ keyed_rewrite_config(['person_id']) }}

{%- set fingerprint = settings_fingerprint(['rulebooks', 'decay_profiles'], {}) %}

with

as_of as (
    select as_of from {{ ref('int_scoring_as_of') }}
),

rulebooks as (
    select * from {{ ref('rulebooks') }}
),

profile_hits as {{ inline_cte() }} (
    select * from {{ ref('int_profile_rule_hits') }}
),

activity_rule_hits as {{ inline_cte() }} (
    select * from {{ ref('int_activity_rule_hits') }}
),

inactivity_hits as {{ inline_cte() }} (
    select * from {{ ref('int_inactivity_rule_hits') }}
),

adjustments as {{ inline_cte() }} (
    select * from {{ ref('int_score_adjustments') }}
    where problem is null
),

recycles as {{ inline_cte() }} (
    select * from {{ ref('int_recycles') }}
    where recycled_at <= (select as_of from as_of)
),

-- What a person's events are computed from: every input row, digested per person.
input_digests as (
    select person_id, {{ unordered_digest_agg(['row_digest']) }} as inputs_digest
    from (
        select person_id, {{ row_hash(["'profile'", 'rulebook_id', 'rule_id', 'component', 'category',
            'description', 'points', 'event_at']) }} as row_digest
        from profile_hits
        union all
        select person_id, {{ row_hash(["'activity'", 'activity_id', 'activity_type', 'event_at', 'product_line',
            'rulebook_id', 'rule_id', 'category', 'description', 'decay_profile_id', 'points',
            'points_after_cap']) }}
        from activity_rule_hits
        union all
        select person_id, {{ row_hash(["'inactivity'", 'rulebook_id', 'rule_id', 'category', 'description',
            'points', 'penalty_id', 'event_at', 'starts_at', 'ends_at']) }}
        from inactivity_hits
        union all
        select person_id, {{ row_hash(["'adjustment'", 'adjustment_id', 'rulebook_id', 'adjustment_type',
            'points', 'score', 'reason', 'author', 'adjusted_at']) }}
        from adjustments
        union all
        select person_id, {{ row_hash(["'recycle'", 'recycle_id', 'recycled_at', 'cause']) }}
        from recycles
    ) as input_rows
    group by person_id
),

scope as (
    {{ changed_digest_keys('input_digests', ['person_id'], fingerprint, stamped=true) }}
),

profile_terms as (
    select
        hits.person_id as person_id,
        hits.rulebook_id as rulebook_id,
        'profile' as source_type,
        cast(null as {{ dbt.type_string() }}) as source_id,
        hits.rule_id as rule_id,
        hits.component as component,
        hits.category as category,
        hits.description as description,
        cast(null as {{ dbt.type_string() }}) as activity_type,
        cast(null as {{ dbt.type_string() }}) as product_line,
        hits.event_at as event_at,
        hits.points as points,
        hits.points as points_after_cap,
        cast({{ component_weight('rulebooks', 'hits.component') }} as {{ type_double() }}) as weight,
        cast(null as {{ dbt.type_string() }}) as decay_profile_id,
        1 as term_number,
        'constant' as term_kind,
        cast(1 as {{ type_double() }}) as term_factor,
        hits.event_at as starts_at,
        cast(null as timestamp) as ends_at,
        cast(null as {{ type_double() }}) as half_life_days,
        cast(null as {{ type_double() }}) as lifetime_days
    from profile_hits as hits
    inner join rulebooks
        on hits.rulebook_id = rulebooks.rulebook_id
    {{ in_scope('hits') }}
),

activity_hits as (
    select
        hits.*,
        cast(rulebooks.engagement_weight as {{ type_double() }}) as weight
    from activity_rule_hits as hits
    inner join rulebooks
        on hits.rulebook_id = rulebooks.rulebook_id
    {{ in_scope('hits') }}
),

activity_decay_terms as (
    {{ decay_profile_terms('activity_hits') }}
),

activity_terms as (
    select
        person_id,
        rulebook_id,
        'activity' as source_type,
        activity_id as source_id,
        rule_id,
        'engagement' as component,
        category,
        description,
        activity_type,
        product_line,
        event_at,
        points,
        points_after_cap,
        weight,
        decay_profile_id,
        term_number,
        term_kind,
        term_factor,
        starts_at,
        ends_at,
        half_life_days,
        lifetime_days
    from activity_decay_terms
),

inactivity_terms as (
    select
        hits.person_id,
        hits.rulebook_id,
        'inactivity' as source_type,
        hits.penalty_id as source_id,
        hits.rule_id,
        'engagement' as component,
        hits.category,
        hits.description,
        cast(null as {{ dbt.type_string() }}) as activity_type,
        cast(null as {{ dbt.type_string() }}) as product_line,
        hits.event_at,
        hits.points,
        hits.points as points_after_cap,
        cast(rulebooks.engagement_weight as {{ type_double() }}) as weight,
        cast(null as {{ dbt.type_string() }}) as decay_profile_id,
        1 as term_number,
        'constant' as term_kind,
        cast(1 as {{ type_double() }}) as term_factor,
        hits.starts_at,
        hits.ends_at,
        cast(null as {{ type_double() }}) as half_life_days,
        cast(null as {{ type_double() }}) as lifetime_days
    from inactivity_hits as hits
    inner join rulebooks
        on hits.rulebook_id = rulebooks.rulebook_id
    {{ in_scope('hits') }}
),

-- Manual adjustments: a delta adds its points for good; an absolute one sets the score.
adjustment_terms as (
    select
        adjustments.person_id,
        adjustments.rulebook_id,
        'adjustment' as source_type,
        adjustments.adjustment_id as source_id,
        case adjustments.adjustment_type when 'delta' then 'ADJUST-POINTS' else 'ADJUST-SCORE' end as rule_id,
        'adjustment' as component,
        'adjustment' as category,
        case adjustments.adjustment_type
            when 'delta' then 'Adjusted by ' || adjustments.author || ': ' || adjustments.reason
            else 'Score set by ' || adjustments.author || ': ' || adjustments.reason
        end as description,
        'manual_adjustment' as activity_type,
        cast(null as {{ dbt.type_string() }}) as product_line,
        adjustments.adjusted_at as event_at,
        cast(coalesce(adjustments.points, adjustments.score) as {{ type_double() }}) as points,
        cast(coalesce(adjustments.points, adjustments.score) as {{ type_double() }}) as points_after_cap,
        cast(1 as {{ type_double() }}) as weight,
        cast(null as {{ dbt.type_string() }}) as decay_profile_id,
        1 as term_number,
        case adjustments.adjustment_type when 'delta' then 'constant' else 'absolute' end as term_kind,
        cast(1 as {{ type_double() }}) as term_factor,
        adjustments.adjusted_at as starts_at,
        cast(null as timestamp) as ends_at,
        cast(null as {{ type_double() }}) as half_life_days,
        cast(null as {{ type_double() }}) as lifetime_days
    from adjustments
    {{ in_scope('adjustments') }}
),

recycle_terms as (
    select
        recycles.person_id,
        rulebooks.rulebook_id,
        'recycle' as source_type,
        recycles.recycle_id as source_id,
        'RECYCLE-RESET' as rule_id,
        'engagement' as component,
        'recycle' as category,
        'Recycled (' || recycles.cause || '): engagement kept at '
            || cast(cast(round(100 * coalesce(rulebooks.recycle_reset_fraction, 0)) as integer) as {{ dbt.type_string() }})
            || '%' as description,
        'recycle' as activity_type,
        cast(null as {{ dbt.type_string() }}) as product_line,
        recycles.recycled_at as event_at,
        cast(0 as {{ type_double() }}) as points,
        cast(0 as {{ type_double() }}) as points_after_cap,
        cast(1 as {{ type_double() }}) as weight,
        cast(null as {{ dbt.type_string() }}) as decay_profile_id,
        1 as term_number,
        'recycle' as term_kind,
        cast(coalesce(rulebooks.recycle_reset_fraction, 0) as {{ type_double() }}) as term_factor,
        recycles.recycled_at as starts_at,
        cast(null as timestamp) as ends_at,
        cast(null as {{ type_double() }}) as half_life_days,
        cast(null as {{ type_double() }}) as lifetime_days
    from recycles
    cross join rulebooks
    {{ in_scope('recycles') }}
),

terms as (
    select * from profile_terms
    union all
    select * from activity_terms
    union all
    select * from inactivity_terms
    union all
    select * from adjustment_terms
    union all
    select * from recycle_terms
),

{#- recycle_epoch: the person's recycles at or before the event (later ones reset it);
    absolute_epoch: the scores set by hand strictly before it (a later or simultaneous one
    replaces it), and replaced_at the first at or after it. Each recycle and each score set by
    hand opens an epoch, an interval of time: the epochs come from those few rows, and every
    term finds the one its event_at falls in by a join on the person and rulebook. (Counting
    them with a window over every term sorted the whole model: 18 GB of spill at large size.) -#}
-- Each recycle and each score set by hand, numbered in time order per kind, with the next one.
epoch_marks as (
    select
        person_id,
        rulebook_id,
        term_kind,
        event_at,
        row_number() over same_kind as mark_number,
        lead(event_at) over same_kind as next_event_at
    from (
        select person_id, rulebook_id, term_kind, event_at, source_id from recycle_terms
        union all
        select person_id, rulebook_id, term_kind, event_at, source_id from adjustment_terms
        where term_kind = 'absolute'
    ) as marks
    window same_kind as (partition by person_id, rulebook_id, term_kind order by event_at, source_id)
),

-- Recycle epoch k is [the k-th recycle, the next one); before the first it is 0.
recycle_epochs as (
    select person_id, rulebook_id, mark_number as epoch, event_at as epoch_from, next_event_at as epoch_until
    from epoch_marks
    where term_kind = 'recycle'
),

-- Absolute epoch k is (the k-th score set by hand, the next one]; epoch 0 ends at the first.
absolute_epochs as (
    select person_id, rulebook_id, mark_number as epoch, event_at as epoch_after, next_event_at as epoch_until
    from epoch_marks
    where term_kind = 'absolute'
    union all
    select person_id, rulebook_id, 0, cast(null as timestamp), event_at
    from epoch_marks
    where term_kind = 'absolute' and mark_number = 1
),

epochs as (
    select
        terms.*,
        coalesce(recycle_epochs.epoch, 0) as recycle_epoch,
        coalesce(absolute_epochs.epoch, 0) as absolute_epoch,
        absolute_epochs.epoch_until as replaced_at
    from terms
    left join recycle_epochs
        on terms.person_id = recycle_epochs.person_id
        and terms.rulebook_id = recycle_epochs.rulebook_id
        and terms.event_at >= recycle_epochs.epoch_from
        and (recycle_epochs.epoch_until is null or terms.event_at < recycle_epochs.epoch_until)
    left join absolute_epochs
        on terms.person_id = absolute_epochs.person_id
        and terms.rulebook_id = absolute_epochs.rulebook_id
        and (absolute_epochs.epoch_after is null or terms.event_at > absolute_epochs.epoch_after)
        and (absolute_epochs.epoch_until is null or terms.event_at <= absolute_epochs.epoch_until)
),

final as (
    select
        {{ dbt.hash(dbt.concat(["person_id", "'|'", "rulebook_id", "'|'", "rule_id", "'|'",
            "coalesce(source_id, '')", "'|'", "cast(term_number as " ~ dbt.type_string() ~ ")"])) }} as score_event_id,
        person_id,
        rulebook_id,
        source_type,
        source_id,
        rule_id,
        component,
        category,
        description,
        activity_type,
        product_line,
        event_at,
        points,
        points_after_cap,
        weight,
        decay_profile_id,
        term_number,
        term_kind,
        term_factor,
        case when term_kind in ('recycle', 'absolute') then points_after_cap
            else points_after_cap * weight * term_factor
        end as term_points,
        starts_at,
        ends_at,
        half_life_days,
        lifetime_days,
        recycle_epoch,
        absolute_epoch,
        case when term_kind in ('constant', 'linear', 'exponential') then replaced_at end as replaced_at
    from epochs
)

select
    final.*,
    input_digests.inputs_digest as _inputs_digest,
    run_values.fingerprint as _settings_fingerprint,
    run_values.built_at as _built_at
from final
inner join input_digests
    on final.person_id = input_digests.person_id
{{ run_values(fingerprint, stamp=true) }}
{{ tombstone_rows('scope', 'input_digests', ['person_id']) }}
