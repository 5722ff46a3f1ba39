select id, id * 2 as doubled from {{ ref "e1" }}
