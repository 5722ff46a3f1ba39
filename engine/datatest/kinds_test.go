package datatest

import (
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "rewrite the tables of docs/tests.md from the registry of test kinds")

// exampleRelation is the relation the examples test; a model or seed an
// argument names is in the same schema.
const exampleRelation = `"warehouse"."fact_orders"`

func exampleResolve(name string) (string, error) { return `"warehouse".` + `"` + name + `"`, nil }

// example decodes an example's tests: entry as the loader does: the kind's
// name alone, or a mapping from it to the arguments.
func example(t *testing.T, k *Kind, ex Example) map[string]any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal([]byte(ex.Test), &v); err != nil {
		t.Fatalf("%s: example %q is not YAML: %v", k.Name, ex.Test, err)
	}
	switch v := v.(type) {
	case string:
		if v != k.Name {
			t.Fatalf("%s: example %q is not a %s test", k.Name, ex.Test, k.Name)
		}
		return map[string]any{}
	case map[string]any:
		args, ok := v[k.Name].(map[string]any)
		if len(v) != 1 || !ok {
			t.Fatalf("%s: example %q is not {%s: {arguments}}", k.Name, ex.Test, k.Name)
		}
		return args
	}
	t.Fatalf("%s: example %q is neither a name nor a mapping", k.Name, ex.Test)
	return nil
}

func exampleSpec(k *Kind, ex Example, args map[string]any) Spec {
	return Spec{Kind: k.Name, Relation: exampleRelation, Column: ex.Column, Args: args, Resolve: exampleResolve}
}

// argsRead returns, for each entry of the table in kinds.go, the arguments
// its functions (SQL, Check) read by name: s.Args["name"], args["name"],
// s.resolve("name").
func argsRead(t *testing.T) map[string][]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "kinds.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || len(vs.Names) != 1 || vs.Names[0].Name != "kinds" {
			return true
		}
		for _, e := range vs.Values[0].(*ast.CompositeLit).Elts {
			var name string
			for _, kv := range e.(*ast.CompositeLit).Elts {
				kv := kv.(*ast.KeyValueExpr)
				if kv.Key.(*ast.Ident).Name == "Name" {
					name, _ = strconv.Unquote(kv.Value.(*ast.BasicLit).Value)
				}
			}
			var read []string
			ast.Inspect(e, func(n ast.Node) bool {
				var lit ast.Expr
				switch n := n.(type) {
				case *ast.IndexExpr:
					if id, ok := n.X.(*ast.Ident); ok && id.Name == "args" {
						lit = n.Index
					}
					if sel, ok := n.X.(*ast.SelectorExpr); ok && sel.Sel.Name == "Args" {
						lit = n.Index
					}
				case *ast.CallExpr:
					if sel, ok := n.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "resolve" && len(n.Args) == 1 {
						lit = n.Args[0]
					}
				}
				if b, ok := lit.(*ast.BasicLit); ok && b.Kind == token.STRING {
					arg, _ := strconv.Unquote(b.Value)
					read = append(read, arg)
				}
				return true
			})
			out[name] = read
		}
		return false
	})
	if len(out) != len(kinds) {
		t.Fatalf("found %d entries in kinds.go, want %d", len(out), len(kinds))
	}
	return out
}

// TestKindsAreComplete walks the registry: every kind has a name, docs
// (unless internal), SQL and examples; its arguments have a type; the examples pass the
// loader's and the manifest's checks and render; each argument is used by
// an example and read by the SQL (leaving it out changes the query), and the
// SQL reads no argument the kind does not declare; the sample and level
// columns are columns of the query.
func TestKindsAreComplete(t *testing.T) {
	reads := argsRead(t)
	seen := map[string]bool{}
	for i := range kinds {
		k := &kinds[i]
		t.Run(k.Name, func(t *testing.T) {
			if !regexp.MustCompile(`^[a-z][a-z_]*$`).MatchString(k.Name) || seen[k.Name] {
				t.Fatalf("kind %q: the name must be new and snake_case", k.Name)
			}
			seen[k.Name] = true
			if Lookup(k.Name) != k {
				t.Errorf("Lookup(%q) is not the entry", k.Name)
			}
			if listed := slices.Contains(Names(), k.Name); listed == k.Internal {
				t.Errorf("Names() lists %s: %v, want %v (internal: %v)", k.Name, listed, !k.Internal, k.Internal)
			}
			if (k.Doc == "") != k.Internal || strings.Contains(k.Doc, "|") {
				t.Errorf("Doc = %q, want what fails the test (internal: %v), without |", k.Doc, k.Internal)
			}
			if k.SQL == nil {
				t.Fatal("no SQL")
			}
			declared := map[string]*Arg{}
			for j := range k.Args {
				a := &k.Args[j]
				if a.Name == "" || declared[a.Name] != nil || a.Type == nil || a.Type.check == nil || strings.Contains(a.Doc, "|") {
					t.Errorf("argument %+v: want a new name, a type with a check, a note without |", *a)
				}
				declared[a.Name] = a
			}
			for _, name := range reads[k.Name] {
				if declared[name] == nil {
					t.Errorf("the entry reads the argument %q, which is not declared", name)
				}
			}
			if len(k.Examples) == 0 {
				t.Fatal("no examples")
			}
			used := map[string]bool{}
			for _, ex := range k.Examples {
				args := example(t, k, ex)
				if k.Column && ex.Column == "" {
					t.Errorf("example %q: a column test's example needs its column", ex.Test)
				}
				if !k.Internal {
					if p := k.LoadProblems(args, ex.Column != ""); len(p) > 0 {
						t.Errorf("example %q: the loader reports %q", ex.Test, p)
					}
					if err := k.CheckArgs(args); err != nil {
						t.Errorf("example %q: the manifest reports %v", ex.Test, err)
					}
				}
				sql, err := SQL(exampleSpec(k, ex, args))
				if err != nil || !strings.HasPrefix(sql, "select ") {
					t.Fatalf("example %q renders %q, %v", ex.Test, sql, err)
				}
				for _, c := range []string{k.Sample, k.Level} {
					if c != "" && !regexp.MustCompile(` as `+regexp.QuoteMeta(c)+`\b`).MatchString(sql) {
						t.Errorf("example %q: the query has no column %s:\n%s", ex.Test, c, sql)
					}
				}
				for name := range args {
					if declared[name] == nil {
						t.Errorf("example %q: argument %q is not declared", ex.Test, name)
					}
					used[name] = true
					without := maps.Clone(args)
					delete(without, name)
					if other, err := SQL(exampleSpec(k, ex, without)); err == nil && other == sql {
						t.Errorf("example %q: the query is the same without %s", ex.Test, name)
					}
					if a := declared[name]; a != nil && a.Required && !k.Internal && !slices.Contains(k.LoadProblems(without, ex.Column != ""), fmt.Sprintf("test %s needs the argument %q", k.Name, name)) {
						t.Errorf("example %q: without %s, the loader does not say it is missing", ex.Test, name)
					}
				}
			}
			for _, a := range k.Args {
				if !used[a.Name] {
					t.Errorf("argument %s is in no example", a.Name)
				}
			}
			if k.Column && !k.Internal {
				want := fmt.Sprintf("test %s belongs under a column's tests: (it checks one column)", k.Name)
				if !slices.Contains(k.LoadProblems(example(t, k, k.Examples[0]), false), want) {
					t.Errorf("on a model's tests:, the loader does not say %q", want)
				}
			}
		})
	}
}

// TestRefArgs: the arguments naming a model or seed are to for every
// generic test but those of a built-in kind without such an argument.
func TestRefArgs(t *testing.T) {
	cases := map[string][]string{"relationships": {"to"}, "equal_row_count": {"to"}, "not_null": nil, "my_custom": {"to"}, "freshness": {"to"}}
	for kind, want := range cases {
		if got := RefArgs(kind); !slices.Equal(got, want) {
			t.Errorf("RefArgs(%q) = %q, want %q", kind, got, want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	cases := []struct {
		in, want string // want "" = refused
	}{
		{"30s", "30 seconds"}, {"30m", "30 minutes"}, {"24h", "24 hours"}, {"7d", "7 days"},
		{"0h", "0 hours"}, {"+5h", "5 hours"}, {"05d", "5 days"},
		{"", ""}, {"h", ""}, {"7", ""}, {"7w", ""}, {"1h30m", ""}, {"-1h", ""}, {"24hours", ""}, {"1.5h", ""},
		{"99999999999999999999d", ""},
	}
	for _, c := range cases {
		d, err := ParseDuration(c.in)
		switch {
		case c.want == "" && err == nil:
			t.Errorf("ParseDuration(%q) = %v, want an error", c.in, d)
		case c.want == "" && err.Error() != fmt.Sprintf("expected a duration such as 30m, 24h or 7d, got %q", c.in):
			t.Errorf("ParseDuration(%q): error %q", c.in, err)
		case c.want != "" && (err != nil || d.Interval() != c.want):
			t.Errorf("ParseDuration(%q) = %q, %v, want %q", c.in, d.Interval(), err, c.want)
		}
	}
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"24h", "7d", "-1m", "1h30m", "", " 5 s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			return
		}
		if d.N < 0 || !slices.Contains([]string{"seconds", "minutes", "hours", "days"}, d.Unit) {
			t.Errorf("ParseDuration(%q) = %+v", s, d)
		}
	})
}

// TestCustomFields: a custom generic test's macro gets CustomFields and
// its arguments, which the manifest uses to tell an argument the macro
// reads from the data every test gets.
func TestCustomFields(t *testing.T) {
	d := CustomData(`"s"."m"`, "c", map[string]any{"min_value": 1})
	got := slices.Sorted(maps.Keys(d))
	want := slices.Sorted(slices.Values(append([]string{"min_value"}, CustomFields...)))
	if !slices.Equal(got, want) {
		t.Errorf("CustomData keys = %q, want %q", got, want)
	}
}

// The tables of docs/tests.md that the registry writes are between these lines.
const (
	docsBegin = "<!-- The two tables below are written from engine/datatest/kinds.go by go test ./engine/datatest -update: change that table, not these rows. -->\n"
	docsEnd   = "<!-- End of the tables written from engine/datatest/kinds.go. -->\n"
)

// TestDocsTables: the tables of the built-in tests in docs/tests.md are the
// registry's; -update rewrites them.
func TestDocsTables(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "tests.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	begin, end := strings.Index(page, docsBegin), strings.Index(page, docsEnd)
	if begin < 0 || end < begin {
		t.Fatalf("%s has no lines %q and %q around the tables of the built-in tests", path, docsBegin, docsEnd)
	}
	begin += len(docsBegin)
	if got, want := page[begin:end], docsTables(); got != want {
		if !*update {
			t.Fatalf("the tables of %s are not the registry's (go test ./engine/datatest -update rewrites them):\n got\n%s\nwant\n%s", path, got, want)
		}
		if err := os.WriteFile(path, []byte(page[:begin]+want+page[end:]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// docsTables are the built-in tests a project may use, as docs/tests.md
// shows them: the column tests, then the others.
func docsTables() string {
	var b strings.Builder
	for _, column := range []bool{true, false} {
		if column {
			b.WriteString("Column tests (declared under a column):\n\n")
		} else {
			b.WriteString("\nTests on a column or on the whole model:\n\n")
		}
		b.WriteString("| test | arguments | fails for |\n|---|---|---|\n")
		for _, k := range kinds {
			if k.Column == column && !k.Internal {
				fmt.Fprintf(&b, "| `%s` | %s | %s |\n", k.Name, docsArgs(k), k.Doc)
			}
		}
	}
	b.WriteString("\n")
	return b.String()
}

// docsArgs lists a kind's arguments, the required ones first, each with its
// note; arguments in a row with one note share it: `min`, `max` (at least one).
func docsArgs(k Kind) string {
	var args []Arg
	for _, required := range []bool{true, false} {
		for _, a := range k.Args {
			if a.Required == required {
				args = append(args, a)
			}
		}
	}
	if len(args) == 0 {
		return "none"
	}
	var out []string
	for i := 0; i < len(args); {
		j := i + 1
		for j < len(args) && args[i].Doc != "" && args[j].Doc == args[i].Doc {
			j++
		}
		var names []string
		for _, a := range args[i:j] {
			names = append(names, "`"+a.Name+"`")
		}
		item := strings.Join(names, ", ")
		if args[i].Doc != "" {
			item += " (" + args[i].Doc + ")"
		}
		out = append(out, item)
		i = j
	}
	return strings.Join(out, ", ")
}
