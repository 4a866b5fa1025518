{#- Decay profiles as terms: each row of `hits` (a CTE with decay_profile_id and event_at) with
    the terms its profile gives, as columns term_number, term_kind, term_factor, starts_at,
    ends_at, half_life_days and lifetime_days. none and window: one constant term (a window
    ends after lifetime_days); linear and exponential: one term of that kind (linear ends after
    lifetime_days); step: one constant term per step of decay_steps, from the previous step's
    max_age_days to its own, worth its factor. term_share_at() values a term at an instant. -#}
{% macro decay_profile_terms(hits) -%}
    select
        {{ hits }}.*,
        1 as term_number,
        case when decay_profiles.decay_type in ('none', 'window') then 'constant' else decay_profiles.decay_type end
            as term_kind,
        cast(1 as {{ type_double() }}) as term_factor,
        {{ hits }}.event_at as starts_at,
        case when decay_profiles.decay_type in ('window', 'linear')
            then {{ add_days(hits ~ '.event_at', 'decay_profiles.lifetime_days') }}
        end as ends_at,
        cast(decay_profiles.half_life_days as {{ type_double() }}) as half_life_days,
        cast(decay_profiles.lifetime_days as {{ type_double() }}) as lifetime_days
    from {{ hits }}
    inner join {{ ref('decay_profiles') }} as decay_profiles
        on {{ hits }}.decay_profile_id = decay_profiles.decay_profile_id
    where decay_profiles.decay_type in ('none', 'window', 'linear', 'exponential')
    union all
    select
        {{ hits }}.*,
        steps.step_number,
        'constant',
        cast(steps.factor as {{ type_double() }}),
        {{ add_days(hits ~ '.event_at', 'steps.min_age_days') }},
        {{ add_days(hits ~ '.event_at', 'steps.max_age_days') }},
        cast(null as {{ type_double() }}),
        cast(null as {{ type_double() }})
    from {{ hits }}
    inner join {{ ref('decay_profiles') }} as decay_profiles
        on {{ hits }}.decay_profile_id = decay_profiles.decay_profile_id
    inner join (
        select
            decay_profile_id,
            factor,
            coalesce(lag(max_age_days) over (partition by decay_profile_id order by max_age_days), 0) as min_age_days,
            max_age_days,
            row_number() over (partition by decay_profile_id order by max_age_days) as step_number
        from {{ ref('decay_steps') }}
    ) as steps
        on {{ hits }}.decay_profile_id = steps.decay_profile_id
    where decay_profiles.decay_type = 'step'
{%- endmacro %}

{#- The type of ledger points: exact decimals, so sums do not depend on row order. -#}
{% macro points_type() -%}
    decimal(24, 12)
{%- endmacro %}

{#- The rulebook's weight (row `rulebooks_alias`) for a row's component: fit, engagement or
    data_quality. -#}
{% macro component_weight(rulebooks_alias, component_expr) -%}
    case {{ component_expr }}
        when 'fit' then {{ rulebooks_alias }}.fit_weight
        when 'engagement' then {{ rulebooks_alias }}.engagement_weight
        when 'data_quality' then {{ rulebooks_alias }}.data_quality_weight
    end
{%- endmacro %}

{#- The share of a term of int_score_events (row `term_alias`) left at instant `at_ts`:
    nothing outside [starts_at, ends_at); constant terms keep all of it, linear ones lose it
    evenly over lifetime_days from event_at, exponential ones halve every half_life_days, and
    growing ones (a customer's purchase cycle, int_repurchase_score_events) gain all of it every
    lifetime_days. The score timeline evaluates the same shapes in closed form
    (score_timeline_value). -#}
{% macro term_share_at(term_alias, at_ts) -%}
    case
        when {{ at_ts }} < {{ term_alias }}.starts_at then 0
        when {{ term_alias }}.ends_at is not null and {{ at_ts }} >= {{ term_alias }}.ends_at then 0
        when {{ term_alias }}.term_kind = 'constant' then 1
        when {{ term_alias }}.term_kind = 'linear'
            then 1 - {{ days_between(term_alias ~ '.event_at', at_ts) }} / {{ term_alias }}.lifetime_days
        when {{ term_alias }}.term_kind = 'exponential'
            then power(0.5, {{ days_between(term_alias ~ '.event_at', at_ts) }} / {{ term_alias }}.half_life_days)
        when {{ term_alias }}.term_kind = 'growing'
            then {{ days_between(term_alias ~ '.event_at', at_ts) }} / {{ term_alias }}.lifetime_days
        else 0
    end
{%- endmacro %}

{#- `points_as_of` or `decay_factor` of int_score_ledger's row `ledger_alias` at instant
    `at_ts`: a row of one decaying term is worth that term then; the others keep what they were
    written with (a run rewrites them when one of their terms starts or ends). -#}
{% macro ledger_value_at(ledger_alias, at_ts, column) -%}
    case when {{ ledger_alias }}.term_kind in ('linear', 'exponential')
        then {% if column == 'points_as_of' -%}
        cast({{ ledger_alias }}.term_points * {{ term_share_at(ledger_alias, at_ts) }} as {{ points_type() }})
        {%- else -%}
        {{ ledger_alias }}.term_factor * {{ term_share_at(ledger_alias, at_ts) }}
        {%- endif %}
        else {{ ledger_alias }}.{{ column }}
    end
{%- endmacro %}

{#- The identifier of a ledger row (int_score_ledger, int_score_ledger_sum_rows): a hash of its
    person, rulebook, rule and activity (or recycle, adjustment). -#}
{% macro ledger_row_id() -%}
    {{ dbt.hash(dbt.concat(["person_id", "'|'", "rulebook_id", "'|'", "rule_id", "'|'", "coalesce(activity_id, '')"])) }}
{%- endmacro %}
