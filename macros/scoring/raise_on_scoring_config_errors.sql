{#- Fails the model being built (and so `dbt build`) with every message listed in
    the config-errors relation, one per line, when there is any. Runs only at
    execution time, only once the relation exists (a fresh `dbt compile` has nothing
    to check yet), and not under --empty (every ref is empty then, the seeds too, so
    the config would look wrong). -#}
{% macro raise_on_scoring_config_errors(errors_relation) %}
    {%- if execute and not flags.EMPTY -%}
        {%- set existing = load_relation(errors_relation) -%}
        {%- if existing is not none -%}
            {%- set found = run_query(
                'select error_message from ' ~ existing
                ~ ' order by seed_path, error_message'
            ) -%}
            {%- set messages = found.columns[0].values() -%}
            {%- if messages | length > 0 -%}
                {{ exceptions.raise_compiler_error(
                    'Invalid scoring configuration (' ~ messages | length ~ ' error(s)); '
                    ~ 'nothing was scored:\n  ' ~ messages | join('\n  ')
                ) }}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
{% endmacro %}
