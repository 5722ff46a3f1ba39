select {{ var "set_here" 1 }} as a,
  {{ var "not_set" 42 }} as b,
  {{ var "not_set_text" "fallback" | literal }} as c
