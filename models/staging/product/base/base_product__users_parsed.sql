{#- Every distinct raw user row, parsed, with the reason it cannot be used (null
    when it can). The email is hashed in the first step and its text goes no
    further: no column of this model or any later one holds it.
    Reasons and the conflicting-duplicate rule: _product__models.yml. -#}
{%- set checked_at = 'cast(' ~ dbt.current_timestamp() ~ ' as ' ~ dbt.type_timestamp() ~ ')' -%}

with

source as (
    select * from {{ source('product', 'users') }}
),

accounts_parsed as (
    select * from {{ ref('base_crm__accounts_parsed') }}
),

-- Copies are told apart by the email's hash, not its text: the hash (of the
-- trimmed, lower-cased email) is all that is kept of it, so two rows whose
-- emails differ only in case or spaces are the same row from here on.
email_hashed as (
    select
        cast(user_id as {{ dbt.type_string() }}) as user_id_raw,
        cast(account_id as {{ dbt.type_string() }}) as account_id_raw,
        {{ hash_pii_column('email') }} as email_hash,
        cast(created_at as {{ dbt.type_string() }}) as created_at_raw,
        cast(deactivated_at as {{ dbt.type_string() }}) as deactivated_at_raw
    from source
),

exact_duplicates_collapsed as (
    select
        user_id_raw,
        account_id_raw,
        email_hash,
        created_at_raw,
        deactivated_at_raw,
        count(*) as raw_copies
    from email_hashed
    group by 1, 2, 3, 4, 5
),

values_trimmed as (
    select
        *,
        nullif({{ trim_blanks('user_id_raw') }}, '') as user_id,
        nullif({{ trim_blanks('account_id_raw') }}, '') as account_id,
        nullif({{ trim_blanks('created_at_raw') }}, '') as created_at_text,
        nullif({{ trim_blanks('deactivated_at_raw') }}, '') as deactivated_at_text
    from exact_duplicates_collapsed
),

values_parsed as (
    select
        *,
        {{ try_cast('created_at_text', dbt.type_timestamp()) }} as created_at,
        {{ try_cast('deactivated_at_text', dbt.type_timestamp()) }} as deactivated_at
    from values_trimmed
),

rows_checked as (
    select
        *,
        case
            when user_id is null then 'missing_key'
            when account_id is null then 'missing_account_id'
            when email_hash is null then 'missing_email'
            when created_at_text is null then 'missing_created_at'
            when created_at is null then 'unparseable_created_at'
            when deactivated_at_text is not null and deactivated_at is null
                then 'unparseable_deactivated_at'
            when created_at > {{ checked_at }} then 'future_created_at'
            when deactivated_at > {{ checked_at }} then 'future_deactivated_at'
            when deactivated_at < created_at then 'deactivated_before_created'
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
    -- among themselves, and their rank is never read): the latest state wins.
    select
        *,
        row_number() over (
            partition by user_id, checked_reject_reason
            order by
                deactivated_at desc nulls last,
                created_at desc,
                user_id_raw asc nulls last,
                account_id_raw asc nulls last,
                email_hash asc nulls last,
                created_at_raw asc nulls last,
                deactivated_at_raw asc nulls last
        ) as version_rank
    from references_checked
),

final as (
    select
        user_id_raw,
        account_id_raw,
        created_at_raw,
        deactivated_at_raw,
        raw_copies,
        user_id,
        account_id,
        email_hash,
        created_at,
        deactivated_at,
        coalesce(
            checked_reject_reason,
            case when version_rank > 1 then 'conflicting_duplicate' end
        ) as reject_reason
    from versions_ranked
)

select * from final
