package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"strata/engine/pgname"
)

// RelInfo is what a run needs to know about an existing relation before it
// rebuilds it.
type RelInfo struct {
	Kind          string  // as RelKind returns it
	Privileges    []Grant // as Privileges returns them
	Comment       *string
	HasDependents bool // a view or materialized view reads it
	// Carry: a swap has more to carry over to its new version than its
	// privileges and comment (see Held): another owner than the user
	// strata connects as, row-level security, column comments.
	Carry bool
}

// Catalog is what a run knows about the relations in the schemas its
// models are built in: read once, when the first model is built, then kept
// up to date as models are built, so that a model costs no catalog round
// trips.
//
// It can be stale only where someone else changes the database during the
// run; every decision taken from it must fail safe: create or replace on a
// relation that turned out not to be a view, or a drop without cascade of a
// relation that turned out to have dependents, is refused by PostgreSQL in
// a transaction that then rolls back, and the build takes the path that
// reads the catalog itself.
type Catalog struct {
	mu      sync.Mutex
	schemas map[string]bool
	rels    map[pgname.Rel]RelState
}

// RelState is a relation as the catalog knows it. Known false: it is in a
// schema the catalog did not read, or it changed during the run in ways not
// tracked here, so ask the database.
type RelState struct {
	RelInfo
	Exists, Known bool
}

// Get returns what the catalog knows of r.
func (c *Catalog) Get(r pgname.Rel) RelState {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.schemas[r.Schema] {
		return RelState{}
	}
	s, ok := c.rels[r]
	if !ok {
		return RelState{Known: true}
	}
	return s
}

func (c *Catalog) set(r pgname.Rel, s RelState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rels[r] = s
}

// Forget records that r may have changed (a transaction that built it
// rolled back, so a leftover, if any, is still there).
func (c *Catalog) Forget(r pgname.Rel) { c.set(r, RelState{}) }

// Built records that r is now a relation of kind built by strata; what else
// it holds (privileges, comment) is left for the database to say.
func (c *Catalog) Built(r pgname.Rel, kind string) {
	c.set(r, RelState{RelInfo: RelInfo{Kind: kind}, Exists: true})
}

// Gone records that r no longer exists.
func (c *Catalog) Gone(r pgname.Rel) { c.set(r, RelState{Known: true}) }

// ReadBy records that a view now reads r.
func (c *Catalog) ReadBy(r pgname.Rel) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.rels[r]; ok {
		s.HasDependents = true
		c.rels[r] = s
	}
}

func kindOf(relkind string) string {
	switch relkind {
	case "r":
		return "table"
	case "v":
		return "view"
	case "m":
		return "materialized_view"
	case "p":
		return "partitioned_table"
	case "f":
		return "foreign_table"
	}
	return "other"
}

// ReadCatalog reads, in one query, every relation of schemas with its
// kind, privileges, comment, whether views depend on it and whether a swap
// has more to carry over.
func ReadCatalog(ctx context.Context, q Querier, schemas []string) (*Catalog, error) {
	rows, err := q.Query(ctx, `
select n.nspname, c.relname, c.relkind::text,
  coalesce((select json_agg(json_build_object('grantee', case when a.grantee = 0 then '-' else pg_get_userbyid(a.grantee) end,
                'privilege', a.privilege_type, 'grantable', a.is_grantable)
              order by case when a.grantee = 0 then '-' else pg_get_userbyid(a.grantee) end, a.privilege_type)
            from aclexplode(c.relacl) a where a.grantee <> c.relowner), '[]'),
  obj_description(c.oid, 'pg_class'),
  exists (select from pg_depend d join pg_rewrite r on r.oid = d.objid
          where d.classid = 'pg_rewrite'::regclass and d.refclassid = 'pg_class'::regclass
            and d.refobjid = c.oid and r.ev_class <> c.oid),
  c.relowner <> (select oid from pg_roles where rolname = current_user) or c.relrowsecurity or c.relforcerowsecurity
    or exists (select from pg_policy p where p.polrelid = c.oid)
    or exists (select from pg_description d where d.objoid = c.oid and d.classoid = 'pg_class'::regclass and d.objsubid > 0)
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where n.nspname = any($1) and c.relkind in ('r', 'v', 'm', 'p', 'f')`, Once, schemas)
	if err != nil {
		return nil, fmt.Errorf("reading the catalog: %w", err)
	}
	cat := &Catalog{schemas: map[string]bool{}, rels: map[pgname.Rel]RelState{}}
	for _, s := range schemas {
		cat.schemas[s] = true
	}
	for rows.Next() {
		var r pgname.Rel
		var kind string
		var privs []byte
		var info RelInfo
		if err := rows.Scan(&r.Schema, &r.Name, &kind, &privs, &info.Comment, &info.HasDependents, &info.Carry); err != nil {
			rows.Close()
			return nil, fmt.Errorf("reading the catalog: %w", err)
		}
		info.Kind = kindOf(kind)
		if err := json.Unmarshal(privs, &info.Privileges); err != nil {
			rows.Close()
			return nil, fmt.Errorf("reading the catalog: %w", err)
		}
		cat.rels[r] = RelState{RelInfo: info, Exists: true, Known: true}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the catalog: %w", err)
	}
	return cat, nil
}

// Scratch is a relation under a name strata builds with (pgname.Scratch),
// as the database has it now.
type Scratch struct {
	Rel  pgname.Rel
	Kind string
}

// OtherStrataSessions counts the sessions on q's database, other than
// q's, that strata opened (its application_name): a run going on, whose
// scratch relations are in use. Sessions of other roles count only where
// the role may see their application_name.
func OtherStrataSessions(ctx context.Context, q Querier) (int, error) {
	var n int
	err := q.QueryRow(ctx, `select count(*)::int from pg_stat_activity
		where application_name = 'strata' and pid <> pg_backend_pid() and datname = current_database()`).Scan(&n)
	return n, err
}

// ScratchRelations lists the relations of the database under the names
// strata builds its scratch relations with (a partition of one aside: it
// goes with its table). A build holds them only inside its transaction, so
// each one listed is stale (an older strata's, or another tool's).
func ScratchRelations(ctx context.Context, q Querier) ([]Scratch, error) {
	rows, err := q.Query(ctx, `select n.nspname, c.relname, c.relkind::text
		from pg_class c join pg_namespace n on n.oid = c.relnamespace
		where c.relkind in ('r', 'v', 'm', 'p', 'f') and not c.relispartition
		  and c.relname ~ '__strata_(new|src)$' and n.nspname !~ '^pg_'
		order by 1, 2`)
	if err != nil {
		return nil, err
	}
	var out []Scratch
	for rows.Next() {
		var s Scratch
		var kind string
		if err := rows.Scan(&s.Rel.Schema, &s.Rel.Name, &kind); err != nil {
			rows.Close()
			return nil, err
		}
		s.Kind = kindOf(kind)
		out = append(out, s)
	}
	return out, rows.Err()
}

// Relation is how a relation stands in the catalog: its kind (as RelKind
// names it; "" when it does not exist) and its columns, with their types
// as format_type prints them.
type Relation struct {
	Kind    string
	Columns []Column
}

// Relations reads the kind and columns of each of rels, in one query, in
// the order of rels.
func Relations(ctx context.Context, q Querier, rels []pgname.Rel) ([]Relation, error) {
	names := make([]string, len(rels))
	for i, r := range rels {
		names[i] = r.Quoted()
	}
	rows, err := q.Query(ctx, `select r.i - 1, coalesce(c.relkind::text, ''),
			coalesce((select jsonb_agg(jsonb_build_object('name', a.attname, 'type', format_type(a.atttypid, a.atttypmod)) order by a.attnum)
				from pg_attribute a where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped), '[]'::jsonb)
		from unnest($1::text[]) with ordinality as r(rel, i) left join pg_class c on c.oid = to_regclass(r.rel)`, names)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]Relation, len(rels))
	for rows.Next() {
		var i int
		var kind string
		var cols []byte
		if err := rows.Scan(&i, &kind, &cols); err != nil {
			return nil, err
		}
		var cs []struct{ Name, Type string }
		if err := json.Unmarshal(cols, &cs); err != nil {
			return nil, err
		}
		if kind != "" {
			out[i].Kind = kindOf(kind)
		}
		for _, c := range cs {
			out[i].Columns = append(out[i].Columns, Column{Name: c.Name, Type: c.Type})
		}
	}
	return out, rows.Err()
}
