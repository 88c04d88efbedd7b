-- One row: the version of the scoring configuration, an md5 hash of the
-- contents of every seed that changes a score (scorecard, metric catalog,
-- weights, bands, grades, plan segments). Every history row records it, so that
-- a change of scorecard shows in the history from the day it was made.

{%- set config_seeds = [
    'scorecard', 'metric_catalog', 'weight_levels', 'group_weights',
    'score_bands', 'score_grades', 'plan_segments',
] %}

with

seed_rows as (
    {%- for seed_name in config_seeds %}
    {{ seed_rows_as_text(ref(seed_name), seed_name) }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

final as (
    select
        {{ dbt.hash(sorted_text_agg('seed_rows.row_text')) }} as scorecard_version,
        count(*) as config_row_count
    from seed_rows
)

select * from final
