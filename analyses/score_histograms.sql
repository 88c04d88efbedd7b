-- Histograms on the latest score date: the global health score and each
-- metric's score in ten 10-point buckets, and each metric's value (the
-- normalized value the thresholds apply to) in ten equal-width buckets between
-- its minimum and maximum.
{%- set buckets = var('histogram_buckets', 10) %}

with

health_scores as (
    select * from {{ ref('fct_health_scores') }}
),

metric_scores as (
    select * from {{ ref('fct_metric_scores') }}
),

latest_date as (
    select max(health_scores.as_of_date) as as_of_date
    from health_scores
),

latest_health_scores as (
    select health_scores.health_score
    from health_scores
    inner join latest_date
        on health_scores.as_of_date = latest_date.as_of_date
    where health_scores.health_score is not null
),

latest_metric_scores as (
    select
        metric_scores.metric_id,
        metric_scores.score,
        metric_scores.normalized_value
    from metric_scores
    inner join latest_date
        on metric_scores.as_of_date = latest_date.as_of_date
),

value_ranges as (
    select
        latest_metric_scores.metric_id,
        min(latest_metric_scores.normalized_value) as min_value,
        max(latest_metric_scores.normalized_value) as max_value
    from latest_metric_scores
    where latest_metric_scores.normalized_value is not null
    group by 1
),

-- Scores live on 0-100: bucket i covers [10 i, 10 i + 10), the last one
-- includes 100.
score_values as (
    select
        'health_score' as subject,
        'global' as metric_id,
        latest_health_scores.health_score as observed_value,
        cast(0 as {{ type_double() }}) as min_value,
        cast(100 as {{ type_double() }}) as max_value
    from latest_health_scores

    union all

    select
        'metric_score' as subject,
        latest_metric_scores.metric_id,
        latest_metric_scores.score as observed_value,
        cast(0 as {{ type_double() }}) as min_value,
        cast(100 as {{ type_double() }}) as max_value
    from latest_metric_scores
    where latest_metric_scores.score is not null

    union all

    select
        'metric_value' as subject,
        latest_metric_scores.metric_id,
        latest_metric_scores.normalized_value as observed_value,
        value_ranges.min_value,
        value_ranges.max_value
    from latest_metric_scores
    inner join value_ranges
        on latest_metric_scores.metric_id = value_ranges.metric_id
    where latest_metric_scores.normalized_value is not null
),

bucketed as (
    select
        score_values.subject,
        score_values.metric_id,
        score_values.min_value,
        score_values.max_value,
        case
            when score_values.max_value = score_values.min_value then 0
            when score_values.observed_value >= score_values.max_value then {{ buckets }} - 1
            else cast(floor(
                {{ buckets }} * (score_values.observed_value - score_values.min_value)
                / (score_values.max_value - score_values.min_value)
            ) as {{ dbt.type_int() }})
        end as bucket_index
    from score_values
),

final as (
    select
        bucketed.subject,
        bucketed.metric_id,
        bucketed.bucket_index,
        bucketed.min_value
        + (bucketed.max_value - bucketed.min_value) * bucketed.bucket_index / {{ buckets }}
            as bucket_low,
        bucketed.min_value
        + (bucketed.max_value - bucketed.min_value) * (bucketed.bucket_index + 1) / {{ buckets }}
            as bucket_high,
        count(*) as account_count
    from bucketed
    group by 1, 2, 3, 4, 5
)

select * from final
order by 1, 2, 3
