package cli

import (
	"testing"

	"strata/engine/internal/pgtest"
)

// A model's leading lines (a config call, a comment, blank lines) stay in
// the compiled file; the error is placed at the model's own line and
// column, the compiled line kept as a hint, by run and by --empty (which
// checks the model as strata check does).
func TestSQLErrorLineCountsLeadingLines(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":  "name: p3\n",
		"models/t1.sql": "{{ config \"materialized\" \"table\" }}\n{{/* c */}}\n\n\nselect 1 as id,\n  nosuchcol as x\n",
	})
	for _, args := range [][]string{{"run"}, {"run", "--empty"}} {
		out := must(t, 1, dir, args...)
		mustContain(t, out, `models/t1.sql:6:3: column "nosuchcol" does not exist [SQLSTATE 42703] (at line 6 of target/compiled/models/t1.sql)`)
	}
}

// A database error is placed in the model's own file through the
// template: past a ref that renders longer than it is written, past
// non-ASCII text, in an inlined ephemeral model (at that model's file),
// in a macro (at the include, and the macro's place as a hint), and in
// the branch of an incremental model that only a second build renders.
func TestSQLErrorPlacedInTheModelsFile(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":        "name: p5\n",
		"macros/m.sql":        "{{ define \"bad\" }}\n  nosuch_in_macro + {{ . }}\n{{- end }}\n",
		"models/base.sql":     "select 1 as id, 'x' as name",
		"models/after.sql":    "-- één café\nselect b.id,\n       b.nosuch_after\nfrom {{ ref \"base\" }} as b\n",
		"models/eph.sql":      "{{ config \"materialized\" \"ephemeral\" }}\nselect id,\n  nosuch_eph\nfrom {{ ref \"base\" }}\n",
		"models/uses_eph.sql": "select * from {{ ref \"eph\" }}",
		"models/macro.sql":    "select\n  {{ include \"bad\" \"id\" }} as x\nfrom {{ ref \"base\" }}\n",
		"models/inc.sql":      "{{ config \"materialized\" \"incremental\" }}\nselect id from {{ ref \"base\" }}\n{{ if is_incremental }}where id > (select max(nosuch_inc) from {{ this }}){{ end }}\n",
	})
	// One thread: a model that inlines an ephemeral one must wait for the
	// ephemeral's parents, which is another change's to fix.
	out := must(t, 1, dir, "run", "--threads", "1")
	mustContain(t, out,
		`models/after.sql:3:8: column b.nosuch_after does not exist [SQLSTATE 42703] (at line 3 of target/compiled/models/after.sql)`,
		`models/uses_eph.sql: models/eph.sql:3:3: column "nosuch_eph" does not exist [SQLSTATE 42703] (at line 3 of target/compiled/models/uses_eph.sql)`,
		`models/macro.sql:2:3: column "nosuch_in_macro" does not exist [SQLSTATE 42703] (in macros/m.sql:2:3; at line 3 of target/compiled/models/macro.sql)`)
	out = must(t, 1, dir, "run", "-s", "inc")
	mustContain(t, out, `models/inc.sql:3:47: column "nosuch_inc" does not exist [SQLSTATE 42703] (at line 3 of target/compiled/models/inc.sql)`)
}

// A hook's database error is placed where the hook is written: an
// on-run-start hook at its line and column in project.yaml, a model's
// pre_hook at its config, with its place inside the hook.
func TestHookSQLErrorPlaced(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: p6\non-run-start:\n  - |\n    select 1;\n    select nosuch_start;\n",
		"models/m.sql": "{{ config \"pre_hook\" \"select nosuch_pre\" }}\nselect 1 as id",
	})
	out := must(t, 1, dir, "run")
	mustContain(t, out, `project.yaml:5:12: on-run-start hook failed: column "nosuch_start" does not exist [SQLSTATE 42703]`)
	dir = writeProject(t, url, map[string]string{
		"project.yaml": "name: p7\n",
		"models/m.sql": "{{ config \"pre_hook\" \"select nosuch_pre\" }}\nselect 1 as id",
	})
	out = must(t, 1, dir, "run")
	mustContain(t, out, `models/m.sql:1:4: pre_hook 1 of model m: column "nosuch_pre" does not exist [SQLSTATE 42703] (at 1:8 of the hook)`)
	// Configured in YAML: the line starts with that place alone (it had
	// the model's file in front of it: models/m.sql: models/m.yml:4:...).
	writeFile(t, dir, "models/m.sql", "select 1 as id")
	writeFile(t, dir, "models/m.yml", "models:\n  - name: m\n    config:\n      post_hook: 'select 1/0'\n")
	out = must(t, 1, dir, "run")
	mustContain(t, out, "\n          models/m.yml:4:18: post_hook 1 of model m: division by zero [SQLSTATE 22012]\n")
	// A hook of a list is placed at its own item, not at the list's first.
	writeFile(t, dir, "models/m.yml", "models:\n  - name: m\n    config:\n      post_hook:\n        - select 1\n        - select nosuch_post\n")
	out = must(t, 1, dir, "run")
	mustContain(t, out, "\n          models/m.yml:6:18: post_hook 2 of model m: column \"nosuch_post\" does not exist [SQLSTATE 42703]\n")
	// A hook written as a folded or literal block is placed at its line
	// in the block: it was placed at the key, or at the line of the text
	// the folding made ("at 1:21 of the hook" for the block's second line).
	writeFile(t, dir, "models/m.yml", "models:\n  - name: m\n    config:\n      post_hook:\n        - >-\n          select 1\n          from nosuch_folded\n")
	out = must(t, 1, dir, "run")
	mustContain(t, out, "\n          models/m.yml:7:16: post_hook 1 of model m: relation \"nosuch_folded\" does not exist [SQLSTATE 42P01]\n")
	writeFile(t, dir, "models/m.yml", "models:\n  - name: m\n")
	writeFile(t, dir, "project.yaml", "name: p7\non-run-end: >\n  select 1\n    , nosuch_end\n  from (select 1) as t\n"+target(url, ""))
	out = must(t, 1, dir, "run")
	mustContain(t, out, `project.yaml:4:7: on-run-end hook failed: column "nosuch_end" does not exist [SQLSTATE 42703]`)
}

// A data test's SQL error is placed: a singular test at its own line and
// column, a generic one at its declaration in the YAML file.
func TestDataTestSQLErrorHasLine(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":     "name: p4\n",
		"seeds/codes.csv":  "code\na\n",
		"tests/sing.sql":   "-- comment\n\nselect *\nfrom {{ ref \"codes\" }}\nwhere nosuch = 1\n",
		"tests/stored.sql": "{{ config \"store_failures\" true \"limit\" 5 }}\n\nselect nosuch2 from {{ ref \"codes\" }}\n",
		"models/m.sql":     "select 1 as id",
		"models/m.yml": `models:
  - name: m
    columns:
      - name: id
        tests: [not_null]
      - name: gone
        tests:
          - not_null
`,
	})
	if code, out := strata(t, dir, "build", "--exclude", "sing"); code != 1 {
		t.Fatalf("build exited %d, want 1:\n%s", code, out)
	} else {
		mustContain(t, out, `models/m.yml:8:13: column "gone" does not exist [SQLSTATE 42703] (at line 1 of target/compiled/models/m.yml/not_null_m_gone.sql)`)
	}
	// The build's audit of codes failed on stored's error: load it to test.
	must(t, 0, dir, "seed")
	out := must(t, 1, dir, "test", "-s", "sing stored")
	mustContain(t, out, `tests/sing.sql:5:7: column "nosuch" does not exist [SQLSTATE 42703] (at line 5 of target/compiled/tests/sing.sql)`,
		`tests/stored.sql:3:8: column "nosuch2" does not exist [SQLSTATE 42703] (at line 3 of target/compiled/tests/stored.sql)`)
}
