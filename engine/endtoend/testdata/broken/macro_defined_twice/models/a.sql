select {{ include "m" }}, {{ include "n" }}, {{ include "ref" "x" }}
