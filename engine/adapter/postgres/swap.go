package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
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
	Grantee   string `json:"grantee"` // "-" is PUBLIC
	Privilege string `json:"privilege"`
	Grantable bool   `json:"grantable"`
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
		// The grantee's name as it is (Statements quotes it), PUBLIC as "-".
		grows, err := q.Query(ctx, `select case when a.grantee = 0 then '-' else pg_get_userbyid(a.grantee)::text end, a.privilege_type, a.is_grantable
			from pg_class c, aclexplode(c.relacl) a
			where c.oid = (quote_ident($1) || '.' || quote_ident($2))::regclass and a.grantee <> c.relowner
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
	out = append(out, d.create(false))
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

// create is the statement that creates d from its definition; noData:
// a materialized view is not populated.
func (d Dependent) create(noData bool) string {
	kw, with := "view", ""
	if d.Kind == "materialized_view" {
		kw = "materialized view"
	}
	if len(d.Options) > 0 && d.Kind == "view" {
		with = " with (" + strings.Join(d.Options, ", ") + ")"
	}
	s := fmt.Sprintf("create %s %s%s as %s", kw, d.Rel.Quoted(), with, strings.TrimRight(strings.TrimSpace(d.Def), ";"))
	if noData && d.Kind == "materialized_view" {
		s += " with no data"
	}
	return s
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

// Held is what is held on a relation besides its data and definition, which
// a swap carries over to the new version: the privileges of roles other
// than the owner, the owner, comments, and row-level security with its
// policies. (Triggers, rules, foreign keys and statistics targets are not
// carried: strata's relations are rebuilt from their SQL.)
type Held struct {
	Owner       string
	CurrentUser string
	Grants      []Grant
	Comment     *string
	ColNotes    map[string]string
	RowSecurity bool
	ForceRLS    bool
	Policies    []Policy
}

// Policy is a row-level security policy.
type Policy struct {
	Name       string
	Permissive bool
	Command    string // all, select, insert, update, delete
	Roles      []string
	Using      *string
	WithCheck  *string
}

// readHeld reads what is held on r (see Held), and what depends on r, or
// on its row type, that is not a view (which a swap recreates) and keeps
// PostgreSQL from dropping it: functions, foreign keys of other tables, and
// the like. One query, one round trip.
func readHeld(ctx context.Context, q Querier, r pgname.Rel) (Held, []string, error) {
	var h Held
	var grants, notes, policies []byte
	var blockers []string
	err := q.QueryRow(ctx, `select pg_get_userbyid(c.relowner), current_user, obj_description(c.oid, 'pg_class'),
		c.relrowsecurity, c.relforcerowsecurity,
		(select coalesce(json_agg(g order by g.grantee, g.privilege), '[]')
		  from (select case when a.grantee = 0 then '-' else pg_get_userbyid(a.grantee) end as grantee,
		    a.privilege_type as privilege, a.is_grantable as grantable
		    from aclexplode(c.relacl) a where a.grantee <> c.relowner) g),
		(select coalesce(json_object_agg(a.attname, col_description(a.attrelid, a.attnum) order by a.attnum), '{}')
		  from pg_attribute a
		  where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped and col_description(a.attrelid, a.attnum) is not null),
		(select coalesce(json_agg(json_build_object('name', p.polname, 'permissive', p.polpermissive, 'cmd', p.polcmd::text,
		    'roles', array(select case when x = 0 then 'public' else pg_get_userbyid(x) end from unnest(p.polroles) x order by 1),
		    'using', pg_get_expr(p.polqual, p.polrelid), 'with_check', pg_get_expr(p.polwithcheck, p.polrelid)) order by p.polname), '[]')
		  from pg_policy p where p.polrelid = c.oid),
		array(select distinct pg_describe_object(d.classid, d.objid, 0)
		  from pg_depend d
		  where d.deptype = 'n' and d.classid <> 'pg_rewrite'::regclass
		    and ((d.refclassid = 'pg_class'::regclass and d.refobjid = c.oid)
		      or (d.refclassid = 'pg_type'::regclass and d.refobjid = c.reltype))
		    -- what belongs to the relation itself (a policy, a constraint, a trigger) goes with it
		    and not exists (select from pg_depend o where o.classid = d.classid and o.objid = d.objid
		      and o.refclassid = 'pg_class'::regclass and o.refobjid = c.oid and o.deptype in ('a', 'i'))
		  order by 1)
		from pg_class c where c.oid = to_regclass($1)`, r.Quoted()).Scan(&h.Owner, &h.CurrentUser, &h.Comment, &h.RowSecurity, &h.ForceRLS,
		&grants, &notes, &policies, &blockers)
	if err != nil {
		return h, nil, err
	}
	if err := json.Unmarshal(grants, &h.Grants); err != nil {
		return h, nil, fmt.Errorf("reading the privileges: %w", err)
	}
	if len(h.Grants) == 0 {
		h.Grants = nil
	}
	h.ColNotes = map[string]string{}
	if err := json.Unmarshal(notes, &h.ColNotes); err != nil {
		return h, nil, fmt.Errorf("reading the column comments: %w", err)
	}
	var pols []struct {
		Name       string   `json:"name"`
		Permissive bool     `json:"permissive"`
		Cmd        string   `json:"cmd"`
		Roles      []string `json:"roles"`
		Using      *string  `json:"using"`
		WithCheck  *string  `json:"with_check"`
	}
	if err := json.Unmarshal(policies, &pols); err != nil {
		return h, nil, fmt.Errorf("reading the row-level security policies: %w", err)
	}
	for _, p := range pols {
		cmd := map[string]string{"r": "select", "a": "insert", "w": "update", "d": "delete"}[p.Cmd]
		if cmd == "" {
			cmd = "all"
		}
		h.Policies = append(h.Policies, Policy{Name: p.Name, Permissive: p.Permissive, Command: cmd, Roles: p.Roles, Using: p.Using, WithCheck: p.WithCheck})
	}
	return h, blockers, nil
}

// Statements are what gives target, a relation of kind just swapped in,
// what was held on the old one; the comment when keepComment. A column
// comment on a column the new version lacks is dropped with the column.
func (h Held) Statements(target pgname.Rel, kind string, keepComment bool, columns map[string]bool) []string {
	kw := kindKeyword(kind)
	var out []string
	for _, g := range h.Grants {
		grantee := "public"
		if g.Grantee != "-" && g.Grantee != "" {
			grantee = pgname.Ident(g.Grantee)
		}
		s := fmt.Sprintf("grant %s on %s to %s", strings.ToLower(g.Privilege), target.Quoted(), grantee)
		if g.Grantable {
			s += " with grant option"
		}
		out = append(out, s)
	}
	if keepComment && h.Comment != nil {
		out = append(out, fmt.Sprintf("comment on %s %s is %s", kw, target.Quoted(), pgname.Literal(*h.Comment)))
	}
	cols := make([]string, 0, len(h.ColNotes))
	for c := range h.ColNotes {
		cols = append(cols, c)
	}
	sort.Strings(cols)
	for _, c := range cols {
		if columns[c] {
			out = append(out, fmt.Sprintf("comment on column %s.%s is %s", target.Quoted(), pgname.Ident(c), pgname.Literal(h.ColNotes[c])))
		}
	}
	if h.RowSecurity {
		out = append(out, fmt.Sprintf("alter table %s enable row level security", target.Quoted()))
	}
	if h.ForceRLS {
		out = append(out, fmt.Sprintf("alter table %s force row level security", target.Quoted()))
	}
	for _, p := range h.Policies {
		s := fmt.Sprintf("create policy %s on %s as %s for %s to %s", pgname.Ident(p.Name), target.Quoted(),
			map[bool]string{true: "permissive", false: "restrictive"}[p.Permissive], p.Command, roleList(p.Roles))
		if p.Using != nil {
			s += " using (" + *p.Using + ")"
		}
		if p.WithCheck != nil {
			s += " with check (" + *p.WithCheck + ")"
		}
		out = append(out, s)
	}
	// Last: a new owner takes over the privileges granted above.
	if h.Owner != "" && h.Owner != h.CurrentUser {
		out = append(out, fmt.Sprintf("alter %s %s owner to %s", kw, target.Quoted(), pgname.Ident(h.Owner)))
	}
	return out
}

func roleList(roles []string) string {
	out := make([]string, len(roles))
	for i, r := range roles {
		if r == "public" {
			out[i] = "public"
		} else {
			out[i] = pgname.Ident(r)
		}
	}
	return strings.Join(out, ", ")
}

// SwapOptions say what a swap carries over besides what is always carried.
type SwapOptions struct {
	// KeepComment: the old relation's comment too (the model has no
	// description of its own).
	KeepComment bool
	// Redefine gives, for a dependent that is a view or materialized view
	// model the run builds after this swap, its new SQL: when the view
	// cannot be recreated from its old definition (the new version lacks
	// a column the old one read), it is created from this instead, as its
	// own build would, which follows.
	Redefine Redefiner
}

// Redefiner gives the new SQL of the dependents of a changed relation
// that are view or materialized view models the run builds after the
// change (SQL), and is told of each dependent created from it (Done).
// Either may be nil.
type Redefiner struct {
	SQL  func(view pgname.Rel) (sql string, ok bool)
	Done func(view pgname.Rel)
}

// Swap replaces target by the relation tmp inside tx: the dependents of the
// old relation are captured and dropped, tmp is renamed into place, the old
// relation dropped, the dependents recreated from their definitions, and
// what was held on the old relation (Held) given to the new one. If a
// dependent cannot be recreated (the new relation lacks a column it uses)
// the error names it, and the caller's rollback keeps everything as it
// was. When something other than a view depends on the old relation (a
// function, a foreign key), the error names it and says what to do.
func Swap(ctx context.Context, tx Querier, target, tmp pgname.Rel, tmpKind string, opts SwapOptions) error {
	return SwapLogged(ctx, tx, target, tmp, tmpKind, opts, nil)
}

// SwapLogged is Swap that reports every statement it executes to log, so the
// caller can record them (target/run/).
func SwapLogged(ctx context.Context, tx Querier, target, tmp pgname.Rel, tmpKind string, opts SwapOptions, log func(string)) error {
	exec := loggedExec(ctx, tx, log)
	oldKind, err := RelKind(ctx, tx, target)
	if err != nil {
		return err
	}
	var deps []Dependent
	var held Held
	if oldKind != "" {
		deps, err = Dependents(ctx, tx, target)
		if err != nil {
			return fmt.Errorf("reading the views that depend on %s: %w", target, err)
		}
		var blockers []string
		if held, blockers, err = readHeld(ctx, tx, target); err != nil {
			return fmt.Errorf("reading the privileges on %s and what depends on it: %w", target, err)
		}
		if len(blockers) > 0 {
			return &BlockedError{Target: target, Objects: blockers}
		}
		for i := len(deps) - 1; i >= 0; i-- {
			if err := exec(deps[i].DropStatement()); err != nil {
				return fmt.Errorf("dropping dependent %s: %w", deps[i].Rel, Explain(err, "", 0))
			}
		}
		if err := exec(fmt.Sprintf("drop %s %s", kindKeyword(oldKind), target.Quoted())); err != nil {
			return fmt.Errorf("dropping the old %s: %w", target, Explain(err, "", 0))
		}
	}
	if err := exec(fmt.Sprintf("alter %s %s rename to %s", kindKeyword(tmpKind), tmp.Quoted(), pgname.Ident(target.Name))); err != nil {
		return fmt.Errorf("renaming %s into place: %w", tmp, Explain(err, "", 0))
	}
	if oldKind != "" {
		// The new version's columns, read only when there are column
		// comments to carry over (to those columns it still has).
		have := map[string]bool{}
		if len(held.ColNotes) > 0 {
			cols, err := Columns(ctx, tx, target)
			if err != nil {
				return err
			}
			for _, c := range cols {
				have[c.Name] = true
			}
		}
		for _, stmt := range held.Statements(target, tmpKind, opts.KeepComment, have) {
			if err := exec(stmt); err != nil {
				return &HeldError{Target: target, Stmt: stmt, Err: err}
			}
		}
	}
	return recreate(ctx, tx, target, deps, opts.Redefine, exec, false)
}

// AlterKeepingDependents runs the statements alter on target (dropping or
// retyping its columns, which PostgreSQL refuses while a view reads them)
// with the views that depend on it dropped first and recreated after, as a
// swap recreates them (redefine as SwapOptions.Redefine). A view that
// cannot be recreated is a DependentError, and the caller's rollback keeps
// everything as it was.
func AlterKeepingDependents(ctx context.Context, tx Querier, target pgname.Rel, alter []string, redefine Redefiner, log func(string)) error {
	exec := loggedExec(ctx, tx, log)
	deps, err := dropDependentsAndChange(ctx, tx, target, alter, exec)
	if err != nil {
		return err
	}
	if err := recreate(ctx, tx, target, deps, redefine, exec, false); err != nil {
		if de, ok := err.(*DependentError); ok {
			de.Verb = "change"
		}
		return err
	}
	return nil
}

// ProveDependents finds whether the views on target (as Dependents lists
// them) could be recreated, as a swap or AlterKeepingDependents recreates
// them (redefine as SwapOptions.Redefine), once the statements change have
// given target its new columns: under a savepoint it always rolls back,
// they are dropped, change runs and each is created again from its
// definition, a materialized view with no data (none is read). The first
// that cannot be is a DependentError, as the build's would be.
func ProveDependents(ctx context.Context, tx Querier, target pgname.Rel, change []string, redefine Redefiner) (err error) {
	exec := loggedExec(ctx, tx, nil)
	if err := exec("savepoint strata_prove_dependents"); err != nil {
		return err
	}
	defer func() {
		back := loggedExec(context.WithoutCancel(ctx), tx, nil)
		if e := back("rollback to savepoint strata_prove_dependents"); e != nil && err == nil {
			err = e
		}
		if e := back("release savepoint strata_prove_dependents"); e != nil && err == nil {
			err = e
		}
	}()
	deps, err := dropDependentsAndChange(ctx, tx, target, change, exec)
	if err != nil {
		return err
	}
	return recreate(ctx, tx, target, deps, redefine, exec, true)
}

// dropDependentsAndChange drops the views that depend on target (as
// Dependents lists them, farthest first) and runs the statements change on
// it, returning the views for recreate.
func dropDependentsAndChange(ctx context.Context, tx Querier, target pgname.Rel, change []string, exec func(string) error) ([]Dependent, error) {
	deps, err := Dependents(ctx, tx, target)
	if err != nil {
		return nil, fmt.Errorf("reading the views that depend on %s: %w", target, err)
	}
	for i := len(deps) - 1; i >= 0; i-- {
		if err := exec(deps[i].DropStatement()); err != nil {
			return nil, fmt.Errorf("dropping dependent %s: %w", deps[i].Rel, Explain(err, "", 0))
		}
	}
	for _, stmt := range change {
		if err := exec(stmt); err != nil {
			return nil, fmt.Errorf("%s: %w", strings.SplitN(stmt, "\n", 2)[0], Explain(err, stmt, 0))
		}
	}
	return deps, nil
}

// recreate creates deps again, nearest first, after target changed; with
// noData, only their definitions, a materialized view not populated.
func recreate(ctx context.Context, tx Querier, target pgname.Rel, deps []Dependent, redefine Redefiner, exec func(string) error, noData bool) error {
	for _, d := range deps {
		stmts := d.Statements()
		if noData {
			stmts = []string{d.create(true)}
		}
		if def, ok := redefinition(redefine, d); ok {
			var err error
			var redefined bool
			if stmts, redefined, err = recreateOrRedefine(ctx, tx, exec, d, def, noData); err != nil {
				return &DependentError{View: d.Rel, Target: target, Err: err}
			}
			if redefined && redefine.Done != nil {
				redefine.Done(d.Rel)
			}
		}
		for _, stmt := range stmts {
			if err := exec(stmt); err != nil {
				return &DependentError{View: d.Rel, Target: target, Err: err}
			}
		}
	}
	return nil
}

// redefinition is the new SQL of dependent d (a view or a materialized
// view), when redefine has one for it.
func redefinition(redefine Redefiner, d Dependent) (string, bool) {
	if redefine.SQL == nil || (d.Kind != "view" && d.Kind != "materialized_view") {
		return "", false
	}
	return redefine.SQL(d.Rel)
}

// recreateOrRedefine creates view d from its old definition, or, when that
// fails, from def, under a savepoint, and returns the statements that
// remain: its owner, comments and grants (the comments of columns the new
// definition still has), and whether it was created from def. A
// materialized view created from def is
// populated (its readers never find it empty) and keeps those of its
// indexes that its new columns allow.
func recreateOrRedefine(ctx context.Context, tx Querier, exec func(string) error, d Dependent, def string, noData bool) (stmts []string, redefined bool, err error) {
	stmts = d.Statements()
	if noData {
		stmts = nil
	} else {
		stmts = stmts[1:]
	}
	if err := exec("savepoint strata_dependent"); err != nil {
		return nil, false, err
	}
	if exec(d.create(noData)) == nil {
		return stmts, false, exec("release savepoint strata_dependent")
	}
	if err := exec("rollback to savepoint strata_dependent"); err != nil {
		return nil, false, err
	}
	if err := exec("release savepoint strata_dependent"); err != nil {
		return nil, false, err
	}
	d.Def = def
	if err := exec(d.create(noData)); err != nil {
		return nil, false, err
	}
	if noData {
		return nil, true, nil
	}
	if d.Kind == "materialized_view" {
		// Each old index under a savepoint: one on a column the new
		// definition dropped is left out (the model's own build, which
		// follows, creates the indexes its config lists).
		for _, ix := range d.Indexes {
			if err := exec("savepoint strata_dependent_index"); err != nil {
				return nil, false, err
			}
			if exec(ix) != nil {
				if err := exec("rollback to savepoint strata_dependent_index"); err != nil {
					return nil, false, err
				}
			}
			if err := exec("release savepoint strata_dependent_index"); err != nil {
				return nil, false, err
			}
		}
		d.Indexes = nil
	}
	if len(d.ColNotes) > 0 {
		cols, err := Columns(ctx, tx, d.Rel)
		if err != nil {
			return nil, false, err
		}
		kept := map[string]string{}
		for _, c := range cols {
			if note, ok := d.ColNotes[c.Name]; ok {
				kept[c.Name] = note
			}
		}
		d.ColNotes = kept
	}
	return d.Statements()[1:], true, nil
}

// DependentError says that a view depending on a replaced relation could not be recreated.
type DependentError struct {
	View   pgname.Rel
	Target pgname.Rel
	Err    error
	// Verb is what was refused: "replace" (a swap, the default) or
	// "change" (columns dropped or retyped in place).
	Verb string
}

func (e *DependentError) Error() string {
	return e.Refusal() + "; change or drop that view first — nothing was changed"
}

// Refusal is what was refused and why, without what to do about it.
func (e *DependentError) Refusal() string {
	verb := e.Verb
	if verb == "" {
		verb = "replace"
	}
	return fmt.Sprintf("refusing to %s %s: view %s depends on it and cannot be recreated on the new version (%v)", verb, e.Target, e.View, Explain(e.Err, "", 0))
}

func (e *DependentError) Unwrap() error { return e.Err }

// HeldError says that what was held on a replaced relation (a privilege,
// its owner, a policy) could not be given to the new version.
type HeldError struct {
	Target pgname.Rel
	Stmt   string
	Err    error
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("refusing to replace %s: what is set on it could not be kept on the new version (%s: %v); nothing was changed", e.Target, e.Stmt, Explain(e.Err, "", 0))
}

func (e *HeldError) Unwrap() error { return e.Err }

// BlockedError says that objects other than views depend on a relation a
// build replaces, which PostgreSQL cannot drop without them.
type BlockedError struct {
	Target  pgname.Rel
	Objects []string
}

func (e *BlockedError) Error() string {
	one := len(e.Objects) == 1
	verb, it := "depend", "them"
	if one {
		verb, it = "depends", "it"
	}
	msg := fmt.Sprintf("refusing to replace %s: %s %s on it, and PostgreSQL cannot drop the old version without dropping %s; nothing was changed. Drop %s before the build and create %s again after it (a post_hook can)",
		e.Target, strings.Join(e.Objects, ", "), verb, it, it, it)
	for _, o := range e.Objects {
		if strings.HasPrefix(o, "function ") || strings.HasPrefix(o, "procedure ") {
			msg += ", or change the function so that PostgreSQL does not tie it to the table: a body written as a string (LANGUAGE plpgsql, or LANGUAGE sql AS '...') instead of BEGIN ATOMIC, and no argument or result of the table's row type"
			break
		}
	}
	return msg
}

func them(objs []string) string {
	if len(objs) == 1 {
		return "it"
	}
	return "them"
}

// loggedExec executes a statement on tx, reporting it to log first (when
// not nil), so the caller can record it (target/run/).
func loggedExec(ctx context.Context, tx Querier, log func(string)) func(string) error {
	return func(sql string) error {
		if log != nil {
			log(sql)
		}
		_, err := tx.Exec(ctx, sql)
		return err
	}
}
