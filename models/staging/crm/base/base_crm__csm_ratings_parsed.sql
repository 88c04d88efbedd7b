{#- Every distinct raw CSM rating row, parsed, with the reason it cannot be used
    (null when it can). The grain is (account_id, rated_at) after parsing, so two
    spellings of one instant are versions of one rating. Reasons and the
    conflicting-duplicate rule: _crm__models.yml. -#}
{%- set checked_at = 'cast(' ~ dbt.current_timestamp() ~ ' as ' ~ dbt.type_timestamp() ~ ')' -%}

with

source as (
    select * from {{ source('crm', 'csm_ratings') }}
),

accounts_parsed as (
    select * from {{ ref('base_crm__accounts_parsed') }}
),

exact_duplicates_collapsed as (
    select
        cast(account_id as {{ dbt.type_string() }}) as account_id_raw,
        cast(rated_at as {{ dbt.type_string() }}) as rated_at_raw,
        cast(rating as {{ dbt.type_string() }}) as rating_raw,
        cast(is_override as {{ dbt.type_string() }}) as is_override_raw,
        cast(reason as {{ dbt.type_string() }}) as reason_raw,
        cast(expires_at as {{ dbt.type_string() }}) as expires_at_raw,
        count(*) as raw_copies
    from source
    group by 1, 2, 3, 4, 5, 6
),

values_trimmed as (
    select
        *,
        nullif({{ trim_blanks('account_id_raw') }}, '') as account_id,
        nullif({{ trim_blanks('rated_at_raw') }}, '') as rated_at_text,
        nullif({{ trim_blanks('rating_raw') }}, '') as rating_text,
        nullif({{ trim_blanks('is_override_raw') }}, '') as is_override_text,
        nullif({{ trim_blanks('reason_raw') }}, '') as reason,
        nullif({{ trim_blanks('expires_at_raw') }}, '') as expires_at_text
    from exact_duplicates_collapsed
),

values_parsed as (
    select
        *,
        {{ try_cast('rated_at_text', dbt.type_timestamp()) }} as rated_at,
        {{ parse_integer('rating_text') }} as rating,
        {{ parse_boolean('is_override_text') }} as is_override,
        {{ try_cast('expires_at_text', dbt.type_timestamp()) }} as expires_at
    from values_trimmed
),

rows_checked as (
    select
        *,
        case
            when account_id is null or rated_at_text is null then 'missing_key'
            when rating_text is null then 'missing_rating'
            when is_override_text is null then 'missing_is_override'
            when rated_at is null then 'unparseable_rated_at'
            when rating is null then 'unparseable_rating'
            when is_override is null then 'unparseable_is_override'
            when expires_at_text is not null and expires_at is null
                then 'unparseable_expires_at'
            when rated_at > {{ checked_at }} then 'future_rated_at'
            when rating < 0 or rating > 100 then 'rating_out_of_range'
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
    -- among themselves, and their rank is never read): an override wins, then the
    -- latest expiry.
    select
        *,
        row_number() over (
            partition by account_id, rated_at, checked_reject_reason
            order by
                is_override desc,
                expires_at desc nulls last,
                account_id_raw asc nulls last,
                rated_at_raw asc nulls last,
                rating_raw asc nulls last,
                is_override_raw asc nulls last,
                reason_raw asc nulls last,
                expires_at_raw asc nulls last
        ) as version_rank
    from references_checked
),

final as (
    select
        account_id_raw,
        rated_at_raw,
        rating_raw,
        is_override_raw,
        reason_raw,
        expires_at_raw,
        raw_copies,
        account_id,
        rated_at,
        rating,
        is_override,
        reason,
        expires_at,
        coalesce(
            checked_reject_reason,
            case when version_rank > 1 then 'conflicting_duplicate' end
        ) as reject_reason
    from versions_ranked
)

select * from final
