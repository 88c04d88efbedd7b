-- Backtest: churn within the horizon per band and per grade of the score.
-- Observations: every account x score date of fct_health_score_history at
-- least backtest_horizon_days (var, default 90) before the last score date,
-- leaving out accounts already churned on the score date. Churned: the
-- account's churned_at (dim_accounts) falls within the horizon days after it.
{%- set horizon_days = var('backtest_horizon_days', 90) %}

with

score_history as (
    select * from {{ ref('fct_health_score_history') }}
),

accounts as (
    select * from {{ ref('dim_accounts') }}
),

data_end as (
    select max(score_history.score_date) as last_score_date
    from score_history
),

observations as (
    select
        score_history.account_id,
        score_history.score_date,
        score_history.health_score,
        score_history.band,
        coalesce(score_history.grade, 'none') as grade,
        case
            when
                accounts.churned_at is not null
                and cast(accounts.churned_at as date)
                <= cast(
                    {{ dbt.dateadd('day', horizon_days, 'score_history.score_date') }} as date
                )
                then 1
            else 0
        end as churned_within_horizon
    from score_history
    inner join accounts
        on score_history.account_id = accounts.account_id
    cross join data_end
    where
        score_history.score_date
        <= cast(
            {{ dbt.dateadd('day', '-1 * ' ~ horizon_days, 'data_end.last_score_date') }} as date
        )
        and (
            accounts.churned_at is null
            or cast(accounts.churned_at as date) > score_history.score_date
        )
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
        observations.grade as breakdown_value,
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
