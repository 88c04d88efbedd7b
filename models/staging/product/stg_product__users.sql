with

users_parsed as (
    select * from {{ ref('base_product__users_parsed') }}
),

final as (
    select
        user_id,
        account_id,
        email_hash,
        created_at,
        deactivated_at
    from users_parsed
    where reject_reason is null
)

select * from final
