-- One row per account x as_of_date x metric on the account's scorecard: the raw
-- and normalized value, score, band, weight, share of the global score,
-- contribution, and the scorecard row used.

with

metric_contributions as (
    select * from {{ ref('int_metric_contributions_computed') }}
),

as_of as (
    select * from {{ ref('int_as_of_date_resolved') }}
),

final as (
    select
        cast(metric_contributions.account_id as {{ dbt.type_string() }}) as account_id,
        cast(metric_contributions.as_of_date as date) as as_of_date,
        cast(metric_contributions.metric_id as {{ dbt.type_string() }}) as metric_id,
        cast(metric_contributions.metric_label as {{ dbt.type_string() }}) as metric_label,
        cast(metric_contributions.signal_category as {{ dbt.type_string() }})
            as signal_category,
        cast(metric_contributions.measure_group as {{ dbt.type_string() }}) as measure_group,
        cast(metric_contributions.measure_type as {{ dbt.type_string() }}) as measure_type,
        cast(metric_contributions.direction as {{ dbt.type_string() }}) as direction,
        cast(metric_contributions.segment as {{ dbt.type_string() }}) as segment,
        cast(metric_contributions.lifecycle_stage as {{ dbt.type_string() }})
            as lifecycle_stage,
        cast(metric_contributions.window_start_date as date) as window_start_date,
        cast(metric_contributions.window_end_date as date) as window_end_date,
        cast(metric_contributions.raw_value as {{ type_double() }}) as raw_value,
        cast(metric_contributions.normalization as {{ dbt.type_string() }}) as normalization,
        cast(metric_contributions.normalizer_value as {{ type_double() }})
            as normalizer_value,
        cast(metric_contributions.normalized_value as {{ type_double() }})
            as normalized_value,
        cast(metric_contributions.is_missing as {{ dbt.type_boolean() }}) as is_missing,
        cast(metric_contributions.missing_data_policy as {{ dbt.type_string() }})
            as missing_data_policy,
        cast(metric_contributions.score as {{ type_double() }}) as score,
        cast(metric_contributions.band as {{ dbt.type_string() }}) as band,
        cast(metric_contributions.weight as {{ type_double() }}) as weight,
        cast(metric_contributions.counts_toward_score as {{ dbt.type_boolean() }})
            as counts_toward_score,
        cast(metric_contributions.share_of_global_score as {{ type_double() }})
            as share_of_global_score,
        cast(metric_contributions.contribution as {{ type_double() }}) as contribution,
        cast(metric_contributions.shortfall_points as {{ type_double() }})
            as shortfall_points,
        cast(metric_contributions.worst_value as {{ type_double() }}) as worst_value,
        cast(metric_contributions.red_threshold as {{ type_double() }}) as red_threshold,
        cast(metric_contributions.green_threshold as {{ type_double() }}) as green_threshold,
        cast(metric_contributions.best_value as {{ type_double() }}) as best_value,
        cast(metric_contributions.scorecard_segment as {{ dbt.type_string() }})
            as scorecard_segment,
        cast(metric_contributions.scorecard_lifecycle_stage as {{ dbt.type_string() }})
            as scorecard_lifecycle_stage
    from metric_contributions
    inner join as_of
        on metric_contributions.as_of_date = as_of.as_of_date
)

select * from final
