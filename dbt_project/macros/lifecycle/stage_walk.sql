{#- The CTE `walk` of fct_lead_stage_history: each event of the CTE `events` (person_id,
    event_number from 1 without gaps, stage, event_at, cause) in order, with the stage the person
    is in after it. An event moves the person (is_move) when the CTE `transitions` (from_stage,
    to_stage) allows the move from the current stage and, when the event has an only_from_stage,
    the person is in that stage; otherwise the stage, its entry time and cause stay. Columns: person_id, event_number, stage, entered_at, cause, is_move. Call it inside
    a `with recursive` clause; no trailing comma. -#}
{% macro lifecycle_walk_cte(events, transitions) -%}
    {{ return(adapter.dispatch('lifecycle_walk_cte')(events, transitions)) }}
{%- endmacro %}

{#- One event per recursion step. -#}
{% macro duckdb__lifecycle_walk_cte(events, transitions) -%}
walk as (
    select person_id, event_number, stage, event_at as entered_at, cause, true as is_move
    from {{ events }}
    where event_number = 1
    union all
    select
        walk.person_id,
        {{ events }}.event_number,
        case when {{ transitions }}.to_stage is null then walk.stage else {{ events }}.stage end,
        case when {{ transitions }}.to_stage is null then walk.entered_at else {{ events }}.event_at end,
        case when {{ transitions }}.to_stage is null then walk.cause else {{ events }}.cause end,
        {{ transitions }}.to_stage is not null
    from walk
    inner join {{ events }}
        on walk.person_id = {{ events }}.person_id
        and {{ events }}.event_number = walk.event_number + 1
    left join {{ transitions }}
        on walk.stage = {{ transitions }}.from_stage
        and {{ events }}.stage = {{ transitions }}.to_stage
        and ({{ events }}.only_from_stage is null or {{ events }}.only_from_stage = walk.stage)
)
{%- endmacro %}

{#- Spark 4.0 parses recursive CTEs but cannot plan them (internal error "No plan for
    UnionLoop"). Each person's events are folded in order instead: collected into an array sorted
    on event_number, then walked by `aggregate`, which appends the step each event gives. -#}
{% macro spark__lifecycle_walk_cte(events, transitions) -%}
walk as (
    select person_id, inline(steps)
    from (
        select
            person_events.person_id,
            aggregate(
                slice(person_events.events, 2, size(person_events.events) - 1),
                slice(person_events.events, 1, 1),
                (walked, event) -> concat(walked, array(
                    case
                        when array_contains(allowed.moves, element_at(walked, -1).stage || ' > ' || event.stage)
                            and (event.only_from_stage is null or event.only_from_stage = element_at(walked, -1).stage)
                            then event
                        else named_struct(
                            'event_number', event.event_number,
                            'stage', element_at(walked, -1).stage,
                            'entered_at', element_at(walked, -1).entered_at,
                            'cause', element_at(walked, -1).cause,
                            'is_move', false,
                            'only_from_stage', event.only_from_stage
                        )
                    end
                ))
            ) as steps
        from (
            select
                person_id,
                array_sort(collect_list(named_struct(
                    'event_number', event_number,
                    'stage', stage,
                    'entered_at', event_at,
                    'cause', cause,
                    'is_move', true,
                    'only_from_stage', only_from_stage
                ))) as events
            from {{ events }}
            group by person_id
        ) as person_events
        cross join (
            select collect_set(from_stage || ' > ' || to_stage) as moves
            from {{ transitions }}
        ) as allowed
    ) as walks
)
{%- endmacro %}

{#- The recursive walk, as on DuckDB: one recursion step per event, so Trino's
    max_recursion_depth must exceed the events of the busiest person. -#}
{% macro trino__lifecycle_walk_cte(events, transitions) -%}
    {{ duckdb__lifecycle_walk_cte(events, transitions) }}
{%- endmacro %}

{% macro default__lifecycle_walk_cte(events, transitions) -%}
    {{ exceptions.raise_compiler_error("lifecycle_walk_cte: no implementation for adapter " ~ adapter.type()) }}
{%- endmacro %}
