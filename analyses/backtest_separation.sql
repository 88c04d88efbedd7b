-- Backtest: how well each score separates the accounts that churned within
-- the horizon from those that did not, on the observations of
-- backtest_churn_by_band. Per predictor (the health score, the computed score,
-- and each metric's score from fct_metric_score_history):
-- - auc: ROC AUC, the probability that a random non-churned observation scores
--   higher than a random churned one, ties counted half (Mann-Whitney rank-sum:
--   (sum of the average ranks of the non-churned - n0 (n0 + 1) / 2) / (n0 n1));
--   0.5 is no better than chance, 1 is perfect;
-- - lowest_decile_lift: the churn rate of the lowest-scoring tenth of the
--   observations divided by the overall churn rate. Ties are shared, as the AUC
--   counts them half: the rows of a score value that straddles the tenth count
--   by the share of them inside it, so a score many observations hold (a yes/no
--   metric's 0, say) gives its own churn rate, not that of the accounts first by
--   id. backtest_churn_by_decile, a table of every decile, splits ties by account
--   and date instead.
{%- set horizon_days = var('backtest_horizon_days', 90) %}

with

metric_history as (
    select * from {{ ref('fct_metric_score_history') }}
),

observations as (
    {{ backtest_observations(
        ref('fct_health_score_history'),
        ref('dim_accounts'),
        horizon_days,
        ['health_score', 'computed_score'],
    ) }}
),

predictions as (
    select
        'global' as predictor_type,
        'health_score' as predictor,
        observations.account_id,
        observations.score_date,
        observations.health_score as predictor_score,
        observations.churned_within_horizon
    from observations
    where observations.health_score is not null

    union all

    select
        'global' as predictor_type,
        'computed_score' as predictor,
        observations.account_id,
        observations.score_date,
        observations.computed_score as predictor_score,
        observations.churned_within_horizon
    from observations
    where observations.computed_score is not null

    union all

    select
        'metric' as predictor_type,
        metric_history.metric_id as predictor,
        observations.account_id,
        observations.score_date,
        metric_history.score as predictor_score,
        observations.churned_within_horizon
    from observations
    inner join metric_history
        on
            observations.account_id = metric_history.account_id
            and observations.score_date = metric_history.score_date
    where metric_history.score is not null
),

ranked as (
    select
        predictions.*,
        -- average rank of a tie: its first rank plus half the other tied rows
        rank()
            over (
                partition by predictions.predictor
                order by predictions.predictor_score
            )
        + (
            count(*) over (
                partition by predictions.predictor, predictions.predictor_score
            ) - 1
        ) / 2.0 as average_rank
    from predictions
),

-- the observations and churners of each score value of a predictor
score_values as (
    select
        predictions.predictor,
        predictions.predictor_score,
        count(*) as value_observations,
        sum(predictions.churned_within_horizon) as value_churned
    from predictions
    group by 1, 2
),

score_values_placed as (
    select
        score_values.*,
        coalesce(
            sum(score_values.value_observations) over (
                partition by score_values.predictor
                order by score_values.predictor_score
                rows between unbounded preceding and 1 preceding
            ),
            0
        ) as observations_below,
        cast(
            sum(score_values.value_observations) over (
                partition by score_values.predictor
            ) as {{ type_double() }}
        ) / 10 as tenth_size
    from score_values
),

-- each value's rows inside the lowest tenth, and its churners in the same share
lowest_tenth_shares as (
    select
        score_values_placed.predictor,
        score_values_placed.tenth_size,
        score_values_placed.value_churned
        * greatest(
            0,
            least(
                score_values_placed.value_observations,
                score_values_placed.tenth_size - score_values_placed.observations_below
            )
        )
        / score_values_placed.value_observations as churned_inside
    from score_values_placed
),

lowest_tenth as (
    select
        lowest_tenth_shares.predictor,
        sum(lowest_tenth_shares.churned_inside) / max(lowest_tenth_shares.tenth_size)
            as lowest_decile_churn_rate
    from lowest_tenth_shares
    group by 1
),

summed as (
    select
        ranked.predictor_type,
        ranked.predictor,
        count(*) as observations,
        sum(ranked.churned_within_horizon) as churned_observations,
        cast(sum(1 - ranked.churned_within_horizon) as {{ type_double() }})
            as retained_observations,
        sum(
            case when ranked.churned_within_horizon = 0 then ranked.average_rank else 0 end
        ) as retained_rank_sum
    from ranked
    group by 1, 2
),

final as (
    select
        summed.predictor_type,
        summed.predictor,
        summed.observations,
        cast(summed.churned_observations as {{ dbt.type_bigint() }}) as churned_observations,
        cast(summed.churned_observations as {{ type_double() }})
        / summed.observations as churn_rate,
        cast(
            (
                summed.retained_rank_sum
                - summed.retained_observations * (summed.retained_observations + 1) / 2
            )
            / nullif(summed.retained_observations * summed.churned_observations, 0)
            as {{ type_double() }}
        ) as auc,
        lowest_tenth.lowest_decile_churn_rate,
        lowest_tenth.lowest_decile_churn_rate
        / nullif(
            cast(summed.churned_observations as {{ type_double() }}) / summed.observations, 0
        ) as lowest_decile_lift,
        {{ horizon_days }} as horizon_days
    from summed
    inner join lowest_tenth
        on summed.predictor = lowest_tenth.predictor
)

select * from final
order by 1, 6 desc, 2
