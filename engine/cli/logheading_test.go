package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"strata/engine/internal/pgtest"
)

// TestRetryLogHeading: a retry's section of target/strata.log is headed by
// the command that ran and what it repeats, not '=== strata build' as if
// the retried build had run again from scratch.
func TestRetryLogHeading(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: lh\nvars: {bad: nosuch}\n",
		"models/a.sql": `select {{ var "bad" }} as id` + "\n",
		"models/b.sql": `select id from {{ ref "a" }}` + "\n",
		"models/c.sql": "select 1 as id\n",
	})
	must(t, 1, dir, "build")
	must(t, 0, dir, "retry", "--vars", "bad: 1")
	b, err := os.ReadFile(filepath.Join(dir, "target", "strata.log"))
	if err != nil {
		t.Fatal(err)
	}
	var headings []string
	for _, m := range regexp.MustCompile(`(?m)^=== (.*) \d{4}-\d\d-\d\dT\S+Z$`).FindAllStringSubmatch(string(b), -1) {
		headings = append(headings, m[1])
	}
	want := []string{"strata build", "strata retry of strata build: 2 nodes"}
	if len(headings) != len(want) || headings[0] != want[0] || headings[1] != want[1] {
		t.Errorf("strata.log headings %q, want %q:\n%s", headings, want, b)
	}
}
