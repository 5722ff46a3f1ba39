{%- if is_incremental() %} where 1 = 1 {% endif %}
select 1 as a
