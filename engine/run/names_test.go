package run

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"strata/engine/diag"
	"strata/engine/manifest"
	"strata/engine/materialize"
	"strata/engine/pgname"
	"strata/engine/project"
)

// The audit table of a store_failures test: at most 63 bytes, valid UTF-8,
// and distinct for two tests whose names share their first 63 bytes.
func TestAuditName(t *testing.T) {
	long := strings.Repeat("t", 63)
	cases := []struct {
		name string
	}{
		{"not_null_orders_id"},
		{strings.Repeat("é", 40)},
		{long + "_a"},
		{long + "_b"},
	}
	seen := map[string]string{}
	for _, c := range cases {
		got := auditName(c.name)
		if len(got) > 63 || !utf8.ValidString(got) {
			t.Errorf("auditName(%q) = %q: not a valid 63-byte identifier", c.name, got)
		}
		if prev, dup := seen[got]; dup {
			t.Errorf("auditName(%q) = auditName(%q) = %q", c.name, prev, got)
		}
		seen[got] = c.name
	}
	if got := auditName("not_null_orders_id"); got != "not_null_orders_id" {
		t.Errorf("a short name changed: %q", got)
	}
}

// A grant or index configured for a model fails on its new version, which
// runs under a temporary name; the error shows the model's own name.
func TestConfigErrorNamesThePublishedRelation(t *testing.T) {
	n := &manifest.Node{
		Relation:  pgname.Rel{Schema: "analytics", Name: "daily sales"},
		ConfigPos: map[string]diag.Pos{"grants": {File: "models/x.yml", Line: 7, Col: 5}},
	}
	temp := n.Relation.In(pgname.Temp(n.Relation.Name)).Quoted()
	s := materialize.Step{SQL: "grant SELECT on " + temp + " to \"nobody\"", Body: -1, Config: "grants"}
	err := (&Executor{}).configError(n, s, errors.New(`role "nobody" does not exist`))
	msg := err.Error()
	if strings.Contains(msg, pgname.Reserved) {
		t.Errorf("the error names the temporary relation: %s", msg)
	}
	for _, want := range []string{"models/x.yml:7:5", `grant SELECT on "analytics"."daily sales" to "nobody"`, `role "nobody" does not exist`} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}

	// An index, created under the new version's name too.
	n.Config.Indexes = []project.Index{{Columns: []string{"nope"}}}
	n.ConfigPos["indexes"] = diag.Pos{File: "models/x.yml", Line: 9, Col: 5}
	s = materialize.Indexes(n.Relation.In(pgname.Temp(n.Relation.Name)), pgname.Temp(n.Relation.Name), n.Config.Indexes)[0]
	msg = (&Executor{}).configError(n, s, errors.New(`column "nope" does not exist`)).Error()
	if strings.Contains(msg, pgname.Reserved) {
		t.Errorf("the error names the temporary index: %s", msg)
	}
	want := `create index if not exists "daily sales__nope_idx" on "analytics"."daily sales" ("nope")`
	for _, want := range []string{"models/x.yml:9:5", want} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
}
