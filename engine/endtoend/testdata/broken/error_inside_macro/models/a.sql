select 1
where {{ include "since" }}
