select {{ include "cent" "x" }} as y
