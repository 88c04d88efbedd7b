{#- Every distinct raw support ticket row, parsed, with the reason it cannot be used
    (null when it can). The ticket's user_id is optional and kept as given: tickets
    are checked against accounts only. Reasons and the conflicting-duplicate rule:
    _support__models.yml. -#}
{%- set checked_at = 'cast(' ~ dbt.current_timestamp() ~ ' as ' ~ dbt.type_timestamp() ~ ')' -%}

with

source as (
    select * from {{ source('support', 'tickets') }}
),

accounts_parsed as (
    select * from {{ ref('base_crm__accounts_parsed') }}
),

exact_duplicates_collapsed as (
    select
        cast(ticket_id as {{ dbt.type_string() }}) as ticket_id_raw,
        cast(account_id as {{ dbt.type_string() }}) as account_id_raw,
        cast(user_id as {{ dbt.type_string() }}) as user_id_raw,
        cast(opened_at as {{ dbt.type_string() }}) as opened_at_raw,
        cast(resolved_at as {{ dbt.type_string() }}) as resolved_at_raw,
        cast(priority as {{ dbt.type_string() }}) as priority_raw,
        cast(csat as {{ dbt.type_string() }}) as csat_raw,
        count(*) as raw_copies
    from source
    group by 1, 2, 3, 4, 5, 6, 7
),

values_trimmed as (
    select
        *,
        nullif({{ trim_blanks('ticket_id_raw') }}, '') as ticket_id,
        nullif({{ trim_blanks('account_id_raw') }}, '') as account_id,
        nullif({{ trim_blanks('user_id_raw') }}, '') as user_id,
        nullif({{ trim_blanks('opened_at_raw') }}, '') as opened_at_text,
        nullif({{ trim_blanks('resolved_at_raw') }}, '') as resolved_at_text,
        lower(nullif({{ trim_blanks('priority_raw') }}, '')) as priority,
        nullif({{ trim_blanks('csat_raw') }}, '') as csat_text
    from exact_duplicates_collapsed
),

values_parsed as (
    select
        *,
        {{ try_cast('opened_at_text', dbt.type_timestamp()) }} as opened_at,
        {{ try_cast('resolved_at_text', dbt.type_timestamp()) }} as resolved_at,
        {{ parse_integer('csat_text') }} as csat
    from values_trimmed
),

rows_checked as (
    select
        *,
        case
            when ticket_id is null then 'missing_key'
            when account_id is null then 'missing_account_id'
            when opened_at_text is null then 'missing_opened_at'
            when priority is null then 'missing_priority'
            when opened_at is null then 'unparseable_opened_at'
            when resolved_at_text is not null and resolved_at is null
                then 'unparseable_resolved_at'
            when csat_text is not null and csat is null then 'unparseable_csat'
            when opened_at > {{ checked_at }} then 'future_opened_at'
            when resolved_at > {{ checked_at }} then 'future_resolved_at'
            when priority not in ('low', 'normal', 'high', 'urgent') then 'unknown_priority'
            when csat < 1 or csat > 5 then 'csat_out_of_range'
            when resolved_at < opened_at then 'resolved_before_opened'
        end as row_reject_reason
    from values_parsed
),

usable_accounts as (
    select account_id
    from accounts_parsed
    where reject_reason is null
),

references_checked as (
    select
        rows_checked.*,
        coalesce(
            rows_checked.row_reject_reason,
            case when usable_accounts.account_id is null then 'orphan_account' end
        ) as checked_reject_reason
    from rows_checked
    left join usable_accounts
        on rows_checked.account_id = usable_accounts.account_id
),

versions_ranked as (
    -- Usable rows rank among the usable versions of their key (rejected rows rank
    -- among themselves, and their rank is never read): a resolved version wins, the
    -- latest resolution first.
    select
        *,
        row_number() over (
            partition by ticket_id, checked_reject_reason
            order by
                resolved_at desc nulls last,
                opened_at desc,
                ticket_id_raw asc nulls last,
                account_id_raw asc nulls last,
                user_id_raw asc nulls last,
                opened_at_raw asc nulls last,
                resolved_at_raw asc nulls last,
                priority_raw asc nulls last,
                csat_raw asc nulls last
        ) as version_rank
    from references_checked
),

final as (
    select
        ticket_id_raw,
        account_id_raw,
        user_id_raw,
        opened_at_raw,
        resolved_at_raw,
        priority_raw,
        csat_raw,
        raw_copies,
        ticket_id,
        account_id,
        user_id,
        opened_at,
        resolved_at,
        priority,
        csat,
        coalesce(
            checked_reject_reason,
            case when version_rank > 1 then 'conflicting_duplicate' end
        ) as reject_reason
    from versions_ranked
)

select * from final
