select id from {{ (ref "m").identifier }}
