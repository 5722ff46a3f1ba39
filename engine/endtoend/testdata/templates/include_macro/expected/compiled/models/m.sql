select round(price * 100)::bigint as price_cents,
  round(cost * 100)::bigint, round(tax * 100)::bigint,
  ROUND(X * 100)::BIGINT as shouted
from (select 1.5 as price, 1 as cost, 0.2 as tax, 2 as x) as t
