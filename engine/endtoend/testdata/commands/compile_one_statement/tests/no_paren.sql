select * from {{ ref "lexemes" }} where semicolon = ')' ; -- no rows
