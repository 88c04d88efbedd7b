{{ config(
    materialized='incremental',
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
),

score_dates as (
    select * from {{ ref('int_score_dates_spined') }}
    where is_history_date
),

scorecard_version as (
    select * from {{ ref('int_scorecard_version_hashed') }}
),

ranked as (
    select
        metric_contributions.*,
        case
            when metric_contributions.shortfall_points > 0
                then row_number() over (
                    partition by
                        metric_contributions.account_id,
                        metric_contributions.as_of_date,
                        metric_contributions.shortfall_points > 0
                    order by
                        metric_contributions.shortfall_points desc,
                        metric_contributions.metric_id asc
                )
        end as shortfall_rank
    from metric_contributions
    inner join score_dates
        on metric_contributions.as_of_date = score_dates.as_of_date
),

final as (
    select
        cast(ranked.account_id as {{ dbt.type_string() }}) as account_id,
        cast(ranked.as_of_date as date) as score_date,
        cast(ranked.metric_id as {{ dbt.type_string() }}) as metric_id,
        cast(ranked.metric_label as {{ dbt.type_string() }}) as metric_label,
        cast(ranked.signal_category as {{ dbt.type_string() }}) as signal_category,
        cast(ranked.measure_group as {{ dbt.type_string() }}) as measure_group,
        cast(ranked.raw_value as {{ type_double() }}) as raw_value,
        cast(ranked.normalized_value as {{ type_double() }}) as normalized_value,
        cast(ranked.is_missing as {{ dbt.type_boolean() }}) as is_missing,
        cast(ranked.score as {{ type_double() }}) as score,
        cast(ranked.band as {{ dbt.type_string() }}) as band,
        cast(ranked.weight as {{ type_double() }}) as weight,
        cast(ranked.counts_toward_score as {{ dbt.type_boolean() }}) as counts_toward_score,
        cast(ranked.share_of_global_score as {{ type_double() }}) as share_of_global_score,
        cast(ranked.contribution as {{ type_double() }}) as contribution,
        cast(ranked.shortfall_points as {{ type_double() }}) as shortfall_points,
        cast(ranked.shortfall_rank as {{ dbt.type_int() }}) as shortfall_rank,
        cast(scorecard_version.scorecard_version as {{ dbt.type_string() }})
            as scorecard_version
    from ranked
    cross join scorecard_version
)

select * from final
