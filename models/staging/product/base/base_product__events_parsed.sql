{#- Every distinct raw product event row, parsed, with the reason it cannot be used
    (null when it can). An event must belong to a usable account and to a usable user
    of that same account. Reasons and the conflicting-duplicate rule:
    _product__models.yml, which also says why the raw text is kept on rejected rows
    only (measured in DECISIONLOG.md, Performance).
    The parse-and-check steps run twice: over every raw row, and again over the few
    rows whose event_id occurs more than once, to rank their usable versions. One
    chain read by both the ranking and the output would be buffered whole by DuckDB
    (a CTE that two steps read is materialized): at L, 100M wide rows spilled to disk
    and the model took 133 s instead of 87 s (DECISIONLOG.md, Performance). -#}
{%- set checked_at = 'cast(' ~ dbt.current_timestamp() ~ ' as ' ~ dbt.type_timestamp() ~ ')' -%}
{%- set raw_columns = ['event_id', 'account_id', 'user_id', 'event_name', 'occurred_at'] -%}

with

source as (
    select * from {{ source('product', 'events') }}
),

-- each further read of the raw table is its own import, so that no step buffers another's
source_for_repeated_ids as (
    select * from {{ source('product', 'events') }}
),

source_for_repeated_rows as (
    select * from {{ source('product', 'events') }}
),

accounts_parsed as (
    select * from {{ ref('base_crm__accounts_parsed') }}
),

users_parsed as (
    select * from {{ ref('base_product__users_parsed') }}
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

-- event_ids (trimmed, as parsed below) on more than one raw row: a superset of the
-- keys with competing usable versions, and a small one
repeated_event_ids as (
    select nullif(trim(cast(event_id as {{ dbt.type_string() }})), '') as event_id
    from source_for_repeated_ids
    group by 1
    having count(*) > 1
),

all_raw_rows as (
    select * from source
),

repeated_raw_rows as (
    select source_for_repeated_rows.*
    from source_for_repeated_rows
    inner join repeated_event_ids
        on
            nullif(trim(cast(source_for_repeated_rows.event_id as {{ dbt.type_string() }})), '')
            = repeated_event_ids.event_id
),
{% for rows in ['all', 'repeated'] %}
{{ rows }}_exact_duplicates_collapsed as (
    select
        {%- for column in raw_columns %}
        cast({{ column }} as {{ dbt.type_string() }}) as {{ column }}_raw,
        {%- endfor %}
        count(*) as raw_copies
    from {{ rows }}_raw_rows
    group by 1, 2, 3, 4, 5
),

{{ rows }}_values_trimmed as (
    select
        *,
        nullif(trim(event_id_raw), '') as event_id,
        nullif(trim(account_id_raw), '') as account_id,
        nullif(trim(user_id_raw), '') as user_id,
        lower(nullif(trim(event_name_raw), '')) as event_name,
        nullif(trim(occurred_at_raw), '') as occurred_at_text
    from {{ rows }}_exact_duplicates_collapsed
),

{{ rows }}_values_parsed as (
    select
        *,
        {{ try_cast('occurred_at_text', dbt.type_timestamp()) }} as occurred_at
    from {{ rows }}_values_trimmed
),

{{ rows }}_rows_checked as (
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
    from {{ rows }}_values_parsed
),

{{ rows }}_references_checked as (
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
    from {{ rows }}_rows_checked as rows_checked
    left join usable_accounts
        on rows_checked.account_id = usable_accounts.account_id
    left join usable_users
        on rows_checked.user_id = usable_users.user_id
),
{% endfor %}
-- The usable versions of a repeated event_id rank among themselves: the latest
-- occurrence wins, then the smallest raw text. One winner per event_id.
winning_versions_ranked as (
    select
        event_id,
        {%- for column in raw_columns %}
        {{ column }}_raw,
        {%- endfor %}
        row_number() over (
            partition by event_id
            order by
                occurred_at desc,
                event_id_raw asc nulls last,
                account_id_raw asc nulls last,
                user_id_raw asc nulls last,
                event_name_raw asc nulls last,
                occurred_at_raw asc nulls last
        ) as version_rank
    from repeated_references_checked
    where checked_reject_reason is null
),

winning_versions as (
    select * from winning_versions_ranked
    where version_rank = 1
),

-- a usable row loses when its event_id has a winner that is another raw row (a
-- usable row has all five raw values, so plain equality compares them)
rows_decided as (
    select
        {%- for column in raw_columns %}
        all_references_checked.{{ column }}_raw,
        {%- endfor %}
        all_references_checked.raw_copies,
        all_references_checked.event_id,
        all_references_checked.account_id,
        all_references_checked.user_id,
        all_references_checked.event_name,
        all_references_checked.occurred_at,
        coalesce(
            all_references_checked.checked_reject_reason,
            case
                when
                    winning_versions.event_id is not null
                    and not (
                        {%- for column in raw_columns %}
                        all_references_checked.{{ column }}_raw
                        = winning_versions.{{ column }}_raw{{ ' and' if not loop.last }}
                        {%- endfor %}
                    )
                    then 'conflicting_duplicate'
            end
        ) as reject_reason
    from all_references_checked
    left join winning_versions
        on all_references_checked.event_id = winning_versions.event_id
),

final as (
    select
        {%- for column in raw_columns %}
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
