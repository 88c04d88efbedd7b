with

csm_ratings_parsed as (
    select * from {{ ref('base_crm__csm_ratings_parsed') }}
),

final as (
    select
        account_id_raw as account_id,
        rated_at_raw as rated_at,
        rating_raw as rating,
        is_override_raw as is_override,
        reason_raw as reason,
        expires_at_raw as expires_at,
        reject_reason,
        raw_copies
    from csm_ratings_parsed
    where reject_reason is not null
)

select * from final
