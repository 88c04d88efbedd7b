-- One row per account x as_of_date x measure group: the group score, band,
-- weight and share of the global score.

with

group_scores as (
    select * from {{ ref('int_group_scores_weighted') }}
),

as_of as (
    select * from {{ ref('int_as_of_date_resolved') }}
),

final as (
    select
        cast(group_scores.account_id as {{ dbt.type_string() }}) as account_id,
        cast(group_scores.as_of_date as date) as as_of_date,
        cast(group_scores.measure_group as {{ dbt.type_string() }}) as measure_group,
        cast(group_scores.segment as {{ dbt.type_string() }}) as segment,
        cast(group_scores.lifecycle_stage as {{ dbt.type_string() }}) as lifecycle_stage,
        cast(group_scores.group_score as {{ type_double() }}) as group_score,
        cast(group_scores.band as {{ dbt.type_string() }}) as band,
        cast(group_scores.group_weight as {{ type_double() }}) as group_weight,
        cast(group_scores.weight_source as {{ dbt.type_string() }}) as weight_source,
        cast(group_scores.share_of_global_score as {{ type_double() }})
            as share_of_global_score,
        cast(group_scores.metrics_enabled as {{ dbt.type_int() }}) as metrics_enabled,
        cast(group_scores.metrics_scored as {{ dbt.type_int() }}) as metrics_scored
    from group_scores
    inner join as_of
        on group_scores.as_of_date = as_of.as_of_date
)

select * from final
