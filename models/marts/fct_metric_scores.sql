-- One row per account x as_of_date x metric on the account's scorecard: the raw
-- and normalized value, score, band, weight, share of the global score,
-- contribution, and the scorecard row used.

with

metric_contributions as (
    select * from {{ ref('int_metric_contributions_computed') }}
),

account_metrics as (
    select * from {{ ref('int_account_metrics_computed') }}
),

metric_catalog as (
    select * from {{ ref('int_metric_catalog_prepared') }}
),

scorecard as (
    select * from {{ ref('int_scorecard_validated') }}
),

metric_windows as (
    select * from {{ ref('int_metric_windows_dated') }}
    where period = 'current'
),

as_of as (
    select * from {{ ref('int_as_of_date_resolved') }}
),

-- the intermediate tables hold keys and numbers for every date; the labels,
-- window, normalizer and scorecard row are joined back for the one date shown
latest_metrics as (
    select
        metric_contributions.*,
        account_metrics.segment,
        account_metrics.lifecycle_stage,
        account_metrics.normalizer_value
    from metric_contributions
    inner join as_of
        on metric_contributions.as_of_date = as_of.as_of_date
    inner join account_metrics
        on
            metric_contributions.account_id = account_metrics.account_id
            and metric_contributions.as_of_date = account_metrics.as_of_date
            and metric_contributions.metric_id = account_metrics.metric_id
),

described as (
    select
        latest_metrics.*,
        metric_catalog.label as metric_label,
        metric_catalog.signal_category,
        metric_catalog.measure_type,
        metric_catalog.direction,
        metric_catalog.normalization,
        metric_catalog.missing_data_policy,
        metric_windows.window_start_date,
        metric_windows.window_end_date,
        scorecard.worst_value,
        scorecard.red_threshold,
        scorecard.green_threshold,
        scorecard.best_value,
        scorecard.scorecard_segment,
        scorecard.scorecard_lifecycle_stage
    from latest_metrics
    inner join metric_catalog
        on latest_metrics.metric_id = metric_catalog.metric_id
    inner join metric_windows
        on
            latest_metrics.as_of_date = metric_windows.as_of_date
            and latest_metrics.metric_id = metric_windows.metric_id
    inner join scorecard
        on
            latest_metrics.segment = scorecard.segment
            and latest_metrics.lifecycle_stage = scorecard.lifecycle_stage
            and latest_metrics.metric_id = scorecard.metric_id
),

final as (
    select
        cast(described.account_id as {{ dbt.type_string() }}) as account_id,
        cast(described.as_of_date as date) as as_of_date,
        cast(described.metric_id as {{ dbt.type_string() }}) as metric_id,
        cast(described.metric_label as {{ dbt.type_string() }}) as metric_label,
        cast(described.signal_category as {{ dbt.type_string() }})
            as signal_category,
        cast(described.measure_group as {{ dbt.type_string() }}) as measure_group,
        cast(described.measure_type as {{ dbt.type_string() }}) as measure_type,
        cast(described.direction as {{ dbt.type_string() }}) as direction,
        cast(described.segment as {{ dbt.type_string() }}) as segment,
        cast(described.lifecycle_stage as {{ dbt.type_string() }})
            as lifecycle_stage,
        cast(described.window_start_date as date) as window_start_date,
        cast(described.window_end_date as date) as window_end_date,
        cast(described.raw_value as {{ type_double() }}) as raw_value,
        cast(described.normalization as {{ dbt.type_string() }}) as normalization,
        cast(described.normalizer_value as {{ type_double() }})
            as normalizer_value,
        cast(described.normalized_value as {{ type_double() }})
            as normalized_value,
        cast(described.is_missing as {{ dbt.type_boolean() }}) as is_missing,
        cast(described.missing_data_policy as {{ dbt.type_string() }})
            as missing_data_policy,
        cast(described.score as {{ type_double() }}) as score,
        cast(described.band as {{ dbt.type_string() }}) as band,
        cast(described.weight as {{ type_double() }}) as weight,
        cast(described.counts_toward_score as {{ dbt.type_boolean() }})
            as counts_toward_score,
        cast(described.share_of_global_score as {{ type_double() }})
            as share_of_global_score,
        cast(described.contribution as {{ type_double() }}) as contribution,
        cast(described.shortfall_points as {{ type_double() }})
            as shortfall_points,
        cast(described.worst_value as {{ type_double() }}) as worst_value,
        cast(described.red_threshold as {{ type_double() }}) as red_threshold,
        cast(described.green_threshold as {{ type_double() }}) as green_threshold,
        cast(described.best_value as {{ type_double() }}) as best_value,
        cast(described.scorecard_segment as {{ dbt.type_string() }})
            as scorecard_segment,
        cast(described.scorecard_lifecycle_stage as {{ dbt.type_string() }})
            as scorecard_lifecycle_stage
    from described
)

select * from final
