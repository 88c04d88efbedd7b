-- The letter grades as half-open score ranges [min_score, next_min_score), in
-- grade_rank order, the top grade closed at 100.

with

score_grades as (
    select * from {{ ref('score_grades') }}
),

ranged as (
    select
        score_grades.grade,
        score_grades.grade_rank,
        cast(score_grades.min_score as {{ type_double() }}) as min_score,
        cast(
            lead(score_grades.min_score) over (order by score_grades.grade_rank)
            as {{ type_double() }}
        ) as next_min_score,
        score_grades.suggested_action
    from score_grades
),

final as (
    select * from ranged
)

select * from final
