{{ config(
    materialized='incremental',
    incremental_strategy=history_incremental_strategy(),
    unique_key='score_date',
    partition_by=history_partition_by(),
    full_refresh=var('history_rebuild'),
    on_schema_change='fail',
) }}

-- Why a score changed: one row per account x score_date x metric on the
-- scorecard at that date or 7 days before, for the account-dates with a
-- computed score at both: the metric's contribution then and now and its
-- change. The changes of an account-date add up to the change of its computed
-- score (contributions add up to the computed score on each date); a metric on
-- only one of the two scorecards counts 0 on the other. For other pairs of
-- dates, see the README ("What changed between two dates").
-- Incremental like the history marts: a run computes the score dates it scored
-- (int_score_dates_spined) and replaces them.

with

metric_history as (
    select * from {{ ref('fct_metric_score_history') }}
),

health_history as (
    select * from {{ ref('fct_health_score_history') }}
),

score_dates as (
    select * from {{ ref('int_score_dates_spined') }}
    where is_history_date
),

health_scored as (
    select
        health_history.account_id,
        health_history.score_date,
        health_history.computed_score
    from health_history
    inner join score_dates
        on health_history.score_date = score_dates.as_of_date
    where health_history.computed_score is not null
),

compared_dates as (
    select
        health_scored.account_id,
        health_scored.score_date,
        previous_scores.score_date as compared_date,
        health_scored.computed_score,
        previous_scores.computed_score as previous_computed_score
    from health_scored
    inner join health_history as previous_scores
        on
            health_scored.account_id = previous_scores.account_id
            and previous_scores.score_date
            = cast({{ dbt.dateadd('day', '-7', 'health_scored.score_date') }} as date)
    where previous_scores.computed_score is not null
),

current_metrics as (
    select
        metric_history.account_id,
        metric_history.score_date,
        metric_history.metric_id,
        metric_history.contribution,
        metric_history.score
    from metric_history
    inner join score_dates
        on metric_history.score_date = score_dates.as_of_date
),

-- the metrics of 7 days before, keyed by the score date they are compared with
previous_metrics as (
    select
        metric_history.account_id,
        score_dates.as_of_date as score_date,
        metric_history.metric_id,
        metric_history.contribution,
        metric_history.score
    from metric_history
    inner join score_dates
        on
            metric_history.score_date
            = cast({{ dbt.dateadd('day', '-7', 'score_dates.as_of_date') }} as date)
),

paired as (
    select
        coalesce(current_metrics.account_id, previous_metrics.account_id) as account_id,
        coalesce(current_metrics.score_date, previous_metrics.score_date) as score_date,
        coalesce(current_metrics.metric_id, previous_metrics.metric_id) as metric_id,
        previous_metrics.score as previous_score,
        current_metrics.score as current_score,
        coalesce(previous_metrics.contribution, 0) as previous_contribution,
        coalesce(current_metrics.contribution, 0) as current_contribution
    from current_metrics
    full outer join previous_metrics
        on
            current_metrics.account_id = previous_metrics.account_id
            and current_metrics.score_date = previous_metrics.score_date
            and current_metrics.metric_id = previous_metrics.metric_id
),

final as (
    select
        cast(paired.account_id as {{ dbt.type_string() }}) as account_id,
        cast(paired.score_date as date) as score_date,
        cast(paired.metric_id as {{ dbt.type_string() }}) as metric_id,
        cast(compared_dates.compared_date as date) as compared_date,
        cast(paired.previous_score as {{ type_double() }}) as previous_score,
        cast(paired.current_score as {{ type_double() }}) as current_score,
        cast(paired.previous_contribution as {{ type_double() }}) as previous_contribution,
        cast(paired.current_contribution as {{ type_double() }}) as current_contribution,
        cast(
            paired.current_contribution - paired.previous_contribution as {{ type_double() }}
        ) as contribution_change,
        cast(
            compared_dates.computed_score - compared_dates.previous_computed_score
            as {{ type_double() }}
        ) as computed_score_change
    from paired
    inner join compared_dates
        on
            paired.account_id = compared_dates.account_id
            and paired.score_date = compared_dates.score_date
)

select * from final
