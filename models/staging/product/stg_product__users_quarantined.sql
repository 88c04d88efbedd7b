with

users_parsed as (
    select * from {{ ref('base_product__users_parsed') }}
),

final as (
    -- The original values, except the email: only its hash leaves staging.
    select
        user_id_raw as user_id,
        account_id_raw as account_id,
        email_hash,
        created_at_raw as created_at,
        deactivated_at_raw as deactivated_at,
        reject_reason,
        raw_copies
    from users_parsed
    where reject_reason is not null
)

select * from final
