{#- Building a large model in account buckets, one statement per bucket (DuckDB).
    A model of per-account rows reads its account inputs through
    in_account_bucket(<account column>) and sets
    materialized=account_bucketed_materialization(). With var account_buckets = N > 1,
    DuckDB creates the table from the accounts whose hash falls in bucket 0 and
    inserts buckets 1 to N - 1 in turn: each statement holds one bucket's rows in
    memory, where one statement over every account spills the rest to disk (the
    trailing windows at L spilled more than 54 GB). Other engines build a plain
    table: Spark shuffles by account on its own. -#}

{#- The text the bucket filter carries until the materialization numbers it: a
    predicate that holds for every row ((h % 1 + 1) % 1 < 1), so the model's SQL
    stays valid and unfiltered where it is not built in buckets (unit tests, N = 1).
    Bucket b of N is (h % N + N - b) % N < 1: the same rows as h % N = b, but an
    equality on a hash made DuckDB estimate a few hundred rows per input and build
    its hash tables on the large sides of the joins (a bucket of half the accounts
    of fct_metric_contribution_changes at M took 19.8 s, the whole 17.9 s; with the
    inequality 7.8 s). -#}
{% macro account_bucket_marker() -%}
    {{ return('% 1 + 1) % 1 < 1 /* account bucket */') }}
{%- endmacro %}

{% macro in_account_bucket(account_column) -%}
    {{ return(adapter.dispatch('in_account_bucket', 'customer_health')(account_column)) }}
{%- endmacro %}

{% macro default__in_account_bucket(account_column) -%}
    true
{%- endmacro %}

{% macro duckdb__in_account_bucket(account_column) -%}
    {%- if account_bucket_count() > 1 -%}
        ((hash({{ account_column }}) {{ account_bucket_marker() }})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{% macro account_bucket_count() -%}
    {%- set buckets = var('account_buckets', 1) -%}
    {%- if buckets is not number or buckets < 1 or buckets != buckets | int -%}
        {{ exceptions.raise_compiler_error(
            "var account_buckets must be a whole number of at least 1 (dbt_project.yml or "
            ~ "--vars), got '" ~ buckets ~ "'"
        ) }}
    {%- endif -%}
    {{ return(buckets | int) }}
{%- endmacro %}

{#- The materialization of a model built in buckets: account_bucketed_table (or
    account_bucketed_incremental) on DuckDB, table (incremental) elsewhere. -#}
{% macro account_bucketed_materialization(materialization='table') -%}
    {{ return(adapter.dispatch('account_bucketed_materialization', 'customer_health')(materialization)) }}
{%- endmacro %}

{% macro default__account_bucketed_materialization(materialization) -%}
    {{ return(materialization) }}
{%- endmacro %}

{% macro duckdb__account_bucketed_materialization(materialization) -%}
    {{ return('account_bucketed_' ~ materialization) }}
{%- endmacro %}

{#- The model's compiled SQL with its bucket filters set to one bucket of N. -#}
{% macro account_bucket_sql(compiled_sql, bucket, buckets) -%}
    {{ return(compiled_sql.replace(
        account_bucket_marker(),
        '% ' ~ buckets ~ ' + ' ~ (buckets - bucket) ~ ') % ' ~ buckets
        ~ ' < 1 /* account bucket ' ~ (bucket + 1) ~ ' of ' ~ buckets ~ ' */'
    )) }}
{%- endmacro %}

{#- The body of both materializations: the table built in buckets under a new name,
    then swapped in for the existing relation (as dbt-duckdb's table does). -#}
{% macro account_bucketed_build() -%}
    {%- set buckets = account_bucket_count() -%}
    {%- if buckets > 1 and account_bucket_marker() not in compiled_code -%}
        {#- Without a filter every statement would insert every row again. -#}
        {{ exceptions.raise_compiler_error(
            "model " ~ model.name ~ " is materialized in account buckets but reads no input "
            ~ "through in_account_bucket(<account column>): filter each per-account input "
            ~ "with it, or materialize the model as a table"
        ) }}
    {%- endif -%}

    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set intermediate_relation = make_intermediate_relation(target_relation) -%}
    {%- set preexisting_intermediate_relation = load_cached_relation(intermediate_relation) -%}
    {%- set backup_relation_type = 'table' if existing_relation is none else existing_relation.type -%}
    {%- set backup_relation = make_backup_relation(target_relation, backup_relation_type) -%}
    {%- set preexisting_backup_relation = load_cached_relation(backup_relation) -%}

    {{ drop_relation_if_exists(preexisting_intermediate_relation) }}
    {{ drop_relation_if_exists(preexisting_backup_relation) }}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {#- create_table_as enforces a model contract on the first bucket's columns -#}
    {% call statement('main') -%}
        {{ create_table_as(False, intermediate_relation, account_bucket_sql(compiled_code, 0, buckets)) }}
    {%- endcall %}
    {#- Each bucket is committed on its own: DuckDB then writes its rows to the file
        instead of keeping a growing transaction's rows in memory. -#}
    {% for bucket in range(1, buckets) %}
        {% do adapter.commit() %}
        {% call statement('bucket_' ~ bucket) -%}
            insert into {{ intermediate_relation }} by name
            select * from (
                {{ account_bucket_sql(compiled_code, bucket, buckets) }}
            )
        {%- endcall %}
    {% endfor %}

    {% if existing_relation is not none %}
        {{ adapter.rename_relation(existing_relation, backup_relation) }}
    {% endif %}
    {{ adapter.rename_relation(intermediate_relation, target_relation) }}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {% do persist_docs(target_relation, model) %}
    {{ adapter.commit() }}
    {{ drop_relation_if_exists(backup_relation) }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}
{%- endmacro %}

{% materialization account_bucketed_table, adapter='duckdb' %}
    {{ return(account_bucketed_build()) }}
{% endmaterialization %}

{#- An incremental model whose first build (or full refresh) is built in buckets; its
    later runs are dbt-duckdb's incremental ones (a few dates, one statement). The
    model's SQL must not branch on is_incremental(): dbt answers it for
    materialized='incremental' only, so here it would always be false. -#}
{% materialization account_bucketed_incremental, adapter='duckdb' %}
    {%- if 'is_incremental()' in model.raw_code -%}
        {{ exceptions.raise_compiler_error(
            "model " ~ model.name ~ " uses is_incremental(), which is always false under "
            ~ "materialized account_bucketed_incremental: materialize it as incremental"
        ) }}
    {%- endif -%}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- if existing_relation is not none and existing_relation.is_table and not should_full_refresh() -%}
        {{ return(materialization_incremental_duckdb()) }}
    {%- endif -%}
    {{ return(account_bucketed_build()) }}
{% endmaterialization %}

{#- An `order by` for a large table's rows on DuckDB, where each row group stores a
    column's run of similar values in a few bits (a metric's value next to its value
    the day before). Other engines write no sorted copy: nothing. -#}
{% macro order_for_storage(columns) -%}
    {{ return(adapter.dispatch('order_for_storage', 'customer_health')(columns)) }}
{%- endmacro %}

{% macro default__order_for_storage(columns) -%}
{%- endmacro %}

{% macro duckdb__order_for_storage(columns) -%}
    order by {{ columns | join(', ') }}
{%- endmacro %}
