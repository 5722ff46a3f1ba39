// Package pgname is how strata writes PostgreSQL names: identifiers and
// string literals quoted one way, the one relation type, the 63-byte limit
// and how a derived name is cut to fit it, the names strata reserves for its
// own relations (__strata_) and the keys of its advisory locks.
//
// It is a leaf: it imports nothing of strata, generates no statement and
// touches no database, so every package that names something in PostgreSQL
// can use it.
package pgname

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Ident quotes s as a PostgreSQL identifier. NUL bytes, which no identifier
// can hold, are dropped (as pgx.Identifier.Sanitize does).
func Ident(s string) string {
	return `"` + strings.ReplaceAll(strings.ReplaceAll(s, "\x00", ""), `"`, `""`) + `"`
}

// Literal quotes s as a PostgreSQL string literal that means the same
// whatever standard_conforming_strings is: an E” literal, with its
// backslashes doubled, when s holds a backslash. NUL bytes, which PostgreSQL
// text cannot hold, are dropped.
func Literal(s string) string {
	s = strings.ReplaceAll(s, "\x00", "")
	if strings.Contains(s, `\`) {
		return `E'` + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `'`, `''`) + `'`
	}
	return `'` + strings.ReplaceAll(s, `'`, `''`) + `'`
}

// Rel names a relation (table, view, materialized view) in a schema.
type Rel struct{ Schema, Name string }

// Quoted is the relation as SQL: "schema"."name".
func (r Rel) Quoted() string { return Ident(r.Schema) + "." + Ident(r.Name) }

// String is the relation as the user reads it: schema.name.
func (r Rel) String() string { return r.Schema + "." + r.Name }

// Typed is the relation as a user types it in a query, to paste from a
// message: each name bare when PostgreSQL reads it bare as itself (lower
// case letters, digits, _), else quoted (audit."unique_orders_Id").
func (r Rel) Typed() string { return typed(r.Schema) + "." + typed(r.Name) }

func typed(name string) string {
	if name == "" || name[0] >= '0' && name[0] <= '9' {
		return Ident(name)
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return Ident(name)
		}
	}
	return name
}

// In is the relation called name in r's schema.
func (r Rel) In(name string) Rel { return Rel{Schema: r.Schema, Name: name} }

// Kept is r as PostgreSQL keeps it: each name cut to MaxIdent bytes (strata
// quotes every name, so case is kept). Two relations are one in the
// database when their Kept forms are equal.
func (r Rel) Kept() Rel { return Rel{Schema: Cut(r.Schema, MaxIdent), Name: Cut(r.Name, MaxIdent)} }

// MaxIdent is the longest identifier PostgreSQL keeps, in bytes; it silently
// truncates longer ones, so two long names can end up naming one relation.
const MaxIdent = 63

// Cut returns the longest prefix of name of at most n bytes that ends on a
// character boundary: an identifier cut inside a UTF-8 character is rejected
// by the server ("invalid byte sequence for encoding UTF8").
func Cut(name string, n int) string {
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

// Fit returns name if it fits in an identifier, else its first bytes and a
// hash of the whole: two long names that share their first 63 bytes must not
// become the same relation.
func Fit(name string) string {
	if len(name) <= MaxIdent {
		return name
	}
	return Cut(name, MaxIdent-9) + fmt.Sprintf("_%08x", hash(name))
}

// Suffixed returns base+suffix if it fits in an identifier, else base cut
// and a hash of the whole before the suffix, which is kept whole.
func Suffixed(base, suffix string) string {
	name := base + suffix
	if len(name) > MaxIdent {
		name = Cut(base, MaxIdent-9-len(suffix)) + fmt.Sprintf("_%08x", hash(name)) + suffix
	}
	return name
}

// Index is the name of an index over cols (unique or not) on the relation
// called base.
func Index(base string, cols []string, unique bool) string {
	suffix := "_idx"
	if unique {
		suffix = "_uidx"
	}
	return Fit(base + "__" + strings.Join(cols, "_") + suffix)
}

// Partition is the name of the partition with the period suffix (or
// "default") of the relation called base.
func Partition(base, suffix string) string {
	name := base + "_p" + suffix
	if len(name) > MaxIdent {
		name = Cut(base, MaxIdent-len(suffix)-11) + fmt.Sprintf("_%08x", hash(base)) + "_p" + suffix
	}
	return name
}

// hash is 32-bit FNV-1a: the names it goes into are kept in databases, so it
// never changes.
func hash(s string) uint32 {
	var h uint32 = 2166136261
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// EnvSchema is the schema an environment (strata --env) puts what
// production puts in schema: schema__env. Production (env "") is schema.
func EnvSchema(schema, env string) string {
	if env == "" {
		return schema
	}
	return schema + EnvSep + env
}

// EnvSep separates a schema from its environment's name.
const EnvSep = "__"

// ProdEnv is the name production goes by where an environment is named
// (env drop refuses it); it is not a valid environment name.
const ProdEnv = "prod"

// CheckEnv says what is wrong with name as an environment's name, so that
// every schema in schemas still fits an identifier once it is suffixed:
// lower-case letters, digits and single underscores, starting with a
// letter or an underscore, and not production's name. nil when it is fine.
func CheckEnv(name string, schemas []string) error {
	if name == "" {
		return fmt.Errorf("an environment needs a name")
	}
	for i, r := range name {
		if r == '_' || r >= 'a' && r <= 'z' || i > 0 && r >= '0' && r <= '9' {
			continue
		}
		return fmt.Errorf("environment name %q: %q is not allowed (expected lower-case letters, digits and _, starting with a letter or _)", name, r)
	}
	if name == ProdEnv || name == "production" {
		return fmt.Errorf("environment name %q is production's: leave out --env to build production", name)
	}
	if strings.Contains(name, EnvSep) {
		return fmt.Errorf("environment name %q holds %s, which separates a schema from its environment", name, EnvSep)
	}
	longest := ""
	for _, s := range schemas {
		if len(s) > len(longest) {
			longest = s
		}
	}
	if n := len(EnvSchema(longest, name)); n > MaxIdent {
		return fmt.Errorf("environment name %q is too long: schema %s would be %d bytes, over PostgreSQL's %d (at most %d bytes of name here)",
			name, EnvSchema(longest, name), n, MaxIdent, MaxIdent-len(longest)-len(EnvSep))
	}
	return nil
}

// Reserved marks strata's own relations (a model's build under
// X__strata_new, an incremental stage, an scd2 source, an ephemeral model's
// CTE): building X drops its leftovers with cascade, so a model or seed may
// not have a name that holds it.
const Reserved = "__strata_"

// Scratch lists the names of the scratch relations strata may build for
// the relation called name in its schema (the session's own temporary
// tables aside): its temporary twin, with its partitions, and an scd2
// dimension's staged source. A build holds each in its transaction, so one
// that exists once no build runs is stale: a build drops those of its
// model, and strata debug lists them.
func Scratch(name string) []string { return []string{Temp(name), Source(name)} }

// Temp is the name a relation is built under before it is swapped in.
func Temp(name string) string { return cut(name, Reserved+"new") }

// Stage is the temporary table that holds an incremental model's new rows.
func Stage(name string) string { return cut(name, Reserved+"stage") }

// Source is the table an scd2 dimension's query is staged in.
func Source(name string) string { return Suffixed(name, Reserved+"src") }

// Ephemeral is the name of the CTE an ephemeral model becomes in its users.
func Ephemeral(model string) string { return Reserved + "ephemeral_" + model }

// cut is name then suffix, as Suffixed makes it: a name too long for both
// is cut and followed by a hash of the whole, so two models whose names
// share their first bytes get scratch relations of their own (cut bare,
// their builds waited for each other on the one name, and check, which
// holds both in one transaction, failed on it).
func cut(name, suffix string) string { return Suffixed(name, suffix) }

// The keys of strata's advisory locks, as taken with hashtextextended(key, 0).

// SwapLock is the key of the lock that keeps a swap that rewrites dependent
// views from racing with anything else that writes those views.
const SwapLock = "strata:swap"

// RunLock is the key of the lock that keeps two runs of a project on one
// target from interleaving.
func RunLock(project string) string { return "strata:" + project }

// BuildLock is the key of the lock a model's build holds for its whole
// transaction: two builds of one relation never interleave, and the build
// may drop its stale scratch relations.
func BuildLock(model Rel) string { return "strata:build:" + model.String() }

// SeedLock is the key of the lock that keeps two loads of one seed apart.
func SeedLock(table Rel) string { return "strata seed " + table.String() }

// SCD2Lock is the key of the lock that serializes the builds of one scd2 dimension.
func SCD2Lock(dimension Rel) string { return "strata:scd2:" + dimension.String() }

// Check is the name strata check creates a model's view under when a
// relation already holds the model's name, inside its rolled-back
// transaction, before it stands the view in for that relation.
func Check(name string) string { return cut(name, Reserved+"check") }

// CheckedAside is the name strata check gives, inside its rolled-back
// transaction, to a relation that a selected model's view stands in for.
func CheckedAside(name string) string { return cut(name, Reserved+"checked") }

// CheckedStandIn is the name strata check moves a relation it set aside
// to, under a savepoint it rolls back, while an empty table of the
// model's new columns stands in for it under the name it was set aside
// as (to prove the views on it could be recreated on the new version).
func CheckedStandIn(name string) string { return cut(name, Reserved+"standin") }
