{#- Every distinct raw product event row, parsed, with the reason it cannot be used
    (null when it can). An event must belong to a usable account and to a usable user
    of that same account. Reasons and the conflicting-duplicate rule:
    _product__models.yml, which also says why the raw text is kept on rejected rows
    only (measured in DECISIONLOG.md, Performance). -#}
{%- set checked_at = 'cast(' ~ dbt.current_timestamp() ~ ' as ' ~ dbt.type_timestamp() ~ ')' -%}

with

source as (
    select * from {{ source('product', 'events') }}
),

accounts_parsed as (
    select * from {{ ref('base_crm__accounts_parsed') }}
),

users_parsed as (
    select * from {{ ref('base_product__users_parsed') }}
),

exact_duplicates_collapsed as (
    select
        cast(event_id as {{ dbt.type_string() }}) as event_id_raw,
        cast(account_id as {{ dbt.type_string() }}) as account_id_raw,
        cast(user_id as {{ dbt.type_string() }}) as user_id_raw,
        cast(event_name as {{ dbt.type_string() }}) as event_name_raw,
        cast(occurred_at as {{ dbt.type_string() }}) as occurred_at_raw,
        count(*) as raw_copies
    from source
    group by 1, 2, 3, 4, 5
),

values_trimmed as (
    select
        *,
        nullif(trim(event_id_raw), '') as event_id,
        nullif(trim(account_id_raw), '') as account_id,
        nullif(trim(user_id_raw), '') as user_id,
        lower(nullif(trim(event_name_raw), '')) as event_name,
        nullif(trim(occurred_at_raw), '') as occurred_at_text
    from exact_duplicates_collapsed
),

values_parsed as (
    select
        *,
        {{ try_cast('occurred_at_text', dbt.type_timestamp()) }} as occurred_at
    from values_trimmed
),

rows_checked as (
    select
        *,
        case
            when event_id is null then 'missing_key'
            when account_id is null then 'missing_account_id'
            when user_id is null then 'missing_user_id'
            when event_name is null then 'missing_event_name'
            when occurred_at_text is null then 'missing_occurred_at'
            when occurred_at is null then 'unparseable_occurred_at'
            when occurred_at > {{ checked_at }} then 'future_occurred_at'
        end as row_reject_reason
    from values_parsed
),

usable_accounts as (
    select account_id
    from accounts_parsed
    where reject_reason is null
),

usable_users as (
    select
        user_id,
        account_id
    from users_parsed
    where reject_reason is null
),

references_checked as (
    select
        rows_checked.*,
        coalesce(
            rows_checked.row_reject_reason,
            case
                when usable_accounts.account_id is null then 'orphan_account'
                when usable_users.user_id is null then 'unknown_user'
                when usable_users.account_id <> rows_checked.account_id
                    then 'user_of_other_account'
            end
        ) as checked_reject_reason
    from rows_checked
    left join usable_accounts
        on rows_checked.account_id = usable_accounts.account_id
    left join usable_users
        on rows_checked.user_id = usable_users.user_id
),

contested_event_ids as (
    -- only an event_id with more than one usable version needs ranking
    select event_id
    from references_checked
    where checked_reject_reason is null
    group by 1
    having count(*) > 1
),

-- The usable versions of a contested event_id rank among themselves: the latest
-- occurrence wins. Every other row is its key's only usable version, or rejected
-- (its rank is never read): rank 1 without a sort, since nearly all rows are.
versions_ranked as (
    select
        references_checked.*,
        row_number() over (
            partition by references_checked.event_id
            order by
                references_checked.occurred_at desc,
                references_checked.event_id_raw asc nulls last,
                references_checked.account_id_raw asc nulls last,
                references_checked.user_id_raw asc nulls last,
                references_checked.event_name_raw asc nulls last,
                references_checked.occurred_at_raw asc nulls last
        ) as version_rank
    from references_checked
    inner join contested_event_ids
        on references_checked.event_id = contested_event_ids.event_id
    where references_checked.checked_reject_reason is null
    union all
    select
        references_checked.*,
        1 as version_rank
    from references_checked
    left join contested_event_ids
        on references_checked.event_id = contested_event_ids.event_id
    where
        references_checked.checked_reject_reason is not null
        or contested_event_ids.event_id is null
),

rows_decided as (
    select
        event_id_raw,
        account_id_raw,
        user_id_raw,
        event_name_raw,
        occurred_at_raw,
        raw_copies,
        event_id,
        account_id,
        user_id,
        event_name,
        occurred_at,
        coalesce(
            checked_reject_reason,
            case when version_rank > 1 then 'conflicting_duplicate' end
        ) as reject_reason
    from versions_ranked
),

final as (
    select
        {%- for column in ['event_id', 'account_id', 'user_id', 'event_name', 'occurred_at'] %}
        case
            when rows_decided.reject_reason is not null then rows_decided.{{ column }}_raw
        end as {{ column }}_raw,
        {%- endfor %}
        rows_decided.raw_copies,
        rows_decided.event_id,
        rows_decided.account_id,
        rows_decided.user_id,
        rows_decided.event_name,
        rows_decided.occurred_at,
        rows_decided.reject_reason
    from rows_decided
)

select * from final
