package postgres

import (
	"context"
	"fmt"
	"strings"

	"strata/engine/pgname"

	"github.com/jackc/pgx/v5"
)

// Dependent is a view or materialized view that depends (directly or through
// other views) on a relation, captured so it can be recreated.
type Dependent struct {
	Rel      pgname.Rel
	Kind     string // "view" or "materialized_view"
	Def      string
	Owner    string
	Comment  *string
	Grants   []Grant
	Indexes  []string // index definitions of a materialized view
	Depth    int
	Options  []string // reloptions such as security_barrier=true
	ColNotes map[string]string
}

// Grant is one privilege held on a relation.
type Grant struct {
	Grantee   string
	Privilege string
	Grantable bool
}

// Dependents returns the views that depend on r, those nearest to r first,
// each after everything it depends on.
func Dependents(ctx context.Context, q Querier, r pgname.Rel) ([]Dependent, error) {
	rows, err := q.Query(ctx, `
with recursive deps(oid, depth) as (
  select r.ev_class, 1
  from pg_depend d join pg_rewrite r on r.oid = d.objid
  where d.classid = 'pg_rewrite'::regclass and d.refclassid = 'pg_class'::regclass
    and d.refobjid = (quote_ident($1) || '.' || quote_ident($2))::regclass and r.ev_class <> d.refobjid
  union
  select r.ev_class, deps.depth + 1
  from deps join pg_depend d on d.refobjid = deps.oid and d.refclassid = 'pg_class'::regclass
  join pg_rewrite r on r.oid = d.objid and d.classid = 'pg_rewrite'::regclass
  where r.ev_class <> deps.oid and deps.depth < 100
)
select n.nspname, c.relname, c.relkind::text, max(deps.depth), pg_get_viewdef(c.oid),
  pg_get_userbyid(c.relowner), obj_description(c.oid, 'pg_class'), coalesce(c.reloptions, '{}')
from deps join pg_class c on c.oid = deps.oid join pg_namespace n on n.oid = c.relnamespace
group by c.oid, n.nspname, c.relname, c.relkind
order by max(deps.depth), n.nspname, c.relname`, r.Schema, r.Name)
	if err != nil {
		return nil, err
	}
	var out []Dependent
	for rows.Next() {
		var d Dependent
		var kind string
		if err := rows.Scan(&d.Rel.Schema, &d.Rel.Name, &kind, &d.Depth, &d.Def, &d.Owner, &d.Comment, &d.Options); err != nil {
			rows.Close()
			return nil, err
		}
		d.Kind = map[string]string{"v": "view", "m": "materialized_view"}[kind]
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		d := &out[i]
		grows, err := q.Query(ctx, `select a.grantee::regrole::text, a.privilege_type, a.is_grantable
			from pg_class c, aclexplode(c.relacl) a
			where c.oid = (quote_ident($1) || '.' || quote_ident($2))::regclass and a.grantee <> c.relowner and a.grantee <> 0
			order by 1, 2`, d.Rel.Schema, d.Rel.Name)
		if err != nil {
			return nil, err
		}
		d.Grants, err = pgx.CollectRows(grows, func(row pgx.CollectableRow) (Grant, error) {
			var g Grant
			err := row.Scan(&g.Grantee, &g.Privilege, &g.Grantable)
			return g, err
		})
		if err != nil {
			return nil, err
		}
		if d.Kind == "materialized_view" {
			irows, err := q.Query(ctx, `select pg_get_indexdef(i.indexrelid) from pg_index i where i.indrelid = (quote_ident($1) || '.' || quote_ident($2))::regclass order by 1`, d.Rel.Schema, d.Rel.Name)
			if err != nil {
				return nil, err
			}
			d.Indexes, err = pgx.CollectRows(irows, pgx.RowTo[string])
			if err != nil {
				return nil, err
			}
		}
		crows, err := q.Query(ctx, `select a.attname, col_description(a.attrelid, a.attnum) from pg_attribute a
			where a.attrelid = (quote_ident($1) || '.' || quote_ident($2))::regclass and a.attnum > 0 and col_description(a.attrelid, a.attnum) is not null`, d.Rel.Schema, d.Rel.Name)
		if err != nil {
			return nil, err
		}
		d.ColNotes = map[string]string{}
		for crows.Next() {
			var n, c string
			if err := crows.Scan(&n, &c); err != nil {
				crows.Close()
				return nil, err
			}
			d.ColNotes[n] = c
		}
		if err := crows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Statements returns the SQL that recreates d from its definition, with its owner, comment and grants.
func (d Dependent) Statements() []string {
	var out []string
	kw := "view"
	if d.Kind == "materialized_view" {
		kw = "materialized view"
	}
	with := ""
	if len(d.Options) > 0 && d.Kind == "view" {
		with = " with (" + strings.Join(d.Options, ", ") + ")"
	}
	out = append(out, fmt.Sprintf("create %s %s%s as %s", kw, d.Rel.Quoted(), with, strings.TrimRight(strings.TrimSpace(d.Def), ";")))
	out = append(out, fmt.Sprintf("alter %s %s owner to %s", kw, d.Rel.Quoted(), pgname.Ident(d.Owner)))
	if d.Comment != nil {
		out = append(out, fmt.Sprintf("comment on %s %s is %s", kw, d.Rel.Quoted(), pgname.Literal(*d.Comment)))
	}
	for col, note := range d.ColNotes {
		out = append(out, fmt.Sprintf("comment on column %s.%s is %s", d.Rel.Quoted(), pgname.Ident(col), pgname.Literal(note)))
	}
	for _, g := range d.Grants {
		grantee := "public"
		if g.Grantee != "-" && g.Grantee != "" {
			grantee = pgname.Ident(g.Grantee)
		}
		s := fmt.Sprintf("grant %s on %s to %s", g.Privilege, d.Rel.Quoted(), grantee)
		if g.Grantable {
			s += " with grant option"
		}
		out = append(out, s)
	}
	out = append(out, d.Indexes...)
	return out
}

// DropStatement drops d alone (no cascade: what depends on it was dropped first).
func (d Dependent) DropStatement() string {
	if d.Kind == "materialized_view" {
		return "drop materialized view " + d.Rel.Quoted()
	}
	return "drop view " + d.Rel.Quoted()
}

// kindKeyword is the SQL keyword for a relation kind in alter/drop.
func kindKeyword(kind string) string {
	switch kind {
	case "view":
		return "view"
	case "materialized_view":
		return "materialized view"
	}
	return "table"
}

// Swap replaces target by the relation tmp inside tx: the dependents of the
// old relation are captured and dropped, tmp is renamed into place, the old
// relation dropped, and the dependents recreated from their definitions.
// If a dependent cannot be recreated (the new relation lacks a column it
// uses) the error names it, and the caller's rollback keeps everything as it was.
// managed lists dependents strata rebuilds itself later; they are still recreated
// here so that nothing is ever missing.
func Swap(ctx context.Context, tx pgx.Tx, target, tmp pgname.Rel, tmpKind string) error {
	return SwapLogged(ctx, tx, target, tmp, tmpKind, nil)
}

// SwapLogged is Swap that reports every statement it executes to log, so the
// caller can record them (target/run/).
func SwapLogged(ctx context.Context, tx pgx.Tx, target, tmp pgname.Rel, tmpKind string, log func(string)) error {
	exec := func(sql string) error {
		if log != nil {
			log(sql)
		}
		_, err := tx.Exec(ctx, sql)
		return err
	}
	oldKind, err := RelKind(ctx, tx, target)
	if err != nil {
		return err
	}
	var deps []Dependent
	if oldKind != "" {
		deps, err = Dependents(ctx, tx, target)
		if err != nil {
			return fmt.Errorf("reading the views that depend on %s: %w", target, err)
		}
		for i := len(deps) - 1; i >= 0; i-- {
			if err := exec(deps[i].DropStatement()); err != nil {
				return fmt.Errorf("dropping dependent %s: %w", deps[i].Rel, err)
			}
		}
		if err := exec(fmt.Sprintf("drop %s %s", kindKeyword(oldKind), target.Quoted())); err != nil {
			return fmt.Errorf("dropping the old %s: %w", target, err)
		}
	}
	if err := exec(fmt.Sprintf("alter %s %s rename to %s", kindKeyword(tmpKind), tmp.Quoted(), pgname.Ident(target.Name))); err != nil {
		return fmt.Errorf("renaming %s into place: %w", tmp, err)
	}
	for _, d := range deps {
		for _, stmt := range d.Statements() {
			if err := exec(stmt); err != nil {
				return &DependentError{View: d.Rel, Target: target, Err: err}
			}
		}
	}
	return nil
}

// DependentError says that a view depending on a replaced relation could not be recreated.
type DependentError struct {
	View   pgname.Rel
	Target pgname.Rel
	Err    error
}

func (e *DependentError) Error() string {
	return fmt.Sprintf("refusing to replace %s: view %s depends on it and cannot be recreated on the new version (%v); change or drop that view first — nothing was changed", e.Target, e.View, Explain(e.Err, "", 0))
}

func (e *DependentError) Unwrap() error { return e.Err }
