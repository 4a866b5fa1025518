{#- The share of a rule's points left after `age_days`, by decay profile:
    none: all of it; exponential: half every half_life_days; linear: to zero over lifetime_days;
    window: all of it within lifetime_days, nothing after; step: the factor of the first step
    whose max_age_days is not exceeded (`step_factor`, looked up by the caller), nothing after
    the last step. Events in the future of as_of count for nothing. -#}
{% macro decay_factor(profile_alias, age_days, step_factor) -%}
    case
        when {{ age_days }} < 0 then 0
        when {{ profile_alias }}.decay_type = 'none' then 1
        when {{ profile_alias }}.decay_type = 'exponential'
            then power(0.5, {{ age_days }} / {{ profile_alias }}.half_life_days)
        when {{ profile_alias }}.decay_type = 'linear'
            then greatest(0, 1 - {{ age_days }} / {{ profile_alias }}.lifetime_days)
        when {{ profile_alias }}.decay_type = 'window'
            then case when {{ age_days }} <= {{ profile_alias }}.lifetime_days then 1 else 0 end
        when {{ profile_alias }}.decay_type = 'step' then coalesce({{ step_factor }}, 0)
        else 0
    end
{%- endmacro %}

{#- Days (fractional) from `from_ts` to `to_ts`. -#}
{% macro age_in_days(from_ts, to_ts) -%}
    {{ days_between(from_ts, to_ts) }}
{%- endmacro %}

{#- The type of ledger points: exact decimals, so sums do not depend on row order. -#}
{% macro points_type() -%}
    decimal(38, 12)
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
    evenly over lifetime_days from event_at, exponential ones halve every half_life_days. The
    score timeline evaluates the same shapes in closed form (score_timeline_value). -#}
{% macro term_share_at(term_alias, at_ts) -%}
    case
        when {{ at_ts }} < {{ term_alias }}.starts_at then 0
        when {{ term_alias }}.ends_at is not null and {{ at_ts }} >= {{ term_alias }}.ends_at then 0
        when {{ term_alias }}.term_kind = 'constant' then 1
        when {{ term_alias }}.term_kind = 'linear'
            then 1 - {{ days_between(term_alias ~ '.event_at', at_ts) }} / {{ term_alias }}.lifetime_days
        when {{ term_alias }}.term_kind = 'exponential'
            then power(0.5, {{ days_between(term_alias ~ '.event_at', at_ts) }} / {{ term_alias }}.half_life_days)
        else 0
    end
{%- endmacro %}
