select {{ include "one" }} as id, {{ var "x" }} as x
