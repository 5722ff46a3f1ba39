select * from {{ ref "eph" }}
