-- The contributions of an account's metrics add up to its computed score (to 0
-- when it has none). Returns the accounts where not.

with

metric_scores as (
    select * from {{ ref('fct_metric_scores') }}
),

health_scores as (
    select * from {{ ref('fct_health_scores') }}
),

contributions_summed as (
    select
        metric_scores.account_id,
        metric_scores.as_of_date,
        sum(metric_scores.contribution) as contribution_total
    from metric_scores
    group by 1, 2
),

compared as (
    select
        health_scores.account_id,
        health_scores.computed_score,
        coalesce(contributions_summed.contribution_total, 0) as contribution_total
    from health_scores
    left join contributions_summed
        on
            health_scores.account_id = contributions_summed.account_id
            and health_scores.as_of_date = contributions_summed.as_of_date
)

select * from compared
where
    abs(contribution_total - coalesce(computed_score, 0))
    > {{ var('score_sum_tolerance') }}
