package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"strata/engine/adapter/postgres"
	"strata/engine/check"
	"strata/engine/manifest"
	"strata/engine/pgname"
	"strata/engine/plan"
	"strata/engine/state"
)

// unselectedParents are the models and seeds that the build reads but
// does not select (the parents of the selected models, through ephemeral
// ones) and that are not what it expects them to be: missing (their
// relation does not exist: the build of their readers fails), stale
// (they, or an unselected model or seed above them, changed in the
// project since they were built, or they were never recorded) or changed
// by hand (their relation is not of the kind, or has not the columns,
// recorded when it was built). The build neither rebuilds nor checks
// them: it reads them as they are, so plan says so, one line each, in
// graph order. In an environment (env), a parent is read as the build
// defers to it: the environment's own build of it when that is of the
// project as it is now, else production's.
func (l *Project) unselectedParents(ctx context.Context, db *postgres.Adapter, selected map[string]bool, env string) ([]plan.Parent, error) {
	parents := l.runParents()
	builds := func(n *manifest.Node) bool {
		return (n.Kind == manifest.Model || n.Kind == manifest.Seed) && !n.Ephemeral()
	}
	readers := map[string][]string{}
	var order []string
	for _, id := range l.Graph.Order(nil) {
		n := l.Manifest.Nodes[id]
		if !selected[id] || n.Kind != manifest.Model || n.Ephemeral() {
			continue
		}
		for _, p := range parents(id) {
			if pn := l.Manifest.Nodes[p]; selected[p] || !builds(pn) {
				continue
			}
			if readers[p] == nil {
				order = append(order, p)
			}
			readers[p] = append(readers[p], n.Name)
		}
	}
	if len(order) == 0 {
		return nil, nil
	}
	own := map[string]*state.Node{}
	if env != "" {
		s := l.ProdScope()
		s.Env = env
		recs, err := state.Read(ctx, db.Shared(), s)
		if err != nil && !errors.Is(err, state.ErrMissing) {
			return nil, fmt.Errorf("reading strata_meta: %w", err)
		}
		if recs != nil {
			own = recs
		}
	}
	// current is the environment's own record of id when it is of the
	// project as it is now; read is the record the build reads.
	current := func(id string) *state.Node {
		if rec := own[id]; rec != nil && rec.Relation.Name != "" && !l.modifiedSince(l.Manifest.Nodes[id], rec) {
			return rec
		}
		return nil
	}
	read := func(id string) *state.Node {
		if rec := current(id); rec != nil {
			return rec
		}
		return l.prod[id]
	}
	// What the build reads of each parent: the relation its record names
	// (production's place when nothing is recorded, as a ref renders it
	// there), and, for an environment's own build of it, production's in
	// case the environment's was dropped (the build then defers to it).
	var rels []pgname.Rel
	for _, id := range order {
		rel := l.Manifest.Nodes[id].Relation
		if rec := read(id); rec != nil && rec.Relation.Name != "" {
			rel = rec.Relation
		}
		rels = append(rels, rel)
		if current(id) != nil && l.prod[id] != nil {
			rels = append(rels, l.prod[id].Relation)
		} else {
			rels = append(rels, rel)
		}
	}
	found, err := postgres.Relations(ctx, db.Shared(), rels)
	if err != nil {
		return nil, fmt.Errorf("reading the relations of the parents the build does not select: %w", err)
	}
	// staleFrom is the model or seed, id itself or one above it that the
	// build does not select either, that changed in the project since it
	// was built (or was never recorded); "" when there is none.
	memo := map[string]string{}
	var staleFrom func(id string) string
	staleFrom = func(id string) string {
		if s, ok := memo[id]; ok {
			return s
		}
		memo[id] = ""
		n := l.Manifest.Nodes[id]
		from := ""
		if n.Kind == manifest.Model || n.Kind == manifest.Seed {
			if rec := read(id); rec == nil || l.modifiedSince(n, rec) {
				from = id
			}
		}
		for _, p := range l.Graph.Parents(id) {
			if from != "" {
				break
			}
			if !selected[p] {
				from = staleFrom(p)
			}
		}
		memo[id] = from
		return from
	}
	where := "production"
	if env != "" {
		where = "environment " + env
	}
	var out []plan.Parent
	for i, id := range order {
		n := l.Manifest.Nodes[id]
		rec, rel, is := read(id), rels[2*i], found[2*i]
		builtBy := "production"
		if current(id) != nil {
			builtBy = where
			if is.Kind == "" && l.prod[id] != nil {
				// Dropped from the environment: production's is read.
				rec, rel, is, builtBy = l.prod[id], rels[2*i+1], found[2*i+1], "production"
			}
		}
		par := plan.Parent{Model: l.planModel(n, ""), ReadBy: readers[id]}
		par.Relation = rel.String()
		var says []string
		switch {
		case rec == nil && env != "":
			par.Why = append(par.Why, "missing")
			says = append(says, "missing: production has no record of it, and the build in "+where+" defers to production what it does not build, so it stops before anything runs")
		case is.Kind == "":
			par.Why = append(par.Why, "missing")
			if env != "" {
				says = append(says, fmt.Sprintf("missing: %s does not exist, and the build in %s defers to production what it does not build, so it stops before anything runs", rel, where))
			} else {
				says = append(says, fmt.Sprintf("missing: %s does not exist, so the build of %s fails", rel, strings.Join(readers[id], ", ")))
			}
		default:
			if rec != nil {
				if hand := changedByHand(rec, rel, is, builtBy); hand != "" {
					par.Why = append(par.Why, "changed_by_hand")
					says = append(says, "changed by hand: "+hand)
				}
			}
			switch from := staleFrom(id); {
			case from == "":
			case from == id && rec == nil:
				par.Why = append(par.Why, "stale")
				says = append(says, fmt.Sprintf("stale: production has no record of it (new in the project, or built outside strata), and the build reads %s as it is", rel))
			case from == id:
				par.Why = append(par.Why, "stale")
				says = append(says, fmt.Sprintf("stale: its %s changed since %s built it, and the build reads %s as %s built it", strings.Join(l.changedWhat(n, rec), ", "), builtBy, rel, builtBy))
			default:
				up := l.Manifest.Nodes[from]
				var what string
				if r := read(from); r == nil {
					what = "has no record of its build"
				} else {
					what = "changed (" + strings.Join(l.changedWhat(up, r), ", ") + ") since it was built"
				}
				par.Why = append(par.Why, "stale")
				says = append(says, fmt.Sprintf("stale: %s %s, which it reads and which is not selected either, %s, and the build reads %s as it is", up.Kind, up.Name, what, rel))
			}
		}
		if len(says) == 0 {
			continue
		}
		fix := fmt.Sprintf("select %s too to build it as the project has it, or build it first", n.Name)
		if from := staleFrom(id); from != "" && from != id && is.Kind != "" {
			fix = fmt.Sprintf("select %s and %s too to build them as the project has them, or build them first", l.Manifest.Nodes[from].Name, n.Name)
		}
		par.Says = strings.Join(says, "; ") + "; " + fix
		out = append(out, par)
	}
	return out, nil
}

// changedByHand says how relation rel, as it is, differs from what rec
// recorded of it when builtBy ("production", "environment e") built it:
// another kind, or other columns; "" when it does not.
func changedByHand(rec *state.Node, rel pgname.Rel, is postgres.Relation, builtBy string) string {
	want := map[string][]string{"view": {"view"}, "materialized_view": {"materialized_view"}}[rec.Materialized]
	if want == nil {
		want = []string{"table", "partitioned_table"}
	}
	if !slices.Contains(want, is.Kind) {
		return fmt.Sprintf("%s is a %s, but %s built a %s", rel, strings.ReplaceAll(is.Kind, "_", " "), builtBy, strings.ReplaceAll(want[0], "_", " "))
	}
	if len(rec.Columns) == 0 {
		return ""
	}
	now := make([]check.Column, len(is.Columns))
	for i, c := range is.Columns {
		now[i] = check.Column{Name: c.Name, Type: c.Type}
	}
	if cs := columnChanges(rec.Columns, now); !cs.Empty() {
		return fmt.Sprintf("%s has other columns than %s recorded when it built it (%s)", rel, builtBy, cs.Text())
	}
	return ""
}

// changedWhat is what changed in n since rec recorded it, in plan's
// words: "sql" (or a seed's "data"), "config", "vars", "env_vars".
func (l *Project) changedWhat(n *manifest.Node, rec *state.Node) []string {
	an := l.NodeArtifact(n)
	var why []string
	if an.Checksum != rec.Checksum {
		why = append(why, map[bool]string{true: "data", false: "sql"}[n.Kind == manifest.Seed])
	}
	if an.ConfigSum != rec.ConfigSum {
		why = append(why, "config")
	}
	if !sameMap(an.Vars, rec.Vars) {
		why = append(why, "vars")
	}
	if !sameMap(an.EnvVars, rec.EnvVars) {
		why = append(why, "env_vars")
	}
	return why
}
