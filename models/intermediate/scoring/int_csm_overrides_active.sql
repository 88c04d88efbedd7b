-- The CSM override in force for each account at each score date (as_of_date): the latest rating
-- flagged is_override given on or before as_of_date, unless it has expired by then (its expiry
-- on or before as_of_date). A newer override replaces the earlier ones for good: when it
-- expires, the computed score applies again, not an older override it had replaced.

with

csm_ratings as (
    select * from {{ ref('stg_crm__csm_ratings') }}
),

as_of as (
    select * from {{ ref('int_score_dates_spined') }}
),

overrides_given as (
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
),

overrides_ranked as (
    select
        overrides_given.*,
        row_number() over (
            partition by overrides_given.account_id, overrides_given.as_of_date
            order by overrides_given.rated_at desc, overrides_given.csm_rating_id desc
        ) as recency_rank
    from overrides_given
),

-- the latest override, expired or not: an expired one leaves the computed score
latest_overrides as (
    select * from overrides_ranked
    where recency_rank = 1
),

final as (
    select
        latest_overrides.account_id,
        latest_overrides.as_of_date,
        latest_overrides.csm_rating_id,
        latest_overrides.rated_at as override_rated_at,
        cast(latest_overrides.rating as {{ type_double() }}) as override_score,
        latest_overrides.reason as override_reason,
        latest_overrides.expires_at as override_expires_at
    from latest_overrides
    where
        latest_overrides.expires_at is null
        or cast(latest_overrides.expires_at as date) > latest_overrides.as_of_date
)

select * from final
