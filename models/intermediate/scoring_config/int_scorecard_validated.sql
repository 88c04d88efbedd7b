-- The resolved scorecard, released only when the whole scoring configuration is
-- valid: while int_scoring_config_errors has a row, building this model fails
-- with every message (seed and row at fault), and nothing downstream is scored.

{{ raise_on_scoring_config_errors(ref('int_scoring_config_errors')) }}

with

scorecard_resolved as (
    select * from {{ ref('int_scorecard_resolved') }}
),

final as (
    select
        scorecard_resolved.segment,
        scorecard_resolved.lifecycle_stage,
        scorecard_resolved.metric_id,
        scorecard_resolved.is_enabled,
        scorecard_resolved.weight,
        scorecard_resolved.worst_value,
        scorecard_resolved.red_threshold,
        scorecard_resolved.green_threshold,
        scorecard_resolved.best_value,
        scorecard_resolved.scorecard_segment,
        scorecard_resolved.scorecard_lifecycle_stage,
        scorecard_resolved.specificity_rank
    from scorecard_resolved
)

select * from final
