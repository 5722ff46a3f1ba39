{{ $n := "b1" }}select * from {{ ref $n }}
