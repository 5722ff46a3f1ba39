-- Row counts between stages: per seed, the raw rows, the distinct keys (so the duplicates) and the rows
-- that survive staging all equal what the generator recorded about the dirt it wrote
-- (seeds/generator_dirt.csv). A row returned here is a stage that lost or kept a row it should not have.
with actual as (
    select 'raw_customers' as seed_name,
           (select count(*) from "raw"."raw_customers") as raw_rows,
           (select count(*) from (select distinct customer_id from "raw"."raw_customers") as k) as distinct_keys,
           (select count(*) from "staging"."stg_customers") as rows_after_staging
    union all
    select 'raw_products',
           (select count(*) from "raw"."raw_products"),
           (select count(*) from (select distinct product_id from "raw"."raw_products") as k),
           (select count(*) from "staging"."stg_products")
    union all
    select 'raw_orders',
           (select count(*) from "raw"."raw_orders"),
           (select count(*) from (select distinct order_id from "raw"."raw_orders") as k),
           (select count(*) from "staging"."stg_orders")
    union all
    select 'raw_order_items',
           (select count(*) from "raw"."raw_order_items"),
           (select count(*) from (select distinct order_item_id from "raw"."raw_order_items") as k),
           (select count(*) from "staging"."stg_order_items")
    union all
    select 'raw_clickstream',
           (select count(*) from "raw"."raw_clickstream"),
           (select count(*) from (select distinct event_id from "raw"."raw_clickstream") as k),
           (select count(*) from "staging"."stg_clickstream")
    union all
    select 'raw_marketing_campaigns',
           (select count(*) from "raw"."raw_marketing_campaigns"),
           (select count(*) from (select distinct campaign_id from "raw"."raw_marketing_campaigns") as k),
           (select count(*) from "staging"."stg_marketing_campaigns")
    union all
    select 'raw_inventory',
           (select count(*) from "raw"."raw_inventory"),
           (select count(*) from (select distinct (snapshot_date, product_id, upper(trim(warehouse))) from "raw"."raw_inventory") as k),
           (select count(*) from "staging"."stg_inventory")
)
select
    coalesce(e.seed_name, a.seed_name) as seed_name,
    e.raw_rows as expected_raw_rows, a.raw_rows,
    e.distinct_keys as expected_distinct_keys, a.distinct_keys,
    e.rows_after_staging as expected_rows_after_staging, a.rows_after_staging
from "raw"."generator_dirt" as e
full join actual as a on a.seed_name = e.seed_name
where (e.raw_rows, e.distinct_keys, e.rows_after_staging)
      is distinct from (a.raw_rows, a.distinct_keys, a.rows_after_staging)
