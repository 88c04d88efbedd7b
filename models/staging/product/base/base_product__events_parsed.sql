{#- Every distinct raw product event row, parsed, with the reason it cannot be used
    (null when it can). An event must belong to a usable account and to a usable user
    of that same account. Reasons and the conflicting-duplicate rule:
    _product__models.yml, which also says why the raw text is kept on rejected rows
    only (measured in DECISIONLOG.md, Performance).
    Only a raw row whose event_id (trimmed) is missing or on more than one raw row
    can have an exact copy or a competing version, so the raw rows are split in two:
    the rows of a unique event_id are parsed as they are (one copy each), the others
    are collapsed into distinct rows and their usable versions ranked. Grouping every
    raw row by its five values was a third of the model's work at M, for nothing
    (DECISIONLOG.md, Performance). The parse-and-check steps run once per part, in
    one Jinja loop: one chain read by both the ranking and the output would be
    buffered whole by DuckDB (a CTE that two steps read is materialized).
    Incremental on DuckDB: rows are decided per key bucket (a hash of the event_id
    into var events_key_buckets buckets; every raw row of one event_id lands in one
    bucket). A run compares each bucket's raw rows (count and checksum) with the rows
    it recorded, checks the recorded rows against the clock and the usable accounts
    and users of this run, and decides again only the buckets that differ, replacing
    their rows (strategy replace_key_buckets; a bucket left without raw rows is sent
    as a tombstone, raw_copies = 0, and so emptied). -#}
{{ config(
    materialized=events_staging_materialization(),
    incremental_strategy='replace_key_buckets',
    unique_key='key_bucket',
    on_schema_change='fail',
) }}
{%- set checked_at = 'cast(' ~ dbt.current_timestamp() ~ ' as ' ~ dbt.type_timestamp() ~ ')' -%}
{%- set raw_columns = ['event_id', 'account_id', 'user_id', 'event_name', 'occurred_at'] -%}
{#- An event_id as parsed below, '' when missing: a join key that matches missing ids
    too. <column> stands for the raw column it is computed from. -#}
{%- set event_key = "coalesce("
    ~ trim_blanks("cast(<column> as " ~ dbt.type_string() ~ ")") ~ ", '')" -%}
{#- A raw row's key bucket (from its event_id as above) and the checksum of its five
    raw values as text, from the raw table (<table>) or from the _raw columns: the same
    numbers either way. A checksum is below 2^31 - 1, so a bucket's sum cannot overflow. -#}
{%- set raw_texts = [] -%}
{%- set raw_text_columns = [] -%}
{%- for column in raw_columns -%}
{%- do raw_texts.append('cast(<table>.' ~ column ~ ' as ' ~ dbt.type_string() ~ ')') -%}
{%- do raw_text_columns.append(column ~ '_raw') -%}
{%- endfor -%}
{%- set key_bucket_of_raw = rows_checksum(
    [event_key | replace('<column>', '<table>.event_id')], var('events_key_buckets')
) -%}
{%- set raw_row_checksum_of_raw = rows_checksum(raw_texts, 2147483647) -%}
{%- set key_bucket_of_text = rows_checksum(
    ["coalesce(" ~ trim_blanks('event_id_raw') ~ ", '')"], var('events_key_buckets')
) -%}
{%- set raw_row_checksum_of_text = rows_checksum(raw_text_columns, 2147483647) -%}
{%- set decided_columns = [
    'event_id_raw', 'account_id_raw', 'user_id_raw', 'event_name_raw', 'occurred_at_raw',
    'raw_copies', 'event_id', 'account_id', 'user_id', 'event_name', 'occurred_at',
    'key_bucket', 'raw_row_checksum',
] -%}
{#- With --empty the sources read no rows: every recorded bucket would look emptied, so
    an empty run decides nothing and writes nothing, as a full build would. -#}
{%- set deciding_changes = is_incremental() and not flags.EMPTY -%}
{{- require_recorded_column('key_bucket', 'base_product__events_parsed+') }}

with

{% if deciding_changes -%}
-- each read of a large table is its own import, so that no step buffers another's
source_fingerprinted as (
    select * from {{ source('product', 'events') }}
),

source_of_changed_buckets as (
    select * from {{ source('product', 'events') }}
),

recorded as (
    select * from {{ this }}
),

recorded_for_rechecks as (
    select * from {{ this }}
),
{%- else -%}
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
{%- endif %}

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
{% if deciding_changes %}
-- Which buckets to decide again ------------------------------------------------

-- each bucket's raw rows, as counted and summed by the rows recorded for it
raw_fingerprints as (
    select
        {{ key_bucket_of_raw | replace('<table>', 'source_fingerprinted') }} as key_bucket,
        count(*) as raw_rows,
        sum(
            {{ raw_row_checksum_of_raw | replace('<table>', 'source_fingerprinted') }}
        ) as raw_checksum
    from source_fingerprinted
    group by 1
),

recorded_fingerprints as (
    select
        key_bucket,
        sum(raw_copies) as raw_rows,
        sum(raw_copies * raw_row_checksum) as raw_checksum
    from recorded
    group by 1
),

-- a raw row added, gone, or changed: the counts or checksums differ
fingerprints_compared as (
    select
        coalesce(raw_fingerprints.key_bucket, recorded_fingerprints.key_bucket) as key_bucket,
        raw_fingerprints.key_bucket is null as is_emptied
    from raw_fingerprints
    full outer join recorded_fingerprints
        on raw_fingerprints.key_bucket = recorded_fingerprints.key_bucket
    where
        raw_fingerprints.key_bucket is null
        or recorded_fingerprints.key_bucket is null
        or raw_fingerprints.raw_rows <> recorded_fingerprints.raw_rows
        or raw_fingerprints.raw_checksum <> recorded_fingerprints.raw_checksum
),

-- recorded rows whose reason this run would give otherwise, from the same raw row: a
-- future occurred_at now past, or an account or user that became usable or unusable
-- or moved (the reasons that hang on no other table are left out)
recorded_rows_rechecked as (
    select
        recorded.key_bucket,
        case
            when usable_accounts.account_id is null then 'orphan_account'
            when usable_users.user_id is null then 'unknown_user'
            when usable_users.account_id <> recorded.account_id then 'user_of_other_account'
        end as reference_reason,
        recorded.reject_reason,
        recorded.occurred_at
    from recorded_for_rechecks as recorded
    left join usable_accounts
        on recorded.account_id = usable_accounts.account_id
    left join usable_users
        on recorded.user_id = usable_users.user_id
    where
        recorded.reject_reason is null
        or recorded.reject_reason in (
            'future_occurred_at',
            'conflicting_duplicate',
            'orphan_account',
            'unknown_user',
            'user_of_other_account'
        )
),

recorded_rows_changed as (
    select key_bucket
    from recorded_rows_rechecked
    where
        (reject_reason = 'future_occurred_at' and occurred_at <= {{ checked_at }})
        or (
            (reject_reason is null or reject_reason = 'conflicting_duplicate')
            and reference_reason is not null
        )
        or (
            reject_reason in ('orphan_account', 'unknown_user', 'user_of_other_account')
            and coalesce(reference_reason, '') <> reject_reason
        )
),

changed_buckets as (
    select
        fingerprints_compared.key_bucket,
        fingerprints_compared.is_emptied
    from fingerprints_compared
    union all
    select
        recorded_rows_changed.key_bucket,
        false as is_emptied
    from recorded_rows_changed
),

-- a bucket without raw rows left is emptied (its rows were all recorded, so the
-- fingerprints differ whatever else changed in it)
buckets_decided as (
    select
        key_bucket,
        {{ dbt.bool_or('is_emptied') }} as is_emptied
    from changed_buckets
    group by 1
),

-- the raw rows of the buckets decided again: all the rows of their event_ids
changed_raw_rows as (
    select source_of_changed_buckets.*
    from source_of_changed_buckets
    inner join buckets_decided
        on
            {{ key_bucket_of_raw | replace('<table>', 'source_of_changed_buckets') }}
            = buckets_decided.key_bucket
),

source as (
    select * from changed_raw_rows
),

source_for_repeated_ids as (
    select * from changed_raw_rows
),

source_for_repeated_rows as (
    select * from changed_raw_rows
),

-- Deciding the rows of those buckets, as a full build does --------------------
{% endif %}
-- event_ids (trimmed, as parsed below; '' when missing) on more than one raw row:
-- the only keys that can have exact copies or competing versions, and few
repeated_event_keys as (
    select {{ event_key | replace('<column>', 'event_id') }} as event_key
    from source_for_repeated_ids
    group by 1
    having count(*) > 1
),

-- raw rows whose event_id (or lack of one) is on no other raw row: one copy each
single_raw_rows as (
    select source.*
    from source
    left join repeated_event_keys
        on
            {{ event_key | replace('<column>', 'source.event_id') }}
            = repeated_event_keys.event_key
    where repeated_event_keys.event_key is null
),

-- the rest: the rows of a repeated event_id, or of a missing one on several rows
repeated_raw_rows as (
    select source_for_repeated_rows.*
    from source_for_repeated_rows
    inner join repeated_event_keys
        on
            {{ event_key | replace('<column>', 'source_for_repeated_rows.event_id') }}
            = repeated_event_keys.event_key
),
{% for rows in ['single', 'repeated'] %}
{{ rows }}_exact_duplicates_collapsed as (
    select
        {%- for column in raw_columns %}
        cast({{ column }} as {{ dbt.type_string() }}) as {{ column }}_raw,
        {%- endfor %}
        {{ '1' if rows == 'single' else 'count(*)' }} as raw_copies
    from {{ rows }}_raw_rows
    {%- if rows == 'repeated' %}
    group by 1, 2, 3, 4, 5
    {%- endif %}
),

{{ rows }}_values_trimmed as (
    select
        *,
        nullif({{ trim_blanks('event_id_raw') }}, '') as event_id,
        nullif({{ trim_blanks('account_id_raw') }}, '') as account_id,
        nullif({{ trim_blanks('user_id_raw') }}, '') as user_id,
        lower(nullif({{ trim_blanks('event_name_raw') }}, '')) as event_name,
        nullif({{ trim_blanks('occurred_at_raw') }}, '') as occurred_at_text,
        {{ key_bucket_of_text }} as key_bucket,
        {{ raw_row_checksum_of_text }} as raw_row_checksum
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

-- a usable row of a repeated event_id loses when the winner is another raw row (a
-- usable row has all five raw values, so plain equality compares them)
repeated_rows_decided as (
    select
        {%- for column in decided_columns %}
        repeated_references_checked.{{ column }},
        {%- endfor %}
        coalesce(
            repeated_references_checked.checked_reject_reason,
            case
                when
                    winning_versions.event_id is not null
                    and not (
                        {%- for column in raw_columns %}
                        repeated_references_checked.{{ column }}_raw
                        = winning_versions.{{ column }}_raw{{ ' and' if not loop.last }}
                        {%- endfor %}
                    )
                    then 'conflicting_duplicate'
            end
        ) as reject_reason
    from repeated_references_checked
    left join winning_versions
        on repeated_references_checked.event_id = winning_versions.event_id
),

-- a unique event_id has no other version to lose to
single_rows_decided as (
    select
        {%- for column in decided_columns %}
        {{ column }},
        {%- endfor %}
        checked_reject_reason as reject_reason
    from single_references_checked
),

rows_decided as (
    select * from single_rows_decided
    union all
    select * from repeated_rows_decided
),

rows_stamped as (
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
        rows_decided.reject_reason,
        rows_decided.key_bucket,
        rows_decided.raw_row_checksum,
        {{ run_started_timestamp() }} as parsed_at
    from rows_decided
),
{% if deciding_changes %}
-- a tombstone per emptied bucket: deletes its rows, is not inserted
tombstones as (
    select
        {%- for column in raw_columns %}
        cast(null as {{ dbt.type_string() }}) as {{ column }}_raw,
        {%- endfor %}
        0 as raw_copies,
        cast(null as {{ dbt.type_string() }}) as event_id,
        cast(null as {{ dbt.type_string() }}) as account_id,
        cast(null as {{ dbt.type_string() }}) as user_id,
        cast(null as {{ dbt.type_string() }}) as event_name,
        cast(null as {{ dbt.type_timestamp() }}) as occurred_at,
        cast(null as {{ dbt.type_string() }}) as reject_reason,
        buckets_decided.key_bucket,
        cast(null as {{ dbt.type_bigint() }}) as raw_row_checksum,
        {{ run_started_timestamp() }} as parsed_at
    from buckets_decided
    where buckets_decided.is_emptied
),
{% endif %}
final as (
    select * from rows_stamped
    {%- if deciding_changes %}
    union all
    select * from tombstones
    {%- endif %}
)

select * from final
