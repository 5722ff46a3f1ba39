package project

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// TestDbtNestedAliases: the check for dbt's nested folder config in
// project.yaml's models: and seeds: follows aliases within the bounds of
// vars. A mapping holding an alias of itself (staging: &a {x: *a}), or a
// config value of a nested folder holding one (+tags: &t [a, *t]),
// crashed strata validate with a stack overflow; seeds: holding itself,
// and folders of aliases of folders ten a level (10^30 of them), never
// ended. They are the decoder's errors now.
func TestDbtNestedAliases(t *testing.T) {
	var bomb strings.Builder
	bomb.WriteString("models:\n  l0: &l0 {+materialized: view}\n")
	for i := 1; i <= 30; i++ {
		fmt.Fprintf(&bomb, "  l%d: &l%d {", i, i)
		for j := 0; j < 10; j++ {
			fmt.Fprintf(&bomb, "f%d: *l%d, ", j, i-1)
		}
		bomb.WriteString("+x: 1}\n")
	}
	for _, tc := range []struct {
		name, yaml string
		want       []string // held by the diagnostics
	}{
		{name: "a folder holding itself", yaml: "models:\n  staging: &a {x: *a}\n",
			want: []string{`project.yaml:3:16: unknown key "x" in models: staging`}},
		{name: "a folder holding itself, with config", yaml: "models:\n  staging: &a {+materialized: view, x: *a}\n",
			want: []string{`project.yaml:3:16: unknown key "+materialized" in models: staging`, `project.yaml:3:37: unknown key "x" in models: staging`}},
		{name: "a config value holding itself", yaml: "models:\n  shop:\n    staging: {+tags: &t [a, *t]}\n",
			want: []string{`project.yaml:4:5: unknown key "staging" in models: shop`}},
		{name: "seeds holding themselves", yaml: "seeds: &a {+quote_columns: true, y: *a}\n",
			want: []string{`project.yaml:2:12: unknown key "+quote_columns" in seeds`}},
		{name: "folders of aliases of folders", yaml: bomb.String(),
			want: []string{
				"project.yaml:4:3: models: l1 is nested as in dbt_project.yml; strata's folder defaults are one flat mapping per folder, its path relative to models/ (. for all), without the project's name and without + (docs/project.md#folder-defaults-models): write models: {l1: {x: 1}, l1/f0: {materialized: view}, ",
				`project.yaml:33:14: unknown key "f0" in models: l30`,
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{
				"project.yaml": {Data: []byte("name: shop\n" + tc.yaml)},
				"models/a.sql": {Data: []byte("select 1")},
			}
			done := make(chan string)
			go func() {
				_, diags := Load(fsys)
				done <- diags.Error()
			}()
			select {
			case got := <-done:
				for _, w := range tc.want {
					if !strings.Contains(got, w) {
						t.Errorf("got\n%.3000s\nwant it to hold\n%s", got, w)
					}
				}
			case <-time.After(time.Minute):
				t.Fatal("still loading after a minute")
			}
		})
	}
}
