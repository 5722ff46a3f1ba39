select {{ target.name | literal }} as name, {{ target.type | literal }} as type, {{ target.schema_prefix | literal }} as prefix
