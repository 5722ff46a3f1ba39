select * from {{ this }} where false
