{{ config(materialized='table') }}

-- The final health score of every account in scope: the active CSM override
-- when there is one, else the computed score (both kept, with score_source),
-- its band and grade from the configured cutoffs (unknown without a score), and
-- its rank (1 = healthiest) and percentile (0-100, share of accounts scoring
-- lower), overall and within its segment.

with

health_scores as (
    select * from {{ ref('int_health_scores_computed') }}
),

overrides as (
    select * from {{ ref('int_csm_overrides_active') }}
),

score_bands as (
    select * from {{ ref('int_score_bands_ranged') }}
),

score_grades as (
    select * from {{ ref('int_score_grades_ranged') }}
),

overridden as (
    select
        health_scores.*,
        overrides.override_score,
        overrides.override_reason,
        overrides.override_rated_at,
        overrides.override_expires_at,
        coalesce(overrides.override_score, health_scores.computed_score) as health_score,
        case
            when overrides.override_score is not null then 'csm_override'
            else 'computed'
        end as score_source
    from health_scores
    left join overrides
        on
            health_scores.account_id = overrides.account_id
            and health_scores.as_of_date = overrides.as_of_date
),

graded as (
    select
        overridden.*,
        coalesce(score_bands.band, 'unknown') as band,
        score_grades.grade,
        score_grades.suggested_action,
        case when overridden.health_score is null then 0 else 1 end as is_ranked
    from overridden
    left join score_bands
        on
            overridden.health_score >= score_bands.min_score
            and (
                overridden.health_score < score_bands.next_min_score
                or score_bands.next_min_score is null
            )
    left join score_grades
        on
            overridden.health_score >= score_grades.min_score
            and (
                overridden.health_score < score_grades.next_min_score
                or score_grades.next_min_score is null
            )
),

-- Two sorts, not four: one per partition (overall, in segment), each by score
-- descending; the engine shares a sort among windows of the same partition and
-- order. The percentile is percent_rank ascending, (rows scoring lower) / (rows
-- - 1): the rows of the partition less those scoring as high or higher (a range
-- frame counts the ties of the current row with it).
ranked as (
    select
        graded.*,
        rank() over (
            partition by graded.as_of_date, graded.is_ranked
            order by graded.health_score desc
        ) as rank_overall,
        count(*) over (
            partition by graded.as_of_date, graded.is_ranked
            order by graded.health_score desc
            range between unbounded preceding and current row
        ) as scoring_as_high_overall,
        count(*) over (
            partition by graded.as_of_date, graded.is_ranked
            order by graded.health_score desc
            rows between unbounded preceding and unbounded following
        ) as ranked_overall,
        rank() over (
            partition by graded.as_of_date, graded.is_ranked, graded.segment
            order by graded.health_score desc
        ) as rank_in_segment,
        count(*) over (
            partition by graded.as_of_date, graded.is_ranked, graded.segment
            order by graded.health_score desc
            range between unbounded preceding and current row
        ) as scoring_as_high_in_segment,
        count(*) over (
            partition by graded.as_of_date, graded.is_ranked, graded.segment
            order by graded.health_score desc
            rows between unbounded preceding and unbounded following
        ) as ranked_in_segment
    from graded
),

-- percentiles on a 0-100 scale; 0 when alone in the partition, as percent_rank
percentiled as (
    select
        ranked.*,
        coalesce(
            100 * (
                cast(ranked.ranked_overall - ranked.scoring_as_high_overall as {{ type_double() }})
                / nullif(cast(ranked.ranked_overall - 1 as {{ type_double() }}), 0)
            ),
            0
        ) as percentile_overall,
        coalesce(
            100 * (
                cast(
                    ranked.ranked_in_segment - ranked.scoring_as_high_in_segment
                    as {{ type_double() }}
                )
                / nullif(cast(ranked.ranked_in_segment - 1 as {{ type_double() }}), 0)
            ),
            0
        ) as percentile_in_segment
    from ranked
),

final as (
    select
        percentiled.account_id,
        percentiled.as_of_date,
        percentiled.segment,
        percentiled.lifecycle_stage,
        percentiled.computed_score,
        percentiled.override_score,
        percentiled.override_reason,
        percentiled.override_rated_at,
        percentiled.override_expires_at,
        cast(percentiled.health_score as {{ type_double() }}) as health_score,
        percentiled.score_source,
        percentiled.band,
        percentiled.grade,
        percentiled.suggested_action,
        case when percentiled.is_ranked = 1 then percentiled.rank_overall end
            as health_rank_overall,
        case when percentiled.is_ranked = 1 then percentiled.rank_in_segment end
            as health_rank_in_segment,
        case
            when percentiled.is_ranked = 1
                then cast(percentiled.percentile_overall as {{ type_double() }})
        end as health_percentile_overall,
        case
            when percentiled.is_ranked = 1
                then cast(percentiled.percentile_in_segment as {{ type_double() }})
        end as health_percentile_in_segment,
        percentiled.metrics_enabled,
        percentiled.metrics_scored,
        percentiled.metrics_missing,
        percentiled.weakest_metric_id,
        percentiled.weakest_metric_label,
        percentiled.weakest_metric_shortfall_points
    from percentiled
)

select * from final
