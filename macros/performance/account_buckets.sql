{#- Building a large model in account buckets, one statement per bucket (DuckDB).
    A model of per-account rows reads its account inputs through
    in_account_bucket(<account column>) and sets
    materialized=account_bucketed_materialization(). With var account_buckets = N > 1,
    DuckDB creates the table from the first range of account_id and inserts the other
    N - 1 ranges in turn: each statement holds one bucket's rows in memory, where one
    statement over every account spills the rest to disk (the trailing windows at L
    spilled more than 54 GB). Other engines build a plain table: Spark shuffles by
    account on its own.
    Buckets are ranges of account_id (the usable accounts' ntiles, account_bucket_bounds),
    not hashes: a table built in buckets is then stored range after range, and DuckDB's
    zone maps (each row group's smallest and largest account_id) let the next bucketed
    model read only its own range's row groups. With hash(account_id) % N each
    statement read and hashed every row of its inputs: at L, 20 buckets made these
    models take 11-18 times their M time for 10 times the data. -#}

{#- What the filter renders until the materialization sets the bucket: a predicate
    that holds for every row, naming the column, so the SQL stays valid and
    unfiltered where it is not built in buckets (unit tests, N = 1). -#}
{% macro account_bucket_marker(account_column) -%}
    {{ return('(true /* account bucket: ' ~ account_column ~ ' */)') }}
{%- endmacro %}

{% macro in_account_bucket(account_column) -%}
    {{ return(adapter.dispatch('in_account_bucket', 'customer_health')(account_column)) }}
{%- endmacro %}

{% macro default__in_account_bucket(account_column) -%}
    true
{%- endmacro %}

{% macro duckdb__in_account_bucket(account_column) -%}
    {%- if account_bucket_count() > 1 -%}
        {{ account_bucket_marker(account_column) }}
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

{#- The lower bound of each bucket: the first account_id of each of `buckets` ntiles of
    the usable accounts, in ascending order (fewer when there are fewer accounts). An
    account_id outside them still falls in exactly one bucket: the first runs from
    below every bound (and holds null ids), the last to above every bound.
    The accounts are read from base_crm__accounts_parsed (graph_model_relation).
    Every bucketed model descends from it through the product events, so a build
    has written it before. -#}
{% macro account_bucket_bounds(buckets) -%}
    {%- set accounts = graph_model_relation(
        'base_crm__accounts_parsed', 'account buckets (var account_buckets > 1)'
    ) -%}
    {%- set bounds_query -%}
        select min(account_id) as lower_bound
        from (
            select
                account_id,
                ntile({{ buckets }}) over (order by account_id) as bucket
            from {{ accounts }}
            where reject_reason is null and account_id is not null
        ) as ranked
        group by bucket
        order by lower_bound
    {%- endset -%}
    {{ return(run_query(bounds_query).columns[0].values() | list) }}
{%- endmacro %}

{#- The buckets of this run: var account_buckets when the run scores the whole history
    (the first build, or history_rebuild), else as many as the run's share of the
    history's dates asks for, rounded up: a model's rows grow with the dates it scores,
    and a daily run scoring 4 dates of 366 in the 100 buckets of a year (L) ran 100
    statements that each re-read the inputs stored unbucketed (user-days, tickets):
    the L daily run took 626 s with the windows 134 s, against 86 s in 20 buckets.
    The dates are read from int_score_dates_spined and the recorded history from
    fct_health_score_history (graph_model_relation). -#}
{% macro account_bucket_count_for_run(buckets) -%}
    {%- if buckets == 1 or var('history_rebuild') -%}
        {{ return(buckets) }}
    {%- endif -%}
    {%- set reader = 'account buckets (var account_buckets > 1)' -%}
    {%- set history = load_cached_relation(
        graph_model_relation('fct_health_score_history', reader)
    ) -%}
    {%- if history is none -%}
        {{ return(buckets) }}
    {%- endif -%}
    {%- set score_dates = graph_model_relation('int_score_dates_spined', reader) -%}
    {%- set dates_query -%}
        select
            (select count(*) from {{ score_dates }}) as run_dates,
            (select count(distinct score_date) from {{ history }}) as recorded_dates
    {%- endset -%}
    {%- set counts = run_query(dates_query).rows[0] -%}
    {%- set run_dates = counts[0] | int -%}
    {%- set history_dates = [counts[1] | int, run_dates, 1] | max -%}
    {%- set run_buckets = [(buckets * run_dates / history_dates) | round(0, 'ceil') | int, 1] | max -%}
    {%- do log(
        model.name ~ ": " ~ run_buckets ~ " account bucket(s) of " ~ buckets ~ " for "
        ~ run_dates ~ " score date(s) of " ~ history_dates,
        info=true
    ) -%}
    {{ return(run_buckets) }}
{%- endmacro %}

{#- The account columns the compiled SQL filters with in_account_bucket, once each. -#}
{% macro account_bucket_columns(compiled_sql) -%}
    {{ return(modules.re.findall(
        '\\(true /\\* account bucket: (.+?) \\*/\\)', compiled_sql
    ) | unique | list) }}
{%- endmacro %}

{#- A bucket bound (an account_id) as a SQL string literal, its quotes doubled. -#}
{% macro account_bound_literal(bound) -%}
    {{ return(dbt.string_literal(bound | replace("'", "''"))) }}
{%- endmacro %}

{#- The model's compiled SQL with its bucket filters set to bucket `bucket` (0-based)
    of the ranges starting at `bounds`. -#}
{% macro account_bucket_sql(compiled_sql, bucket, bounds) -%}
    {%- set buckets = bounds | length -%}
    {%- set bucket_sql = namespace(text=compiled_sql) -%}
    {%- for column in account_bucket_columns(compiled_sql) -%}
        {%- set conditions = [] -%}
        {%- if bucket > 0 -%}
            {%- do conditions.append(column ~ ' >= ' ~ account_bound_literal(bounds[bucket])) -%}
        {%- endif -%}
        {%- if bucket < buckets - 1 -%}
            {%- do conditions.append(column ~ ' < ' ~ account_bound_literal(bounds[bucket + 1])) -%}
        {%- endif -%}
        {%- set predicate = conditions | join(' and ') if conditions else 'true' -%}
        {%- if bucket == 0 -%}
            {%- set predicate = predicate ~ ' or ' ~ column ~ ' is null' -%}
        {%- endif -%}
        {%- set bucket_sql.text = bucket_sql.text.replace(
            account_bucket_marker(column),
            '(' ~ predicate ~ ' /* account bucket ' ~ (bucket + 1) ~ ' of ' ~ buckets ~ ' */)'
        ) -%}
    {%- endfor -%}
    {{ return(bucket_sql.text) }}
{%- endmacro %}

{#- The rows a bucket's statement wrote: DuckDB answers create table as and insert
    with their row count; 0 if the answer holds none. -#}
{% macro account_bucket_rows(statement_name) -%}
    {%- set result = load_result(statement_name) -%}
    {%- set rows = result.table.rows if result and result.table else [] -%}
    {%- set count = rows[0][0] if rows | length == 1 and rows[0] | length == 1 else none -%}
    {{ return(count | int if count is number else 0) }}
{%- endmacro %}

{#- Seconds per million rows of some buckets, to two decimals; n/a over no rows. -#}
{% macro account_bucket_rate(bucket_seconds, bucket_rows) -%}
    {%- set rows = bucket_rows | sum -%}
    {{ return('%.2f' | format((bucket_seconds | sum) * 1000000 / rows) if rows > 0 else 'n/a') }}
{%- endmacro %}

{#- One line for dbt's log on how a model's buckets took their time, per million
    rows written, over all buckets and over the first and the last tenth: buckets are
    ntiles of accounts, not of rows (the accounts signed up last have the shortest
    history), so seconds alone would mistake small buckets for fast ones. A last
    tenth much slower per row than the first points at a cost that grows with the
    table or the process (or at a fixed cost per statement, when its buckets are
    small); a slow bucket among equals, at skewed accounts. Parsed by the benchmark
    (scripts/benchmark/dbt_build.py). -#}
{% macro account_bucket_timing_line(model_name, bucket_seconds, bucket_rows) -%}
    {%- set count = bucket_seconds | length -%}
    {%- set tenth = [count // 10, 1] | max -%}
    {%- set slowest = bucket_seconds | max -%}
    {%- set slowest_index = bucket_seconds.index(slowest) -%}
    {{ return(
        model_name ~ ": " ~ count ~ " account buckets, " ~ bucket_rows | sum ~ " rows in "
        ~ '%.1f' | format(bucket_seconds | sum) ~ " s; seconds per million rows: all "
        ~ account_bucket_rate(bucket_seconds, bucket_rows)
        ~ ", first " ~ tenth ~ " " ~ account_bucket_rate(bucket_seconds[:tenth], bucket_rows[:tenth])
        ~ ", last " ~ tenth ~ " " ~ account_bucket_rate(bucket_seconds[-tenth:], bucket_rows[-tenth:])
        ~ "; slowest bucket " ~ (slowest_index + 1) ~ ": " ~ '%.2f' | format(slowest)
        ~ " s for " ~ bucket_rows[slowest_index] ~ " rows"
    ) }}
{%- endmacro %}

{#- The body of both materializations: the table built in buckets under a new name,
    then swapped in for the existing relation (as dbt-duckdb's table does). -#}
{% macro account_bucketed_build() -%}
    {%- set buckets = account_bucket_count() -%}
    {%- if buckets > 1 and not account_bucket_columns(compiled_code) -%}
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

    {%- set buckets = account_bucket_count_for_run(buckets) -%}
    {%- set bounds = account_bucket_bounds(buckets) if buckets > 1 else [] -%}
    {%- if bounds | length < 2 -%}
        {%- set bounds = [none] -%}
    {%- endif -%}

    {%- set bucket_seconds = [] -%}
    {%- set bucket_rows = [] -%}
    {%- set started = modules.datetime.datetime.now() -%}
    {#- create_table_as enforces a model contract on the first bucket's columns -#}
    {% call statement('main', fetch_result=True) -%}
        {{ create_table_as(False, intermediate_relation, account_bucket_sql(compiled_code, 0, bounds)) }}
    {%- endcall %}
    {%- do bucket_seconds.append((modules.datetime.datetime.now() - started).total_seconds()) -%}
    {%- do bucket_rows.append(account_bucket_rows('main')) -%}
    {#- Each bucket is committed on its own: DuckDB then writes its rows to the file
        instead of keeping a growing transaction's rows in memory. A bucket's time
        includes the commit of the one before. -#}
    {% for bucket in range(1, bounds | length) %}
        {%- set started = modules.datetime.datetime.now() -%}
        {% do adapter.commit() %}
        {% call statement('bucket_' ~ bucket, fetch_result=True) -%}
            insert into {{ intermediate_relation }} by name
            select * from (
                {{ account_bucket_sql(compiled_code, bucket, bounds) }}
            )
        {%- endcall %}
        {%- do bucket_seconds.append((modules.datetime.datetime.now() - started).total_seconds()) -%}
        {%- do bucket_rows.append(account_bucket_rows('bucket_' ~ bucket)) -%}
    {% endfor %}
    {%- if bucket_seconds | length > 1 -%}
        {%- do log(account_bucket_timing_line(model.name, bucket_seconds, bucket_rows), info=true) -%}
    {%- endif -%}

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
