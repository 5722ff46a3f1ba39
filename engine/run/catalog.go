package run

import (
	"context"
	"slices"

	"strata/engine/adapter/postgres"
	"strata/engine/manifest"
	"strata/engine/materialize"
	"strata/engine/pgname"
)

// catalog returns what the run knows of the schemas its models are built
// in, reading it on first use (and again after a failed read).
func (e *Executor) catalog(ctx context.Context) (*postgres.Catalog, error) {
	e.catMu.Lock()
	defer e.catMu.Unlock()
	if e.cat != nil {
		return e.cat, nil
	}
	seen := map[string]bool{}
	for _, n := range e.M.Nodes {
		if n.Kind == manifest.Model {
			seen[n.Relation.Schema] = true
		}
	}
	schemas := make([]string, 0, len(seen))
	for s := range seen {
		schemas = append(schemas, s)
	}
	slices.Sort(schemas)
	c, err := postgres.ReadCatalog(ctx, e.DB.Shared(), schemas)
	if err != nil {
		return nil, err
	}
	e.cat = c
	return c, nil
}

// observe is what the run knows of a model's relation and its scratch
// relations before the build. Whether to build incrementally or refresh is
// decided on what is there now, not on what was there when the run started,
// so the kind of relation there is then asked of the database.
func (e *Executor) observe(ctx context.Context, cat *postgres.Catalog, n *manifest.Node) (materialize.Observed, error) {
	target := cat.Get(n.Relation)
	o := materialize.Observed{
		Existing: target.Kind,
		Target:   state(target),
		Temp:     state(cat.Get(n.Relation.In(pgname.Temp(n.Relation.Name)))),
	}
	for _, name := range pgname.Scratch(n.Relation.Name)[1:] {
		if s := cat.Get(n.Relation.In(name)); s.Known && s.Exists {
			o.Leftovers = append(o.Leftovers, materialize.Leftover{Rel: n.Relation.In(name), Kind: s.Kind})
		}
	}
	if mat := n.Config.Materialized; mat == "incremental" || mat == "materialized_view" || !target.Known {
		var err error
		if o.Existing, err = postgres.RelKind(ctx, e.DB.Shared(), n.Relation); err != nil {
			return o, err
		}
	}
	if o.Existing == "table" || o.Existing == "partitioned_table" {
		var err error
		if o.Placed, err = e.placed(ctx, e.DB.Shared(), n.Relation); err != nil {
			return o, err
		}
		if o.Placed != nil && n.Config.OnCitus() {
			d, err := e.distribution(ctx, n)
			if err != nil {
				return o, err
			}
			if d != nil {
				if o.With, err = colocatedWith(ctx, e.DB.Shared(), *d); err != nil {
					return o, err
				}
			}
		}
	}
	return o, nil
}

// state is what the catalog knows of a relation, as plans read it.
func state(s postgres.RelState) materialize.State {
	return materialize.State{Known: s.Known, Exists: s.Exists, Kind: s.Kind, Privileges: privileges(s.Privileges), Comment: s.Comment, HasDependents: s.HasDependents, Carry: s.Carry}
}
