-- A name given to ref without its quotes, as a newcomer writes it: Go
-- templates read it as a function. The message says to quote it.
select * from {{ ref orders }}
