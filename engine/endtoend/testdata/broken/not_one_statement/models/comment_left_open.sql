select 1 as id /* outer /* inner */ the outer one is still open
