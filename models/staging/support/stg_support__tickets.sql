with

tickets_parsed as (
    select * from {{ ref('base_support__tickets_parsed') }}
),

final as (
    select
        ticket_id,
        account_id,
        user_id,
        opened_at,
        resolved_at,
        priority,
        csat
    from tickets_parsed
    where reject_reason is null
)

select * from final
