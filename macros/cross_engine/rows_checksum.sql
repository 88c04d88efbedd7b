{#- SQL expression: a number from 0 to 1,000,002 computed from the given columns, for
    summing into a checksum of a set of rows (does this day still hold the same users?).
    Only compared with checksums computed by the same engine, so each engine may use its
    own hash function; reduced modulo a prime so that sums, and sums times a count, stay
    far from any integer overflow. -#}
{% macro rows_checksum(columns) -%}
    {{ return(adapter.dispatch('rows_checksum', 'customer_health')(columns)) }}
{%- endmacro %}

{% macro default__rows_checksum(columns) -%}
    {{ exceptions.raise_compiler_error(
        "rows_checksum has no implementation for the " ~ target.type ~ " adapter: add a "
        ~ target.type ~ "__rows_checksum macro (a hash of the columns modulo 1000003)"
    ) }}
{%- endmacro %}

{% macro duckdb__rows_checksum(columns) -%}
    {#- hash() is an unsigned 64-bit integer on DuckDB -#}
    cast(hash({{ columns | join(', ') }}) % 1000003 as {{ dbt.type_bigint() }})
{%- endmacro %}

{% macro spark__rows_checksum(columns) -%}
    {#- hash() is a signed 32-bit murmur3 on Spark: pmod keeps it non-negative -#}
    cast(pmod(hash({{ columns | join(', ') }}), 1000003) as {{ dbt.type_bigint() }})
{%- endmacro %}
