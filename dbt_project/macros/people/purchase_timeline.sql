{#- The latest a purchase is expected, in whole months from when the person said it, read from
    a free-text or picklist timeline in English, French, German or Spanish:

    - a range or a bound gives its upper end: `< 3 months` -> 3, `3-6 months` -> 6,
      `6-12 mois` -> 12, `1-2 years` -> 24, `2 weeks` -> 1 (a month at least);
    - an open range counts twice its bound, as nobody can say how far beyond it the purchase
      lies: `> 12 months` and `12+ months` -> 24, `more than a year` -> 24;
    - words: immediately, ASAP, this month -> 1; this quarter -> 3; next quarter -> 6;
      this year, within a year -> 12; next year -> 24;
    - no plan, not sure, unknown, text that names no time, or more than ten years (a year
      typed instead of a delay) -> null. -#}
{% macro purchase_timeline_months(expr) -%}
    {%- set words = normalize_words(expr) -%}
    {#- "a year", "un an", "ein Jahr" read as 1 year so the number rules apply. -#}
    {%- set spelled = regex_replace(
        fold_text(expr),
        "'\\b(a|an|one|un|une|ein|eine|einem|einen|uno|una)\\s+(years?|an|annee|jahr|ano|months?|mois|monat|mes)\\b'",
        "'1 \\2'"
    ) -%}
    {%- set bound = "cast(replace(" ~ regex_extract(spelled, "'([0-9]+(?:[.,][0-9]+)?)[^0-9]*$'") ~ ", ',', '.') as " ~ type_double() ~ ")" -%}
    {%- set unit = regex_extract(spelled, "'[0-9][^a-z0-9]*([a-z]+)[^0-9]*$'") -%}
    {%- set months -%}
        ceil(
            {{ bound }}
            * case
                when {{ regex_matches(unit, "'^(years?|yrs?|y|ans?|annees?|jahre?n?|anos?|anni|anno)$'") }} then 12.0
                when {{ regex_matches(unit, "'^(weeks?|wks?|w|semaines?|wochen?|semanas?)$'") }} then 12.0 / 52
                when {{ regex_matches(unit, "'^(days?|d|jours?|tage?n?|dias?)$'") }} then 1.0 / 30
                else 1.0
            end
            * case
                when {{ regex_matches(spelled, "'>|\\+|\\b(more than|over|longer than|beyond|after|at least|plus de|au dela|mehr als|uber|langer als|mas de|despues de)\\b'") }}
                    and not {{ regex_matches(words, "'\\b(no|not|pas|nicht)\\s+(more|plus|mehr|mas)\\b'") }}
                    then 2
                else 1
            end
        )
    {%- endset -%}
    case
        when {{ regex_matches(words, "'\\b(no (plans?|timeline|project|budget|date)|not sure|unsure|unknown|undecided|tbd|none|n a|just (looking|researching|browsing)|pas de projet|ne sait pas|inconnu|keine?|unbekannt|ninguno|no sabe|desconocido)\\b'") }}
            then null
        when {{ regex_matches(spelled, "'[0-9]'") }}
            then case
                when {{ months }} between 0 and 120 then cast(greatest(1, {{ months }}) as integer)
            end
        when {{ regex_matches(words, "'\\b(immediate\\w*|asap|now|right away|urgent\\w*|this month|ce mois\\w*|sofort|dringend|diesen monat|inmediat\\w*|urgente|este mes)\\b'") }}
            then 1
        when {{ regex_matches(words, "'\\b(this quarter|ce trimestre|dieses quartal|diesem quartal|este trimestre)\\b'") }}
            then 3
        when {{ regex_matches(words, "'\\b(next quarter|prochain trimestre|trimestre prochain|nachstes quartal|nachsten quartal|proximo trimestre)\\b'") }}
            then 6
        when {{ regex_matches(words, "'\\b(next year|l annee prochaine|annee prochaine|nachstes jahr|nachsten jahr|proximo ano|ano que viene)\\b'") }}
            then 24
        when {{ regex_matches(words, "'\\b(this year|within (a|the) year|cette annee|dieses jahr|diesem jahr|este ano)\\b'") }}
            then 12
    end
{%- endmacro %}
