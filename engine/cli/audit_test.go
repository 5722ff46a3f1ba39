package cli

import (
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"strata/engine/artifacts"
	"strata/engine/internal/pgtest"
)

// wapFiles is a project on url with one model of every kind, each with an
// error-severity test that fails when the var bad names it, and a child
// that reads it. k changes every model's data, so that a publish shows.
func wapFiles(url, bad string, k int) map[string]string {
	return map[string]string{
		"project.yaml":           fmt.Sprintf("name: wap\nvars: {bad: %s, k: %d}\nmodels: {'.': {materialized: table}}\ntarget: t\ntargets:\n  t: {type: postgres, url: '%s', threads: 4}\n", bad, k, url),
		"models/t.sql":           `select g as id, {{ var "k" }} as k from generate_series(1, 3) g{{ if eq (var "bad") "t" }} union all select 1, 0{{ end }}`,
		"models/t_child.sql":     `select * from {{ ref "t" }}`,
		"models/v.sql":           `{{ config "materialized" "view" }}select g as id, {{ var "k" }} as kv, 10 / {{ if eq (var "bad") "v" }}(g - g){{ else }}1{{ end }} as x from generate_series(1, 3) g`,
		"models/v_child.sql":     `select * from {{ ref "v" }}`,
		"models/inc.sql":         `{{ config "materialized" "incremental" "unique_key" "id" }}select g as id, {{ if eq (var "bad") "inc" }}-1{{ else }}{{ var "k" }}{{ end }} as k from generate_series(1, 2 + {{ var "k" }}) g`,
		"models/inc_child.sql":   `select * from {{ ref "inc" }}`,
		"models/dim.sql":         `{{ config "materialized" "scd2" "unique_key" "id" "strategy" "check" }}select g as id, 'n{{ var "k" }}' as name, {{ if eq (var "bad") "dim" }}null::text{{ else }}'ok'{{ end }} as note from generate_series(1, 3) g`,
		"models/dim_child.sql":   `select id, name from {{ ref "dim" }} where is_current`,
		"models/mv.sql":          `{{ config "materialized" "materialized_view" }}select g as id, {{ var "k" }} as k from generate_series(1, {{ if eq (var "bad") "mv" }}0{{ else }}3{{ end }}) g`,
		"models/mv_child.sql":    `select * from {{ ref "mv" }}`,
		"models/pt.sql":          `{{ config "partition_by" (dict "column" "d" "granularity" "month") }}select g as id, date '2024-01-01' + g * 20 as d, {{ var "k" }} as k from generate_series(1, 5) g{{ if eq (var "bad") "pt" }} union all select null, date '2024-03-01', 0{{ end }}`,
		"models/pt_child.sql":    `select * from {{ ref "pt" }}`,
		"models/s_child.sql":     `{{ config "materialized" "view" }}select * from {{ ref "s" }}`,
		"models/loose.sql":       `{{ config "audit" false }}select 1 as id, {{ var "k" }} as k{{ if eq (var "bad") "loose" }} union all select 1, 0{{ end }}`,
		"models/loose_child.sql": `select * from {{ ref "loose" }}`,
		"seeds/s.csv":            map[bool]string{false: fmt.Sprintf("id,name\n1,a\n2,k%d\n", k), true: "id,name\n1,a\n2,\n"}[bad == "s"],
		"models/schema.yml": `models:
  - name: t
    columns:
      - name: id
        tests: [{unique: {store_failures: true}}]
      - name: k
        tests: [{expression_is_true: {expression: "> 100", severity: warn}}]
  - name: v
    columns: [{name: x, tests: [not_null]}]
  - name: inc
    columns: [{name: k, tests: [{accepted_range: {min: 0}}]}]
  - name: dim
    columns: [{name: note, tests: [not_null]}]
  - name: mv
    tests: [not_empty]
  - name: pt
    columns: [{name: id, tests: [not_null]}]
  - name: loose
    columns: [{name: id, tests: [unique]}]
seeds:
  - name: s
    columns: [{name: name, tests: [not_null]}]
`,
	}
}

// checksum is a digest of a relation's rows, whatever their order.
func checksum(t *testing.T, url, rel string) string {
	t.Helper()
	return queryText(t, url, "select md5(coalesce(string_agg(r::text, '|' order by r::text), '')) from "+rel+" r")
}

// TestAuditKeepsThePreviousVersion (write-audit-publish, docs/tests.md): for each
// kind, a change that breaks a test keeps the old data byte for byte and
// skips what depends on it; retry, once the change is fixed, publishes it.
func TestAuditKeepsThePreviousVersion(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, wapFiles(url, "none", 1))
	out := must(t, 0, dir, "build")
	// An audited test is reported once, with the model, and never started
	// on its own; a warn-severity test runs after the publish, as before.
	if strings.Contains(out, "START test unique_t_id") || strings.Count(out, " unique_t_id ") != 1 {
		t.Errorf("the audited test did not run exactly once, with its model:\n%s", out)
	}
	mustContain(t, out, "START test expression_is_true_t_k", "WARN 3 expression_is_true_t_k")

	kinds := []struct{ name, rel, test, status string }{
		{"t", "public.t", "unique_t_id", "fail"},
		{"v", "public.v", "not_null_v_x", "error"}, // division by zero when the test reads the view
		{"inc", "public.inc", "accepted_range_inc_k", "fail"},
		{"dim", "public.dim", "not_null_dim_note", "fail"},
		{"mv", "public.mv", "not_empty_mv", "fail"},
		{"pt", "public.pt", "not_null_pt_id", "fail"},
		{"s", "public.s", "not_null_s_name", "fail"},
	}
	for i, kind := range kinds {
		k := i + 2
		before := checksum(t, url, kind.rel)
		viewdef := queryText(t, url, "select coalesce(pg_get_viewdef(to_regclass('"+kind.rel+"')), '')")
		parts := queryText(t, url, "select count(*)::text from pg_inherits where inhparent = '"+kind.rel+"'::regclass")
		for name, body := range wapFiles(url, kind.name, k) {
			writeFile(t, dir, name, body)
		}
		out := must(t, 1, dir, "build", "-s", kind.name+"+")
		mustContain(t, out, "[AUDIT FAILED in")
		if got := checksum(t, url, kind.rel); got != before {
			t.Errorf("%s: the failed audit changed the relation's rows", kind.name)
		}
		if got := queryText(t, url, "select coalesce(pg_get_viewdef(to_regclass('"+kind.rel+"')), '')"); got != viewdef {
			t.Errorf("%s: the failed audit changed the view's definition", kind.name)
		}
		if got := queryText(t, url, "select count(*)::text from pg_inherits where inhparent = '"+kind.rel+"'::regclass"); got != parts {
			t.Errorf("%s: the failed audit changed the partitions: %s, were %s", kind.name, got, parts)
		}
		res := results(t, dir)
		id := "model.wap." + kind.name
		if kind.name == "s" {
			id = "seed.wap.s"
		}
		if r := res[id]; r.Status != "error" || r.AdapterResp != "AUDIT FAILED" || !strings.HasPrefix(r.Message, "AUDIT FAILED") || !strings.Contains(r.Message, kind.test) {
			t.Errorf("%s: %s %q %q", kind.name, r.Status, r.AdapterResp, r.Message)
		}
		if got := res["test.wap."+kind.test].Status; got != kind.status {
			t.Errorf("%s: test %s is %s, want %s (%s)", kind.name, kind.test, got, kind.status, res["test.wap."+kind.test].Message)
		}
		if got := res["model.wap."+kind.name+"_child"].Status; got != "skipped" {
			t.Errorf("%s: its child is %s, want skipped", kind.name, got)
		}
		if kind.name == "v" && !strings.Contains(res["test.wap."+kind.test].Message, "division by zero") {
			t.Errorf("v: the test's error does not say why: %q", res["test.wap."+kind.test].Message)
		}
		if len(queryText(t, url, "select coalesce(string_agg(relname, ','), '') from pg_class where relname like '%strata%'")) > 0 {
			t.Errorf("%s: scratch relations left: %s", kind.name, queryText(t, url, "select string_agg(relname, ',') from pg_class where relname like '%strata%'"))
		}
		// Fixed, retry rebuilds what failed and publishes it.
		for name, body := range wapFiles(url, "none", k) {
			writeFile(t, dir, name, body)
		}
		out = must(t, 0, dir, "retry")
		if got := checksum(t, url, kind.rel); got == before {
			t.Errorf("%s: retry did not publish the fixed version:\n%s", kind.name, out)
		}
		if got := results(t, dir)["model.wap."+kind.name+"_child"].Status; got != "success" {
			t.Errorf("%s: retry left the child %s", kind.name, got)
		}
	}

	// The failing rows of a store_failures test are kept although the
	// publish was blocked; junit shows the failure.
	for name, body := range wapFiles(url, "t", 20) {
		writeFile(t, dir, name, body)
	}
	must(t, 1, dir, "build", "-s", "t")
	if got := queryText(t, url, "select string_agg(unique_field || ':' || n_records, ',') from audit.unique_t_id"); got != "1:2" {
		t.Errorf("audit.unique_t_id holds %q, want the failing row 1:2", got)
	}
	var junit artifacts.JUnit
	b, err := os.ReadFile(filepath.Join(dir, "target", "junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(b, &junit); err != nil {
		t.Fatal(err)
	}
	failed := false
	for _, c := range junit.Suites[0].Cases {
		failed = failed || c.Name == "unique_t_id" && c.Failure != nil && c.Failure.Message == "1 failing row"
	}
	if !failed {
		t.Errorf("junit.xml does not show unique_t_id failing:\n%s", b)
	}

	// run --audit audits as build does; run alone publishes, then nothing
	// is tested; --no-audit publishes, then tests.
	before := checksum(t, url, "public.t")
	out = must(t, 1, dir, "run", "-s", "t", "--audit")
	mustContain(t, out, "[AUDIT FAILED in", "FAIL 1 unique_t_id")
	if checksum(t, url, "public.t") != before {
		t.Error("run --audit published a version that failed its audit")
	}
	must(t, 1, dir, "build", "-s", "t", "--no-audit")
	if checksum(t, url, "public.t") == before {
		t.Error("build --no-audit did not publish")
	}

	// audit: false: published, then tested; the failure skips the child.
	for name, body := range wapFiles(url, "loose", 30) {
		writeFile(t, dir, name, body)
	}
	before = checksum(t, url, "public.loose")
	must(t, 1, dir, "build", "-s", "loose+")
	res := results(t, dir)
	if checksum(t, url, "public.loose") == before || res["model.wap.loose"].Status != "success" || res["test.wap.unique_loose_id"].Status != "fail" || res["model.wap.loose_child"].Status != "skipped" {
		t.Errorf("audit: false: %v %v %v", res["model.wap.loose"], res["test.wap.unique_loose_id"], res["model.wap.loose_child"])
	}
}

// TestAuditKeepingFailuresLeavesNoFiles: the failing rows of store_failures
// tests are read out to files while the audit's transaction rolls back;
// when reading a later test's rows fails, the build fails and the files
// already read are removed, not left in the temporary directory.
func TestAuditKeepingFailuresLeavesNoFiles(t *testing.T) {
	url := pgtest.DB(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	execSQL(t, url, "create sequence public.boom")
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: keep\nmodels: {'.': {materialized: table}}\n",
		"models/t.sql": "select g % 2 as id from generate_series(1, 4) g",
		"models/schema.yml": `models:
  - name: t
    columns: [{name: id, tests: [{unique: {store_failures: true}}]}]
`,
		// Four rows the first time it is asked (the audit counts them),
		// division by zero the second (when its rows are read out).
		"tests/zz_boom.sql": "{{ config \"store_failures\" true }}\nselect id from {{ ref \"t\" }} where case when nextval('public.boom') <= 4 then true else id / (id - id) = 1 end\n",
	})
	out := must(t, 1, dir, "build")
	mustContain(t, out, "failing rows of test zz_boom (tests/zz_boom.sql)", "division by zero")
	left, err := filepath.Glob(filepath.Join(tmp, "strata-failures-*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(left) > 0 {
		t.Errorf("the failed build left %v:\n%s", left, out)
	}
}

// TestAuditOfAFirstBuild: a model or seed whose first build fails its
// audit is not created, and the message does not speak of a previous
// version, of whatever kind it is. An incremental or scd2 model said its
// run's changes were rolled back and it was as before, a seed that its
// previous version was kept.
func TestAuditOfAFirstBuild(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: af\nmodels: {'.': {materialized: table}}\n",
		"models/d.sql": "select 1 as id union all select 1",
		"models/i.sql": `{{ config "materialized" "incremental" "unique_key" "k" }}select 1 as k, 1 as id union all select 2, 1`,
		"models/h.sql": `{{ config "materialized" "scd2" "unique_key" "k" "strategy" "check" }}select 1 as k, 1 as id union all select 2, 1`,
		"models/m.sql": `{{ config "materialized" "materialized_view" }}select 1 as id union all select 1`,
		"models/v.sql": `{{ config "materialized" "view" }}select 1 as id union all select 1`,
		"seeds/s.csv":  "id\n1\n1\n",
		"models/schema.yml": `models:
  - {name: d, columns: [{name: id, tests: [unique]}]}
  - {name: i, columns: [{name: id, tests: [unique]}]}
  - {name: h, columns: [{name: id, tests: [unique]}]}
  - {name: m, columns: [{name: id, tests: [unique]}]}
  - {name: v, columns: [{name: id, tests: [unique]}]}
seeds:
  - {name: s, columns: [{name: id, tests: [unique]}]}
`,
	})
	out := must(t, 1, dir, "build")
	for _, rel := range []string{"d", "i", "h", "m", "v", "s"} {
		mustContain(t, out, "public."+rel+" did not exist before this build, and was not created")
		if got := queryInt(t, url, "select count(*) from pg_class where oid = to_regclass('public."+rel+"')"); got != 0 {
			t.Errorf("%s was created although its audit failed", rel)
		}
	}
	if strings.Contains(out, "previous version") || strings.Contains(out, "rolled back") {
		t.Errorf("a first build speaks of a previous version:\n%s", out)
	}
	retryHinted(t, out, 6)
	// Once they exist, a failed audit keeps them and says so.
	must(t, 0, dir, "build", "--no-audit", "--exclude", "test_type:data")
	writeFile(t, dir, "seeds/s.csv", "id\n3\n3\n") // replaced, through a scratch table
	out = must(t, 1, dir, "build")
	mustContain(t, out, "the previous version of public.d was kept", "this run's changes to public.i were rolled back",
		"this run's changes to public.h were rolled back", "the previous version of public.m was kept",
		"the previous definition of public.v was kept", "the previous version of public.s was kept")
	retryHinted(t, out, 6)
}

// retryHinted checks that each of the want AUDIT FAILED messages in out
// ends saying what to do next: they said what was kept, and no more.
func retryHinted(t *testing.T, out string, want int) {
	t.Helper()
	const hint = "; fix the data or the test, then `strata retry` builds it again and publishes it if its tests pass"
	got := 0
	for _, line := range strings.Split(out, "\n") {
		if !strings.Contains(line, ": AUDIT FAILED: ") {
			continue
		}
		got++
		if !strings.HasSuffix(line, hint) {
			t.Errorf("an AUDIT FAILED message does not end with what to do next (%q):\n%s", hint, line)
		}
	}
	if got != want {
		t.Errorf("%d AUDIT FAILED messages, want %d:\n%s", got, want, out)
	}
}

// TestAuditOfAViewOverPublishedRows: a view's test that fails on rows of
// the seed it reads, published earlier in the run, keeps the view's
// definition, which shows those rows. The message said that the previous
// version of the view was kept, as if its readers still saw yesterday's
// rows; it says what a view keeps.
func TestAuditOfAViewOverPublishedRows(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":       "name: p\nmodels: {'.': {materialized: view, schema: p}}\nseeds: {schema: p}\n",
		"seeds/s.csv":        "id,name\n1,a\n",
		"models/v.sql":       `select id, name from {{ ref "s" }}`,
		"models/v_child.sql": `{{ config "materialized" "table" }}select * from {{ ref "v" }}`,
		"models/schema.yml":  "models:\n  - name: v\n    columns: [{name: name, tests: [not_null]}]\n",
	})
	must(t, 0, dir, "build")
	writeFile(t, dir, "seeds/s.csv", "id,name\n1,a\n2,\n")
	out := must(t, 1, dir, "build")
	mustContain(t, out, "[AUDIT FAILED in", "the previous definition of p.v was kept; it is a view, so it shows the rows its tables hold now, failing ones included when they come from there")
	if strings.Contains(out, "the previous version of p.v was kept") {
		t.Errorf("the message says the view's previous version was kept:\n%s", out)
	}
	if got := queryText(t, url, "select count(*)::text from p.v where name is null"); got != "1" {
		t.Errorf("p.v shows %s rows without a name, want the seed's new one", got)
	}
	if got := queryText(t, url, "select count(*)::text from p.v_child"); got != "1" {
		t.Errorf("p.v_child holds %s rows, want yesterday's 1 (it is skipped)", got)
	}
}

// TestRetryAuditsWithEveryTest: retry after an audit that failed builds
// the model again and audits it with all its tests, not only those that
// failed: the ones that passed judged the version that was thrown away.
// retry ran the failing test alone, and published a version that another
// of the model's error-severity tests fails (a NULL key).
func TestRetryAuditsWithEveryTest(t *testing.T) {
	url := pgtest.DB(t)
	files := func(extra string) map[string]string {
		return map[string]string{
			"project.yaml":       "name: ra\nmodels: {'.': {materialized: table}}\n",
			"models/r.sql":       "select g as id from generate_series(1, 3) g" + extra,
			"models/r_child.sql": `select * from {{ ref "r" }}`,
			"models/schema.yml":  "models:\n  - name: r\n    columns: [{name: id, tests: [unique, not_null]}]\n",
		}
	}
	dir := writeProject(t, url, files(""))
	must(t, 0, dir, "build")
	before := checksum(t, url, "public.r")
	writeFile(t, dir, "models/r.sql", files(" union all select 1")["models/r.sql"])
	out := must(t, 1, dir, "build")
	mustContain(t, out, "AUDIT FAILED: 1 of 2 tests failed: unique_r_id")
	// The duplicate is gone, but a NULL key came in its place.
	writeFile(t, dir, "models/r.sql", files(" union all select null")["models/r.sql"])
	out = must(t, 1, dir, "retry")
	mustContain(t, out, "AUDIT FAILED: 1 of 2 tests failed: not_null_r_id", "FAIL 1 not_null_r_id")
	if got := checksum(t, url, "public.r"); got != before {
		t.Errorf("retry published a version that fails not_null_r_id:\n%s", out)
	}
	writeFile(t, dir, "models/r.sql", files(" union all select 4")["models/r.sql"])
	out = must(t, 0, dir, "retry")
	mustContain(t, out, "PASS unique_r_id", "PASS not_null_r_id", "OK created table model public.r_child")
	if got := queryText(t, url, "select count(*)::text from public.r"); got != "4" {
		t.Errorf("retry did not publish the fixed version: %s rows\n%s", got, out)
	}
}

// TestAuditFailureNamesNoCompiledFile: the tests of an audit that kept the
// previous version do not send the reader to target/compiled/, whose
// query reads the published relation (it finds none of the failing rows);
// one with samples (unique) did. A test that warns in an audit that
// published still names it, as its rows are there.
func TestAuditFailureNamesNoCompiledFile(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: nc\nmodels: {'.': {materialized: table}}\n",
		"models/c.sql": "select 1 as id, null::int as v union all select 1, null",
		"models/schema.yml": `models:
  - name: c
    columns:
      - {name: id, tests: [unique]}
      - {name: v, tests: [{not_null: {error_if: ">5"}}]}
`,
	})
	out := must(t, 1, dir, "build")
	mustContain(t, out, `unique_c_id (got 1 failing row; e.g. "1")`, "FAIL 1 unique_c_id", "WARN 2 not_null_c_v")
	if strings.Contains(out, "target/compiled") {
		t.Errorf("an audit that failed names a compiled file:\n%s", out)
	}
	writeFile(t, dir, "models/c.sql", "select 1 as id, null::int as v union all select 2, null")
	out = must(t, 0, dir, "build")
	mustContain(t, out, "got 2 failing rows; see target/compiled/models/schema.yml/not_null_c_v.sql")
}

// TestAuditTimesATestThatErrors: a test that fails with an error in an
// audit (a statement_timeout, here a division by zero after a pause) is
// reported with the time it ran, not 0s.
func TestAuditTimesATestThatErrors(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":      "name: te\nmodels: {'.': {materialized: table}}\n",
		"models/s.sql":      "select 1 as id",
		"tests/slow.sql":    `select * from {{ ref "s" }} where (select pg_sleep(0.4)) is not null and id / (id - id) = 1`,
		"models/schema.yml": "models:\n  - name: s\n    columns: [{name: id, tests: [not_null]}]\n",
	})
	out := must(t, 1, dir, "build")
	mustContain(t, out, "AUDIT FAILED", "division by zero")
	if r := results(t, dir)["test.te.slow"]; r.Status != "error" || r.ExecutionTime < 0.4 {
		t.Errorf("slow: %s in %.3fs, want an error after 0.4s:\n%s", r.Status, r.ExecutionTime, out)
	}
}

// TestRetryAuditFlags: --audit given to retry audits although the run it
// retries had --no-audit (the run's --no-audit won over it, and retry
// published a version that failed its test); both at once are refused.
func TestRetryAuditFlags(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":      "name: rf\nmodels: {'.': {materialized: table}}\n",
		"models/m.sql":      "select 1 / 0 as id",
		"models/schema.yml": "models:\n  - name: m\n    columns: [{name: id, tests: [unique]}]\n",
	})
	must(t, 1, dir, "build", "--no-audit")
	writeFile(t, dir, "models/m.sql", "select 1 as id union all select 1")
	out := must(t, 2, dir, "retry", "--audit", "--no-audit")
	mustContain(t, out, "--audit and --no-audit contradict each other")
	out = must(t, 1, dir, "retry", "--audit")
	mustContain(t, out, "AUDIT FAILED", "public.m did not exist before this build, and was not created")
	if got := queryInt(t, url, "select count(*) from pg_class where oid = to_regclass('public.m')"); got != 0 {
		t.Errorf("retry --audit published m, which fails its test:\n%s", out)
	}
}

// TestAuditSaysWhatIsKept: the message of a failed audit speaks of the
// relation kept, not of the kind the model builds now: a table that
// becomes a view keeps the table and its rows; a view that becomes a
// table keeps the view, which shows the rows of its tables now.
func TestAuditSaysWhatIsKept(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":      "name: wk\n",
		"models/a.sql":      `{{ config "materialized" "table" }}select 1 as id`,
		"models/b.sql":      `{{ config "materialized" "view" }}select 1 as id`,
		"models/schema.yml": "models:\n  - {name: a, columns: [{name: id, tests: [unique]}]}\n  - {name: b, columns: [{name: id, tests: [unique]}]}\n",
	})
	must(t, 0, dir, "build")
	writeFile(t, dir, "models/a.sql", `{{ config "materialized" "view" }}select 1 as id union all select 1`)
	writeFile(t, dir, "models/b.sql", `{{ config "materialized" "table" }}select 1 as id union all select 1`)
	out := must(t, 1, dir, "build")
	mustContain(t, out, "the previous version of public.a was kept", "the previous definition of public.b was kept; it is a view")
	if strings.Contains(out, "definition of public.a") || strings.Contains(out, "version of public.b") {
		t.Errorf("the message speaks of the kind built, not the one kept:\n%s", out)
	}
}

// TestAuditReadsWhatThePostHookLeaves: a post_hook runs before the audit,
// so the tests read the rows that are published. The audit read the new
// version before the post_hook, which then changed it: the build passed
// and published a version that fails the model's test (strata test, right
// after, failed).
func TestAuditReadsWhatThePostHookLeaves(t *testing.T) {
	url := pgtest.DB(t)
	files := func(hook string) map[string]string {
		cfg := func(extra string) string {
			return `{{ config "post_hook" "` + hook + `"` + extra + ` }}`
		}
		return map[string]string{
			"project.yaml":   "name: ph\nmodels: {'.': {materialized: table}}\n",
			"models/t.sql":   cfg("") + `select g as id, g as v from generate_series(1, 3) g`,
			"models/ti.sql":  cfg(` "swap" "truncate_insert"`) + `select g as id, g as v from generate_series(1, 3) g`,
			"models/pt.sql":  cfg(` "partition_by" (dict "column" "d" "granularity" "month")`) + `select g as id, g as v, date '2024-01-01' + g * 20 as d from generate_series(1, 3) g`,
			"models/inc.sql": cfg(` "materialized" "incremental" "unique_key" "id"`) + `select g as id, g as v from generate_series(1, 3) g`,
			"models/dim.sql": cfg(` "materialized" "scd2" "unique_key" "id" "strategy" "check"`) + `select g as id, g as v from generate_series(1, 3) g`,
			"seeds/s.csv":    "id,v\n1,1\n2,2\n",
			"seeds/s.yml":    "seeds:\n  - name: s\n    config: {post_hook: \"" + hook + "\"}\n    columns: [{name: v, tests: [not_null]}]\n",
			"models/schema.yml": `models:
  - {name: t, columns: [{name: v, tests: [not_null]}]}
  - {name: ti, columns: [{name: v, tests: [not_null]}]}
  - {name: pt, columns: [{name: v, tests: [not_null]}]}
  - {name: inc, columns: [{name: v, tests: [not_null]}]}
  - {name: dim, columns: [{name: v, tests: [not_null]}]}
`,
		}
	}
	dir := writeProject(t, url, files("select 1"))
	must(t, 0, dir, "build")
	rels := []string{"t", "ti", "pt", "inc", "dim", "s"}
	before := map[string]string{}
	for _, r := range rels {
		before[r] = checksum(t, url, "public."+r)
	}
	for name, body := range files("update {{ this }} set v = null where id = 1") {
		if name == "project.yaml" {
			continue // writeProject's, with the test database as its target
		}
		writeFile(t, dir, name, body)
	}
	writeFile(t, dir, "seeds/s.csv", "id,v\n1,1\n2,2\n3,3\n") // loaded again
	out := must(t, 1, dir, "build", "--full-refresh", "--full-refresh-scd2")
	for _, r := range rels {
		mustContain(t, out, "not_null_"+r+"_v (got 1 failing row)")
		if got := checksum(t, url, "public."+r); got != before[r] {
			t.Errorf("%s: published although its post_hook left a NULL that its test fails", r)
		}
	}
	// Without --full-refresh: incremental and scd2 update in place.
	out = must(t, 1, dir, "build", "-s", "inc dim")
	mustContain(t, out, "not_null_inc_v (got 1 failing row)", "not_null_dim_v (got 1 failing row)")
	for _, r := range []string{"inc", "dim"} {
		if got := checksum(t, url, "public."+r); got != before[r] {
			t.Errorf("%s: changed although its post_hook left a NULL that its test fails", r)
		}
	}
}

// TestAuditErrorNamesTheModel: a test on a column the model lacks (a typo
// in YAML) errors in the audit with PostgreSQL's hint, which named the new
// version's scratch relation ('Perhaps you meant to reference the column
// "sales__strata_new.revenue"'), a name the reader never wrote; it names
// the model's.
func TestAuditErrorNamesTheModel(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":      "name: an\nmodels: {'.': {materialized: table}}\n",
		"models/sales.sql":  "select 1 as id, 2.5 as revenue",
		"models/schema.yml": "models:\n  - name: sales\n    columns:\n      - {name: revenu, tests: [{accepted_range: {min: 0}}]}\n",
	})
	out := must(t, 1, dir, "build")
	mustContain(t, out, "AUDIT FAILED", `Perhaps you meant to reference the column "sales.revenue"`)
	if strings.Contains(out, "__strata_") {
		t.Errorf("the audit's error names a scratch relation:\n%s", out)
	}
}
