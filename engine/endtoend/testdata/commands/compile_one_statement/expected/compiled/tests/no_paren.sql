select * from "public"."lexemes" where semicolon = ')' ; -- no rows
