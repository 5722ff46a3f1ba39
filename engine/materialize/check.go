package materialize

import (
	"fmt"
	"strings"

	"strata/engine/pgname"
)

// The statements of strata check, which proves models in a transaction
// that is always rolled back (see engine/check): a model becomes a view of
// its SQL, a seed or an absent source an empty table of the types it would
// have. None of them reads or writes a row.

// StandIn is how check puts a model's view under the name of rel when a
// relation of kind already holds it: the view is created under a name of
// its own first (so that the model's SQL still reads the relation, as an
// incremental model's {{ this }} does), then the relation is renamed aside
// and the view renamed into its place. Views that read the relation follow
// it (PostgreSQL keeps them by oid), and all of it is rolled back.
func StandIn(rel pgname.Rel, kind, body string) []Step {
	check := rel.In(pgname.Check(rel.Name))
	return []Step{
		CreateView(check, body),
		RenameTo(rel, kind, pgname.CheckedAside(rel.Name)),
		RenameTo(check, "view", rel.Name),
	}
}

// SetAside renames rel, a relation of kind, out of the way of the empty
// table check puts in its place.
func SetAside(rel pgname.Rel, kind string) Step {
	return RenameTo(rel, kind, pgname.CheckedAside(rel.Name))
}

// EmptyTable creates rel with cols and no rows: a seed as its loader would
// type it, or an absent source as its YAML declares it.
func EmptyTable(rel pgname.Rel, cols []Column) Step {
	defs := make([]string, len(cols))
	for i, c := range cols {
		defs[i] = pgname.Ident(c.Name) + " " + c.Type
	}
	return Step{SQL: fmt.Sprintf("create table %s (%s)", rel.Quoted(), strings.Join(defs, ", ")), Body: -1}
}

// CheckView is the view check makes of an scd2 model: its source query
// with the columns strata maintains, in the order a build gives them.
func (s SCD2) CheckView(rel pgname.Rel, body string) Step {
	at := s.when("s")
	cols := []string{s.surrogate("s", at) + " as " + pgname.Ident(s.SurrogateKey), "s.*",
		at + " as " + pgname.Ident(s.ValidFrom),
		"null::timestamptz as " + pgname.Ident(s.ValidTo),
		"true as " + pgname.Ident(s.IsCurrent)}
	if s.HardDeletes == "new_record" {
		cols = append(cols, "false as "+pgname.Ident(IsDeletedColumn))
	}
	prefix := "create view " + rel.Quoted() + " as\nselect " + strings.Join(cols, ",\n  ") + "\nfrom (\n"
	return Step{SQL: prefix + body + "\n) as s", Body: len([]rune(prefix))}
}

// PrepareTest is how check proves a data test's query without running it:
// PREPARE parses and analyses it (names, types) and plans nothing; the
// statement is deallocated at once, as a prepared statement outlives a
// rolled-back transaction.
func PrepareTest(body string) []Step {
	prefix := "prepare strata_check_test as\n"
	return []Step{{SQL: prefix + body, Body: len([]rune(prefix))}, {SQL: "deallocate strata_check_test", Body: -1}}
}
