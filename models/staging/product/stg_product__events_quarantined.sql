with

events_parsed as (
    select * from {{ ref('base_product__events_parsed') }}
),

final as (
    select
        event_id_raw as event_id,
        account_id_raw as account_id,
        user_id_raw as user_id,
        event_name_raw as event_name,
        occurred_at_raw as occurred_at,
        reject_reason,
        raw_copies
    from events_parsed
    where reject_reason is not null
)

select * from final
