-- domain.md: a metric's band from its raw value and the band of its score always
-- agree. Returns the scored metric rows whose band is not the score's band under
-- the cutoffs of seed score_bands.

with

metric_scores as (
    select * from {{ ref('fct_metric_scores') }}
),

score_bands as (
    select * from {{ ref('score_bands') }}
),

bands_ranged as (
    select
        score_bands.band,
        score_bands.min_score,
        lead(score_bands.min_score) over (order by score_bands.min_score) as next_min_score
    from score_bands
),

score_banded as (
    select
        metric_scores.account_id,
        metric_scores.metric_id,
        metric_scores.normalized_value,
        metric_scores.score,
        metric_scores.band,
        bands_ranged.band as band_of_score
    from metric_scores
    left join bands_ranged
        on
            metric_scores.score >= bands_ranged.min_score
            and (
                metric_scores.score < bands_ranged.next_min_score
                or bands_ranged.next_min_score is null
            )
    where metric_scores.score is not null
)

select * from score_banded
where band <> coalesce(band_of_score, 'none')
