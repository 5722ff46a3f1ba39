package cli

import (
	"testing"

	"strata/engine/internal/pgtest"
)

// TestAnalyzesWhatModelsRead: a table built anew, a model's or a loaded
// seed's, is analyzed when a model of the project reads it, so that the
// models after it are planned on its statistics; one that only tests or
// nothing read is not (autovacuum does it later). The models that read a
// table see its statistics when they are built.
func TestAnalyzesWhatModelsRead(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":      "name: an\nmodels: {'.': {materialized: table}}\n",
		"seeds/read.csv":    "id,name\n1,a\n2,b\n",
		"seeds/alone.csv":   "id,name\n1,a\n",
		"models/parent.sql": `select id, name from {{ ref "read" }}`,
		"models/child.sql":  `select id from {{ ref "parent" }}`,
		// What the planner knew of parent when this model was built.
		"models/seen.sql":   `select (select count(*) from pg_stats where schemaname = 'public' and tablename = 'parent') as stats, count(*) as n from {{ ref "parent" }}`,
		"models/schema.yml": "models:\n  - name: child\n    columns: [{name: id, tests: [not_null]}]\n",
	})
	must(t, 0, dir, "build")
	if got := queryInt(t, url, "select stats from seen"); got != 2 {
		t.Errorf("seen was built on %d statistics rows of parent, want 2 (its two columns): it did not wait for parent's analyze", got)
	}
	for table, want := range map[string]bool{"read": true, "parent": true, "alone": false, "child": false, "seen": false} {
		got := queryInt(t, url, "select count(*) from pg_stats where schemaname = 'public' and tablename = '"+table+"'") > 0
		if got != want {
			t.Errorf("%s analyzed: %v, want %v", table, got, want)
		}
	}
}
