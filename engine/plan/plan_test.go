package plan

import (
	"fmt"
	"strings"
	"testing"
)

// unescapedPipes counts the | of a table row that are not escaped.
func unescapedPipes(row string) int {
	n := 0
	for i := 0; i < len(row); i++ {
		switch row[i] {
		case '\\':
			i++
		case '|':
			n++
		}
	}
	return n
}

// TestMarkdownEscapes: names, config values and SQL holding | and
// backticks keep the pull-request comment's tables and code intact. The
// diff was fenced by ``` whatever it held (a ``` in the SQL ended the
// block; it was shown as "` ` `"), a backtick in a table cell became ',
// and a | outside a table showed as \|.
func TestMarkdownEscapes(t *testing.T) {
	diff := "--- a\n+++ b\n@@ -1 +1 @@\n-select '```' || x\n+select '````' || y\n"
	p := &Plan{Project: "p", Target: "t", Env: "e",
		Modified: []Change{{Model: Model{Name: "m`x", Kind: "model", Materialized: "view", Relation: `s."m|x"`}, Why: []string{"sql", "config"},
			Config:  []ConfigChange{{Key: "post_hook", Old: `"select a || b"`, New: "\"select `x`\""}},
			Columns: &Columns{Added: []Column{{Name: "a|b`c", Type: "text"}}, Retyped: []Retyped{{Name: "`q`", Old: "int", New: "bigint"}}},
			Readers: []Reader{{Model: "r", Columns: []string{"a|b"}}}, Diff: diff}},
		Rebuild: []Step{{Model: Model{Name: "m`x", Kind: "model", Materialized: "view", Relation: `s."m|x"`}, Why: "modified", Rows: -1}}}
	var b strings.Builder
	if err := Write(&b, p, "markdown"); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"`````diff\n" + diff + "`````\n",                               // a fence longer than the SQL's backticks, the SQL as it is
		"**``m`x``** (view, `s.\"m|x\"`)",                              // outside a table, | is not escaped
		"| post_hook | `\"select a \\|\\| b\"` | ``\"select `x`\"`` |", // in a cell it is
		"| ``a\\|b`c`` | added, text |",
		"| `` `q` `` | **retyped** int → bigint |",
		"read downstream by `r` (`a|b`)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the markdown lacks %q:\n%s", want, out)
		}
	}
	// Every row of a table has as many cells as its header.
	cols := 0
	for _, line := range strings.Split(out, "\n") {
		switch {
		case !strings.HasPrefix(line, "|"):
			cols = 0
		case cols == 0:
			cols = unescapedPipes(line)
		case unescapedPipes(line) != cols:
			t.Errorf("table row %q has %d cell borders, its header %d", line, unescapedPipes(line), cols)
		}
	}
	if got := md("a_b _x_ *c* <d> [e] |f| `g` ~h~ \\i\nj"); got != `a_b \_x\_ \*c\* \<d\> \[e\] \|f\| \`+"`"+`g\`+"`"+` \~h\~ \\i j` {
		t.Errorf("md = %s", got)
	}
}

// TestMarkdownFitsAComment: GitHub refuses a pull-request comment over
// 65,536 characters, and the plan of a large change was longer (every
// diff whole, every model listed): the CI step that posts it failed. Now
// a diff stops at diffLimit lines, a list at listLimit entries, and the
// diffs that do not fit are left out, each saying so.
func TestMarkdownFitsAComment(t *testing.T) {
	var long strings.Builder
	long.WriteString("--- a\n+++ b\n@@ -1,5000 +1,5000 @@\n")
	for i := range 5000 {
		fmt.Fprintf(&long, "-select %d as a_rather_long_column_name_%d\n+select %d as b\n", i, i, i)
	}
	p := &Plan{Project: "p", Target: "t"}
	for i := range 40 {
		p.Modified = append(p.Modified, Change{Model: Model{Name: fmt.Sprintf("m%d", i), Kind: "model", Materialized: "table"}, Why: []string{"sql"}, Diff: long.String()})
	}
	for i := range 500 {
		m := Model{Name: fmt.Sprintf("downstream_model_%d", i), Kind: "model", Materialized: "table", Relation: fmt.Sprintf("analytics__pr_1.downstream_model_%d", i)}
		p.Indirect = append(p.Indirect, Indirect{Model: m, Through: []string{"m0"}})
		p.Added = append(p.Added, m)
		p.Rebuild = append(p.Rebuild, Step{Model: m, Why: "downstream", Rows: 1e6})
	}
	var b strings.Builder
	if err := Write(&b, p, "markdown"); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if len(out) > commentLimit {
		t.Errorf("the markdown is %d bytes, over %d", len(out), commentLimit)
	}
	for _, want := range []string{"more lines of this diff", "SQL diff left out", "… and 400 more", "<details><summary>Indirectly modified (500)</summary>"} {
		if !strings.Contains(out, want) {
			t.Errorf("the markdown lacks %q", want)
		}
	}
	// Without a diff, many models whose config values are long (a
	// project-wide post_hook changed) or whose columns changed: each
	// model's details go, its full-refresh warning stays, and so does
	// what the build, and its full refresh, refuse of the views on it.
	hooks := `["grant select on {{ this }} to reporting_role", "insert into audit.builds (model, built_at) values ('{{ this }}', now())", "analyze {{ this }}"]`
	wide := &Plan{Project: "p", Target: "t"}
	for i := range 150 {
		m := Model{Name: fmt.Sprintf("model_number_%d", i), Kind: "model", Materialized: "incremental", Relation: fmt.Sprintf("analytics.model_number_%d", i)}
		c := Change{Model: m, Why: []string{"config"}, Config: []ConfigChange{{Key: "post_hook", Old: hooks, New: strings.ReplaceAll(hooks, "reporting", "reports")}}, Columns: &Columns{}, FullRefresh: "needs --full-refresh"}
		for k := range 20 {
			c.Columns.Retyped = append(c.Columns.Retyped, Retyped{Name: fmt.Sprintf("amount_%d", k), Old: "integer", New: "numeric(12,2)"})
		}
		if i == 0 {
			c.Views = []View{{View: "rep.hand", Error: "view rep.hand reads a dropped column"}}
			c.FullRefreshViews = []View{{View: "rep.full", Error: "view rep.full reads a column the full refresh drops"}}
		}
		wide.Modified = append(wide.Modified, c)
		wide.Rebuild = append(wide.Rebuild, Step{Model: m, Why: "modified", Rows: 1e6})
	}
	b.Reset()
	_ = Write(&b, wide, "markdown")
	if out := b.String(); len(out) > commentLimit || !strings.Contains(out, "is left out: the comment would be too long") || strings.Count(out, "needs --full-refresh") != listLimit ||
		!strings.Contains(out, "- :warning: needs --full-refresh\n- :warning: build refuses: view rep.hand reads a dropped column\n- :warning: build --full-refresh refuses: view rep.full reads a column the full refresh drops\n\n") {
		t.Errorf("a plan of %d models with long config values is %d bytes (limit %d), its details left out: %v, full-refresh warnings: %d, the view rep.hand named: %v",
			len(wide.Modified), len(out), commentLimit, strings.Contains(out, "left out"), strings.Count(out, "needs --full-refresh"), strings.Contains(out, "rep.hand"))
	}
	// What is still too long (indirectly modified models each through
	// hundreds of others) stops at a line, saying so.
	for i := range 100 {
		var through []string
		for k := range 300 {
			through = append(through, fmt.Sprintf("upstream_%d", k))
		}
		wide.Indirect = append(wide.Indirect, Indirect{Model: Model{Name: fmt.Sprintf("i%d", i), Kind: "model"}, Through: through})
	}
	b.Reset()
	_ = Write(&b, wide, "markdown")
	if out := b.String(); len(out) > commentLimit || !strings.HasSuffix(out, tooLong) || !strings.HasSuffix(strings.TrimSuffix(out, tooLong), "`") {
		t.Errorf("a plan too long even without details is %d bytes (limit %d), ends %q", len(out), commentLimit, out[max(0, len(out)-200):])
	}
	// A small plan is left whole.
	small := &Plan{Project: "p", Target: "t", Modified: []Change{{Model: Model{Name: "m", Kind: "model"}, Why: []string{"sql"}, Diff: "--- a\n+++ b\n@@ -1 +1 @@\n-x\n+y\n"}}}
	b.Reset()
	_ = Write(&b, small, "markdown")
	if strings.Contains(b.String(), "left out") || !strings.Contains(b.String(), "-x\n+y\n") {
		t.Errorf("a small plan's diff is not whole:\n%s", b.String())
	}
}

func TestRowsText(t *testing.T) {
	for _, c := range []struct {
		s    Step
		want string
	}{
		{Step{Rows: -1, Model: Model{Materialized: "view"}}, "a view, no rows of its own"},
		{Step{Rows: -1, Model: Model{Materialized: "table"}}, "rows unknown (not built yet)"},
		{Step{Rows: 0}, "~0 rows"},
		{Step{Rows: 1}, "~1 row"},
		{Step{Rows: 1.4}, "~1 row"},
		{Step{Rows: 999}, "~999 rows"},
		{Step{Rows: 1234567}, "~1,234,567 rows"},
	} {
		if got := rowsText(c.s); got != c.want {
			t.Errorf("rowsText(%+v) = %q, want %q", c.s, got, c.want)
		}
	}
}
