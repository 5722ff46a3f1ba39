select *
from (select 1 as region_id) as r
where region_id = {{ (var "region_ids").nort }}
