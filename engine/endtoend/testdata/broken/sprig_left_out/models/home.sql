select '{{ env "HOME" }}' as home
