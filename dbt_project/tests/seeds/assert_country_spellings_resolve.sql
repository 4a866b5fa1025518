-- The countries and country_aliases seeds through the lookup staging uses: common spellings
-- resolve to the expected ISO code, and nothing resolves to a code that is not a country.
-- Returns the spellings resolved otherwise.

{{ config(meta={'dagster': {'ref': {'name': 'country_aliases'}}}) }}

with

lookup as (
    {{ country_lookup() }}
),

spellings as (
    select known.spelling, known.expected_code from (values
        ('US', 'US'), ('usa', 'US'), ('U.S.', 'US'), ('U.S.A.', 'US'), ('United States', 'US'),
        ('United States of America', 'US'), ('Etats-Unis', 'US'), ('ÉTATS-UNIS', 'US'),
        ('Vereinigte Staaten', 'US'), ('Estados Unidos', 'US'),
        ('UK', 'GB'), ('U.K.', 'GB'), ('Great Britain', 'GB'), ('England', 'GB'), ('Royaume-Uni', 'GB'),
        ('Deutschland', 'DE'), ('Allemagne', 'DE'), ('germany', 'DE'), ('GER', 'DE'),
        ('España', 'ES'), ('Espana', 'ES'), ('Espagne', 'ES'), ('Italia', 'IT'), ('Brasil', 'BR'),
        ('Nederland', 'NL'), ('Holland', 'NL'), ('The Netherlands', 'NL'),
        ('Suisse', 'CH'), ('Schweiz', 'CH'), ('Österreich', 'AT'), ('Namibia', 'NA'), ('NA', 'NA'),
        ('Türkiye', 'TR'), ('Turkey', 'TR'), ('South Korea', 'KR'), ('Korea, Republic of', 'KR'),
        ('Czech Republic', 'CZ'), ('Côte d''Ivoire', 'CI'), ('Ivory Coast', 'CI'),
        ('Bosnia & Herzegovina', 'BA'), ('St. Lucia', 'LC'), ('Hong Kong SAR', 'HK'), ('UAE', 'AE'),
        ('Narnia', null)
    ) as known (spelling, expected_code)
)

select
    spellings.spelling,
    spellings.expected_code,
    lookup.country_code as actual_code
from spellings
left join lookup
    on {{ country_key('spellings.spelling') }} = lookup.country_key
where coalesce(lookup.country_code, '-') <> coalesce(spellings.expected_code, '-')

union all

select
    lookup.country_key,
    'a code in countries',
    lookup.country_code
from lookup
left join {{ ref('countries') }} as countries
    on lookup.country_code = countries.iso2
where countries.iso2 is null
