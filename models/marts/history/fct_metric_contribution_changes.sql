-- Why a score changed: one row per account x score_date x metric on the
-- scorecard at that date or 7 days before, for the account-dates with a
-- computed score at both: the metric's contribution then and now and its
-- change. The changes of an account-date add up to the change of its computed
-- score (contributions add up to the computed score on each date); a metric on
-- only one of the two scorecards counts 0 on the other. For other pairs of
-- dates, see the README ("What changed between two dates").

with

metric_history as (
    select * from {{ ref('fct_metric_score_history') }}
),

health_history as (
    select * from {{ ref('fct_health_score_history') }}
),

compared_dates as (
    select
        health_history.account_id,
        health_history.score_date,
        previous_scores.score_date as compared_date,
        health_history.computed_score,
        previous_scores.computed_score as previous_computed_score
    from health_history
    inner join health_history as previous_scores
        on
            health_history.account_id = previous_scores.account_id
            and previous_scores.score_date
            = cast({{ dbt.dateadd('day', '-7', 'health_history.score_date') }} as date)
    where
        health_history.computed_score is not null
        and previous_scores.computed_score is not null
),

current_metrics as (
    select
        compared_dates.account_id,
        compared_dates.score_date,
        metric_history.metric_id,
        metric_history.contribution,
        metric_history.score
    from compared_dates
    inner join metric_history
        on
            compared_dates.account_id = metric_history.account_id
            and compared_dates.score_date = metric_history.score_date
),

previous_metrics as (
    select
        compared_dates.account_id,
        compared_dates.score_date,
        metric_history.metric_id,
        metric_history.contribution,
        metric_history.score
    from compared_dates
    inner join metric_history
        on
            compared_dates.account_id = metric_history.account_id
            and compared_dates.compared_date = metric_history.score_date
),

metric_keys as (
    select
        current_metrics.account_id,
        current_metrics.score_date,
        current_metrics.metric_id
    from current_metrics
    union
    select
        previous_metrics.account_id,
        previous_metrics.score_date,
        previous_metrics.metric_id
    from previous_metrics
),

final as (
    select
        cast(metric_keys.account_id as {{ dbt.type_string() }}) as account_id,
        cast(metric_keys.score_date as date) as score_date,
        cast(metric_keys.metric_id as {{ dbt.type_string() }}) as metric_id,
        cast(compared_dates.compared_date as date) as compared_date,
        cast(previous_metrics.score as {{ type_double() }}) as previous_score,
        cast(current_metrics.score as {{ type_double() }}) as current_score,
        cast(coalesce(previous_metrics.contribution, 0) as {{ type_double() }})
            as previous_contribution,
        cast(coalesce(current_metrics.contribution, 0) as {{ type_double() }})
            as current_contribution,
        cast(
            coalesce(current_metrics.contribution, 0)
            - coalesce(previous_metrics.contribution, 0)
            as {{ type_double() }}
        ) as contribution_change,
        cast(
            compared_dates.computed_score - compared_dates.previous_computed_score
            as {{ type_double() }}
        ) as computed_score_change
    from metric_keys
    inner join compared_dates
        on
            metric_keys.account_id = compared_dates.account_id
            and metric_keys.score_date = compared_dates.score_date
    left join current_metrics
        on
            metric_keys.account_id = current_metrics.account_id
            and metric_keys.score_date = current_metrics.score_date
            and metric_keys.metric_id = current_metrics.metric_id
    left join previous_metrics
        on
            metric_keys.account_id = previous_metrics.account_id
            and metric_keys.score_date = previous_metrics.score_date
            and metric_keys.metric_id = previous_metrics.metric_id
)

select * from final
