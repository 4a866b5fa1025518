{#- The CRM columns the mapping does not name (custom fields), as the JSON object of each master
    person's record: what the predictive model reads its custom features from. Which fields it
    uses, and how (numbers, categories), is the fit's choice, from the vars carried in
    dim_feature_snapshots. -#}

select
    person_id,
    custom_fields
from {{ ref('int_people') }}
where is_master
