package plan

import (
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"select  a,\n\n   b -- the b\nfrom t", []string{"select a,", "b", "from t"}},
		{"select /* one\n two */ a from t", []string{"select", "a from t"}},
		{"select /* a /* nested */ still */ x", []string{"select x"}},
		{"select '--not a comment' as c, \"a  b\" from t", []string{"select '--not a comment' as c, \"a  b\" from t"}},
		{"select 'it''s -- x' as c", []string{"select 'it''s -- x' as c"}},
		{"select $$ keep -- this $$ as c", []string{"select $$ keep -- this $$ as c"}},
		{"select $tag$ a /* b */ $tag$, $1 from t", []string{"select $tag$ a /* b */ $tag$, $1 from t"}},
		{"select 1\r\n-- é\r\nfrom t", []string{"select 1", "from t"}},
		{"select 'unterminated", []string{"select 'unterminated"}},
		{"select $$ unterminated", []string{"select $$ unterminated"}},
		{"/* unterminated", nil},
	} {
		got := Normalize(tc.in)
		if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
			t.Errorf("Normalize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestDiff(t *testing.T) {
	old := "select\n  order_id,\n  amount, -- gross\n  status\nfrom orders\n"
	if d := Diff("a", "b", old, "select\n order_id,\n    amount,\n  status -- now commented\nfrom orders"); d != "" {
		t.Fatalf("whitespace and comments made a diff: %q", d)
	}
	lines := func(n int, change map[int]string) string {
		var b strings.Builder
		for i := 1; i <= n; i++ {
			if c, ok := change[i]; ok {
				b.WriteString(c + "\n")
				continue
			}
			b.WriteString("line " + string(rune('a'+i)) + "\n")
		}
		return b.String()
	}
	got := Diff("production/m.sql", "project/m.sql", lines(12, nil), lines(12, map[int]string{2: "changed two", 11: "changed eleven"}))
	want := `--- production/m.sql
+++ project/m.sql
@@ -1,5 +1,5 @@
 line b
-line c
+changed two
 line d
 line e
 line f
@@ -8,5 +8,5 @@
 line i
 line j
 line k
-line l
+changed eleven
 line m
`
	if got != want {
		t.Fatalf("Diff =\n%s\nwant\n%s", got, want)
	}
	got = Diff("a", "b", "x\ny\n", "x\ny\nz\n")
	if want := "--- a\n+++ b\n@@ -1,2 +1,3 @@\n x\n y\n+z\n"; got != want {
		t.Fatalf("append: %q, want %q", got, want)
	}
	got = Diff("a", "b", "", "z")
	if want := "--- a\n+++ b\n@@ -0,0 +1 @@\n+z\n"; got != want {
		t.Fatalf("from nothing: %q, want %q", got, want)
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"select 1 -- c", "/* x */", "'a''b'", "$q$ x $q$", "$1", "\"x\"\"y\"", "$", "$a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		lines := Normalize(sql)
		for _, l := range lines {
			if l == "" || strings.TrimSpace(l) != l {
				t.Fatalf("Normalize(%q) has line %q", sql, l)
			}
		}
		if Diff("a", "b", sql, sql) != "" {
			t.Fatalf("Diff of %q with itself is not empty", sql)
		}
	})
}
