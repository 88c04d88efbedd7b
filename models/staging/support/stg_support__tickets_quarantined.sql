with

tickets_parsed as (
    select * from {{ ref('base_support__tickets_parsed') }}
),

final as (
    select
        ticket_id_raw as ticket_id,
        account_id_raw as account_id,
        user_id_raw as user_id,
        opened_at_raw as opened_at,
        resolved_at_raw as resolved_at,
        priority_raw as priority,
        csat_raw as csat,
        reject_reason,
        raw_copies
    from tickets_parsed
    where reject_reason is not null
)

select * from final
