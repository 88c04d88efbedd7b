-- Every history row the run wrote (all of them on a full build): the
-- contributions of its metrics add up to its computed score, for the same
-- account, score date and scorecard version.

with

metric_history as (
    select * from {{ ref('fct_metric_score_history') }}
    where {{ rescored_dates_predicate(ref('fct_metric_score_history')) }}
),

metric_totals as (
    select
        metric_history.account_id,
        metric_history.score_date,
        sum(metric_history.contribution) as contribution_total
    from metric_history
    group by 1, 2
),

health_history as (
    select * from {{ ref('fct_health_score_history') }}
    where {{ rescored_dates_predicate(ref('fct_health_score_history')) }}
)

select
    health_history.account_id,
    health_history.score_date,
    health_history.computed_score,
    metric_totals.contribution_total
from health_history
left join metric_totals
    on
        health_history.account_id = metric_totals.account_id
        and health_history.score_date = metric_totals.score_date
where
    health_history.computed_score is not null
    and abs(
        health_history.computed_score - coalesce(metric_totals.contribution_total, 0)
    ) > {{ var('score_sum_tolerance') }}
