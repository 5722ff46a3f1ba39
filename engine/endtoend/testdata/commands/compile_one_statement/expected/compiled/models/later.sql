
select semicolon from "public"."lexemes"
;
