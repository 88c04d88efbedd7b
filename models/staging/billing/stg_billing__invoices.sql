with

invoices_parsed as (
    select * from {{ ref('base_billing__invoices_parsed') }}
),

final as (
    select
        invoice_id,
        account_id,
        issued_at,
        due_at,
        paid_at,
        amount,
        currency,
        status
    from invoices_parsed
    where reject_reason is null
)

select * from final
