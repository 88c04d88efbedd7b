-- Backtest: churn within the horizon per decile of the health score (decile 1
-- = the lowest scores), for the score-vs-churn chart. Same observations as
-- backtest_churn_by_band; ties at a decile edge are split by account and date,
-- so the deciles are reproducible.
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
        and score_history.health_score is not null
),

deciled as (
    select
        observations.*,
        ntile(10) over (
            order by
                observations.health_score,
                observations.account_id,
                observations.score_date
        ) as score_decile
    from observations
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
