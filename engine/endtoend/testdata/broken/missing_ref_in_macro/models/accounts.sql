select * from {{ include "missing_source" }}
