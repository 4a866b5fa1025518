{#- Every instant a customer account's repurchase score crossed its rulebook's
    repurchase_threshold, up (qualified) or down (unqualified), over the whole history up to
    as_of. The score is read (repurchase_scores_at) at every instant where a term starts or ends
    and, while a linear cycle term grows, at every UTC midnight: growth between two changes is
    seen on the next midnight. Decay only lowers the positive points of the shipped rules, so a
    fall under the threshold between changes shows at the next change. -#}

with

as_of as (
    select as_of from {{ ref('int_scoring_as_of') }}
),

terms as (
    select * from {{ ref('int_repurchase_score_events') }}
),

{#- The midnights from the first growing term to as_of (none without one). -#}
{%- set as_of_day = '(select ' ~ day_number('as_of') ~ ' from ' ~ ref('int_scoring_as_of') ~ ')' %}
growing_days as (
    {{ day_numbers(
        'coalesce((select ' ~ day_number('min(starts_at)') ~ ' from ' ~ ref('int_repurchase_score_events')
            ~ " where term_kind = 'growing'), " ~ as_of_day ~ ' + 1)',
        as_of_day) }}
),

instants as (
    select account_id, rulebook_id, starts_at as scored_at from terms
    union
    select account_id, rulebook_id, ends_at from terms
    where ends_at <= (select as_of from as_of)
    union
    select terms.account_id, terms.rulebook_id, cast({{ day_date('growing_days.dn') }} as timestamp)
    from terms
    inner join growing_days
        on cast({{ day_date('growing_days.dn') }} as timestamp) > terms.starts_at
        and cast({{ day_date('growing_days.dn') }} as timestamp) < coalesce(terms.ends_at, (select as_of from as_of))
    where terms.term_kind = 'growing'
),

scores as (
    {{ repurchase_scores_at('instants') }}
),

changes as (
    select
        *,
        lag(is_repurchase_qualified) over (partition by account_id, rulebook_id order by scored_at)
            as was_qualified,
        lag(repurchase_score) over (partition by account_id, rulebook_id order by scored_at) as score_before
    from scores
),

-- What changed at the crossing: the term that started there with the most points.
causes as (
    select account_id, rulebook_id, starts_at, rule_id, source_id
    from (
        select
            account_id, rulebook_id, starts_at, rule_id, source_id,
            row_number() over (
                partition by account_id, rulebook_id, starts_at order by term_points desc, rule_id asc, source_id asc
            ) as cause_rank
        from terms
    ) as ranked
    where cause_rank = 1
),

final as (
    select
        changes.account_id,
        changes.rulebook_id,
        changes.rulebook_id = '{{ var("champion_rulebook") }}' as is_champion,
        changes.scored_at as crossed_at,
        case when changes.is_repurchase_qualified then 'qualified' else 'unqualified' end as direction,
        causes.rule_id as crossing_rule_id,
        causes.source_id as crossing_source_id,
        coalesce(changes.score_before, 0) as score_before,
        changes.repurchase_score,
        changes.repurchase_threshold
    from changes
    left join causes
        on changes.account_id = causes.account_id
        and changes.rulebook_id = causes.rulebook_id
        and changes.scored_at = causes.starts_at
    where changes.is_repurchase_qualified <> coalesce(changes.was_qualified, false)
)

select * from final
