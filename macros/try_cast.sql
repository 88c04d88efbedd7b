{#- Cast that yields null instead of failing the whole query on one bad value.
    Raw CSV values arrive as text: a single unparseable value must quarantine
    its row, not abort the build. dbt.safe_cast is a plain cast on DuckDB. -#}
{% macro try_cast(expression, data_type) %}
    {{ return(adapter.dispatch('try_cast', 'customer_health')(expression, data_type)) }}
{% endmacro %}

{% macro default__try_cast(expression, data_type) %}
    cast({{ expression }} as {{ data_type }})
{% endmacro %}

{#- The raw contract: a date or timestamp starts with a four-digit year, a
    month and a day, separated by '-'. Text that does not is null, so its row
    is quarantined as unparseable, alike on every engine.
    Two ways DuckDB's text-to-datetime cast differs from Spark's:
    - It accepts forms Spark rejects: '/' as the date separator ('2024/01/01')
      and the special words 'epoch', 'infinity' and '-infinity' (1970-01-01,
      9999-12-31, 0001-01-01, which would pass the range checks as real
      dates), years past 9999 ('12024-01-01') and a ' (BC)' suffix. Text that
      does not start with a digit, holds a '/' in its first ten characters (the
      date; a zone name such as 'America/New_York' may follow), has no '-'
      after four characters or names BC is null here; DuckDB's cast rejects
      the rest of what breaks the contract.
    - It ignores a UTC offset or zone name ('2026-10-30 23:30:00-05:00' gives
      23:30, Spark 04:30 the next day): text that is not a plain date or
      'YYYY-MM-DD HH:MM:SS' is read as a timestamptz and brought to UTC (the
      profile's TimeZone). The plain forms keep the cheaper cast:
      timestamptz parsing costs about 4x as much.
    And one way its text-to-number cast differs: it reads '_' between digits
    ('1_000' is 1000), which Spark's does not; such text is null here. -#}
{% macro duckdb__try_cast(expression, data_type) %}
    {%- if data_type | lower in ('timestamp', 'date') -%}
    case
        when
            left({{ expression }}, 1) not between '0' and '9'
            or substr({{ expression }}, 5, 1) != '-'
            or substr({{ expression }}, 1, 10) like '%/%'
            or {{ expression }} ilike '%(bc)%'
            then null
        {% if data_type | lower == 'timestamp' -%}
        when {{ expression }} like '____-__-__ __:__:__' or length({{ expression }}) = 10
            then try_cast({{ expression }} as timestamp)
        else try_cast(try_cast({{ expression }} as timestamptz) as timestamp)
        {%- else -%}
        else try_cast({{ expression }} as date)
        {%- endif %}
    end
    {%- else -%}
    case
        when strpos(cast({{ expression }} as varchar), '_') = 0
            then try_cast({{ expression }} as {{ data_type }})
    end
    {%- endif -%}
{% endmacro %}

{#- Spark 3.2+ has try_cast; it returns null on failure even without ANSI mode.
    Its datetime cast is lenient the other way from DuckDB's: it reads a year
    alone ('2024') or a year and month ('2024-01') as the first day, and skips
    leading blanks and a '+'. The pattern holds it to the raw contract. -#}
{% macro spark__try_cast(expression, data_type) %}
    {%- if data_type | lower in ('timestamp', 'date') -%}
    case
        when cast({{ expression }} as string) rlike '^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}'
            then try_cast({{ expression }} as {{ data_type }})
    end
    {%- else -%}
    try_cast({{ expression }} as {{ data_type }})
    {%- endif -%}
{% endmacro %}
