// Package materialize decides how a model is built and writes the
// statements that build it: from a model's compiled SQL, its config and what
// the run observed of the database, it makes a plan (PlanModel; for scd2,
// SCD2), whose ops write the statements that follow from what is read on
// the way. It is pure: it quotes every name it is given and executes
// nothing; the runner reads and executes through the adapter.
package materialize

import (
	"fmt"
	"sort"
	"strings"

	"strata/engine/pgname"

	"strata/engine/project"
)

// Step is one statement. Body is the offset in SQL (in characters) where the
// model's compiled SQL starts, or -1, so database errors can point into it.
// Config names the config key the statement carries out ("grants",
// "indexes"), so that a database error in it points at the line of YAML that
// set it rather than at the model's SQL.
type Step struct {
	SQL    string
	Body   int
	Config string
}

// Body is a model's or test's compiled SQL as a statement wraps it: its
// statement end (semicolons, trailing space) removed. Everything before
// that is kept, so that a character of the body is the same character of
// target/compiled/ (database errors are placed by their offset in it).
func Body(sql string) string { return TrimStatementEnd(sql) }

// CreateTableAs builds rel from body.
func CreateTableAs(rel pgname.Rel, body string) Step {
	prefix := "create table " + rel.Quoted() + " as (\n"
	return Step{SQL: prefix + body + "\n)", Body: len([]rune(prefix))}
}

// CreateView builds a view.
func CreateView(rel pgname.Rel, body string) Step {
	prefix := "create view " + rel.Quoted() + " as (\n"
	return Step{SQL: prefix + body + "\n)", Body: len([]rune(prefix))}
}

// CreateMaterializedView builds a materialized view.
func CreateMaterializedView(rel pgname.Rel, body string) Step {
	prefix := "create materialized view " + rel.Quoted() + " as (\n"
	return Step{SQL: prefix + body + "\n)", Body: len([]rune(prefix))}
}

// DropIfExists removes a leftover relation of any kind.
func DropIfExists(rel pgname.Rel, kind string) Step {
	kw := map[string]string{"view": "view", "materialized_view": "materialized view"}[kind]
	if kw == "" {
		kw = "table"
	}
	return Step{SQL: fmt.Sprintf("drop %s if exists %s cascade", kw, rel.Quoted()), Body: -1}
}

// Lock takes the advisory lock key (see pgname) until the transaction ends.
func Lock(key string) Step {
	return Step{SQL: "select pg_advisory_xact_lock(hashtextextended(" + pgname.Literal(key) + ", 0))", Body: -1}
}

// SharedLock takes the advisory lock key until the transaction ends, shared
// with the other holders of SharedLock: only Lock waits for them.
func SharedLock(key string) Step {
	return Step{SQL: "select pg_advisory_xact_lock_shared(hashtextextended(" + pgname.Literal(key) + ", 0))", Body: -1}
}

// CreateSchema makes sure a schema exists.
func CreateSchema(schema string) Step {
	return Step{SQL: "create schema if not exists " + pgname.Ident(schema), Body: -1}
}

// IndexName is the name of the index ix on a relation called base.
func IndexName(base string, ix project.Index) string {
	return pgname.Index(base, ix.Columns, ix.Unique)
}

// Indexes creates the configured indexes on rel, named after base and their columns.
func Indexes(rel pgname.Rel, base string, idx []project.Index) []Step {
	var out []Step
	for _, ix := range idx {
		cols := make([]string, len(ix.Columns))
		for i, c := range ix.Columns {
			cols[i] = pgname.Ident(c)
		}
		u := ""
		if ix.Unique {
			u = "unique "
		}
		using := ""
		if ix.Type != "" {
			using = " using " + ix.Type
		}
		out = append(out, Step{SQL: fmt.Sprintf("create %sindex if not exists %s on %s%s (%s)", u, pgname.Ident(IndexName(base, ix)), rel.Quoted(), using, strings.Join(cols, ", ")), Body: -1, Config: "indexes"})
	}
	return out
}

// IndexTypeChanged refuses the configured indexes of rel, a relation a
// build keeps (an incremental table, a refreshed materialized view, a
// table refilled in place), when one of them exists under its name with
// another type than configured (existing: index name to access method):
// the build creates only missing indexes, so the new type would silently
// not apply. Rebuilding an index would hold the relation's exclusive lock,
// which blocks its readers, until the build commits; rebuild says how the
// model is rebuilt beside instead ("" when it is not).
func IndexTypeChanged(rel pgname.Rel, idx []project.Index, existing map[string]string, rebuild string) error {
	other := IndexesOfOtherType(rel, idx, existing)
	if len(other) == 0 {
		return nil
	}
	name := IndexName(rel.Name, other[0])
	fix := ""
	if rebuild != "" {
		fix = rebuild + ", or "
	}
	return fmt.Errorf("indexes: %s has the index %s of type %s, but indexes says type: %s; a build that keeps %s creates only the indexes it lacks: %sdrop that index (drop index %s) and the next build creates it as configured",
		rel, name, existing[name], indexType(other[0]), rel, fix, rel.In(name).Quoted())
}

// IndexesOfOtherType are the configured indexes of rel that exist under
// their name with another type than configured (existing: index name to
// access method).
func IndexesOfOtherType(rel pgname.Rel, idx []project.Index, existing map[string]string) []project.Index {
	var out []project.Index
	for _, ix := range idx {
		if have, ok := existing[IndexName(rel.Name, ix)]; ok && have != indexType(ix) {
			out = append(out, ix)
		}
	}
	return out
}

// indexType is the access method index ix is configured with.
func indexType(ix project.Index) string {
	if ix.Type == "" {
		return "btree"
	}
	return ix.Type
}

// PartitionIndexes creates the configured indexes on each partition of a
// partitioned table built as base, under names strata chooses, before the
// same indexes are created on the table itself (Indexes), which then takes
// them as its partitions' indexes. PostgreSQL would otherwise name them
// after the partitions' temporary names, and keep those names after the
// swap.
func PartitionIndexes(schema, base string, parts []Partition, idx []project.Index) []Step {
	var out []Step
	for _, p := range parts {
		name := pgname.Partition(base, p.Suffix)
		out = append(out, Indexes(pgname.Rel{Schema: schema, Name: name}, name, idx)...)
	}
	return out
}

// RenameIndexes gives the indexes built on a temporary relation the names of the final one.
func RenameIndexes(schema, fromBase, toBase string, idx []project.Index) []Step {
	var out []Step
	for _, ix := range idx {
		out = append(out, Step{SQL: fmt.Sprintf("alter index %s rename to %s",
			pgname.Rel{Schema: schema, Name: IndexName(fromBase, ix)}.Quoted(), pgname.Ident(IndexName(toBase, ix))), Body: -1, Config: "indexes"})
	}
	return out
}

// Grants grants the configured privileges on a freshly built relation.
func Grants(rel pgname.Rel, grants map[string][]string) []Step {
	privs := make([]string, 0, len(grants))
	for p := range grants {
		privs = append(privs, p)
	}
	sort.Strings(privs)
	var out []Step
	for _, p := range privs {
		for _, role := range grants[p] {
			out = append(out, Step{SQL: fmt.Sprintf("grant %s on %s to %s", p, rel.Quoted(), pgname.Ident(role)), Body: -1, Config: "grants"})
		}
	}
	return out
}

// Comment records the model's description on the relation.
func Comment(rel pgname.Rel, kind, text string) Step {
	kw := map[string]string{"view": "view", "materialized_view": "materialized view"}[kind]
	if kw == "" {
		kw = "table"
	}
	return Step{SQL: fmt.Sprintf("comment on %s %s is %s", kw, rel.Quoted(), pgname.Literal(text)), Body: -1}
}

// CreateOrReplaceView builds a view, or redefines an existing one in place:
// one atomic statement that keeps the views depending on it, its owner, its
// grants and its comments. PostgreSQL refuses it (SQLSTATE 42P16) when the new
// query drops, renames or retypes a column, and (42809) when the relation is
// not a view; the view is then built under a temporary name and swapped in.
func CreateOrReplaceView(rel pgname.Rel, body string) Step {
	prefix := "create or replace view " + rel.Quoted() + " as (\n"
	return Step{SQL: prefix + body + "\n)", Body: len([]rune(prefix))}
}

// Uncomment removes the description of a relation.
func Uncomment(rel pgname.Rel, kind string) Step {
	return Step{SQL: fmt.Sprintf("comment on %s %s is null", keyword(kind), rel.Quoted()), Body: -1}
}

// Drop drops a relation without cascade: if anything depends on it, PostgreSQL
// refuses (SQLSTATE 2BP01) rather than drop someone's view.
func Drop(rel pgname.Rel, kind string) Step {
	return Step{SQL: fmt.Sprintf("drop %s %s", keyword(kind), rel.Quoted()), Body: -1}
}

// RenameTo renames rel, a relation of kind, to name (in its schema).
func RenameTo(rel pgname.Rel, kind, name string) Step {
	return Step{SQL: fmt.Sprintf("alter %s %s rename to %s", keyword(kind), rel.Quoted(), pgname.Ident(name)), Body: -1}
}

// keyword is the SQL keyword for a relation kind in alter, drop and comment.
func keyword(kind string) string {
	switch kind {
	case "view":
		return "view"
	case "materialized_view":
		return "materialized view"
	case "foreign_table":
		return "foreign table"
	}
	return "table"
}
