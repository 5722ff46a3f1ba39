// Package materialize turns a model's compiled SQL and config into the
// statements that build it. It is pure: it quotes every name it is given and
// executes nothing; the runner sends the statements through the adapter.
package materialize

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"strata/engine/project"
)

// Rel names a relation.
type Rel struct{ Schema, Name string }

// Q quotes the relation.
func (r Rel) Q() string { return pgx.Identifier{r.Schema, r.Name}.Sanitize() }

// Step is one statement. Body is the offset in SQL (in characters) where the
// model's compiled SQL starts, or -1, so database errors can point into it.
type Step struct {
	SQL  string
	Body int
}

// TempName is the name a relation is built under before it is swapped in.
// It stays within PostgreSQL's 63-byte identifiers.
func TempName(name string) string {
	const suffix = "__strata_new"
	return CutName(name, MaxIdent-len(suffix)) + suffix
}

// MaxIdent is the longest identifier PostgreSQL keeps, in bytes; it silently
// truncates longer ones, so two long names can end up naming one relation.
const MaxIdent = 63

// CutName returns the longest prefix of name of at most n bytes that ends on
// a character boundary: an identifier cut inside a UTF-8 character is
// rejected by the server ("invalid byte sequence for encoding UTF8").
func CutName(name string, n int) string {
	if n <= 0 {
		return ""
	}
	if len(name) <= n {
		return name
	}
	for n > 0 && !utf8.RuneStart(name[n]) {
		n--
	}
	return name[:n]
}

// FitName returns name if it fits in an identifier, else its first bytes and
// a hash of the whole: two long names that share their first 63 bytes must
// not become the same relation.
func FitName(name string) string {
	if len(name) <= MaxIdent {
		return name
	}
	return CutName(name, MaxIdent-9) + fmt.Sprintf("_%08x", hash(name))
}

// Body wraps compiled SQL for --empty: the same columns, no rows. Leading
// lines are kept and the --empty wrapper adds none in front, so that a line
// in the body is the same line in target/compiled/ (database errors are
// placed by counting lines from the body's start).
func Body(sql string, empty bool) string {
	sql = TrimStatementEnd(sql)
	if empty {
		return "select * from (" + sql + "\n) as strata_empty limit 0"
	}
	return sql
}

// CreateTableAs builds rel from body.
func CreateTableAs(rel Rel, body string) Step {
	prefix := "create table " + rel.Q() + " as (\n"
	return Step{SQL: prefix + body + "\n)", Body: len([]rune(prefix))}
}

// CreateView builds a view.
func CreateView(rel Rel, body string) Step {
	prefix := "create view " + rel.Q() + " as (\n"
	return Step{SQL: prefix + body + "\n)", Body: len([]rune(prefix))}
}

// CreateMaterializedView builds a materialized view.
func CreateMaterializedView(rel Rel, body string) Step {
	prefix := "create materialized view " + rel.Q() + " as (\n"
	return Step{SQL: prefix + body + "\n)", Body: len([]rune(prefix))}
}

// DropIfExists removes a leftover relation of any kind.
func DropIfExists(rel Rel, kind string) Step {
	kw := map[string]string{"view": "view", "materialized_view": "materialized view"}[kind]
	if kw == "" {
		kw = "table"
	}
	return Step{SQL: fmt.Sprintf("drop %s if exists %s cascade", kw, rel.Q()), Body: -1}
}

// CreateSchema makes sure a schema exists.
func CreateSchema(schema string) Step {
	return Step{SQL: "create schema if not exists " + pgx.Identifier{schema}.Sanitize(), Body: -1}
}

// IndexName is the name of an index over cols on a relation called base.
func IndexName(base string, ix project.Index) string {
	name := base + "__" + strings.Join(ix.Columns, "_") + "_idx"
	if ix.Unique {
		name = base + "__" + strings.Join(ix.Columns, "_") + "_uidx"
	}
	return FitName(name)
}

// Indexes creates the configured indexes on rel, named after base and their columns.
func Indexes(rel Rel, base string, idx []project.Index) []Step {
	var out []Step
	for _, ix := range idx {
		cols := make([]string, len(ix.Columns))
		for i, c := range ix.Columns {
			cols[i] = pgx.Identifier{c}.Sanitize()
		}
		u := ""
		if ix.Unique {
			u = "unique "
		}
		using := ""
		if ix.Type != "" {
			using = " using " + ix.Type
		}
		out = append(out, Step{SQL: fmt.Sprintf("create %sindex if not exists %s on %s%s (%s)", u, pgx.Identifier{IndexName(base, ix)}.Sanitize(), rel.Q(), using, strings.Join(cols, ", ")), Body: -1})
	}
	return out
}

// RenameIndexes gives the indexes built on a temporary relation the names of the final one.
func RenameIndexes(schema, fromBase, toBase string, idx []project.Index) []Step {
	var out []Step
	for _, ix := range idx {
		out = append(out, Step{SQL: fmt.Sprintf("alter index %s rename to %s",
			pgx.Identifier{schema, IndexName(fromBase, ix)}.Sanitize(), pgx.Identifier{IndexName(toBase, ix)}.Sanitize()), Body: -1})
	}
	return out
}

func hash(s string) uint32 {
	var h uint32 = 2166136261
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// Grants grants the configured privileges on a freshly built relation.
func Grants(rel Rel, grants map[string][]string) []Step {
	privs := make([]string, 0, len(grants))
	for p := range grants {
		privs = append(privs, p)
	}
	sort.Strings(privs)
	var out []Step
	for _, p := range privs {
		for _, role := range grants[p] {
			out = append(out, Step{SQL: fmt.Sprintf("grant %s on %s to %s", p, rel.Q(), pgx.Identifier{role}.Sanitize()), Body: -1})
		}
	}
	return out
}

// Comment records the model's description on the relation.
func Comment(rel Rel, kind, text string) Step {
	kw := map[string]string{"view": "view", "materialized_view": "materialized view"}[kind]
	if kw == "" {
		kw = "table"
	}
	return Step{SQL: fmt.Sprintf("comment on %s %s is %s", kw, rel.Q(), quoteLiteral(text)), Body: -1}
}

func quoteLiteral(s string) string {
	s = strings.ReplaceAll(s, "\x00", "")
	if strings.Contains(s, `\`) {
		return "E'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", "''") + "'"
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// CreateOrReplaceView builds a view, or redefines an existing one in place:
// one atomic statement that keeps the views depending on it, its owner, its
// grants and its comments. PostgreSQL refuses it (SQLSTATE 42P16) when the new
// query drops, renames or retypes a column, and (42809) when the relation is
// not a view; the view is then built under a temporary name and swapped in.
func CreateOrReplaceView(rel Rel, body string) Step {
	prefix := "create or replace view " + rel.Q() + " as (\n"
	return Step{SQL: prefix + body + "\n)", Body: len([]rune(prefix))}
}

// Uncomment removes the description of a relation.
func Uncomment(rel Rel, kind string) Step {
	return Step{SQL: fmt.Sprintf("comment on %s %s is null", keyword(kind), rel.Q()), Body: -1}
}

// Drop drops a relation without cascade: if anything depends on it, PostgreSQL
// refuses (SQLSTATE 2BP01) rather than drop someone's view.
func Drop(rel Rel, kind string) Step {
	return Step{SQL: fmt.Sprintf("drop %s %s", keyword(kind), rel.Q()), Body: -1}
}

// RenameTo renames rel, a relation of kind, to name (in its schema).
func RenameTo(rel Rel, kind, name string) Step {
	return Step{SQL: fmt.Sprintf("alter %s %s rename to %s", keyword(kind), rel.Q(), pgx.Identifier{name}.Sanitize()), Body: -1}
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
