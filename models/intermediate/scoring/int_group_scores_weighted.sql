{{ config(materialized=account_bucketed_materialization()) }}

-- Every measure group of every scored account: its score (the weighted mean of
-- its metrics that count), its weight in the global score and its share of it.
-- The weight is the group_weights one when a set applies to the account's
-- segment and stage, else the sum of the weights of its metrics that count, which
-- makes the global score the flat weighted mean over the metrics. A group with
-- no scorable metric weighs 0: its weight is shared out among the others.
-- Totals are exact sums (macro exact_sum), the same whatever order the engine
-- adds the rows in: with float sums a group score on a band cutoff changed band
-- between two builds of the same data.

with

metric_scores as (
    select * from {{ ref('int_metrics_scored_against_thresholds') }}
    where {{ in_account_bucket('account_id') }}
),

group_weights as (
    select * from {{ ref('int_group_weights_resolved') }}
),

score_bands as (
    select * from {{ ref('int_score_bands_ranged') }}
),

group_scores as (
    select
        metric_scores.account_id,
        metric_scores.as_of_date,
        metric_scores.segment,
        metric_scores.lifecycle_stage,
        metric_scores.measure_group,
        count(*) as metrics_enabled,
        sum(case when metric_scores.counts_toward_score then 1 else 0 end)
            as metrics_scored,
        {{ exact_sum(
            'case when metric_scores.counts_toward_score then metric_scores.weight else 0 end'
        ) }} as metric_weight_total,
        {{ exact_sum(
            'case when metric_scores.counts_toward_score'
            ~ ' then metric_scores.weight * metric_scores.score else 0 end'
        ) }} as weighted_score_total
    from metric_scores
    group by 1, 2, 3, 4, 5
),

weighted as (
    select
        group_scores.account_id,
        group_scores.as_of_date,
        group_scores.segment,
        group_scores.lifecycle_stage,
        group_scores.measure_group,
        group_scores.metrics_enabled,
        group_scores.metrics_scored,
        group_scores.metric_weight_total,
        group_scores.weighted_score_total
        / nullif(group_scores.metric_weight_total, 0) as group_score,
        case
            when group_weights.measure_group is not null then 'group_weights'
            else 'metric_weights'
        end as weight_source,
        case
            when group_weights.measure_group is not null then group_weights.group_weight
            else group_scores.metric_weight_total
        end as group_weight
    from group_scores
    left join group_weights
        on
            group_scores.segment = group_weights.segment
            and group_scores.lifecycle_stage = group_weights.lifecycle_stage
            and group_scores.measure_group = group_weights.measure_group
),

counted as (
    select
        weighted.*,
        case
            when weighted.group_score is not null then weighted.group_weight
            else 0
        end as counted_group_weight
    from weighted
),

-- the account-date totals by a hash aggregate joined back: cheaper than a
-- window over every group row, which sorts them (6.8-7.3 s against 8.1-8.9 s
-- for the model at M)
counted_weight_totals as (
    select
        counted.account_id,
        counted.as_of_date,
        {{ exact_sum('counted.counted_group_weight') }} as counted_weight_total
    from counted
    group by 1, 2
),

shared as (
    select
        counted.*,
        coalesce(
            counted.counted_group_weight
            / nullif(counted_weight_totals.counted_weight_total, 0),
            0
        ) as share_of_global_score
    from counted
    inner join counted_weight_totals
        on
            counted.account_id = counted_weight_totals.account_id
            and counted.as_of_date = counted_weight_totals.as_of_date
),

final as (
    select
        shared.account_id,
        shared.as_of_date,
        shared.measure_group,
        shared.segment,
        shared.lifecycle_stage,
        cast(shared.group_score as {{ type_double() }}) as group_score,
        coalesce(score_bands.band, 'unknown') as band,
        cast(shared.group_weight as {{ type_double() }}) as group_weight,
        shared.weight_source,
        cast(shared.metric_weight_total as {{ type_double() }}) as metric_weight_total,
        cast(shared.share_of_global_score as {{ type_double() }}) as share_of_global_score,
        shared.metrics_enabled,
        shared.metrics_scored
    from shared
    left join score_bands
        on
            shared.group_score >= score_bands.min_score
            and (
                shared.group_score < score_bands.next_min_score
                or score_bands.next_min_score is null
            )
)

select * from final
