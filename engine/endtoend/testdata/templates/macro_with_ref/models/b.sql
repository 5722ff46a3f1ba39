select {{ include "latest" (dict "rel" (ref "a")) }} as latest_id
