-- Backtest: churn within the horizon per band and per grade of the score.
-- Observations: every account x score date of fct_health_score_history at
-- least backtest_horizon_days (var, default 90) before the last score date,
-- leaving out accounts already churned on the score date. Churned: the
-- account's churned_at (dim_accounts) falls within the horizon days after it.
{%- set horizon_days = var('backtest_horizon_days', 90) %}

with

observations as (
    {{ backtest_observations(
        ref('fct_health_score_history'),
        ref('dim_accounts'),
        horizon_days,
        ['health_score', 'band', 'grade'],
    ) }}
),

stacked as (
    select
        'band' as breakdown,
        observations.band as breakdown_value,
        observations.churned_within_horizon
    from observations

    union all

    select
        'grade' as breakdown,
        coalesce(observations.grade, 'none') as breakdown_value,
        observations.churned_within_horizon
    from observations
),

final as (
    select
        stacked.breakdown,
        stacked.breakdown_value,
        count(*) as observations,
        cast(sum(stacked.churned_within_horizon) as {{ dbt.type_bigint() }})
            as churned_observations,
        cast(sum(stacked.churned_within_horizon) as {{ type_double() }})
        / count(*) as churn_rate,
        {{ horizon_days }} as horizon_days
    from stacked
    group by 1, 2
)

select * from final
order by 1, 2
