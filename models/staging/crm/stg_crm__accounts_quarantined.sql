with

accounts_parsed as (
    select * from {{ ref('base_crm__accounts_parsed') }}
),

final as (
    select
        account_id_raw as account_id,
        account_name_raw as account_name,
        plan_raw as plan,
        seats_raw as seats,
        created_at_raw as created_at,
        renewal_date_raw as renewal_date,
        churned_at_raw as churned_at,
        csm_owner_raw as csm_owner,
        reject_reason,
        raw_copies
    from accounts_parsed
    where reject_reason is not null
)

select * from final
