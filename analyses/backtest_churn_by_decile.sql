-- Backtest: churn within the horizon per decile of the health score (decile 1
-- = the lowest scores), for the score-vs-churn chart. Same observations as
-- backtest_churn_by_band; ties at a decile edge are split by account and date,
-- so the deciles are reproducible.
{%- set horizon_days = var('backtest_horizon_days', 90) %}

with

observations as (
    {{ backtest_observations(
        ref('fct_health_score_history'),
        ref('dim_accounts'),
        horizon_days,
        ['health_score'],
    ) }}
),

scored_observations as (
    select observations.*
    from observations
    where observations.health_score is not null
),

deciled as (
    select
        scored_observations.*,
        ntile(10) over (
            order by
                scored_observations.health_score,
                scored_observations.account_id,
                scored_observations.score_date
        ) as score_decile
    from scored_observations
),

final as (
    select
        deciled.score_decile,
        count(*) as observations,
        min(deciled.health_score) as min_health_score,
        max(deciled.health_score) as max_health_score,
        cast(sum(deciled.churned_within_horizon) as {{ dbt.type_bigint() }})
            as churned_observations,
        cast(sum(deciled.churned_within_horizon) as {{ type_double() }})
        / count(*) as churn_rate,
        {{ horizon_days }} as horizon_days
    from deciled
    group by 1
)

select * from final
order by 1
