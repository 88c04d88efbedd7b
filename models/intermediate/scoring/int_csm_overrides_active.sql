-- The CSM override in force for each account at each score date (as_of_date): the latest rating
-- flagged is_override, given on or before as_of_date and not expired by then
-- (no expiry, or an expiry after as_of_date). It replaces the computed score.

with

csm_ratings as (
    select * from {{ ref('stg_crm__csm_ratings') }}
),

as_of as (
    select * from {{ ref('int_score_dates_spined') }}
),

active_overrides as (
    select
        csm_ratings.csm_rating_id,
        csm_ratings.account_id,
        csm_ratings.rated_at,
        csm_ratings.rating,
        csm_ratings.reason,
        csm_ratings.expires_at,
        as_of.as_of_date
    from csm_ratings
    cross join as_of
    where
        csm_ratings.is_override
        and cast(csm_ratings.rated_at as date) <= as_of.as_of_date
        and (
            csm_ratings.expires_at is null
            or cast(csm_ratings.expires_at as date) > as_of.as_of_date
        )
),

overrides_ranked as (
    select
        active_overrides.*,
        row_number() over (
            partition by active_overrides.account_id, active_overrides.as_of_date
            order by active_overrides.rated_at desc, active_overrides.csm_rating_id desc
        ) as recency_rank
    from active_overrides
),

final as (
    select
        overrides_ranked.account_id,
        overrides_ranked.as_of_date,
        overrides_ranked.csm_rating_id,
        overrides_ranked.rated_at as override_rated_at,
        cast(overrides_ranked.rating as {{ type_double() }}) as override_score,
        overrides_ranked.reason as override_reason,
        overrides_ranked.expires_at as override_expires_at
    from overrides_ranked
    where overrides_ranked.recency_rank = 1
)

select * from final
