{#- Normalising the free text people type about themselves (titles, company names, industries,
    purchase timelines) so rules written once match every spelling. -#}

{#- Lower case, accents stripped, ligatures spelled out (ß -> ss, œ -> oe), every run of
    characters other than letters and digits turned into one space, trimmed; blank -> null
    (`"  Vice-Président, Ventes "` -> `vice president ventes`, `"Geschäftsführer"` ->
    `geschaftsfuhrer`, `"FP&A"` -> `fp a`). Rules in the reference seeds are written against
    this form. -#}
{% macro normalize_words(expr) -%}
    nullif(trim({{ regex_replace(fold_text(expr), "'[^\\p{L}\\p{N}]+'", "' '") }}), '')
{%- endmacro %}


{#- Lower case with accents stripped and ligatures spelled out, punctuation kept
    (`"Moins de 3 MOIS"` -> `moins de 3 mois`). -#}
{% macro fold_text(expr) -%}
    {{ return(adapter.dispatch('fold_text')(expr)) }}
{%- endmacro %}

{% macro duckdb__fold_text(expr) -%}
    replace(replace(replace(replace(lower(strip_accents({{ expr }})), 'ß', 'ss'), 'œ', 'oe'), 'æ', 'ae'), 'ø', 'o')
{%- endmacro %}

{% macro spark__fold_text(expr) -%}
    replace(replace(replace(replace({{ strip_accents_lower(expr) }}, 'ß', 'ss'), 'œ', 'oe'), 'æ', 'ae'), 'ø', 'o')
{%- endmacro %}

{% macro trino__fold_text(expr) -%}
    {{ return(spark__fold_text(expr)) }}
{%- endmacro %}

{% macro default__fold_text(expr) -%}
    {{ exceptions.raise_compiler_error("fold_text: no implementation for adapter " ~ adapter.type()) }}
{%- endmacro %}


{#- The key company names are matched on: normalize_words after dots and apostrophes are
    dropped (so `S.A.` reads `sa`), then legal forms stripped from the end, as many as there are
    (`"Acme Holdings, Inc."` -> `acme holdings`, `"Lakegate Telecom S.A. de C.V."` ->
    `lakegate telecom`, `"Müller GmbH & Co. KG"` -> `muller`). -#}
{% macro company_name_key(expr) -%}
    {%- set legal_forms = [
        'inc', 'incorporated', 'corp', 'corporation', 'co', 'company', 'llc', 'llp', 'lp', 'ltd',
        'limited', 'plc', 'pty', 'pvt', 'pte', 'private', 'gmbh', 'mbh', 'ag', 'kg', 'kgaa', 'ohg',
        'ug', 'ev', 'se', 'sa', 'sas', 'sasu', 'sarl', 'eurl', 'sca', 'snc', 'sl', 'slu', 'de cv',
        'srl', 'spa', 'bv', 'nv', 'ab', 'oy', 'oyj', 'as', 'asa', 'aps', 'kk', 'bhd', 'sdn', 'ltda'
    ] -%}
    nullif(trim({{ regex_replace(
        normalize_words(regex_replace(expr, "'[.\\x27’]'", "''")),
        "'( (" ~ legal_forms | join('|') ~ "))+$'",
        "''"
    ) }}), '')
{%- endmacro %}


{#- A CRM custom field (a key of the record's custom_fields JSON) as trimmed text; null when
    absent or blank. -#}
{% macro custom_field_text(json_expr, field_name) -%}
    {{ return(adapter.dispatch('custom_field_text')(json_expr, field_name)) }}
{%- endmacro %}

{% macro duckdb__custom_field_text(json_expr, field_name) -%}
    nullif(trim(json_extract_string({{ json_expr }}, '$."{{ field_name }}"')), '')
{%- endmacro %}

{% macro spark__custom_field_text(json_expr, field_name) -%}
    nullif(trim(get_json_object({{ json_expr }}, '$.{{ field_name }}')), '')
{%- endmacro %}

{% macro trino__custom_field_text(json_expr, field_name) -%}
    nullif(trim(json_extract_scalar({{ json_expr }}, '$["{{ field_name }}"]')), '')
{%- endmacro %}

{% macro default__custom_field_text(json_expr, field_name) -%}
    {{ exceptions.raise_compiler_error("custom_field_text: no implementation for adapter " ~ adapter.type()) }}
{%- endmacro %}


{#- Lower case with accents stripped, for engines without DuckDB's strip_accents: each accented
    Latin letter that decomposes into a plain letter and marks (the letters strip_accents
    changes) is translated to that letter. Letters with no decomposition (ß, œ, ø, ł) stay. -#}
{% macro strip_accents_lower(expr) -%}
    translate(lower({{ expr }}),
        'àáâãäåçèéêëìíîïñòóôõöùúûüýÿāăąćĉċčďēĕėęěĝğġģĥĩīĭįĵķĺļľńņňōŏőŕŗřśŝşšţťũūŭůűųŵŷźżžơưǎǐǒǔǖǘǚǜǟǡǧǩǫǭǰǵǹǻȁȃȅȇȉȋȍȏȑȓȕȗșțȟȧȩȫȭȯȱȳḁḃḅḇḉḋḍḏḑḓḕḗḙḛḝḟḡḣḥḧḩḫḭḯḱḳḵḷḹḻḽḿṁṃṅṇṉṋṍṏṑṓṕṗṙṛṝṟṡṣṥṧṩṫṭṯṱṳṵṷṹṻṽṿẁẃẅẇẉẋẍẏẑẓẕẖẗẘẙạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ',
        'aaaaaaceeeeiiiinooooouuuuyyaaaccccdeeeeegggghiiiijklllnnnooorrrssssttuuuuuuwyzzzouaiouuuuuaagkoojgnaaaeeiioorruusthaeooooyabbbcdddddeeeeefghhhhhiikkkllllmmmnnnnoooopprrrrsssssttttuuuuuvvwwwwwxxyzzzhtwyaaaaaaaaaaaaeeeeeeeeiioooooooooooouuuuuuuyyyy')
{%- endmacro %}

{#- The words of the placeholder_values seed that say a field was not really filled in ("n a",
    "test", "null"), those that apply to `applies_to` (any, company) or all. dbt loads seeds
    through agate on Spark and Trino, which reads the word null as a NULL (DuckDB copies the file
    and keeps the word); the seed has no empty value, so a NULL there is that word. Left NULL, it
    would make every `not in` the list unknown and match no join. -#}
{% macro placeholder_words(applies_to=none) -%}
    select coalesce(value, 'null') as value from {{ ref('placeholder_values') }}
    {%- if applies_to %}
    where applies_to = '{{ applies_to }}'
    {%- endif %}
{%- endmacro %}

{#- A field of a person's CRM record as text: an int_people column, or custom_fields.<Name> for
    a column the mapping does not name. -#}
{% macro person_field_text(alias, name) -%}
    {%- if name.startswith('custom_fields.') -%}
        {{ custom_field_text(alias ~ '.custom_fields', name[14:]) }}
    {%- else -%}
        cast({{ alias }}.{{ name }} as {{ dbt.type_string() }})
    {%- endif -%}
{%- endmacro %}
