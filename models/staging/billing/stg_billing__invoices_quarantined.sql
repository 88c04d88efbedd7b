with

invoices_parsed as (
    select * from {{ ref('base_billing__invoices_parsed') }}
),

final as (
    select
        invoice_id_raw as invoice_id,
        account_id_raw as account_id,
        issued_at_raw as issued_at,
        due_at_raw as due_at,
        paid_at_raw as paid_at,
        amount_raw as amount,
        currency_raw as currency,
        status_raw as status,
        reject_reason,
        raw_copies
    from invoices_parsed
    where reject_reason is not null
)

select * from final
