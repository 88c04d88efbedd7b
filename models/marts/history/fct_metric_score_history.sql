{{ config(
    materialized=account_bucketed_materialization('incremental'),
    incremental_strategy=history_incremental_strategy(),
    unique_key='score_date',
    partition_by=history_partition_by(),
    full_refresh=var('history_rebuild'),
    on_schema_change='fail',
) }}

-- One row per account in scope x score_date x metric on its scorecard: the
-- value, score, band, weight, share of the global score, contribution (they add
-- up to the computed score) and shortfall (share x (100 - score): the points it
-- costs), ranked, so that the metrics pulling a score down are the top ranks.
-- Incremental like fct_health_score_history (same dates, same rebuild rule).

with

metric_contributions as (
    select * from {{ ref('int_metric_contributions_computed') }}
    where {{ in_account_bucket('account_id') }}
),

score_dates as (
    select * from {{ ref('int_score_dates_spined') }}
    where is_history_date
),

metric_catalog as (
    select * from {{ ref('int_metric_catalog_prepared') }}
),

scorecard_version as (
    select * from {{ ref('int_scorecard_version_hashed') }}
),

scored as (
    select
        metric_contributions.*,
        metric_catalog.label as metric_label,
        metric_catalog.signal_category
    from metric_contributions
    inner join score_dates
        on metric_contributions.as_of_date = score_dates.as_of_date
    inner join metric_catalog
        on metric_contributions.metric_id = metric_catalog.metric_id
),

final as (
    select
        cast(scored.account_id as {{ dbt.type_string() }}) as account_id,
        cast(scored.as_of_date as date) as score_date,
        cast(scored.metric_id as {{ dbt.type_string() }}) as metric_id,
        cast(scored.metric_label as {{ dbt.type_string() }}) as metric_label,
        cast(scored.signal_category as {{ dbt.type_string() }}) as signal_category,
        cast(scored.measure_group as {{ dbt.type_string() }}) as measure_group,
        cast(scored.raw_value as {{ type_double() }}) as raw_value,
        cast(scored.normalized_value as {{ type_double() }}) as normalized_value,
        cast(scored.is_missing as {{ dbt.type_boolean() }}) as is_missing,
        cast(scored.score as {{ type_double() }}) as score,
        cast(scored.band as {{ dbt.type_string() }}) as band,
        cast(scored.weight as {{ type_double() }}) as weight,
        cast(scored.counts_toward_score as {{ dbt.type_boolean() }}) as counts_toward_score,
        cast(scored.share_of_global_score as {{ type_double() }}) as share_of_global_score,
        cast(scored.contribution as {{ type_double() }}) as contribution,
        cast(scored.shortfall_points as {{ type_double() }}) as shortfall_points,
        cast(scored.shortfall_rank as {{ dbt.type_int() }}) as shortfall_rank,
        cast(scorecard_version.scorecard_version as {{ dbt.type_string() }})
            as scorecard_version
    from scored
    cross join scorecard_version
)

select * from final
