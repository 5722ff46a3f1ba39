package cli

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"strata/engine/artifacts"
	"strata/engine/internal/pgtest"
)

func results(t *testing.T, dir string) map[string]artifacts.Result {
	t.Helper()
	rr, err := artifacts.ReadRunResults(filepath.Join(dir, "target", "run_results.json"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]artifacts.Result{}
	for _, r := range rr.Results {
		out[strings.TrimPrefix(r.ID, "test.dq.")] = r
	}
	return out
}

const dqSeed = "id,name,amount,kind,parent_id,created_at\n" +
	"1,ann,10,a,,2024-01-01 00:00:00\n" +
	"2,bob,20,b,1,2024-01-02 00:00:00\n" +
	"3,,30,c,1,2024-01-03 00:00:00\n" +
	"3,dup,-5,it's;\\x,9,2024-01-04 00:00:00\n"

// Every generic test once passing and once failing, with the failing row counts pinned.
func TestEveryGenericTestPassesAndFails(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":             "name: dq\n",
		"seeds/rows.csv":           dqSeed,
		"seeds/other.csv":          "id\n1\n2\n3\n4\n",
		"macros/tests.sql":         `{{ define "test_is_even" }}select * from {{ .relation }} where {{ ident .column }} % 2 <> 0{{ end }}`,
		"tests/no_big_amounts.sql": `select * from {{ ref "rows" }} where amount > {{ var "max_amount" 25 }}`,
		"seeds/seeds.yml": `seeds:
  - name: rows
    tests:
      - unique_combination: {columns: [id, name], name: pass_unique_combination}
      - unique_combination: {columns: [id], name: fail_unique_combination}
      - equal_row_count: {to: other, name: pass_equal_row_count}
      - equal_row_count: {to: other, where: "id <> 1", name: fail_equal_row_count}
      - not_empty: {where: "amount > 100", name: fail_not_empty}
      - row_count: {min: 1, max: 4, name: pass_row_count}
      - row_count: {min: 5, name: fail_row_count}
      - not_empty: {name: pass_not_empty}
      - recency: {field: created_at, max_age: 100000d, name: pass_recency}
      - recency: {field: created_at, max_age: 1d, name: fail_recency}
      - expression_is_true: {expression: "amount <> 0", name: pass_expression}
      - expression_is_true: {expression: "amount > 0", name: fail_expression}
    columns:
      - name: id
        tests:
          - not_null: {name: pass_not_null}
          - unique: {name: fail_unique}
          - relationships: {to: other, field: id, name: pass_relationships}
          - is_even: {name: fail_custom}
      - name: name
        tests:
          - not_null: {name: fail_not_null}
          - accepted_values: {values: [ann, bob, dup], name: pass_accepted_values}
          - accepted_values: {values: [ann], name: fail_accepted_values}
      - name: kind
        tests:
          - accepted_values: {values: [a, b, c, "it's;\\x"], name: pass_quoted_values}
      - name: parent_id
        tests:
          - relationships: {to: other, field: id, name: fail_relationships}
      - name: amount
        tests:
          - accepted_range: {min: -5, max: 30, name: pass_range}
          - accepted_range: {min: 0, inclusive: false, name: fail_range}
  - name: other
`,
	})
	// --no-audit: the seed is loaded, then tested, so that every test runs
	// (audited, its failing tests would keep the seed from being loaded).
	code, out := strata(t, dir, "build", "--no-audit")
	if code != 1 {
		t.Fatalf("build exited %d, want 1 (some tests fail on purpose):\n%s", code, out)
	}
	res := results(t, dir)
	fails := map[string]int64{
		"fail_unique_combination": 1, "fail_row_count": 1, "fail_recency": 1, "fail_expression": 1,
		"fail_unique": 1, "fail_custom": 3, "fail_not_null": 1, "fail_accepted_values": 2,
		"fail_relationships": 1, "fail_range": 1, "no_big_amounts": 1,
		"fail_equal_row_count": 1, "fail_not_empty": 1,
	}
	seen := 0
	for name, r := range res {
		if r.ResourceType != "test" {
			continue
		}
		seen++
		want, shouldFail := fails[name]
		switch {
		case shouldFail && (r.Status != "fail" || r.Failures == nil || *r.Failures != want):
			t.Errorf("%s: status %s, failures %v; want fail with %d rows (%s)", name, r.Status, deref(r.Failures), want, r.Message)
		case !shouldFail && r.Status != "pass":
			t.Errorf("%s: status %s (%s), want pass", name, r.Status, r.Message)
		}
	}
	if seen != 24 {
		t.Errorf("%d tests ran, want 24:\n%s", seen, out)
	}
	// Failures show a few offending values.
	if !strings.Contains(res["fail_accepted_values"].Message, `"bob"`) || !strings.Contains(res["fail_relationships"].Message, `"9"`) {
		t.Errorf("failure messages lack sample values: %q / %q", res["fail_accepted_values"].Message, res["fail_relationships"].Message)
	}
	// A test whose failure is one row of counts says what they are, not
	// "got 1 failing row".
	for name, want := range map[string]*regexp.Regexp{
		"fail_row_count":       regexp.MustCompile(`^4 rows: fewer than min 5; see target/compiled/`),
		"fail_equal_row_count": regexp.MustCompile(`^3 rows where id <> 1; other has 4; see `),
		"fail_not_empty":       regexp.MustCompile(`^no rows where amount > 100; see `),
		"fail_recency":         regexp.MustCompile(`^the newest "created_at" is 2024-01-04 00:00:00, .* ago: older than max_age 1d; see `),
	} {
		if !want.MatchString(res[name].Message) {
			t.Errorf("%s says %q, want it to match %s", name, res[name].Message, want)
		}
	}
	// junit.xml: one testcase per test, failures with their row counts.
	var j artifacts.JUnit
	b, err := os.ReadFile(filepath.Join(dir, "target", "junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(b, &j); err != nil {
		t.Fatal(err)
	}
	if j.Tests != 24 || j.Failures != len(fails) {
		t.Errorf("junit: %d tests, %d failures; want 24, %d", j.Tests, j.Failures, len(fails))
	}
	if !strings.Contains(string(b), `message="3 failing rows"`) {
		t.Errorf("junit.xml lacks a failure with its row count:\n%s", b)
	}
}

func deref(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

// The acceptance scenario of issue 5: an error test and a warn test fail; fixing the error leaves the warning.
func TestErrorAndWarningSeverity(t *testing.T) {
	url := pgtest.DB(t)
	yml := `seeds:
  - name: people
    columns:
      - name: email
        tests:
          - not_null
          - unique: {severity: warn}
`
	dir := writeProject(t, url, map[string]string{
		"project.yaml":     "name: dq\n",
		"seeds/people.csv": "id,email\n1,a@x\n2,a@x\n3,\n",
		"seeds/people.yml": yml,
	})
	if code, out := strata(t, dir, "seed"); code != 0 {
		t.Fatalf("seed: %d\n%s", code, out)
	}
	code, out := strata(t, dir, "test")
	if code != 1 {
		t.Fatalf("test exited %d, want 1:\n%s", code, out)
	}
	for _, want := range []string{"FAIL 1 not_null_people_email", "WARN 1 unique_people_email", "PASS=0 WARN=1 FAIL=1 ERROR=0 SKIP=0"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "seeds", "people.csv"), []byte("id,email\n1,a@x\n2,a@x\n3,c@x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out := strata(t, dir, "seed"); code != 0 {
		t.Fatalf("seed: %d\n%s", code, out)
	}
	code, out = strata(t, dir, "test")
	if code != 0 || !strings.Contains(out, "WARN 1 unique_people_email") || !strings.Contains(out, "PASS=1 WARN=1 FAIL=0 ERROR=0 SKIP=0") {
		t.Fatalf("after the fix: exit %d, want 0 with the warning still shown:\n%s", code, out)
	}
}

// Test config keys: warn_if/error_if thresholds, where, limit, store_failures.
func TestTestConfigKeys(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: dq\n",
		"seeds/n.csv":  "v,grp\n1,a\n2,a\n3,b\n4,b\n5,b\n",
		"seeds/n.yml": `seeds:
  - name: n
    columns:
      - name: v
        tests:
          - accepted_range: {max: 1, name: thresholds_warn, warn_if: ">2", error_if: ">10"}
          - accepted_range: {max: 1, name: thresholds_error, error_if: ">=4"}
          - accepted_range: {max: 1, name: thresholds_pass, warn_if: ">4", error_if: ">4"}
          - accepted_range: {max: 1, name: thresholds_tab, error_if: ">\t10"}
          - accepted_range: {max: 1, name: filtered, where: "grp = 'a'"}
          - accepted_range: {max: 1, name: limited, limit: 2}
          - accepted_range: {max: 1, name: stored, store_failures: true}
          - accepted_range: {max: 1, name: Stored_Mixed, store_failures: true}
`,
	})
	code, out := strata(t, dir, "build")
	if code != 1 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	res := results(t, dir)
	check := func(name, status string, failures int64) {
		t.Helper()
		r := res[name]
		if r.Status != status || r.Failures == nil || *r.Failures != failures {
			t.Errorf("%s: %s with %v failures, want %s with %d (%s)", name, r.Status, deref(r.Failures), status, failures, r.Message)
		}
	}
	check("thresholds_warn", "warn", 4)
	check("thresholds_error", "fail", 4)
	check("thresholds_pass", "pass", 4)
	// A tab in a threshold was kept, and the run, which could not read
	// it, took error_if for "!=0".
	check("thresholds_tab", "warn", 4)
	check("filtered", "fail", 1)
	check("limited", "fail", 2)
	if !strings.Contains(res["limited"].Message, "got 2 failing rows (limit: 2, so there may be more)") {
		t.Errorf("a test counted up to its limit does not say there may be more: %s", res["limited"].Message)
	}
	if strings.Contains(res["filtered"].Message, "limit") {
		t.Errorf("a test without a limit speaks of one: %s", res["filtered"].Message)
	}
	check("stored", "fail", 4)
	if !strings.Contains(res["stored"].Message, "audit.stored") {
		t.Errorf("store_failures does not name its table: %s", res["stored"].Message)
	}
	if got := queryInt(t, url, "select count(*) from audit.stored"); got != 4 {
		t.Errorf("audit.stored holds %d rows, want 4", got)
	}
	// A name with capitals: the table the message names is one a query
	// can read as written (audit.Stored_Mixed would be audit.stored_mixed).
	check("Stored_Mixed", "fail", 4)
	m := regexp.MustCompile(`see ([^;]+)`).FindStringSubmatch(res["Stored_Mixed"].Message)
	if m == nil || m[1] != `audit."Stored_Mixed"` {
		t.Fatalf("store_failures names its table %v, want audit.\"Stored_Mixed\": %s", m, res["Stored_Mixed"].Message)
	}
	if got := queryInt(t, url, "select count(*) from "+m[1]); got != 4 {
		t.Errorf("%s holds %d rows, want 4", m[1], got)
	}
}

// build: a failing error test skips what depends on the tested node; a failing warning never does.
func TestBuildSkipsAfterFailingErrorTest(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":         "name: dq\nmodels:\n  '.': {materialized: table}\n",
		"models/base.sql":      "select 1 as id union all select 1",
		"models/child.sql":     `select * from {{ ref "base" }}`,
		"models/grandkid.sql":  `select * from {{ ref "child" }}`,
		"models/other.sql":     "select 2 as id union all select 2",
		"models/other_kid.sql": `select * from {{ ref "other" }}`,
		"models/schema.yml": `models:
  - name: base
    columns: [{name: id, tests: [unique]}]
  - name: other
    columns: [{name: id, tests: [{unique: {severity: warn}}]}]
`,
	})
	// Without auditing, base is published, then its test fails and skips
	// what depends on it.
	code, out := strata(t, dir, "build", "--no-audit")
	if code != 1 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	res := results(t, dir)
	for id, want := range map[string]string{
		"model.dq.base": "success", "unique_base_id": "fail", "model.dq.child": "skipped", "model.dq.grandkid": "skipped",
		"model.dq.other": "success", "unique_other_id": "warn", "model.dq.other_kid": "success",
	} {
		if got := res[id].Status; got != want {
			t.Errorf("--no-audit: %s: %s, want %s", id, got, want)
		}
	}
	if msg := res["model.dq.child"].Message; !strings.Contains(msg, "unique_base_id") {
		t.Errorf("the skip does not give its reason: %q", msg)
	}
	if !strings.Contains(out, "SKIP table model public.child") {
		t.Errorf("no SKIP line:\n%s", out)
	}
	// Audited (build's default), base fails its audit: it is an error, the
	// test a failure, and what depends on base is skipped for it.
	code, out = strata(t, dir, "build")
	if code != 1 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	res = results(t, dir)
	for id, want := range map[string]string{
		"model.dq.base": "error", "unique_base_id": "fail", "model.dq.child": "skipped", "model.dq.grandkid": "skipped",
		"model.dq.other": "success", "unique_other_id": "warn", "model.dq.other_kid": "success",
	} {
		if got := res[id].Status; got != want {
			t.Errorf("audited: %s: %s, want %s", id, got, want)
		}
	}
	if msg := res["model.dq.base"].Message; !strings.HasPrefix(msg, "AUDIT FAILED") || !strings.Contains(msg, "unique_base_id") {
		t.Errorf("the audit failure does not name the test: %q", msg)
	}
	if msg := res["model.dq.child"].Message; !strings.Contains(msg, "model.dq.base") {
		t.Errorf("the skip does not give its reason: %q", msg)
	}
	mustContain(t, out, "ERROR table model public.base", "[AUDIT FAILED in", "FAIL 1 unique_base_id")
	// --select: a test is selected with the model it tests.
	code, out = strata(t, dir, "test", "--select", "other")
	if code != 0 || !strings.Contains(out, "WARN 1 unique_other_id") || strings.Contains(out, "unique_base_id") {
		t.Errorf("test --select other: exit %d:\n%s", code, out)
	}
	var rr artifacts.RunResults
	b, _ := os.ReadFile(filepath.Join(dir, "target", "run_results.json"))
	if err := json.Unmarshal(b, &rr); err != nil || len(rr.Results) != 1 {
		t.Errorf("run_results after test --select other: %v, %d results", err, len(rr.Results))
	}
}

// Source freshness is checked as a test.
func TestSourceFreshness(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: dq\non-run-start:\n  - create schema if not exists crm\n  - create table if not exists crm.accounts as select now() - interval '30 hours' as updated_at\n  - create table if not exists crm.stale as select now() - interval '10 days' as updated_at\n  - create table if not exists crm.empty (updated_at date)\n",
		"models/src.yml": `sources:
  - name: crm
    freshness: {warn_after: 24h, error_after: 72h}
    loaded_at_field: updated_at
    tables: [{name: accounts}, {name: stale}, {name: empty}]
`,
		"models/uses.sql": `select * from {{ source "crm" "accounts" }}`,
	})
	code, out := strata(t, dir, "build")
	if code != 1 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	res := results(t, dir)
	if res["freshness_crm_accounts"].Status != "warn" || res["freshness_crm_stale"].Status != "fail" || res["freshness_crm_empty"].Status != "fail" {
		t.Errorf("freshness: accounts %s, stale %s, empty %s; want warn, fail, fail\n%s", res["freshness_crm_accounts"].Status, res["freshness_crm_stale"].Status, res["freshness_crm_empty"].Status, out)
	}
	// The message says how old the newest row is and which bound it passed.
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`\n +the newest "updated_at" is \S+ \S+, 1 day 06:00:\d\d ago: older than warn_after 24h; see target/compiled/models/src.yml/freshness_crm_accounts.sql\n`),
		regexp.MustCompile(`\n +the newest "updated_at" is \S+ \S+, 10 days( 00:00:\d\d)? ago: older than error_after 72h; see target/compiled/models/src.yml/freshness_crm_stale.sql\n`),
		regexp.MustCompile(`\n +no row has a value in "updated_at": the table is empty, or "updated_at" is NULL in every row; see target/compiled/models/src.yml/freshness_crm_empty.sql\n`),
	} {
		if !want.MatchString(out) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
}

// TestSourceFreshnessOfADateInDays: on a date loaded_at_field, freshness
// counted from now() in elapsed time, so a table loaded yesterday warned
// past warn_after 24h after midnight, and said its age with the time of
// day ("1 day 14:41:03 ago"). A date's age is whole days from today, as
// recency counts it.
func TestSourceFreshnessOfADateInDays(t *testing.T) {
	url := pgtest.DB(t)
	middayZone(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: dq\non-run-start:\n  - create schema if not exists crm\n" +
			"  - create table if not exists crm.yday as select current_date - 1 as loaded_on\n" +
			"  - create table if not exists crm.two as select current_date - 2 as loaded_on\n" +
			"  - create table if not exists crm.three as select current_date - 3 as loaded_on\n",
		"models/src.yml": `sources:
  - name: crm
    freshness: {warn_after: 24h, error_after: 2d}
    loaded_at_field: loaded_on
    tables: [{name: yday}, {name: two}, {name: three}]
`,
	})
	must(t, 1, dir, "build")
	res := results(t, dir)
	for _, c := range []struct {
		name, status string
		want         *regexp.Regexp // nil: no message
	}{
		{"freshness_crm_yday", "pass", nil},
		{"freshness_crm_two", "warn", regexp.MustCompile(`^the newest "loaded_on" is \d{4}-\d\d-\d\d, 2 days ago: older than warn_after 24h; see `)},
		{"freshness_crm_three", "fail", regexp.MustCompile(`^the newest "loaded_on" is \d{4}-\d\d-\d\d, 3 days ago: older than error_after 2d; see `)},
	} {
		r, ok := res[c.name]
		switch {
		case !ok:
			t.Errorf("%s did not run", c.name)
		case r.Status != c.status:
			t.Errorf("%s: %s (%s), want %s", c.name, r.Status, r.Message, c.status)
		case c.want != nil && !c.want.MatchString(r.Message):
			t.Errorf("%s: %q; want it to match %s", c.name, r.Message, c.want)
		}
	}
}

// middayZone sets the time zone of strata's sessions (PGTZ) to one where
// it is about noon now, so that current_date is the same day for the
// whole of a test that compares dates with today: a build and the tests
// after it would otherwise see two days if they straddled midnight.
func middayZone(t *testing.T) {
	t.Helper()
	now := time.Now().UTC()
	// POSIX offsets are west of Greenwich: local = UTC - offset.
	off := time.Duration(now.Hour())*time.Hour + time.Duration(now.Minute())*time.Minute - 12*time.Hour
	sign := ""
	if off < 0 {
		sign, off = "-", -off
	}
	t.Setenv("PGTZ", fmt.Sprintf("XNT%s%d:%02d", sign, int(off.Hours()), int(off.Minutes())%60))
}

// TestUnbuiltParentIsNamed: a model or test that reads a model or seed
// not built yet (strata test before the first build) says so after the
// database's error, and how to build it.
func TestUnbuiltParentIsNamed(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: ub\n",
		"seeds/s.csv":  "id\n1\n",
		"seeds/s.yml":  "seeds:\n  - name: s\n    columns:\n      - {name: id, tests: [not_null]}\n",
		"models/m.sql": `select * from {{ ref "s" }}`,
		"models/m.yml": "models:\n  - name: m\n    columns:\n      - {name: id, tests: [not_null]}\n",
	})
	const seedHint = "\n          it is the relation of seed s, which is not built here yet: build it first (strata build -s s)\n"
	out := must(t, 1, dir, "run", "-s", "m")
	mustContain(t, out, `does not exist`, seedHint)
	out = must(t, 1, dir, "test")
	mustContain(t, out, seedHint, "\n          it is the relation of model m, which is not built here yet: build it first (strata build -s m)\n")
	must(t, 0, dir, "build")
	must(t, 0, dir, "test")
}

// TestMissingSourceTableIsNamed: a model or test that reads a source
// table that is not in the database says which source it is and where it
// is declared, with what to do, after the database's error; so does a
// freshness test whose loaded_at_field is not a column of the table.
func TestMissingSourceTableIsNamed(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: ms\n",
		"models/src.yml": `sources:
  - name: crm
    tables:
      - name: accounts
        identifier: Accounts_v2
        columns:
          - {name: id, tests: [not_null]}
`,
		"models/uses.sql": `select * from {{ source "crm" "accounts" }}`,
	})
	const hint = "\n          it is the table of source crm.accounts (declared at models/src.yml:4:15), which strata does not create: load the table, or correct the source's schema or identifier\n"
	out := must(t, 1, dir, "run")
	mustContain(t, out, `models/uses.sql:1:15: relation "crm.Accounts_v2" does not exist`)
	mustContain(t, out, hint)
	out = must(t, 1, dir, "test")
	mustContain(t, out, `relation "crm.Accounts_v2" does not exist`)
	mustContain(t, out, hint)

	// A freshness test whose loaded_at_field the table lacks says so.
	execSQL(t, url, `create schema if not exists crm; create table crm."Accounts_v2" (id int, created_at timestamptz)`)
	writeFile(t, dir, "models/src.yml", `sources:
  - name: crm
    loaded_at_field: updated_at
    freshness: {warn_after: 24h}
    tables:
      - name: accounts
        identifier: Accounts_v2
`)
	out = must(t, 1, dir, "test")
	mustContain(t, out, `column "updated_at" does not exist`)
	mustContain(t, out, "\n          \"updated_at\" is the loaded_at_field of source crm.accounts (declared at models/src.yml:6:15): set loaded_at_field to a timestamp column of its table, or freshness: null on the table\n")
}

// TestTestsToAnEphemeralModelRun: relationships and equal_row_count whose
// to: is an ephemeral model run against it inlined (it has no relation),
// and still find the rows that break them.
func TestTestsToAnEphemeralModelRun(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":  "name: dq\n",
		"models/e.sql":  `{{ config "materialized" "ephemeral" }}select 1 as id union all select 2`,
		"models/m.sql":  `{{ config "materialized" "table" }}select 1 as id union all select 3`,
		"models/ok.sql": `select * from {{ ref "e" }}`,
		"models/m.yml": `models:
  - name: m
    tests:
      - equal_row_count: {to: e, name: pass_equal_row_count}
    columns:
      - name: id
        tests:
          - relationships: {to: e, field: id, name: fail_relationships}
  - name: ok
    columns:
      - name: id
        tests:
          - relationships: {to: e, field: id, name: pass_relationships}
`,
	})
	must(t, 1, dir, "build")
	res := results(t, dir)
	for name, want := range map[string]string{"pass_equal_row_count": "pass", "pass_relationships": "pass", "fail_relationships": "fail"} {
		if r := res[name]; r.Status != want {
			t.Errorf("%s: status %q (%s), want %s", name, r.Status, r.Message, want)
		}
	}
	if f := res["fail_relationships"].Failures; f == nil || *f != 1 {
		t.Errorf("fail_relationships: failures %v, want 1", deref(f))
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
	if code != 0 || !strings.Contains(out, "PASS=6 WARN=0 FAIL=0 ERROR=0 SKIP=0") {
		t.Fatalf("build exited %d, want every test to pass:\n%s", code, out)
	}
}

// TestTestArgumentsInDbtSpelling: a relationships test written as a
// project moved from dbt has it, to: ref('x') or to: source('s', 't'),
// reads that model or source table (a value missing there fails it).
func TestTestArgumentsInDbtSpelling(t *testing.T) {
	url := pgtest.DB(t)
	execSQL(t, url, "create schema crm_raw", "create table crm_raw.accounts (id int)", "insert into crm_raw.accounts values (1)")
	dir := writeProject(t, url, map[string]string{
		"project.yaml":      "name: dbtargs\n",
		"models/ids.sql":    "select 1 as id union all select 2",
		"models/orders.sql": `select 1 as customer_id union all select 2 union all select 3`,
		"models/orders.yml": `models:
  - name: orders
    columns:
      - name: customer_id
        tests:
          - relationships: {to: "ref('ids')", field: id}
          - relationships: {to: "source('crm', 'accounts')", field: id, config: {name: orders_known_to_crm}}
sources:
  - name: crm
    schema: crm_raw
    tables: [{name: accounts}]
`,
	})
	must(t, 0, dir, "run")
	out := must(t, 1, dir, "test")
	mustContain(t, out, "FAIL 1 relationships_orders_customer_id", "FAIL 2 orders_known_to_crm", `e.g. "2", "3"`)
}

// TestRecencyOfADateInDays: on a date column, recency said the age with a
// time of day counted from now ("3 days 13:45:12 ago"), and a row of
// yesterday failed max_age 1d after noon. A date's age is whole days from
// today; a timestamp's stays to the second. It runs at noon (middayZone):
// the model's dates and the tests' today are the same day.
func TestRecencyOfADateInDays(t *testing.T) {
	url := pgtest.DB(t)
	middayZone(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: dq\nmodels: {'.': {materialized: table}}\n",
		"models/m.sql": "select current_date - 3 as d3, current_date - 1 as d1, localtimestamp - interval '3 days 5 hours' as ts",
		"models/m.yml": `models:
  - name: m
    tests:
      - recency: {field: d3, max_age: 1d, name: date_3_days}
      - recency: {field: d1, max_age: 1d, name: date_yesterday_1d}
      - recency: {field: d1, max_age: 12h, name: date_yesterday_12h}
      - recency: {field: d3, max_age: 4d, name: date_3_days_4d}
      - recency: {field: ts, max_age: 1d, name: timestamp_3_days}
`,
	})
	must(t, 1, dir, "build", "--no-audit")
	res := results(t, dir)
	for _, c := range []struct {
		name string
		want *regexp.Regexp // nil: passes
	}{
		{"date_3_days", regexp.MustCompile(`^the newest "d3" is \d{4}-\d\d-\d\d, 3 days ago: older than max_age 1d; see `)},
		{"date_yesterday_1d", nil},
		{"date_yesterday_12h", regexp.MustCompile(`^the newest "d1" is \d{4}-\d\d-\d\d, 1 day ago: older than max_age 12h; see `)},
		{"date_3_days_4d", nil},
		{"timestamp_3_days", regexp.MustCompile(`^the newest "ts" is \S+ \S+, 3 days 05:00:\d\d ago: older than max_age 1d; see `)},
	} {
		r, ok := res[c.name]
		switch {
		case !ok:
			t.Errorf("%s did not run", c.name)
		case c.want == nil && r.Status != "pass":
			t.Errorf("%s: %s (%s), want pass", c.name, r.Status, r.Message)
		case c.want != nil && (r.Status != "fail" || !c.want.MatchString(r.Message)):
			t.Errorf("%s: %s, %q; want fail matching %s", c.name, r.Status, r.Message, c.want)
		}
	}
}

// TestRecencyOfADateAcrossDST: a date's age is whole days on the calendar.
// In a session time zone whose daylight saving time ended at today's
// midnight, yesterday was 25 hours long, and yesterday's date, counted from
// today's midnight in elapsed time, was older than max_age: 24h.
func TestRecencyOfADateAcrossDST(t *testing.T) {
	url := pgtest.DB(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	// Today in XST (UTC-5), as a POSIX rule's day of the year (Jn: 1 to
	// 365, February 29 not counted). Near XST's midnight, it may be
	// tomorrow by the time strata connects: the test then says nothing.
	var today time.Time
	err = conn.QueryRow(ctx, "select (now() at time zone 'XST5')::date").Scan(&today)
	conn.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := today.YearDay()
	if y := today.Year(); (y%4 == 0 && y%100 != 0 || y%400 == 0) && n > 59 {
		n--
	}
	// XDT (UTC-4) from the day after today's (a year round) to today's
	// midnight, when it ends: yesterday had 25 hours.
	t.Setenv("PGTZ", fmt.Sprintf("XST5XDT,J%d/0,J%d/0", n%365+1, n))
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: dq\nmodels: {'.': {materialized: table}}\n",
		"models/m.sql": "select current_date - 1 as d1, current_date - 2 as d2, current_date as today",
		"models/m.yml": `models:
  - name: m
    tests:
      - recency: {field: d1, max_age: 24h, name: date_yesterday_24h}
      - recency: {field: d2, max_age: 24h, name: date_2_days_24h}
`,
	})
	must(t, 1, dir, "build", "--no-audit")
	if built := queryRows(t, url, "select today::text from public.m"); len(built) != 1 || built[0][0] != today.Format(time.DateOnly) {
		t.Skipf("the day changed while the test ran (%v, then %v)", today.Format(time.DateOnly), built)
	}
	res := results(t, dir)
	if r := res["date_yesterday_24h"]; r.Status != "pass" {
		t.Errorf("date_yesterday_24h: %s (%s), want pass", r.Status, r.Message)
	}
	if r := res["date_2_days_24h"]; r.Status != "fail" || !strings.Contains(r.Message, ", 2 days ago: older than max_age 24h") {
		t.Errorf("date_2_days_24h: %s (%s), want fail, 2 days ago", r.Status, r.Message)
	}
}
