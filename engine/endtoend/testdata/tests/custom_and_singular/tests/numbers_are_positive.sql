-- failing rows: non-positive numbers
select n from {{ ref "numbers" }} where n <= 0
