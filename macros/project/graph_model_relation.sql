{#- The relation of one of this project's models, from its node in dbt's graph, for a
    model, test or macro that must read it without ref(): ref() would add a dependency
    (a cycle, for a model reading the history it feeds; a test selected with staging)
    or make every unit test supply the model as an input. `read_by` names the reader
    in the error for a missing model. -#}
{% macro graph_model_relation(model_name, read_by) -%}
    {%- set node = graph.nodes.get('model.customer_health.' ~ model_name) -%}
    {%- if node is none -%}
        {{ exceptions.raise_compiler_error(
            read_by ~ " reads model " ~ model_name ~ ", which is not in the project "
            ~ "(disabled or renamed?): restore it"
        ) }}
    {%- endif -%}
    {{ return(api.Relation.create(
        database=node.database,
        schema=node.schema,
        identifier=node.alias,
    )) }}
{%- endmacro %}
