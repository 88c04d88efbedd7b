with

events_parsed as (
    select * from {{ ref('base_product__events_parsed') }}
),

final as (
    select
        event_id,
        account_id,
        user_id,
        event_name,
        occurred_at,
        cast(occurred_at as date) as occurred_on
    from events_parsed
    where reject_reason is null
)

select * from final
