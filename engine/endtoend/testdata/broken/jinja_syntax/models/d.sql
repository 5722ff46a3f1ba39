select {{ var "days", 3 }}
