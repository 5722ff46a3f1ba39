select {{ var "regions" | toJson | literal }} as a
