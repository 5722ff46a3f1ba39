package cli

import (
	"strings"
	"testing"

	"strata/engine/internal/pgtest"
)

// TestStateModifiedSeedsAndTests: a changed CSV makes its seed modified, and
// a changed macro makes the tests that use it modified (a custom generic
// test's test_<name> and what it includes, a singular test's includes).
func TestStateModifiedSeedsAndTests(t *testing.T) {
	base := map[string]string{
		"project.yaml": "name: p\n",
		"seeds/s.csv":  "id\n1\n",
		"macros/m.sql": `{{ define "test_small" }}select * from {{ .relation }} where {{ include "too_big" .column }}{{ end }}` +
			`{{ define "too_big" }}{{ ident . }} > 10{{ end }}{{ define "spare" }}1{{ end }}`,
		"models/a.sql":      "select 1 as id",
		"models/schema.yml": "models:\n  - name: a\n    columns:\n      - name: id\n        tests: [small, not_null]\n",
		"tests/big.sql":     `select * from {{ ref "a" }} where {{ include "too_big" "id" }}`,
	}
	tests := []struct {
		name   string
		change map[string]string
		want   string
	}{
		{name: "nothing changed", want: ""},
		{name: "the seed's CSV", change: map[string]string{"seeds/s.csv": "id\n1\n2\n"}, want: "s"},
		{name: "a macro the tests include", change: map[string]string{"macros/m.sql": strings.Replace(base["macros/m.sql"], "> 10", "> 20", 1)}, want: "big small_a_id"},
		{name: "a generic test's own macro", change: map[string]string{"macros/m.sql": strings.Replace(base["macros/m.sql"], "select *", "select id", 1)}, want: "small_a_id"},
		{name: "a macro nobody uses", change: map[string]string{"macros/m.sql": strings.Replace(base["macros/m.sql"], "}}1{{", "}}2{{", 1)}, want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("STRATA_TARGET", "")
			dir, state := compiledState(t, base)
			writeFiles(t, dir, tc.change)
			out, _ := runCLI(t, "--project-dir", dir, "ls", "-s", "state:modified", "--state", state)
			if got := strings.Join(strings.Fields(out), " "); got != tc.want {
				t.Errorf("state:modified = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestMaterializedViewSelectsNoSeed: a seed's materialized is seed, as in dbt.
func TestMaterializedViewSelectsNoSeed(t *testing.T) {
	t.Setenv("STRATA_TARGET", "")
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"project.yaml": "name: p\n", "seeds/s.csv": "id\n1\n", "models/v.sql": "select 1 as id"})
	for sel, want := range map[string]string{"config.materialized:view": "v", "config.materialized:seed": "s"} {
		out, _ := runCLI(t, "--project-dir", dir, "ls", "-s", sel)
		if got := strings.Join(strings.Fields(out), " "); got != want {
			t.Errorf("ls -s %s = %q, want %q", sel, got, want)
		}
	}
}

// TestSeedHooksRunOnEveryLoad: a seed's pre_hook runs before the load (the
// table does not exist yet on the first one), its post_hook after, and both
// run again when the seed is unchanged, as for models.
func TestSeedHooksRunOnEveryLoad(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: sh\n",
		"seeds/s.csv":  "id\n1\n2\n",
		"seeds/s.yml": `seeds:
  - name: s
    config:
      pre_hook:
        - create table if not exists public.hook_log (i serial, what text, n bigint)
        - insert into public.hook_log (what, n) select 'pre', count(*) from pg_class where oid = to_regclass('public.s')
      post_hook: ["insert into public.hook_log (what, n) select 'post', count(*) from {{ this }}"]
`,
	})
	for i := 0; i < 2; i++ {
		must(t, 0, dir, "seed")
	}
	got := queryRows(t, url, "select what || ' ' || n from public.hook_log order by i")
	var log []string
	for _, r := range got {
		log = append(log, r[0])
	}
	if want := "pre 0, post 2, pre 1, post 2"; strings.Join(log, ", ") != want {
		t.Errorf("hook log = %q, want %q", strings.Join(log, ", "), want)
	}
}

// TestSeedPreHookFailureKeepsTheTable: the pre_hook runs in the load's
// transaction, so when it fails the old rows stay.
func TestSeedPreHookFailureKeepsTheTable(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{"project.yaml": "name: sf\n", "seeds/s.csv": "id\n1\n2\n"})
	must(t, 0, dir, "seed")
	writeFiles(t, dir, map[string]string{
		"seeds/s.csv": "id\n1\n2\n3\n4\n5\n",
		"seeds/s.yml": "seeds:\n  - name: s\n    config: {pre_hook: ['delete from {{ this }}', 'select 1/0']}\n",
	})
	code, out := strata(t, dir, "seed")
	if code != 1 || !strings.Contains(out, "pre_hook: select 1/0") || !strings.Contains(out, "division by zero") {
		t.Fatalf("seed with a failing pre_hook exited %d, want 1 and the hook's error:\n%s", code, out)
	}
	if got := queryInt(t, url, "select count(*) from public.s"); got != 2 {
		t.Errorf("s has %d rows after the failed pre_hook, want the old 2", got)
	}
}

// TestSeedGrantsAndDescriptionWhenUnchanged: grants and the description are
// applied on every seed run, also when the CSV is unchanged: after a grant
// failed (its role was missing) and when they are added to a loaded seed.
func TestSeedGrantsAndDescriptionWhenUnchanged(t *testing.T) {
	url := pgtest.DB(t)
	const role = "strata_seed_grant_reader"
	exec := func(sql string) { t.Helper(); execSQL(t, url, sql) }
	exec("drop role if exists " + role)
	t.Cleanup(func() { exec("drop owned by " + role + "; drop role " + role) })
	dir := writeProject(t, url, map[string]string{"project.yaml": "name: sg\n", "seeds/s.csv": "id\n1\n"})
	must(t, 0, dir, "seed")
	writeFiles(t, dir, map[string]string{"seeds/s.yml": "seeds:\n  - name: s\n    description: One row.\n    config: {grants: {select: [" + role + "]}}\n"})
	if code, out := strata(t, dir, "seed"); code != 1 || !strings.Contains(out, "does not exist") {
		t.Fatalf("seed granting to a missing role exited %d, want 1:\n%s", code, out)
	}
	exec("create role " + role)
	code, out := strata(t, dir, "seed")
	if code != 0 || !strings.Contains(out, "unchanged") {
		t.Fatalf("seed exited %d, want 0 with the seed unchanged:\n%s", code, out)
	}
	if got := queryInt(t, url, "select count(*) from public.s where has_table_privilege('"+role+"', 'public.s', 'select')"); got != 1 {
		t.Errorf("%s cannot select from the unchanged seed", role)
	}
	if got := queryRows(t, url, "select coalesce(obj_description('public.s'::regclass, 'pg_class'), '')"); len(got) != 1 || got[0][0] != "One row." {
		t.Errorf("the unchanged seed's comment is %v, want One row.", got)
	}
}

// TestSeedCSVErrorNamesItsPositionOnce: the error of a bad row is
// "path:line:col: what", not prefixed with the path a second time.
func TestSeedCSVErrorNamesItsPositionOnce(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{"project.yaml": "name: se\n", "seeds/toomany.csv": "a,b\n1,2\n3,4,5\n"})
	out := must(t, 1, dir, "seed")
	if !strings.Contains(out, "\n          seeds/toomany.csv:3:5: row has 3 fields, the header has 2") || strings.Contains(out, "seeds/toomany.csv: seeds/toomany.csv") {
		t.Errorf("the error should name its position once:\n%s", out)
	}
}

// TestAcceptedValuesAndExpressionAsDbt: accepted values are quoted (numbers
// compare with a text column, YAML dates with a date column), quote: false
// leaves numbers for a numeric column, accepted_range takes a date bound, and
// expression_is_true lets a row whose expression is NULL pass.
func TestAcceptedValuesAndExpressionAsDbt(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: av\n",
		"seeds/r.csv":  "code,n,d\n1,1,2024-01-01\n2,,2024-06-01\n",
		"seeds/r.yml": `seeds:
  - name: r
    config: {column_types: {code: text}}
    columns:
      - name: code
        tests: [{accepted_values: {values: [1, 2]}}]
      - name: n
        tests:
          - accepted_values: {values: [1, 2], quote: false}
          - expression_is_true: {expression: "> 0"}
      - name: d
        tests:
          - accepted_values: {values: [2024-01-01, 2024-06-01]}
          - accepted_range: {min: 2023-01-01, max: 2024-12-31}
`,
	})
	must(t, 0, dir, "validate")
	code, out := strata(t, dir, "build")
	if code != 0 || !strings.Contains(out, "PASS=6 WARN=0 ERROR=0 SKIP=0") {
		t.Fatalf("build exited %d, want every test to pass:\n%s", code, out)
	}
}
