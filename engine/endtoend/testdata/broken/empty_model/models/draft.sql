-- orders by day, to be written
/* select * from orders group by 1 */
