package run

import (
	"context"
	"slices"
	"sync"

	"strata/engine/pgname"

	"strata/engine/adapter/postgres"
	"strata/engine/manifest"
)

// catalog is what the run knows about the relations in the schemas its
// models are built in: read once when the first model is built, then kept up
// to date as models are built, so a model costs no catalog round trips.
//
// It can be stale only where someone else changes the database during the
// run; every decision taken from it fails safe: create or replace on a relation
// that turned out not to be a view, or a drop without cascade of a relation
// that turned out to have dependents, is refused by PostgreSQL in a
// transaction that then rolls back, and the build takes the path that reads
// the catalog itself.
type catalog struct {
	mu                sync.Mutex
	schemas           map[string]bool
	rels              map[pgname.Rel]relState
	defaultPrivileges bool
}

// relState is a relation as the catalog knows it. known=false: it changed
// during the run in ways not tracked here, so ask the database.
type relState struct {
	postgres.RelInfo
	exists, known bool
}

func (c *catalog) get(r pgname.Rel) relState {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.schemas[r.Schema] {
		return relState{}
	}
	s, ok := c.rels[r]
	if !ok {
		return relState{known: true}
	}
	return s
}

func (c *catalog) set(r pgname.Rel, s relState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rels[r] = s
}

// built records that r is now a relation of kind built by strata; what else
// it holds (privileges, comment) is left for the database to say.
func (c *catalog) built(r pgname.Rel, kind string) {
	c.set(r, relState{RelInfo: postgres.RelInfo{Kind: kind}, exists: true})
}

// gone records that r no longer exists.
func (c *catalog) gone(r pgname.Rel) { c.set(r, relState{known: true}) }

// readBy records that a view now reads r.
func (c *catalog) readBy(r pgname.Rel) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.rels[r]; ok {
		s.HasDependents = true
		c.rels[r] = s
	}
}

// catalog returns the run's snapshot, reading it on first use (and again
// after a failed read).
func (e *Executor) catalog(ctx context.Context) (*catalog, error) {
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
	snap, err := postgres.Snapshot(ctx, e.DB.Pool, schemas)
	if err != nil {
		return nil, err
	}
	c := &catalog{schemas: seen, rels: map[pgname.Rel]relState{}, defaultPrivileges: snap.DefaultPrivileges}
	for r, info := range snap.Rels {
		c.rels[r] = relState{RelInfo: info, exists: true, known: true}
	}
	e.cat = c
	return c, nil
}
