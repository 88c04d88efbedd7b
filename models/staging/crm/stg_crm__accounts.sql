with

accounts_parsed as (
    select * from {{ ref('base_crm__accounts_parsed') }}
),

final as (
    select
        account_id,
        account_name,
        plan,
        seats,
        created_at,
        renewal_date,
        churned_at,
        csm_owner
    from accounts_parsed
    where reject_reason is null
)

select * from final
