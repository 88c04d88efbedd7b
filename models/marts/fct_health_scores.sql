-- One row per account in scope x as_of_date: the computed and final health
-- score, its source, band, grade, ranks and percentiles, and the weakest metric.

with

health_scores as (
    select * from {{ ref('int_health_scores_finalized') }}
),

as_of as (
    select * from {{ ref('int_as_of_date_resolved') }}
),

final as (
    select
        cast(health_scores.account_id as {{ dbt.type_string() }}) as account_id,
        cast(health_scores.as_of_date as date) as as_of_date,
        cast(health_scores.segment as {{ dbt.type_string() }}) as segment,
        cast(health_scores.lifecycle_stage as {{ dbt.type_string() }}) as lifecycle_stage,
        cast(health_scores.computed_score as {{ type_double() }}) as computed_score,
        cast(health_scores.health_score as {{ type_double() }}) as health_score,
        cast(health_scores.score_source as {{ dbt.type_string() }}) as score_source,
        cast(health_scores.override_reason as {{ dbt.type_string() }}) as override_reason,
        cast(health_scores.override_expires_at as {{ dbt.type_timestamp() }})
            as override_expires_at,
        cast(health_scores.band as {{ dbt.type_string() }}) as band,
        cast(health_scores.grade as {{ dbt.type_string() }}) as grade,
        cast(health_scores.suggested_action as {{ dbt.type_string() }}) as suggested_action,
        cast(health_scores.health_rank_overall as {{ dbt.type_int() }})
            as health_rank_overall,
        cast(health_scores.health_rank_in_segment as {{ dbt.type_int() }})
            as health_rank_in_segment,
        cast(health_scores.health_percentile_overall as {{ type_double() }})
            as health_percentile_overall,
        cast(health_scores.health_percentile_in_segment as {{ type_double() }})
            as health_percentile_in_segment,
        cast(health_scores.metrics_enabled as {{ dbt.type_int() }}) as metrics_enabled,
        cast(health_scores.metrics_scored as {{ dbt.type_int() }}) as metrics_scored,
        cast(health_scores.metrics_missing as {{ dbt.type_int() }}) as metrics_missing,
        cast(health_scores.weakest_metric_id as {{ dbt.type_string() }})
            as weakest_metric_id,
        cast(health_scores.weakest_metric_label as {{ dbt.type_string() }})
            as weakest_metric_label,
        cast(health_scores.weakest_metric_shortfall_points as {{ type_double() }})
            as weakest_metric_shortfall_points
    from health_scores
    inner join as_of
        on health_scores.as_of_date = as_of.as_of_date
)

select * from final
