package manifest

import (
	"slices"
	"sort"
	"strings"

	"strata/engine/diag"
	"strata/engine/materialize"
)

// appliesTo are the materializations each config key does something for
// (docs/models.md#config), of the keys that do nothing for some.
var appliesTo = map[string][]string{
	"indexes":              {"table", "incremental", "materialized_view", "scd2"},
	"partition_by":         {"table", "incremental"},
	"unique_key":           {"incremental", "scd2"},
	"incremental_strategy": {"incremental"},
	"on_schema_change":     {"incremental"},
	"swap":                 {"table"},
	"contract":             {"view", "table", "incremental", "materialized_view"},
	"strategy":             {"scd2"},
	"check_cols":           {"scd2"},
	"updated_at":           {"scd2"},
	"hard_deletes":         {"scd2"},
	"scd2_columns":         {"scd2"},
	"grants":               {"view", "table", "incremental", "materialized_view", "scd2"},
	"pre_hook":             {"view", "table", "incremental", "materialized_view", "scd2"},
	"post_hook":            {"view", "table", "incremental", "materialized_view", "scd2"},
	"audit":                {"view", "table", "incremental", "materialized_view", "scd2"},
}

// ConfigApplies says whether config key does something for a model
// materialized as materialized (a key that applies to every kind, or is
// not a model's config, does).
func ConfigApplies(key, materialized string) bool {
	kinds, ok := appliesTo[key]
	return !ok || slices.Contains(kinds, materialized)
}

// checkModelConfig reports config the model's kind cannot build with, at
// the key that set it, so that validate finds what run would refuse. own
// are the keys set for the model itself (its file or its YAML entry): one
// of them that does nothing for the model's materialization (indexes on a
// view, partition_by on a materialized view) is a warning, as it would
// otherwise be accepted and silently ignored. Folder defaults apply to
// models of every kind in the folder, and are not warned about.
func checkModelConfig(n *Node, own map[string]bool, diags *diag.List) {
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
	keys := make([]string, 0, len(own))
	for k := range own {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if ConfigApplies(k, c.Materialized) {
			continue
		}
		kinds := appliesTo[k]
		what := strings.Join(kinds, ", ")
		if i := strings.LastIndex(what, ", "); i >= 0 {
			what = what[:i] + " and " + what[i+2:]
		}
		diags.Warnf(at(k), "%s is ignored: model %s is materialized as %s, and %s applies only to %s models", k, n.Name, c.Materialized, k, what)
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
