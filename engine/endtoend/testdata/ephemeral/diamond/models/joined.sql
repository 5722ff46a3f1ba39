select l.id from {{ ref "left_side" }} as l join {{ ref "right_side" }} as r using (id)
