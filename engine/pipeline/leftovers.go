package pipeline

import (
	"context"
	"fmt"

	"strata/engine/adapter/postgres"
	"strata/engine/diag"
	"strata/engine/manifest"
	"strata/engine/state"
)

// Leftovers are the warnings of a run (one a relation) about relations
// the target's state records strata built for a model or seed that it
// builds there no more and that are still in the database: the model
// was made ephemeral, disabled, removed (or renamed), or moved by its alias or
// schema. strata drops none of them (a reader outside the project may
// still need one), so their readers read the rows of their last build:
// each warning says so and how to drop it. One query per run, however
// many nodes. A run that records nothing (no state yet) warns of none.
func (l *Project) Leftovers(ctx context.Context, db *postgres.Adapter) ([]string, error) {
	_, rels := l.builtNodes()
	left, err := state.Leftovers(ctx, db.Shared(), l.Scope(), rels)
	if err != nil {
		return nil, fmt.Errorf("target %s: reading strata_meta: %w", l.Target.Name, err)
	}
	var out []string
	for _, lo := range left {
		var why, moved string
		switch n := l.Manifest.Nodes[lo.ID]; {
		case n == nil && l.Manifest.Disabled[lo.ID] != nil:
			d := l.Manifest.Disabled[lo.ID]
			why = fmt.Sprintf("%s %s, which is disabled (enabled: false at %s)", d.Kind, d.Name, setAt(d, "enabled"))
		case n == nil:
			why = fmt.Sprintf("%s %s, which is no longer in the project (a renamed one is removed and added)", lo.Kind, lo.Name)
			// This run records that the project builds it no more
			// (state.Leftovers): one moved to another project is that
			// project's from its next build, data and all, not to drop.
			moved = fmt.Sprintf("; if the %s moved to another project on this database, that project's next build takes it over instead", lo.Kind)
		case n.Ephemeral():
			why = fmt.Sprintf("model %s, which is now ephemeral (%s)", n.Name, setAt(n, "materialized"))
		default:
			why = fmt.Sprintf("%s %s, which is now built as %s (%s)", n.Kind, n.Name, n.Relation, setAt(n, "alias", "schema"))
		}
		readers := "its readers read the rows of its last build"
		if lo.DropKind == "view" {
			readers = "its readers read it as its last build defined it"
		}
		out = append(out, fmt.Sprintf("warning: %s %s was built for %s: strata neither builds nor drops it, and %s; once nothing reads it, drop it (drop %s %s)%s",
			lo.DropKind, lo.Relation, why, readers, lo.DropKind, lo.Relation.Quoted(), moved))
	}
	return out, nil
}

// setAt is where the first of keys set in n's config is set, or n's own
// place.
func setAt(n *manifest.Node, keys ...string) diag.Pos {
	for _, k := range keys {
		if at, ok := n.ConfigPos[k]; ok && at.File != "" {
			return at
		}
	}
	return n.Pos
}
