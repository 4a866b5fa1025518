{{ config(severity='warn') }}
{#- Adjustments that name an unknown person or rulebook: not applied, listed by file and line. -#}
select adjustment_id, crm_id, rulebook_id, problem, _source_file, _source_line
from {{ ref('int_score_adjustments') }}
where problem is not null
