{# dbt macros copied as they are #}
{% macro cents(col) %}({{ col }} * 100){% endmacro %}

{% macro utc_now() %}now() at time zone 'utc'{% endmacro %}
