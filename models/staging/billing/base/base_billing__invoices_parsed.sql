{#- Every distinct raw invoice row, parsed, with the reason it cannot be used (null
    when it can). Reasons and the conflicting-duplicate rule: _billing__models.yml. -#}
{%- set checked_at = 'cast(' ~ dbt.current_timestamp() ~ ' as ' ~ dbt.type_timestamp() ~ ')' -%}

with

source as (
    select * from {{ source('billing', 'invoices') }}
),

accounts_parsed as (
    select * from {{ ref('base_crm__accounts_parsed') }}
),

exact_duplicates_collapsed as (
    select
        cast(invoice_id as {{ dbt.type_string() }}) as invoice_id_raw,
        cast(account_id as {{ dbt.type_string() }}) as account_id_raw,
        cast(issued_at as {{ dbt.type_string() }}) as issued_at_raw,
        cast(due_at as {{ dbt.type_string() }}) as due_at_raw,
        cast(paid_at as {{ dbt.type_string() }}) as paid_at_raw,
        cast(amount as {{ dbt.type_string() }}) as amount_raw,
        cast(currency as {{ dbt.type_string() }}) as currency_raw,
        cast(status as {{ dbt.type_string() }}) as status_raw,
        count(*) as raw_copies
    from source
    group by 1, 2, 3, 4, 5, 6, 7, 8
),

values_trimmed as (
    select
        *,
        nullif({{ trim_blanks('invoice_id_raw') }}, '') as invoice_id,
        nullif({{ trim_blanks('account_id_raw') }}, '') as account_id,
        nullif({{ trim_blanks('issued_at_raw') }}, '') as issued_at_text,
        nullif({{ trim_blanks('due_at_raw') }}, '') as due_at_text,
        nullif({{ trim_blanks('paid_at_raw') }}, '') as paid_at_text,
        nullif({{ trim_blanks('amount_raw') }}, '') as amount_text,
        upper(nullif({{ trim_blanks('currency_raw') }}, '')) as currency,
        lower(nullif({{ trim_blanks('status_raw') }}, '')) as status
    from exact_duplicates_collapsed
),

values_parsed as (
    select
        *,
        {{ try_cast('issued_at_text', dbt.type_timestamp()) }} as issued_at,
        {{ try_cast('due_at_text', dbt.type_timestamp()) }} as due_at,
        {{ try_cast('paid_at_text', dbt.type_timestamp()) }} as paid_at,
        {{ try_cast('amount_text', 'decimal(18, 2)') }} as amount
    from values_trimmed
),

rows_checked as (
    select
        *,
        case
            when invoice_id is null then 'missing_key'
            when account_id is null then 'missing_account_id'
            when issued_at_text is null then 'missing_issued_at'
            when due_at_text is null then 'missing_due_at'
            when amount_text is null then 'missing_amount'
            when currency is null then 'missing_currency'
            when status is null then 'missing_status'
            when issued_at is null then 'unparseable_issued_at'
            when due_at is null then 'unparseable_due_at'
            when paid_at_text is not null and paid_at is null then 'unparseable_paid_at'
            when amount is null then 'non_numeric_amount'
            when issued_at > {{ checked_at }} then 'future_issued_at'
            when paid_at > {{ checked_at }} then 'future_paid_at'
            when amount < 0 then 'negative_amount'
            when
                length(currency) <> 3
                or translate(currency, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', '') <> ''
                then 'invalid_currency'
            when status not in ('draft', 'open', 'paid', 'void', 'uncollectible')
                then 'unknown_status'
            when paid_at < issued_at then 'paid_before_issued'
            when due_at < issued_at then 'due_before_issued'
            -- the overdue metric reads a missing paid_at as unpaid
            when status = 'paid' and paid_at is null then 'paid_without_paid_at'
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
    -- among themselves, and their rank is never read): the most advanced status
    -- wins, then the latest payment.
    select
        *,
        row_number() over (
            partition by invoice_id, checked_reject_reason
            order by
                case status
                    when 'paid' then 4
                    when 'void' then 4
                    when 'uncollectible' then 3
                    when 'open' then 2
                    when 'draft' then 1
                end desc,
                paid_at desc nulls last,
                issued_at desc,
                due_at desc,
                invoice_id_raw asc nulls last,
                account_id_raw asc nulls last,
                issued_at_raw asc nulls last,
                due_at_raw asc nulls last,
                paid_at_raw asc nulls last,
                amount_raw asc nulls last,
                currency_raw asc nulls last,
                status_raw asc nulls last
        ) as version_rank
    from references_checked
),

final as (
    select
        invoice_id_raw,
        account_id_raw,
        issued_at_raw,
        due_at_raw,
        paid_at_raw,
        amount_raw,
        currency_raw,
        status_raw,
        raw_copies,
        invoice_id,
        account_id,
        issued_at,
        due_at,
        paid_at,
        amount,
        currency,
        status,
        coalesce(
            checked_reject_reason,
            case when version_rank > 1 then 'conflicting_duplicate' end
        ) as reject_reason
    from versions_ranked
)

select * from final
