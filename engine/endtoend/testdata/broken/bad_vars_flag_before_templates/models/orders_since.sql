select * from orders where order_day >= {{ literal (var "start_date") }}
