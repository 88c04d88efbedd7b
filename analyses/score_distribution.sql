-- Accounts per band and grade on the latest score date: overall, per segment
-- and per lifecycle stage, with each cell's share of its breakdown value.

with

health_scores as (
    select * from {{ ref('fct_health_scores') }}
),

latest_date as (
    select max(health_scores.as_of_date) as as_of_date
    from health_scores
),

latest_scores as (
    select
        health_scores.account_id,
        health_scores.segment,
        health_scores.lifecycle_stage,
        health_scores.band,
        coalesce(health_scores.grade, 'none') as grade
    from health_scores
    inner join latest_date
        on health_scores.as_of_date = latest_date.as_of_date
),

stacked as (
    select
        'overall' as breakdown,
        'all accounts' as breakdown_value,
        latest_scores.band,
        latest_scores.grade,
        latest_scores.account_id
    from latest_scores

    union all

    select
        'segment' as breakdown,
        coalesce(latest_scores.segment, 'none') as breakdown_value,
        latest_scores.band,
        latest_scores.grade,
        latest_scores.account_id
    from latest_scores

    union all

    select
        'lifecycle_stage' as breakdown,
        coalesce(latest_scores.lifecycle_stage, 'none') as breakdown_value,
        latest_scores.band,
        latest_scores.grade,
        latest_scores.account_id
    from latest_scores
),

counted as (
    select
        stacked.breakdown,
        stacked.breakdown_value,
        stacked.band,
        stacked.grade,
        count(*) as account_count
    from stacked
    group by 1, 2, 3, 4
),

final as (
    select
        counted.breakdown,
        counted.breakdown_value,
        counted.band,
        counted.grade,
        counted.account_count,
        cast(counted.account_count as {{ type_double() }})
        / sum(counted.account_count) over (
            partition by counted.breakdown, counted.breakdown_value
        ) as share_of_breakdown
    from counted
)

select * from final
order by 1, 2, 3, 4
