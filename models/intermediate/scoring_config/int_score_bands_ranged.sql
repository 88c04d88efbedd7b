-- The traffic-light bands as half-open score ranges [min_score, next_min_score),
-- the top band closed at 100.

with

score_bands as (
    select * from {{ ref('score_bands') }}
),

ranged as (
    select
        score_bands.band,
        cast(score_bands.min_score as {{ type_double() }}) as min_score,
        cast(
            lead(score_bands.min_score) over (order by score_bands.min_score)
            as {{ type_double() }}
        ) as next_min_score,
        score_bands.description
    from score_bands
),

final as (
    select * from ranged
)

select * from final
