select * from {{ ref "shop" "b" }}
