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

ranked as (
    select
        graded.*,
        rank() over (
            partition by graded.as_of_date, graded.is_ranked
            order by graded.health_score desc
        ) as rank_overall,
        rank() over (
            partition by graded.as_of_date, graded.is_ranked, graded.segment
            order by graded.health_score desc
        ) as rank_in_segment,
        -- percent_rank is 0-1; percentiles are on a 0-100 scale
        100 * percent_rank() over (
            partition by graded.as_of_date, graded.is_ranked
            order by graded.health_score
        ) as percentile_overall,
        100 * percent_rank() over (
            partition by graded.as_of_date, graded.is_ranked, graded.segment
            order by graded.health_score
        ) as percentile_in_segment
    from graded
),

final as (
    select
        ranked.account_id,
        ranked.as_of_date,
        ranked.segment,
        ranked.lifecycle_stage,
        ranked.computed_score,
        ranked.override_score,
        ranked.override_reason,
        ranked.override_rated_at,
        ranked.override_expires_at,
        cast(ranked.health_score as {{ type_double() }}) as health_score,
        ranked.score_source,
        ranked.band,
        ranked.grade,
        ranked.suggested_action,
        case when ranked.is_ranked = 1 then ranked.rank_overall end as health_rank_overall,
        case when ranked.is_ranked = 1 then ranked.rank_in_segment end
            as health_rank_in_segment,
        case
            when ranked.is_ranked = 1
                then cast(ranked.percentile_overall as {{ type_double() }})
        end as health_percentile_overall,
        case
            when ranked.is_ranked = 1
                then cast(ranked.percentile_in_segment as {{ type_double() }})
        end as health_percentile_in_segment,
        ranked.metrics_enabled,
        ranked.metrics_scored,
        ranked.metrics_missing,
        ranked.weakest_metric_id,
        ranked.weakest_metric_label,
        ranked.weakest_metric_shortfall_points
    from ranked
)

select * from final
