select r.amount - c.amount as margin from "marts"."revenue" as r, "marts"."costs" as c
