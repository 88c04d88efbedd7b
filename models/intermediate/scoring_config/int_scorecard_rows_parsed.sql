-- The scorecard seed, one row per seed row, with its text parsed: the weight as
-- a number (an impact level of weight_levels or any number), the four points as
-- numbers (null when not a number), is_enabled defaulting to true, and how
-- specific the row is (1 = segment + stage ... 4 = * + *). The texts stay, so that
-- config errors can quote the row as written.

with

scorecard as (
    select * from {{ ref('scorecard') }}
),

weight_levels as (
    select * from {{ ref('weight_levels') }}
),

parsed as (
    select
        scorecard.segment,
        scorecard.lifecycle_stage,
        scorecard.metric_id,
        coalesce(scorecard.is_enabled, true) as is_enabled,
        scorecard.weight as weight_text,
        case
            when weight_levels.weight_level is not null
                then cast(weight_levels.weight as {{ type_double() }})
            else {{ try_cast('scorecard.weight', type_double()) }}
        end as weight,
        scorecard.worst_value as worst_value_text,
        scorecard.red_threshold as red_threshold_text,
        scorecard.green_threshold as green_threshold_text,
        scorecard.best_value as best_value_text,
        {{ try_cast('scorecard.worst_value', type_double()) }} as worst_value,
        {{ try_cast('scorecard.red_threshold', type_double()) }} as red_threshold,
        {{ try_cast('scorecard.green_threshold', type_double()) }} as green_threshold,
        {{ try_cast('scorecard.best_value', type_double()) }} as best_value,
        case
            when scorecard.segment <> '*' and scorecard.lifecycle_stage <> '*' then 1
            when scorecard.segment <> '*' then 2
            when scorecard.lifecycle_stage <> '*' then 3
            else 4
        end as specificity_rank,
        'segment=' || coalesce(scorecard.segment, '')
        || ', lifecycle_stage=' || coalesce(scorecard.lifecycle_stage, '')
        || ', metric_id=' || coalesce(scorecard.metric_id, '') as row_label
    from scorecard
    left join weight_levels
        on lower(trim(scorecard.weight)) = weight_levels.weight_level
),

final as (
    select * from parsed
)

select * from final
