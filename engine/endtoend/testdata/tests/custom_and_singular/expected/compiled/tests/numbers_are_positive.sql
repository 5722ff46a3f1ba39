-- failing rows: non-positive numbers
select n from "public"."numbers" where n <= 0
