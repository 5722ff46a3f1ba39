package manifest

import (
	"slices"
	"strings"
	"testing"
)

// TestExposureDependsOnDbtSpelling: an exposure's depends_on names a model
// or seed as strata writes it or as dbt's YAML does (ref('a'), ref("a")),
// and a source table as dbt does (source('crm', 'accounts')); anything else
// is an error at the item that names it.
func TestExposureDependsOnDbtSpelling(t *testing.T) {
	files := map[string]string{
		"models/a.sql":       "select 1 as id",
		"seeds/s.csv":        "id\n1\n",
		"models/sources.yml": "sources:\n  - name: crm\n    tables:\n      - name: accounts\n  - name: crm's src\n    tables:\n      - name: 'Acc \"ounts\"'\n",
		"models/it's.sql":    "select 1 as id",
	}
	for _, c := range []struct {
		deps string
		want []string // the exposure's dependencies
		err  string   // or its error
	}{
		{"[a, s]", []string{"model.p.a", "seed.p.s"}, ""},
		{"a", []string{"model.p.a"}, ""},
		{"\n      - ref('a')\n      - ref(\"s\")", []string{"model.p.a", "seed.p.s"}, ""},
		{"[\"ref( 'a' )\"]", []string{"model.p.a"}, ""},
		{"\n      - source('crm', 'accounts')", []string{"source.p.crm.accounts"}, ""},
		{"\n      - a\n      - source(\"crm\", \"accounts\")", []string{"model.p.a", "source.p.crm.accounts"}, ""},
		// A name holding one quote, in the other (they were refused: a
		// quoted name could hold no quote at all).
		{"\n      - ref(\"it's\")\n      - source(\"crm's src\", 'Acc \"ounts\"')", []string{"model.p.it's", "source.p.crm's src.Acc \"ounts\""}, ""},
		{"[a, b]", nil, `models/e.yml:4:21: exposure e depends on "b", which is not a model, seed or source table (expected a model's or seed's name, or source('source', 'table')) (did you mean "a"?)`},
		{"\n      - a\n      - ref('aa')", nil, `models/e.yml:6:9: exposure e depends on "aa", which is not a model, seed or source table (expected a model's or seed's name, or source('source', 'table')) (did you mean "a"?)`},
		{"\n      - ref('a\")", nil, `models/e.yml:5:9: exposure e depends on "ref('a\")", which is not a model, seed or source table`},
		{"\n      - source('crm', 'contacts')", nil, `models/e.yml:5:9: exposure e depends on "source('crm', 'contacts')", which is not a model, seed or source table`},
	} {
		fs := map[string]string{"models/e.yml": "exposures:\n  - name: e\n    type: dashboard\n    depends_on: " + c.deps + "\n"}
		for k, v := range files {
			fs[k] = v
		}
		m, diags := buildWithDiags(t, fs)
		if c.err != "" {
			if len(diags) != 1 || !strings.HasPrefix(diags.Error(), c.err) {
				t.Errorf("depends_on: %s: got %v, want %q", c.deps, diags, c.err)
			}
			continue
		}
		if diags.HasErrors() {
			t.Errorf("depends_on: %s: %v", c.deps, diags)
			continue
		}
		got := m.Nodes["exposure.p.e"].DependsOn
		slices.Sort(got)
		if !slices.Equal(got, c.want) {
			t.Errorf("depends_on: %s: got %v, want %v", c.deps, got, c.want)
		}
	}
}
