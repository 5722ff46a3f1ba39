select id, doubled + 1 as odd from {{ ref "e2" }}
