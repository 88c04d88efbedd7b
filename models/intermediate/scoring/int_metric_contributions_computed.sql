{{ config(materialized=account_bucketed_materialization()) }}

-- Every scored metric's part in its account's global score: its share (group
-- share x its weight within the group; 0 when it does not count), its
-- contribution (share x score: the contributions add up to the computed score)
-- and its shortfall (share x (100 - score): the points of the global score it
-- costs) and its rank among the metrics of its account-date that cost points
-- (1: the weakest metric). Ranked once here for the history mart and the
-- global score, which both need it. Narrow, like the scored metrics: the marts
-- join labels and thresholds back.

with

metric_scores as (
    select * from {{ ref('int_metrics_scored_against_thresholds') }}
    where {{ in_account_bucket('account_id') }}
),

group_scores as (
    select * from {{ ref('int_group_scores_weighted') }}
    where {{ in_account_bucket('account_id') }}
),

shared as (
    select
        metric_scores.account_id,
        metric_scores.as_of_date,
        metric_scores.metric_id,
        metric_scores.measure_group,
        metric_scores.raw_value,
        metric_scores.normalized_value,
        metric_scores.is_missing,
        metric_scores.score,
        metric_scores.band,
        metric_scores.weight,
        metric_scores.counts_toward_score,
        case
            when metric_scores.counts_toward_score
                then
                    group_scores.share_of_global_score
                    * metric_scores.weight / nullif(group_scores.metric_weight_total, 0)
            else 0
        end as share_of_global_score
    from metric_scores
    inner join group_scores
        on
            metric_scores.account_id = group_scores.account_id
            and metric_scores.as_of_date = group_scores.as_of_date
            and metric_scores.measure_group = group_scores.measure_group
),

costed as (
    select
        shared.*,
        cast(
            shared.share_of_global_score * coalesce(shared.score, 0) as {{ type_double() }}
        ) as contribution,
        -- 100 is the top of the score scale
        cast(
            shared.share_of_global_score * (100 - coalesce(shared.score, 0))
            as {{ type_double() }}
        ) as shortfall_points
    from shared
),

final as (
    select
        costed.*,
        case
            when costed.shortfall_points > 0
                then row_number() over (
                    partition by
                        costed.account_id,
                        costed.as_of_date,
                        costed.shortfall_points > 0
                    order by costed.shortfall_points desc, costed.metric_id asc
                )
        end as shortfall_rank
    from costed
)

-- stored in account, metric and date order (DuckDB): a value next to the same
-- metric's value of the day before compresses to a few bits (1,712 -> 670 MiB at M)
select * from final
{{ order_for_storage(['account_id', 'metric_id', 'as_of_date']) }}
