with

csm_ratings_parsed as (
    select * from {{ ref('base_crm__csm_ratings_parsed') }}
),

final as (
    select
        {{ surrogate_key(['account_id', 'rated_at']) }} as csm_rating_id,
        account_id,
        rated_at,
        rating,
        is_override,
        reason,
        expires_at
    from csm_ratings_parsed
    where reject_reason is null
)

select * from final
