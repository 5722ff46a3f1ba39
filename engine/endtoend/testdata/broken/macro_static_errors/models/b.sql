select * from {{ include "from_var" }}, {{ include "two_refs" }}, {{ include "half_source" }}
