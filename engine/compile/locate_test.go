package compile

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"strata/engine/diag"
)

// TestLocate pins where a byte of compiled SQL is placed: in the model's
// file, in an inlined ephemeral model's file however the CTEs were merged
// (a WITH, a WITH RECURSIVE, none), nowhere for the text strata wrote, and
// at the declaration for a generic test.
func TestLocate(t *testing.T) {
	eph := func(sql string) string { return `{{ config "materialized" "ephemeral" }}` + sql }
	tests := []struct {
		name   string
		files  map[string]string
		node   string
		needle string
		want   string
	}{
		{name: "plain", files: map[string]string{"models/m.sql": "select\n  nosuch"}, node: "model.p.m", needle: "nosuch", want: "models/m.sql:2:3"},
		{name: "ephemeral's text", files: map[string]string{"models/e.sql": eph("\n\nselect nosuch_e;\n"), "models/m.sql": `select * from {{ ref "e" }}`},
			node: "model.p.m", needle: "nosuch_e", want: "models/e.sql:3:8"},
		{name: "after the CTEs", files: map[string]string{"models/e.sql": eph("select 1 as a"), "models/m.sql": "-- c\nselect a, nosuch_m from {{ ref \"e\" }}"},
			node: "model.p.m", needle: "nosuch_m", want: "models/m.sql:2:11"},
		{name: "merged into a with", files: map[string]string{"models/e.sql": eph("select 1 as a"), "models/m.sql": "with x as (select nosuch_w from {{ ref \"e\" }}) select * from x"},
			node: "model.p.m", needle: "nosuch_w", want: "models/m.sql:1:19"},
		{name: "merged into a with recursive", files: map[string]string{"models/e.sql": eph("select 1 as a"), "models/m.sql": "WITH  Recursive x as (select nosuch_r from {{ ref \"e\" }}) select * from x"},
			node: "model.p.m", needle: "nosuch_r", want: "models/m.sql:1:30"},
		{name: "a CTE head strata wrote", files: map[string]string{"models/e.sql": eph("select 1 as a"), "models/m.sql": `select * from {{ ref "e" }}`},
			node: "model.p.m", needle: " as (", want: ""},
		{name: "a generic test", files: map[string]string{"models/m.sql": "select 1 as id", "models/m.yml": "models:\n  - name: m\n    columns:\n      - name: id\n        tests: [not_null]\n"},
			node: "test.p.not_null_m_id", needle: "is null", want: "models/m.yml:5:17"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{"project.yaml": {Data: []byte("name: p\n")}}
			for k, v := range tc.files {
				fsys[k] = &fstest.MapFile{Data: []byte(v)}
			}
			m, c := compilerFor(t, fsys)
			n := m.Nodes[tc.node]
			if n == nil {
				t.Fatalf("no node %s among %v", tc.node, m.Sorted())
			}
			res, err := c.Node(n, Options{})
			if err != nil {
				t.Fatal(err)
			}
			i := strings.Index(res.SQL, tc.needle)
			if i < 0 {
				t.Fatalf("%q not in %q", tc.needle, res.SQL)
			}
			var got []string
			for _, p := range res.Locate(i) {
				got = append(got, p.String())
			}
			if g := strings.Join(got, " > "); g != tc.want {
				t.Errorf("Locate = %q, want %q in\n%s", g, tc.want, res.SQL)
			}
		})
	}
}

// offsetError is a database error at a character of the SQL.
type offsetError struct{ at int }

func (e offsetError) Error() string       { return "boom [SQLSTATE 42703]" }
func (e offsetError) Offset() (int, bool) { return e.at, e.at >= 0 }

// TestSQLError: the message names the model's line and column, then the
// compiled file's line; PostgreSQL's positions count characters, not bytes;
// an error without a position is the node's file as a whole.
func TestSQLError(t *testing.T) {
	fsys := fstest.MapFS{"project.yaml": {Data: []byte("name: p\n")},
		"models/m.sql": {Data: []byte("{{/* c */}}\n-- ünïcödé\nselect 'é' as a, nosuch")}}
	m, c := compilerFor(t, fsys)
	n := m.Nodes["model.p.m"]
	res, err := c.Node(n, Options{})
	if err != nil {
		t.Fatal(err)
	}
	chars := len([]rune(res.SQL[:strings.Index(res.SQL, "nosuch")]))
	tests := []struct {
		err  error
		want string
	}{
		{offsetError{chars}, "models/m.sql:3:18: boom [SQLSTATE 42703] (at line 3 of target/compiled/models/m.sql)"},
		// No position (a division by zero): the file alone, not its first
		// character, which would read as the place of the error.
		{offsetError{-1}, "models/m.sql: boom [SQLSTATE 42703]"},
		{errors.New("connection lost"), "models/m.sql: connection lost"},
	}
	for _, tc := range tests {
		if got := res.SQLError(n, tc.err).Error(); got != tc.want {
			t.Errorf("SQLError(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
	var _ Positioned = offsetError{}
	// A placed error is still the database's (retries and fallbacks branch
	// on its SQLSTATE) and a diagnostic for diag.List.
	placed := res.SQLError(n, offsetError{chars})
	var oe offsetError
	if !errors.As(placed, &oe) || oe.at != chars {
		t.Errorf("SQLError does not unwrap to the database's error: %#v", placed)
	}
	var d diag.Diagnostic
	if !errors.As(placed, &d) || d.Pos.String() != "models/m.sql:3:18" {
		t.Errorf("SQLError as a diagnostic = %#v", d)
	}
}
