
select 1 as click_id, now() as clicked_at

-- first build: every row

