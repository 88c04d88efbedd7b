-- One row: the version of the scoring configuration, an md5 hash of the
-- contents of every seed that changes a score (scorecard, metric catalog,
-- weights, bands, grades, plan segments) and of the vars that do (the lifecycle
-- stage bounds pick the scorecard row; score_decimals rounds the score). Every
-- history row records it, so that a change of scorecard shows in the history
-- from the day it was made.

{%- set config_seeds = [
    'scorecard', 'metric_catalog', 'weight_levels', 'group_weights',
    'score_bands', 'score_grades', 'plan_segments',
] %}
{%- set config_vars_text = 'vars'
    ~ '|onboarding_max_days=' ~ var('onboarding_max_days')
    ~ '|adoption_max_days=' ~ var('adoption_max_days')
    ~ '|score_decimals=' ~ var('score_decimals') %}

with

seed_rows as (
    {%- for seed_name in config_seeds %}
    {{ seed_rows_as_text(ref(seed_name), seed_name) }}
    union all
    {%- endfor %}
    select {{ dbt.string_literal(config_vars_text) }} as row_text
),

final as (
    select
        {{ dbt.hash(sorted_text_agg('seed_rows.row_text')) }} as scorecard_version,
        count(*) as config_row_count
    from seed_rows
)

select * from final
