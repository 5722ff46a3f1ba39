{{ include "as_table" }}select 1 as id
