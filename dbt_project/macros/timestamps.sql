{#- Timestamps. Raw tables hold timestamps as text with their original offset; staging turns
    them into UTC `timestamp` values (no time zone), so every later model compares like with
    like whatever the session time zone. -#}

{#- ISO-8601 text with any offset (`2024-01-23T02:21:49.000+0000`, `+02:00`, `Z`, or none,
    which means UTC) -> UTC timestamp. Ingestion already checked that the cast succeeds. -#}
{% macro to_utc_timestamp(expr) -%}
    {{ return(adapter.dispatch('to_utc_timestamp')(expr)) }}
{%- endmacro %}

{% macro duckdb__to_utc_timestamp(expr) -%}
    timezone('UTC', cast({{ expr }} as timestamptz))
{%- endmacro %}

{#- Spark: the session time zone is UTC (profiles.yml), so a timestamp shows its UTC time. -#}
{% macro spark__to_utc_timestamp(expr) -%}
    cast({{ expr }} as timestamp)
{%- endmacro %}

{% macro trino__to_utc_timestamp(expr) -%}
    cast(from_iso8601_timestamp(replace(trim({{ expr }}), ' ', 'T')) at time zone 'UTC' as timestamp(6))
{%- endmacro %}

{% macro default__to_utc_timestamp(expr) -%}
    {{ exceptions.raise_compiler_error("to_utc_timestamp: no implementation for adapter " ~ adapter.type()) }}
{%- endmacro %}


{#- Apache/NGINX log time (`17/May/2015:10:05:03 +0000`) -> UTC timestamp. -#}
{% macro parse_access_log_timestamp(expr) -%}
    {{ return(adapter.dispatch('parse_access_log_timestamp')(expr)) }}
{%- endmacro %}

{% macro duckdb__parse_access_log_timestamp(expr) -%}
    timezone('UTC', strptime({{ expr }}, '%d/%b/%Y:%H:%M:%S %z'))
{%- endmacro %}

{% macro spark__parse_access_log_timestamp(expr) -%}
    to_timestamp({{ expr }}, 'dd/MMM/yyyy:HH:mm:ss Z')
{%- endmacro %}

{% macro trino__parse_access_log_timestamp(expr) -%}
    cast(parse_datetime({{ expr }}, 'dd/MMM/yyyy:HH:mm:ss Z') at time zone 'UTC' as timestamp(6))
{%- endmacro %}

{% macro default__parse_access_log_timestamp(expr) -%}
    {{ exceptions.raise_compiler_error("parse_access_log_timestamp: no implementation for adapter " ~ adapter.type()) }}
{%- endmacro %}


{#- A local wall-clock time (timestamp without zone) in the IANA time zone `tz_expr` -> UTC
    timestamp, following that zone's daylight saving rules. -#}
{% macro local_to_utc(local_ts, tz_expr) -%}
    {{ return(adapter.dispatch('local_to_utc')(local_ts, tz_expr)) }}
{%- endmacro %}

{% macro duckdb__local_to_utc(local_ts, tz_expr) -%}
    timezone('UTC', timezone({{ tz_expr }}, {{ local_ts }}))
{%- endmacro %}

{% macro spark__local_to_utc(local_ts, tz_expr) -%}
    to_utc_timestamp({{ local_ts }}, {{ tz_expr }})
{%- endmacro %}

{% macro trino__local_to_utc(local_ts, tz_expr) -%}
    cast(with_timezone({{ local_ts }}, {{ tz_expr }}) at time zone 'UTC' as timestamp(6))
{%- endmacro %}

{% macro default__local_to_utc(local_ts, tz_expr) -%}
    {{ exceptions.raise_compiler_error("local_to_utc: no implementation for adapter " ~ adapter.type()) }}
{%- endmacro %}


{#- Fractional days from `start_ts` to `end_ts`, counted in whole seconds. The divisor is a
    double on purpose: a literal 86400.0 is a DECIMAL on Spark, whose division rounds to 7
    decimals, where DuckDB and Trino divide in double precision. -#}
{% macro days_between(start_ts, end_ts) -%}
    ({{ dbt.datediff(start_ts, end_ts, 'second') }} / {{ to_double(86400) }})
{%- endmacro %}

{#- dbt.dateadd on Spark: dbt-spark's own implementation goes through to_unix_timestamp, which
    drops the fraction of a second (as_of 10:00:00.287 minus 365 days gave 10:00:00), so windows
    built on as_of differed from DuckDB's. timestampadd keeps microseconds, like DuckDB's
    interval arithmetic. dbt looks for dbt's dispatched macros in the root project first. -#}
{% macro spark__dateadd(datepart, interval, from_date_or_timestamp) -%}
    timestampadd({{ datepart }}, cast({{ interval }} as bigint), cast({{ from_date_or_timestamp }} as timestamp))
{%- endmacro %}

{#- `ts` plus a (possibly fractional) number of days, to the second. -#}
{% macro add_days(ts, days) -%}
    {{ dbt.dateadd('second', 'cast(round((' ~ days ~ ') * 86400) as bigint)', ts) }}
{%- endmacro %}

{#- Days in a month on average (365.25 / 12): purchase cycles are counted in these months. -#}
{% macro days_per_month() -%}
    {{ to_double(30.4375) }}
{%- endmacro %}
