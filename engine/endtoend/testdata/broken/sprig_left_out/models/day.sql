select '{{ toDate "2006-01-02" "2024-01-31" }}' as day
