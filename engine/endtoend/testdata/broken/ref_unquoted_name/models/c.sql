select {{ var days }} as d
