{#- SQL expression: a number from 0 to modulus - 1 computed from the given columns, for
    summing into a checksum of a set of rows (does this day still hold the same users?),
    or for spreading keys over that many buckets. Only compared with checksums computed
    by the same engine, so each engine may use its own hash function; reduced modulo a
    prime by default so that sums, and sums times a count, stay far from any integer
    overflow. -#}
{% macro rows_checksum(columns, modulus=1000003) -%}
    {{ return(adapter.dispatch('rows_checksum', 'customer_health')(columns, modulus)) }}
{%- endmacro %}

{% macro default__rows_checksum(columns, modulus) -%}
    {{ exceptions.raise_compiler_error(
        "rows_checksum has no implementation for the " ~ target.type ~ " adapter: add a "
        ~ target.type ~ "__rows_checksum macro (a hash of the columns modulo `modulus`)"
    ) }}
{%- endmacro %}

{% macro duckdb__rows_checksum(columns, modulus) -%}
    {#- hash() is an unsigned 64-bit integer on DuckDB -#}
    cast(hash({{ columns | join(', ') }}) % {{ modulus }} as {{ dbt.type_bigint() }})
{%- endmacro %}

{% macro spark__rows_checksum(columns, modulus) -%}
    {#- hash() is a signed 32-bit murmur3 on Spark: pmod keeps it non-negative -#}
    cast(pmod(hash({{ columns | join(', ') }}), {{ modulus }}) as {{ dbt.type_bigint() }})
{%- endmacro %}
