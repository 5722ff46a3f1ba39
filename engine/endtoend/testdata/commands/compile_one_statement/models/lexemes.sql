{{ config "materialized" "table" }}
-- a comment may hold ; and ) and ' freely
/* block comments /* nest; ) */ as PostgreSQL reads them ( */
select
    ';' as semicolon,                    -- ; in a string
    'it''s (' as doubled_quote,
    E'\' ) ;' as escaped_quote,
    E'\\' as backslash,
    U&'d\0061t\+000061' as unicode_string,
    "a;b)" as "x(",
    U&"d\0061t" as unicode_ident,
    $$ ) ; ( $$ as dollar,
    $fn$ it's $$ ; ) $fn$ as tagged_dollar,
    '2024-01-01'::date as cast_to_date,
    (1 + (2)) * 3 as nested,
    {{ var "label" | literal }} as label
from (select 1 as "a;b)", 2 as "dat") as t;  -- the end of the statement
;
