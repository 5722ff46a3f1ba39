select 1 as {{ ident "Order ID" }}, 2 as {{ ident "plain" }}, 3 as {{ ident "has\"quote" }}, 4 as {{ ident "über" }}
