{#- One row per SLA alert that should exist as of as_of: an SLA not met that is at risk alerts its
    owner; a breached one alerts its owner and, when the owner has one, the owner's manager. The
    sla_alerts sensor copies these rows into alerts.outbox and delivers each once, so alert_id and
    text must stay stable from one build to the next: an outbox drops a row whose id it holds, and
    a changed id would page the rep again. -#}

with

slas as (
    select * from {{ ref('fct_lead_sla') }}
    -- A met SLA raises nothing, even when it was met late (status breached).
    where met_at is null
        and status in ('at_risk', 'breached')
),

-- Who hears of each kind of alert.
routes as (
    select 'at_risk' as kind, 'owner' as recipient_role
    union all
    select 'breached' as kind, 'owner' as recipient_role
    union all
    select 'breached' as kind, 'manager' as recipient_role
),

alerts as (
    select
        slas.sla_id,
        routes.kind,
        routes.recipient_role,
        case routes.recipient_role when 'owner' then slas.owner_id else slas.manager_id end as recipient_id,
        slas.person_id,
        slas.policy,
        slas.due_at,
        slas.owner_id,
        -- 'YYYY-MM-DD HH:MM' of the deadline (UTC), as every engine writes a timestamp as text.
        substring(cast(slas.due_at as {{ dbt.type_string() }}), 1, 16) as due_minute
    from slas
    inner join routes
        on slas.status = routes.kind
    -- A breach escalates to the manager only when the owner has one.
    where routes.recipient_role = 'owner' or slas.manager_id is not null
),

final as (
    select
        {{ dbt.hash(dbt.concat(["sla_id", "'|'", "kind", "'|'", "recipient_role"])) }} as alert_id,
        sla_id,
        kind,
        recipient_role,
        recipient_id,
        person_id,
        policy,
        due_at,
        case kind
            when 'at_risk'
                then {{ dbt.concat(["'SLA at risk: '", "policy", "' for '", "person_id", "' is due '", "due_minute", "' UTC'"]) }}
            else {{ dbt.concat([
                "'SLA breached: '", "policy", "' for '", "person_id", "' was due '", "due_minute",
                "' UTC (owner '", "coalesce(owner_id, '?')", "')'",
            ]) }}
        -- Quoted, in each engine's way, so that the portability lint does not take this alias for
        -- a cast to the unportable text type.
        end as {{ adapter.quote('text') }}
    from alerts
)

select * from final
