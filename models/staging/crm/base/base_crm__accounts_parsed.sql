{#- Every distinct raw account row, parsed, with the reason it cannot be used (null
    when it can). stg_crm__accounts keeps the usable rows, the quarantine model the
    others. Reasons and the conflicting-duplicate rule: _crm__models.yml. -#}
{%- set checked_at = 'cast(' ~ dbt.current_timestamp() ~ ' as ' ~ dbt.type_timestamp() ~ ')' -%}

with

source as (
    select * from {{ source('crm', 'accounts') }}
),

-- Plans are an enum whose values are configured, not hard-coded: an account on a
-- plan with no segment in seeds/plan_segments.csv cannot be scored.
plan_segments as (
    select * from {{ ref('plan_segments') }}
),

exact_duplicates_collapsed as (
    select
        cast(account_id as {{ dbt.type_string() }}) as account_id_raw,
        cast(account_name as {{ dbt.type_string() }}) as account_name_raw,
        cast(plan as {{ dbt.type_string() }}) as plan_raw,
        cast(seats as {{ dbt.type_string() }}) as seats_raw,
        cast(created_at as {{ dbt.type_string() }}) as created_at_raw,
        cast(renewal_date as {{ dbt.type_string() }}) as renewal_date_raw,
        cast(churned_at as {{ dbt.type_string() }}) as churned_at_raw,
        cast(csm_owner as {{ dbt.type_string() }}) as csm_owner_raw,
        count(*) as raw_copies
    from source
    group by 1, 2, 3, 4, 5, 6, 7, 8
),

values_trimmed as (
    select
        *,
        nullif({{ trim_blanks('account_id_raw') }}, '') as account_id,
        nullif({{ trim_blanks('account_name_raw') }}, '') as account_name,
        lower(nullif({{ trim_blanks('plan_raw') }}, '')) as plan,
        nullif({{ trim_blanks('seats_raw') }}, '') as seats_text,
        nullif({{ trim_blanks('created_at_raw') }}, '') as created_at_text,
        nullif({{ trim_blanks('renewal_date_raw') }}, '') as renewal_date_text,
        nullif({{ trim_blanks('churned_at_raw') }}, '') as churned_at_text,
        nullif({{ trim_blanks('csm_owner_raw') }}, '') as csm_owner
    from exact_duplicates_collapsed
),

values_parsed as (
    select
        *,
        {{ parse_integer('seats_text') }} as seats,
        {{ try_cast('created_at_text', dbt.type_timestamp()) }} as created_at,
        {{ try_cast('renewal_date_text', 'date') }} as renewal_date,
        {{ try_cast('churned_at_text', dbt.type_timestamp()) }} as churned_at
    from values_trimmed
),

plans_looked_up as (
    select
        values_parsed.*,
        plan_segments.plan is not null as is_known_plan
    from values_parsed
    left join plan_segments
        on values_parsed.plan = lower({{ trim_blanks('plan_segments.plan') }})
),

rows_checked as (
    select
        *,
        case
            when account_id is null then 'missing_key'
            when account_name is null then 'missing_account_name'
            when plan is null then 'missing_plan'
            when seats_text is null then 'missing_seats'
            when created_at_text is null then 'missing_created_at'
            when seats is null then 'unparseable_seats'
            when created_at is null then 'unparseable_created_at'
            when renewal_date_text is not null and renewal_date is null
                then 'unparseable_renewal_date'
            when churned_at_text is not null and churned_at is null
                then 'unparseable_churned_at'
            when created_at > {{ checked_at }} then 'future_created_at'
            when churned_at > {{ checked_at }} then 'future_churned_at'
            when seats < 0 then 'negative_seats'
            when not is_known_plan then 'unknown_plan'
            when churned_at < created_at then 'churned_before_created'
        end as row_reject_reason
    from plans_looked_up
),

versions_ranked as (
    -- Usable rows rank among the usable versions of their key (rejected rows rank
    -- among themselves, and their rank is never read): the latest state wins.
    select
        *,
        row_number() over (
            partition by account_id, row_reject_reason
            order by
                churned_at desc nulls last,
                renewal_date desc nulls last,
                created_at desc,
                account_id_raw asc nulls last,
                account_name_raw asc nulls last,
                plan_raw asc nulls last,
                seats_raw asc nulls last,
                created_at_raw asc nulls last,
                renewal_date_raw asc nulls last,
                churned_at_raw asc nulls last,
                csm_owner_raw asc nulls last
        ) as version_rank
    from rows_checked
),

final as (
    select
        account_id_raw,
        account_name_raw,
        plan_raw,
        seats_raw,
        created_at_raw,
        renewal_date_raw,
        churned_at_raw,
        csm_owner_raw,
        raw_copies,
        account_id,
        account_name,
        plan,
        seats,
        created_at,
        renewal_date,
        churned_at,
        csm_owner,
        coalesce(
            row_reject_reason,
            case when version_rank > 1 then 'conflicting_duplicate' end
        ) as reject_reason
    from versions_ranked
)

select * from final
