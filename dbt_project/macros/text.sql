{#- Normalising people's and companies' identifiers so sources can be matched. -#}

{#- Emails: trimmed, lower-case, with no whitespace inside (`" Jane.Doe @Example.COM"` ->
    `jane.doe@example.com`); blank -> null. -#}
{% macro normalize_email(expr) -%}
    nullif(lower({{ regex_replace(expr, "'\\s+'", "''") }}), '')
{%- endmacro %}

{#- The part after the last `@` of an already normalised email; null when there is none. -#}
{% macro email_domain(normalized_email) -%}
    {{ regex_extract(normalized_email, "'@([^@]+)$'") }}
{%- endmacro %}

{#- Company domains from a website or a domain field: lower-case, without scheme, `www.`,
    port, path or trailing dot (`https://www.Acme.com/about` -> `acme.com`). -#}
{% macro normalize_domain(expr) -%}
    nullif(
        {{ regex_replace(
            regex_replace("lower(trim(" ~ expr ~ "))", "'^([a-z][a-z0-9+.-]*://)?(www[0-9]*\\.)?'", "''"),
            "'[:/?#].*$|\\.$'", "''"
        ) }},
        ''
    )
{%- endmacro %}

{#- The key countries are matched on: accents stripped, lower-case, dots and apostrophes
    dropped, any other run of non-alphanumeric characters turned into one space
    (`"  États-Unis "` -> `etats unis`, `"U.S.A."` -> `usa`). -#}
{% macro country_key(expr) -%}
    {{ return(adapter.dispatch('country_key')(expr)) }}
{%- endmacro %}

{% macro duckdb__country_key(expr) -%}
    nullif(trim(regexp_replace(
        regexp_replace(lower(strip_accents(trim({{ expr }}))), '[.\x27’]', '', 'g'),
        '[^\p{L}\p{N}]+', ' ', 'g'
    )), '')
{%- endmacro %}

{% macro spark__country_key(expr) -%}
    nullif(trim({{ regex_replace(
        regex_replace(strip_accents_lower('trim(' ~ expr ~ ')'), "'[.\\x27’]'", "''"),
        "'[^\\p{L}\\p{N}]+'", "' '"
    ) }}), '')
{%- endmacro %}

{% macro trino__country_key(expr) -%}
    {{ return(spark__country_key(expr)) }}
{%- endmacro %}

{% macro default__country_key(expr) -%}
    {{ exceptions.raise_compiler_error("country_key: no implementation for adapter " ~ adapter.type()) }}
{%- endmacro %}

{#- Free-text category labels in lower snake case (`Registered - No Show` ->
    `registered_no_show`, `SPAMREPORT` -> `spamreport`); blank -> null. -#}
{% macro to_snake_case(expr) -%}
    nullif({{ regex_replace(regex_replace("lower(trim(" ~ expr ~ "))", "'[^a-z0-9]+'", "'_'"), "'^_+|_+$'", "''") }}, '')
{%- endmacro %}

{#- A CRM status compared whatever its case and separators (`IN_PROGRESS` = `In Progress`). -#}
{% macro status_key(expr) -%}
    trim({{ regex_replace("lower(" ~ expr ~ ")", "'[^a-z0-9]+'", "' '") }})
{%- endmacro %}

{#- A dbt var's list of names as a SQL list of lower-case literals: `('status', 'hs_lead_status')`. -#}
{% macro lower_literals(values) -%}
    ({%- for value in values %}'{{ value | lower }}'{{ ", " if not loop.last }}{% endfor -%})
{%- endmacro %}

{#- A Jinja value (a list, a text) as a SQL text literal holding its JSON. -#}
{% macro json_literal(value) -%}
    '{{ tojson(value) | replace("'", "''") }}'
{%- endmacro %}

{#- A number as text with one decimal (2.1), the same on every engine. -#}
{% macro one_decimal(expr) -%}
    cast(cast(round({{ expr }}, 1) as decimal(10, 1)) as {{ dbt.type_string() }})
{%- endmacro %}

{#- A person's or CRM user's name from its first and last names; null when both are empty. -#}
{% macro full_name(first_name, last_name) -%}
    nullif(trim(concat_ws(' ', {{ first_name }}, {{ last_name }})), '')
{%- endmacro %}
