{{ config(materialized='table') }}

-- The computed global score of every account in scope: the weighted mean of its
-- group scores (group_weights, or the flat weighted mean over the metrics), with
-- the metrics scored and missing, and the weakest metric: the one that costs the
-- global score the most points (largest weighted shortfall from 100). No
-- scorable metric: no score.

with

accounts as (
    select * from {{ ref('int_accounts_segmented') }}
),

group_scores as (
    select * from {{ ref('int_group_scores_weighted') }}
),

metric_contributions as (
    select * from {{ ref('int_metric_contributions_computed') }}
),

metric_catalog as (
    select * from {{ ref('int_metric_catalog_prepared') }}
),

global_scores as (
    select
        group_scores.account_id,
        group_scores.as_of_date,
        -- exact sums (see int_group_scores_weighted)
        {{ exact_sum(
            'case when group_scores.group_score is not null'
            ~ ' then group_scores.group_weight * group_scores.group_score else 0 end'
        ) }} / nullif(
            {{ exact_sum(
                'case when group_scores.group_score is not null'
                ~ ' then group_scores.group_weight else 0 end'
            ) }},
            0
        ) as computed_score
    from group_scores
    group by 1, 2
),

metric_counts as (
    select
        metric_contributions.account_id,
        metric_contributions.as_of_date,
        count(*) as metrics_enabled,
        sum(case when metric_contributions.counts_toward_score then 1 else 0 end)
            as metrics_scored,
        sum(case when metric_contributions.is_missing then 1 else 0 end) as metrics_missing
    from metric_contributions
    group by 1, 2
),

weakest_metrics as (
    select
        metric_contributions.account_id,
        metric_contributions.as_of_date,
        metric_contributions.metric_id,
        metric_catalog.label as metric_label,
        metric_contributions.shortfall_points
    from metric_contributions
    inner join metric_catalog
        on metric_contributions.metric_id = metric_catalog.metric_id
    where metric_contributions.shortfall_rank = 1
),

final as (
    select
        accounts.account_id,
        accounts.as_of_date,
        accounts.segment,
        accounts.lifecycle_stage,
        -- rounded (var score_decimals): the same score on every run and engine
        cast(
            round(global_scores.computed_score, {{ var('score_decimals') }}) as {{ type_double() }}
        ) as computed_score,
        coalesce(metric_counts.metrics_enabled, 0) as metrics_enabled,
        coalesce(metric_counts.metrics_scored, 0) as metrics_scored,
        coalesce(metric_counts.metrics_missing, 0) as metrics_missing,
        weakest_metrics.metric_id as weakest_metric_id,
        weakest_metrics.metric_label as weakest_metric_label,
        weakest_metrics.shortfall_points as weakest_metric_shortfall_points
    from accounts
    left join global_scores
        on
            accounts.account_id = global_scores.account_id
            and accounts.as_of_date = global_scores.as_of_date
    left join metric_counts
        on
            accounts.account_id = metric_counts.account_id
            and accounts.as_of_date = metric_counts.as_of_date
    left join weakest_metrics
        on
            accounts.account_id = weakest_metrics.account_id
            and accounts.as_of_date = weakest_metrics.as_of_date
    where accounts.is_in_scope
)

select * from final
