select {{ env_var "HOME" "x" "y" | literal }} as c
