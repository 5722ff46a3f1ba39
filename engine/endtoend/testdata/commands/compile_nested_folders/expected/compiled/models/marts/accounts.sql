select * from "staging"."stg_accounts"
