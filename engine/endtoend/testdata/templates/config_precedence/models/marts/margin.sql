{{ config "schema" "margins" }}select r.amount - c.amount as margin from {{ ref "revenue" }} as r, {{ ref "costs" }} as c
