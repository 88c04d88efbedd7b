-- The shares of the global score of an account's metrics sum to 1 when it has a
-- computed score, and to 0 when it has none. Returns the accounts where not.

with

metric_scores as (
    select * from {{ ref('fct_metric_scores') }}
),

health_scores as (
    select * from {{ ref('fct_health_scores') }}
),

shares_summed as (
    select
        metric_scores.account_id,
        metric_scores.as_of_date,
        sum(metric_scores.share_of_global_score) as share_total
    from metric_scores
    group by 1, 2
),

compared as (
    select
        health_scores.account_id,
        health_scores.computed_score,
        coalesce(shares_summed.share_total, 0) as share_total,
        case when health_scores.computed_score is null then 0 else 1 end as expected_total
    from health_scores
    left join shares_summed
        on
            health_scores.account_id = shares_summed.account_id
            and health_scores.as_of_date = shares_summed.as_of_date
)

select * from compared
where abs(share_total - expected_total) > {{ var('score_sum_tolerance') }}
