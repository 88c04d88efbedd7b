{#- The select of one row per day and event name of a set of product events: how many
    events, and the checksum of their accounts and users (rows_checksum, weighted by the
    events of each row). The same for the staged events (one row per event, count 1) and
    for the user-days (one row per account, user, day and name, count event_count), so
    that a day whose events changed has a different fingerprint. -#}
{% macro day_event_fingerprints(rows, day_column, event_count) -%}
    select
        {{ rows }}.{{ day_column }} as activity_date,
        {{ rows }}.event_name,
        sum({{ event_count }}) as event_count,
        sum(
            {{ rows_checksum([rows ~ '.account_id', rows ~ '.user_id']) }}
            * {{ event_count }}
        ) as user_checksum
    from {{ rows }}
    group by 1, 2
{%- endmacro %}

{#- The select comparing two sets of day_event_fingerprints, one row per day and event
    name in either: both counts and checksums (null where the other set lacks the pair),
    and is_changed when the pair is missing from one set or differs. -#}
{% macro day_event_fingerprints_compared(staged, recorded) -%}
    select
        coalesce({{ staged }}.activity_date, {{ recorded }}.activity_date) as activity_date,
        coalesce({{ staged }}.event_name, {{ recorded }}.event_name) as event_name,
        {{ staged }}.event_count as staged_event_count,
        {{ recorded }}.event_count as recorded_event_count,
        {{ staged }}.user_checksum as staged_user_checksum,
        {{ recorded }}.user_checksum as recorded_user_checksum,
        coalesce(
            {{ staged }}.event_count <> {{ recorded }}.event_count
            or {{ staged }}.user_checksum <> {{ recorded }}.user_checksum,
            true
        ) as is_changed
    from {{ staged }}
    full outer join {{ recorded }}
        on
            {{ staged }}.activity_date = {{ recorded }}.activity_date
            and {{ staged }}.event_name = {{ recorded }}.event_name
{%- endmacro %}
