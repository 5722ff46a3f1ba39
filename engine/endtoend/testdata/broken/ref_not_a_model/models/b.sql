select * from {{ ref "accounts" }}
union all select * from {{ ref "no_big_ids" }}
union all select * from {{ ref "report" }}
