select {{ literal target.shema }} as schema_name
