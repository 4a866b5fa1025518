{#- Which rulebooks changed since the previous successful build: their fingerprint
    (int_rulebook_fingerprints) differs from the one that build kept
    (ops.rulebook_fingerprints_before_build). A rulebook new or gone since counts as changed.
    Before a first build there is nothing to compare with, and nothing counts as changed. -#}

with

previous as (
    select rulebook_id, fingerprint
    from {{ source('previous_build', 'rulebook_fingerprints_before_build') }}
),

had_previous as (
    select count(*) > 0 as had_previous from previous
)

select
    coalesce(now_.rulebook_id, previous.rulebook_id) as rulebook_id,
    had_previous.had_previous
        and coalesce(now_.fingerprint, '') <> coalesce(previous.fingerprint, '') as rulebook_changed
from {{ ref('int_rulebook_fingerprints') }} as now_
full outer join previous
    on now_.rulebook_id = previous.rulebook_id
cross join had_previous
