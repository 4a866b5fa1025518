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
    decimal(18, 6)
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
