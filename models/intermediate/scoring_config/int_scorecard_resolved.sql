-- The scorecard row that applies to each segment x lifecycle stage x metric:
-- the most specific row naming it (segment + stage, then segment + *, then
-- * + stage, then * + *). Metrics with no row at all are not on the scorecard.

with

scorecard_rows as (
    select * from {{ ref('int_scorecard_rows_parsed') }}
),

plan_segments as (
    select * from {{ ref('plan_segments') }}
),

segments as (
    select distinct plan_segments.segment
    from plan_segments
),

lifecycle_stages as (
    {{ lifecycle_stages_relation() }}
),

candidate_rows as (
    select
        segments.segment,
        lifecycle_stages.lifecycle_stage,
        scorecard_rows.metric_id,
        scorecard_rows.is_enabled,
        scorecard_rows.weight,
        scorecard_rows.worst_value,
        scorecard_rows.red_threshold,
        scorecard_rows.green_threshold,
        scorecard_rows.best_value,
        scorecard_rows.segment as scorecard_segment,
        scorecard_rows.lifecycle_stage as scorecard_lifecycle_stage,
        scorecard_rows.specificity_rank
    from segments
    cross join lifecycle_stages
    inner join scorecard_rows
        on
            (segments.segment = scorecard_rows.segment or scorecard_rows.segment = '*')
            and (
                lifecycle_stages.lifecycle_stage = scorecard_rows.lifecycle_stage
                or scorecard_rows.lifecycle_stage = '*'
            )
),

candidates_ranked as (
    select
        candidate_rows.*,
        row_number() over (
            partition by
                candidate_rows.segment,
                candidate_rows.lifecycle_stage,
                candidate_rows.metric_id
            order by candidate_rows.specificity_rank
        ) as resolution_rank
    from candidate_rows
),

final as (
    select
        candidates_ranked.segment,
        candidates_ranked.lifecycle_stage,
        candidates_ranked.metric_id,
        candidates_ranked.is_enabled,
        candidates_ranked.weight,
        candidates_ranked.worst_value,
        candidates_ranked.red_threshold,
        candidates_ranked.green_threshold,
        candidates_ranked.best_value,
        candidates_ranked.scorecard_segment,
        candidates_ranked.scorecard_lifecycle_stage,
        candidates_ranked.specificity_rank
    from candidates_ranked
    where candidates_ranked.resolution_rank = 1
)

select * from final
