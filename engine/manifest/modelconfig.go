package manifest

import (
	"strata/engine/diag"
	"strata/engine/materialize"
)

// checkModelConfig reports config the model's kind cannot build with, at
// the key that set it, so that validate finds what run would refuse.
func checkModelConfig(n *Node, diags *diag.List) {
	c := n.Config
	if !c.Enabled {
		return
	}
	at := func(key string) diag.Pos {
		if p, ok := n.ConfigPos[key]; ok {
			return p
		}
		return n.Pos
	}
	switch c.Materialized {
	case "incremental":
		if _, err := materialize.Strategy(c); err != nil {
			diags.Errorf(at("incremental_strategy"), "%v", err)
		}
	case "scd2":
		if len(c.UniqueKey) == 0 {
			diags.Errorf(at("materialized"), "an scd2 model needs unique_key (the column or columns that identify a row of the source)")
		}
		switch {
		case c.Strategy == "timestamp" && c.UpdatedAt == "":
			diags.Errorf(at("strategy"), "strategy: timestamp needs updated_at (the column that says when a row last changed)")
		case c.Strategy == "timestamp" && len(c.CheckCols) > 0:
			diags.Errorf(at("check_cols"), "check_cols is for strategy: check; strategy: timestamp versions a row when updated_at moves")
		}
	}
}
