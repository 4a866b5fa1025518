{#- Exports accumulate: the same record arrives in every export that contains it. Keep one row
    per key, its latest version: by `version_column` (the record's own modification time, when
    it has one), then the latest load, file and line. -#}
{% macro latest_version(source_cte, key_column, version_column=none) -%}
    select * from (
        select
            {{ source_cte }}.*,
            row_number() over (
                partition by {{ key_column }}
                order by
                    {%- if version_column %}
                    {{ to_utc_timestamp(version_column) }} desc nulls last,
                    {%- endif %}
                    _loaded_at desc,
                    _source_file desc,
                    _source_line desc
            ) as version_rank
        from {{ source_cte }}
    ) as versioned
    where version_rank = 1
{%- endmacro %}
