{#- Incremental models that recompute whole keys (a person, or a person and rulebook) instead of
    appending rows. Each row keeps a digest of what its key was computed from (_inputs_digest)
    and of the settings that apply to every key (_settings_fingerprint); a run recomputes the
    keys whose digest changed and writes them with delete+insert on the key. Each key recomputed or
    gone is also written as a tombstone row, so delete+insert removes its old rows even when
    nothing replaces them; the post-hook `delete_tombstones` then removes the tombstones.
    Models downstream of such a model find the keys it rewrote from its `_built_at` stamp
    (`rewritten_keys`). -#}

{#- The config of a keyed-rewrite model: delete+insert on `unique_key`, the tombstones deleted
    after each run, then `post_hooks`. Spark, whose
    Parquet tables cannot delete, rebuilds it in full. A model with an enforced contract takes
    on_schema_change='append_new_columns' (dbt refuses sync_all_columns there). -#}
{% macro keyed_rewrite_config(unique_key, post_hooks=[], on_schema_change='sync_all_columns') -%}
    {{ config(
        materialized='incremental',
        unique_key=unique_key,
        incremental_strategy=incremental_rewrite_strategy(),
        file_format=var('spark_file_format', 'parquet'),
        full_refresh=incremental_full_refresh(rebuild=(target.type == 'spark')),
        on_schema_change=on_schema_change,
        post_hook=["{{ delete_tombstones() }}"] + post_hooks
    ) }}
{%- endmacro %}

{#- True when the incremental model's stored table has `column` (a table built by an earlier
    version has not: every key is then recomputed). -#}
{% macro stored_column_exists(column) -%}
    {%- if execute and is_incremental() -%}
    {%- set stored = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
    {{ return(column | lower in stored) }}
    {%- endif -%}
    {{ return(false) }}
{%- endmacro %}

{#- The keys of `digests` (a CTE with the keys and inputs_digest) to recompute: all of them on a
    full build, on a table without digests (or without _built_at stamps, when `stamped`) or
    after a settings change; else those whose digest is new or differs from the stored one. -#}
{% macro changed_digest_keys(digests, keys, fingerprint, stamped=false) -%}
    select {% for key in keys %}{{ digests }}.{{ key }}{{ ', ' if not loop.last }}{% endfor %}
    from {{ digests }}
    {%- if stored_column_exists('_inputs_digest') and (stored_column_exists('_built_at') or not stamped) %}
    -- The settings check once, not per row.
    cross join (
        select coalesce(max(_settings_fingerprint) <> {{ fingerprint }}, true) as settings_changed
        from {{ this }}
    ) as stored_settings
    left join (
        select {{ keys | join(', ') }}, max(_inputs_digest) as inputs_digest
        from {{ this }}
        group by {{ keys | join(', ') }}
    ) as stored
        on {% for key in keys %}{{ digests }}.{{ key }} = stored.{{ key }}{{ ' and ' if not loop.last }}{% endfor %}
    where stored_settings.settings_changed
        or stored.inputs_digest is null
        or stored.inputs_digest <> {{ digests }}.inputs_digest
    {%- endif %}
{%- endmacro %}

{#- On an incremental run, keeps the rows of `alias` whose key is in the CTE `scope`. -#}
{% macro in_scope(alias, key='person_id') -%}
    {%- if is_incremental() -%}
    where {{ alias }}.{{ key }} in (select {{ key }} from scope)
    {%- endif -%}
{%- endmacro %}

{#- On an incremental run, a tombstone for each key recomputed (`scope`) and each stored key
    that `current` (the keys that still have inputs) no longer has: appended to the model's
    rows with `union all by name` (DuckDB; the other engines rebuild these models in full), so
    delete+insert clears every old row of these keys even when nothing new replaces them. A
    table built before its key columns existed has no stored keys to look up: its old rows get
    no settings fingerprint when the columns are added, and the post-hook deletes them. -#}
{% macro tombstone_rows(scope, current, keys) -%}
    {%- if is_incremental() %}
    {%- set lacks_keys = namespace(value=false) %}
    {%- for key in keys if execute and not stored_column_exists(key) %}{% set lacks_keys.value = true %}{% endfor %}
    union all by name
    select {{ keys | join(', ') }}
    from (
        select {{ keys | join(', ') }} from {{ scope }}
        {%- if not lacks_keys.value %}
        union
        (
            select {{ keys | join(', ') }} from {{ this }}
            except
            select {{ keys | join(', ') }} from {{ current }}
        )
        {%- endif %}
    ) as tombstone_keys
    {%- endif %}
{%- endmacro %}

{#- Post-hook: remove the tombstones, the rows without a settings fingerprint (every real row
    has one). -#}
{% macro delete_tombstones() -%}
    {%- if is_incremental() -%}
    delete from {{ this }} where _settings_fingerprint is null
    {%- endif -%}
{%- endmacro %}

{#- When this run writes its rows: the invocation's start (UTC), moved past the latest stored
    stamp so stamps only grow even if the clock went back. Bookkeeping only: no score depends
    on it. -#}
{% macro built_at_stamp() -%}
    {%- set started = "cast('" ~ run_started_at.strftime('%Y-%m-%d %H:%M:%S.%f') ~ "' as timestamp)" -%}
    {%- if stored_column_exists('_built_at') -%}
    greatest({{ started }}, coalesce({{ dbt.dateadd('second', 1, '(select max(_built_at) from ' ~ this ~ ')') }}, {{ started }}))
    {%- else -%}
    {{ started }}
    {%- endif -%}
{%- endmacro %}

{#- The keys of `upstream` (a keyed-rewrite model with `_built_at`) rewritten since this model
    last read it: this model's rows keep the latest upstream stamp they saw in
    `_upstream_built_at`. Every key when this is a full build, when this table has no stamps
    yet, after a settings change or when the upstream was rebuilt from scratch (its latest
    stamp is older than the one seen). -#}
{% macro rewritten_keys(upstream, keys, fingerprint) -%}
    {%- if stored_column_exists('_upstream_built_at') %}
    select distinct {% for key in keys %}upstream.{{ key }}{{ ', ' if not loop.last }}{% endfor %}
    from {{ upstream }} as upstream
    -- What the run decides once, not per row.
    cross join (
        select
            max(_upstream_built_at) as seen_built_at,
            coalesce(max(_settings_fingerprint) <> {{ fingerprint }}, true) as settings_changed
        from {{ this }}
    ) as stored
    cross join (select max(_built_at) as latest_built_at from {{ upstream }}) as current_upstream
    where stored.settings_changed
        or stored.seen_built_at is null
        or current_upstream.latest_built_at < stored.seen_built_at
        or upstream._built_at > stored.seen_built_at
        or upstream._built_at is null
    {%- else %}
    select distinct {{ keys | join(', ') }} from {{ upstream }}
    {%- endif %}
{%- endmacro %}

{#- A one-row derived table to cross join in the model's final select, with the values every row
    of the run carries: `fingerprint`, and `upstream_built_at` (the latest `_built_at` of
    `upstream`) and `built_at` (this run's stamp) when asked. Written as expressions on every row
    they would be evaluated for each (the fingerprint reads the seeds). -#}
{% macro run_values(fingerprint, upstream=none, stamp=false) -%}
    cross join (
        select
            {{ fingerprint }} as fingerprint
            {%- if upstream %},
            (select max(_built_at) from {{ upstream }}) as upstream_built_at
            {%- endif %}
            {%- if stamp %},
            {{ built_at_stamp() }} as built_at
            {%- endif %}
    ) as run_values
{%- endmacro %}

{#- The rows of `relation` whose keys are in `scope`: what an incremental run recomputes. -#}
{% macro rows_in_scope(relation, keys, scope='scope') -%}
    select {{ relation }}.*
    from {{ relation }}
    inner join {{ scope }}
        on {% for key in keys %}{{ relation }}.{{ key }} = {{ scope }}.{{ key }}{{ '\n        and ' if not loop.last }}{% endfor %}
{%- endmacro %}
