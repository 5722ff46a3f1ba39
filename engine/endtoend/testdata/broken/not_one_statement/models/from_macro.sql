select greatest({{ include "cutoff" . }}, 2) as n
