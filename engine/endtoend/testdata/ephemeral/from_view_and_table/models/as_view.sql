select id from {{ ref "cleaned" }}
