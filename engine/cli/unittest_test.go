package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"strata/engine/internal/pgtest"
)

// unitProject is a small project with the shapes unit tests meet: a seed,
// a source that does not exist (typed by its YAML), a view, an ephemeral
// model, an incremental model reading this, and a model reading vars, an
// environment variable, the clock and a macro.
func unitProject(t *testing.T, url string, tests string) string {
	return writeProject(t, url, map[string]string{
		"project.yaml":          "name: shop\nvars: {min_score: 10}\non-run-start: ['create schema if not exists left_behind']\n",
		"seeds/people.csv":      "id,name,joined,score\n1,ann,2024-01-01,12.5\n2,bob,2024-02-01,3\n",
		"macros/m.sql":          `{{ define "shout" }}upper({{ . }}){{ end }}` + "\n",
		"models/stg_people.sql": `select id, {{ include "shout" "name" }} as name, joined, score from {{ ref "people" }}` + "\n",
		"models/good.sql":       `{{ config "materialized" "ephemeral" }}` + "\n" + `select id from {{ ref "stg_people" }} where score >= {{ var "min_score" }}` + "\n",
		"models/good_people.sql": `select p.id, p.name, '{{ env_var "REGION" "eu" }}' as region, '{{ run_started_at }}'::timestamptz as seen_at` + "\n" +
			`from {{ ref "stg_people" }} as p join {{ ref "good" }} as g on g.id = p.id` + "\n",
		"models/accounts.sql": `select account_id, owner_id, opened_at from {{ source "crm" "accounts" }}` + "\n",
		"models/events.sql": `{{ config "materialized" "incremental" "unique_key" "id" }}` + "\n" +
			`select e.id, e.person_id, e.at from {{ ref "stg_people" }} as p cross join lateral (select p.id * 10 + 1 as id, p.id as person_id, p.joined::timestamp as at) as e` + "\n" +
			`{{ if is_incremental }}where e.at > (select coalesce(max(at), '1900-01-01') from {{ this }}){{ end }}` + "\n",
		"models/after_events.sql":   `select count(*) as n from {{ ref "events" }}` + "\n",
		"models/schema.yml":         "sources:\n  - name: crm\n    tables:\n      - name: accounts\n        columns:\n          - {name: account_id, data_type: bigint}\n          - {name: owner_id, data_type: bigint}\n          - {name: opened_at, data_type: date}\n",
		"models/unit.yml":           tests,
		"tests/fixtures/people.csv": "id,name,joined,score\n5,eve,2024-05-01,50\n",
	})
}

const unitTestsPassing = `unit_tests:
  - name: shouts_names
    model: stg_people
    given:
      - input: ref('people')
        rows:
          - {id: 1, name: ann, score: 1.50}
          - {id: 2, name: null}
    expect:
      rows:
        - {id: 2, name: null}
        - {id: 1, name: ANN, score: 1.5}
  - name: keeps_good_people
    model: good_people
    description: the ephemeral model's filter, a var, an env var and the clock, all overridden
    given:
      - input: ref('stg_people')
        format: csv
        rows: |
          id, name, score
          1,  ANN,  9
          2,  BOB,  20
    overrides:
      vars: {min_score: 9}
      env_vars: {REGION: us}
      run_started_at: 2024-03-01T10:00:00Z
    expect:
      format: csv
      rows: |
        id,name,region,seen_at
        1,ANN,us,2024-03-01 10:00:00+00
        2,BOB,us,2024-03-01 10:00:00+00
  - name: good_ephemeral_given
    model: good_people
    given:
      - input: ref('stg_people')
        rows: [{id: 1, name: ANN}, {id: 2, name: BOB}]
      - input: ref('good')
        rows: [{id: 2}]
    expect:
      rows: [{id: 2, name: BOB}]
  - name: macro_replaced
    model: stg_people
    given:
      - input: ref('people')
        fixture: tests/fixtures/people.csv
    overrides:
      macros: {shout: "'x'"}
    expect:
      format: sql
      rows: select 5 as id, 'x' as name
  - name: absent_source_typed_by_yaml
    model: accounts
    given:
      - input: source('crm', 'accounts')
        rows: [{account_id: 7, opened_at: 2024-02-29}]
    expect:
      rows: [{account_id: 7, owner_id: null, opened_at: 2024-02-29}]
  - name: late_event_merged
    model: events
    given:
      - input: ref('stg_people')
        rows:
          - {id: 1, joined: 2024-01-01}
          - {id: 2, joined: 2024-03-01}
      - input: this
        rows: [{id: 11, person_id: 1, at: 2024-02-01}]
    overrides:
      macros: {is_incremental: true}
    expect:
      rows: [{id: 21, person_id: 2, at: 2024-03-01 00:00:00}]
  - name: events_full_build
    model: events
    given:
      - input: ref('stg_people')
        rows: [{id: 1, joined: 2024-01-01}]
    expect:
      rows: [{id: 11}]
  - name: no_rows
    model: after_events
    given: []
    expect:
      rows: [{n: 0}]
`

// TestUnitTestsPass: unit tests of every shape pass on a database where
// nothing was built, and leave it as it was (no hooks run either); a
// build runs them before their models; junit.xml has a unit suite.
func TestUnitTestsPass(t *testing.T) {
	url := pgtest.DB(t)
	dir := unitProject(t, url, unitTestsPassing)
	before := userRelations(t, url)
	out := must(t, 0, dir, "test", "-s", "test_type:unit", "--threads", "3")
	mustContain(t, out, "PASS=8 WARN=0 FAIL=0 ERROR=0 SKIP=0", "PASS shouts_names", "PASS late_event_merged")
	if strings.Contains(out, "on-run-start") {
		t.Errorf("a run of unit tests ran the hooks:\n%s", out)
	}
	if after := userRelations(t, url); after != before {
		t.Errorf("unit tests changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	junit, err := os.ReadFile(filepath.Join(dir, "target", "junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, string(junit), `<testsuite name="shop unit tests" tests="8"`, `classname="shop.unit.events"`)
	results, err := os.ReadFile(filepath.Join(dir, "target", "run_results.json"))
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, string(results), `"unique_id":"unit_test.shop.events.late_event_merged"`)
	// A passing test takes the one-batch path: the model's output is kept,
	// its types found as check found them, and the expected rows are a CTE
	// of the comparing query.
	executed, err := os.ReadFile(filepath.Join(dir, "target", "run", "models", "unit.yml", "unit_tests", "late_event_merged.sql"))
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, string(executed), "create temporary table \"pg_temp\".\"__strata_unit_actual\" on commit drop as (", "do $strata_types$ begin", "with strata_expected (\"id\", \"person_id\", \"at\") as (\nvalues (cast('21' as bigint)")

	// The source does not exist: its model is left out of the build.
	out = must(t, 0, dir, "build", "--exclude", "accounts")
	iShout, iStg := strings.Index(out, "PASS shouts_names"), strings.Index(out, "OK created view model public.stg_people")
	if iShout < 0 || iStg < 0 || iShout > iStg {
		t.Errorf("build did not run stg_people's unit test before it:\n%s", out)
	}
	// The docs site lists a model's unit tests on its page, with their result.
	must(t, 0, dir, "docs", "generate")
	page, err := os.ReadFile(filepath.Join(dir, "target", "docs", "nodes", "model.shop.stg_people.html"))
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, string(page), `<tr data-test="unit_test.shop.stg_people.shouts_names"><td>shouts_names</td><td>unit`)
	// test runs data and unit tests alike; test_type:data none of these.
	mustContain(t, must(t, 0, dir, "test", "--exclude", "accounts"), "PASS=7 ")
	mustContain(t, must(t, 0, dir, "test", "-s", "test_type:data"), "Nothing to do")
}

// TestUnitTestFailures: a difference prints the rows only in expected (-)
// and only in actual (+), aligned, at most 20 and a count of the rest; a
// value that does not cast names its row and column; a column the parent
// or the output does not have is named with "did you mean"; in build, a
// failing unit test skips its model and the models after it.
func TestUnitTestFailures(t *testing.T) {
	url := pgtest.DB(t)
	var many strings.Builder
	for i := 0; i < 25; i++ {
		many.WriteString("          - {id: " + itoa(100+i) + "}\n")
	}
	dir := unitProject(t, url, `unit_tests:
  - name: wrong_name
    model: stg_people
    given:
      - input: ref('people')
        rows: [{id: 1, name: ann}, {id: 1, name: ann}, {id: 2, name: b}]
    expect:
      rows: [{id: 1, name: ANN}, {id: 2, name: BOB}, {id: 3, name: C}]
  - name: bad_date
    model: stg_people
    given:
      - input: ref('people')
        rows:
          - {id: 1, joined: 2024-01-01}
          - {id: 2, joined: 2024-02-30}
    expect:
      rows: []
  - name: bad_expected_number
    model: stg_people
    given:
      - input: ref('people')
        rows: [{id: 1}]
    expect:
      rows: [{id: one}]
  - name: parent_column_typo
    model: stg_people
    given:
      - input: ref('people')
        rows: [{id: 1, nmae: x}]
    expect:
      rows: []
  - name: output_column_typo
    model: stg_people
    given:
      - input: ref('people')
        rows: [{id: 1}]
    expect:
      rows: [{id: 1, scor: 1}]
  - name: too_many
    model: events
    given:
      - input: ref('stg_people')
        rows:
`+many.String()+`    expect:
      rows: []
`)
	out := must(t, 1, dir, "test", "-s", "test_type:unit")
	mustContain(t, out,
		"FAIL 4 wrong_name",
		"actual differs from expected: 2 rows only in expected (-), 2 only in actual (+)\n"+
			"            id | name\n"+
			"          + 1  | ANN\n"+
			"          + 2  | B\n"+
			"          - 2  | BOB\n"+
			"          - 3  | C\n",
		"models/unit.yml:15:29: unit test bad_date: given ref('people'), row 2, column joined: \"2024-02-30\" is not a date (date/time field value out of range: \"2024-02-30\")",
		"models/unit.yml:24:19: unit test bad_expected_number: expect of model stg_people, row 1, column id: \"one\" is not a bigint (invalid input syntax for type bigint: \"one\")",
		`models/unit.yml:29:24: unit test parent_column_typo: input ref('people') has no column "nmae" (it has id, name, joined, score) (did you mean "name"?)`,
		`models/unit.yml:38:22: unit test output_column_typo: the output of model stg_people has no column "scor" (it has id, name, joined, score) (did you mean "score"?)`,
		"actual differs from expected: 0 rows only in expected (-), 25 only in actual (+)\n            id   | person_id | at\n          + 1001 | 100       | NULL\n",
		"... and 5 more differing rows",
		"PASS=0 WARN=0 FAIL=2 ERROR=4 SKIP=0")

	// In build, stg_people's failing unit tests skip it and all after it.
	out = must(t, 1, dir, "build")
	mustContain(t, out, "SKIP view model public.stg_people", "skipped because unit_test.shop.stg_people.", "SKIP view model public.good_people", "OK loaded seed public.people")
	if n := queryInt(t, url, "select count(*) from pg_class where relname = 'stg_people'"); n != 0 {
		t.Errorf("stg_people was built although its unit tests failed")
	}
}

// TestUnitTestOverrideNotRead: an override of a var or an environment
// variable that the model does not read as the test renders it (a typo)
// would leave the test testing the project's value: it is an error at the
// override, with the names the model reads. One read by an ephemeral
// model the model inlines is read; given as a table, it is not.
func TestUnitTestOverrideNotRead(t *testing.T) {
	url := pgtest.DB(t)
	dir := unitProject(t, url, `unit_tests:
  - name: var_typo
    model: good_people
    overrides:
      vars: {min_scor: 0}
    expect: {rows: []}
  - name: env_typo
    model: good_people
    overrides:
      env_vars: {REGOIN: us}
    given:
      - input: ref('stg_people')
        rows: [{id: 1, name: A}]
    expect: {rows: [{id: 1, region: eu}]}
  - name: inlined_var_read
    model: good_people
    overrides:
      vars: {min_score: 0}
      env_vars: {REGION: us}
    given:
      - input: ref('stg_people')
        rows: [{id: 1, name: A, score: 0}]
    expect: {rows: [{id: 1, region: us}]}
  - name: ephemeral_given
    model: good_people
    overrides:
      vars: {min_score: 0}
    given:
      - input: ref('good')
        rows: [{id: 1}]
    expect: {rows: []}
`)
	out := must(t, 1, dir, "test", "-s", "test_type:unit")
	mustContain(t, out,
		`models/unit.yml:5:14: unit test var_typo overrides var "min_scor", which model good_people does not read as the test renders it (it reads min_score): the override changes nothing (did you mean "min_score"?)`,
		`models/unit.yml:10:18: unit test env_typo overrides environment variable "REGOIN", which model good_people does not read as the test renders it (it reads REGION): the override changes nothing (did you mean "REGION"?)`,
		`models/unit.yml:27:14: unit test ephemeral_given overrides var "min_score", which model good_people does not read as the test renders it (it reads no var): the override changes nothing`,
		"PASS inlined_var_read",
		"PASS=1 WARN=0 FAIL=0 ERROR=3 SKIP=0")
}

// exampleFiles copies the example project's files without its data, as a
// fresh clone has them, and points its prod target at url.
func exampleFiles(t *testing.T, url string) string {
	t.Helper()
	root := repoRoot(t)
	dir := t.TempDir()
	for _, p := range []string{"project.yaml", "models", "macros", "tests", "seeds/seeds.yml"} {
		if err := copyTree(filepath.Join(root, p), filepath.Join(dir, p)); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("DATABASE_URL", url)
	t.Setenv("STRATA_TARGET", "prod")
	return dir
}

// TestExampleUnitTestsOnAFreshClone: the example's unit tests pass where
// nothing was built and the seed files were never generated, and leave the
// database as it was; with the data generated they pass too (the seeds'
// declared types are the ones their loader infers).
func TestExampleUnitTestsOnAFreshClone(t *testing.T) {
	url := pgtest.DB(t)
	dir := exampleFiles(t, url)
	before := userRelations(t, url)
	out := must(t, 0, dir, "test", "-s", "test_type:unit")
	mustContain(t, out, "PASS=6 WARN=0 FAIL=0 ERROR=0 SKIP=0", "PASS churn_risk_buckets_at_their_boundaries", "PASS late_order_merged_with_the_customer_version_of_its_day")
	if after := userRelations(t, url); after != before {
		t.Errorf("the example's unit tests changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	generate(t, dir, 0.02, 1)
	mustContain(t, must(t, 0, dir, "test", "-s", "test_type:unit"), "PASS=6 WARN=0 FAIL=0 ERROR=0 SKIP=0")

	// The mistake docs/unit-tests.md says the churn test catches: >= for >
	// at the high bucket's boundary.
	file := filepath.Join(dir, "models", "analytics", "customer_metrics.sql")
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	const boundary = `p.last_order_day > {{ var "churn_high_days" 180 }}`
	if !strings.Contains(string(src), boundary) {
		t.Fatalf("customer_metrics.sql no longer has %s", boundary)
	}
	writeFile(t, dir, "models/analytics/customer_metrics.sql", strings.Replace(string(src), boundary, strings.Replace(boundary, ">", ">=", 1), 1))
	out = must(t, 1, dir, "test", "-s", "churn_risk_buckets_at_their_boundaries")
	mustContain(t, out, "+ 7           | 2           | 180                   | high       | 141.00", "- 7           | 2           | 180                   | medium     | 141.00")
}

// TestUnitTestTypingBesideReaders: typing the inputs of unit tests whose
// models and parents are built takes no lock that a reader holds off.
// Another session reads every relation in an open transaction (ACCESS
// SHARE, as any query); the unit tests still pass at once. Renaming a
// built relation aside to type it, as check does, would wait for that
// reader until check's lock_timeout (5s) and fail the tests, and while
// waiting would block every reader after it.
func TestUnitTestTypingBesideReaders(t *testing.T) {
	url := pgtest.DB(t)
	dir := unitProject(t, url, unitTestsPassing)
	must(t, 0, dir, "build", "--exclude", "accounts")
	ctx := context.Background()
	reader, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close(ctx)
	if _, err := reader.Exec(ctx, "begin; lock table public.people, public.stg_people, public.good_people, public.events, public.after_events in access share mode"); err != nil {
		t.Fatal(err)
	}
	before := userRelations(t, url)
	out := must(t, 0, dir, "test", "-s", "test_type:unit")
	mustContain(t, out, "PASS=8 WARN=0 FAIL=0 ERROR=0 SKIP=0")
	if strings.Contains(out, "lock timeout") {
		t.Errorf("typing the unit tests waited for a lock:\n%s", out)
	}
	if after := userRelations(t, url); after != before {
		t.Errorf("unit tests changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	// The reader's transaction was never disturbed.
	if _, err := reader.Exec(ctx, "select count(*) from public.events; commit"); err != nil {
		t.Fatal(err)
	}
}

// TestUnitTestExpectedValuesAreNotRounded: an expected value is compared
// with the output as written, not rounded or cut to the output column's
// length or precision first: 10.499 is not the 10.50 of a numeric(12,2),
// "NYC" not the "NY" of a character varying(2), 10:00:00.4 not the
// 10:00:00 of a timestamp(0), in both ways of comparing (expected rows
// and format sql); the values written as the output holds them pass. A
// difference shows an expected value as the column prints it when that
// loses nothing (10.5 as 10.50), else as written.
//
// A date column is compared as a timestamp: an expected 2024-01-01 10:00:00
// passed as the 2024-01-01 of a date column (date input drops the time),
// so a model that cut timestamps to days passed.
func TestUnitTestExpectedValuesAreNotRounded(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: shop\n",
		"models/m.sql": "select 10.50::numeric(12,2) as price, 'NY'::varchar(2) as state, '2024-01-01 10:00:00'::timestamp(0) as at, 'ab'::char(3) as code, '2024-01-01'::date as day, array['2024-01-01'::date] as days\n",
		"models/unit.yml": `unit_tests:
  - name: rounded_price
    model: m
    given: []
    expect:
      rows: [{price: 10.499}]
  - name: cut_state
    model: m
    given: []
    expect:
      rows: [{state: NYC, code: abcd}]
  - name: rounded_time
    model: m
    given: []
    expect:
      rows: [{at: "2024-01-01 10:00:00.4"}]
  - name: rounded_price_sql
    model: m
    given: []
    expect:
      format: sql
      rows: select 10.499 as price
  - name: as_written
    model: m
    given: []
    expect:
      rows: [{price: 10.5, state: NY, at: "2024-01-01 10:00:00", code: ab}]
  - name: state_differs
    model: m
    given: []
    expect:
      rows: [{price: 10.5, state: XX}]
  - name: day_without_its_time
    model: m
    given: []
    expect:
      rows: [{day: "2024-01-01 10:00:00"}]
  - name: day_without_its_time_sql
    model: m
    given: []
    expect:
      format: sql
      rows: select timestamp '2024-01-01 10:00:00' as day
  - name: day_as_written
    model: m
    given: []
    expect:
      rows: [{day: 2024-01-01, days: ["2024-01-01"]}]
  - name: days_differ
    model: m
    given: []
    expect:
      rows: [{days: [2024-01-02], day: "2024-01-01 00:00:01"}]
`,
	})
	out := must(t, 1, dir, "test", "-s", "test_type:unit")
	mustContain(t, out,
		"FAIL 2 rounded_price ", "- 10.499\n          + 10.50\n",
		"FAIL 2 cut_state ", "+ NY    | ab\n          - NYC   | abcd\n",
		"FAIL 2 rounded_time ", "- 2024-01-01 10:00:00.4\n",
		"FAIL 2 rounded_price_sql ",
		"PASS as_written ",
		// A value that fits the column shows as the column prints it.
		"FAIL 2 state_differs ", "+ 10.50 | NY\n          - 10.50 | XX\n",
		// A date is no timestamp cut to its day.
		"FAIL 2 day_without_its_time ", "+ 2024-01-01\n          - 2024-01-01 10:00:00\n",
		"FAIL 2 day_without_its_time_sql ",
		"PASS day_as_written ",
		// Days show as dates, a time that is no day as the timestamp.
		"FAIL 2 days_differ ", "+ {2024-01-01} | 2024-01-01\n          - {2024-01-02} | 2024-01-01 00:00:01\n",
		"PASS=2 WARN=0 FAIL=8 ERROR=0 SKIP=0")
}

// TestUnitTestCancelled: Ctrl-C during a unit test stops its statement on
// the server and says the test was cancelled, not that something timed
// out ("timeout: context already done: context canceled"), and exits 130;
// so does Ctrl-C while its inputs are typed, not "typing the inputs of
// the unit tests (strata check): context canceled".
func TestUnitTestCancelled(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: shop\n",
		// The model sleeps only in the test of slow_inline, which takes
		// the one-batch path; slow's expected rows take the step-by-step one.
		"models/m.sql": `select 1 as id from pg_sleep({{ var "sleep" 0 }})`,
		"seeds/s.csv":  "id\n1\n",
		"models/n.sql": `select id from {{ ref "s" }}`,
		"models/unit.yml": `unit_tests:
  - name: typed
    model: n
    given: []
    expect:
      rows: []
  - name: slow
    model: m
    given: []
    expect:
      format: sql
      rows: select 1 as id from pg_sleep(60)
  - name: slow_inline
    model: m
    given: []
    expect:
      rows: [{id: 1}]
`,
	})
	for _, c := range []struct{ name, vars string }{{"slow", "{}"}, {"slow_inline", "{sleep: 60}"}} {
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			// Once the test sleeps (not while check types it).
			untilActivity(t, url, "wait_event = 'PgSleep'")
			cancel()
		}()
		var out bytes.Buffer
		start := time.Now()
		code := Main(ctx, []string{"--project-dir", dir, "--no-color", "test", "-s", c.name, "--vars", c.vars}, &out, &out)
		cancel()
		if code != ExitCancelled {
			t.Fatalf("%s: exit %d, want %d\n%s", c.name, code, ExitCancelled, out.String())
		}
		if d := time.Since(start); d > 30*time.Second {
			t.Errorf("%s: cancelling took %s", c.name, d)
		}
		mustContain(t, out.String(), "ERROR test "+c.name+" ", "models/unit.yml:", ": cancelled; its transaction was rolled back\n")
		if strings.Contains(out.String(), "timeout") {
			t.Errorf("%s: a cancelled unit test blames a timeout:\n%s", c.name, out.String())
		}
		if n := queryInt(t, url, "select count(*) from pg_stat_activity where query like '%pg_sleep%' and pid <> pg_backend_pid()"); n != 0 {
			t.Errorf("%s: %d statements still run on the server", c.name, n)
		}
	}

	// Interrupted while typing the inputs, waiting for a lock that a
	// change of a table the model reads holds: the unit test never
	// started, so it is skipped as the run was stopped (retry runs it),
	// not an error of a transaction it never had.
	must(t, 0, dir, "seed")
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	tx, err := conn.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	if _, err := tx.Exec(context.Background(), "lock table public.s in access exclusive mode"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		untilActivity(t, url, "application_name = 'strata' and wait_event_type = 'Lock'")
		cancel()
	}()
	var out bytes.Buffer
	if code := Main(ctx, []string{"--project-dir", dir, "--no-color", "test", "-s", "typed"}, &out, &out); code != ExitCancelled {
		t.Fatalf("typing: exit %d, want %d\n%s", code, ExitCancelled, out.String())
	}
	mustContain(t, out.String(), "SKIP test typed ", "skipped: the run was stopped\n", "SKIP=1")
}

// TestUnitTestGivenQueryByName: the columns of a given input's query
// (format sql) fill the input's columns of the same names, in any order,
// as in dbt, where the query stands for the input; the columns it leaves
// out are NULL; a column the input does not have is an error with "did
// you mean". Filled by position, a query naming id and amount the other
// way round swapped them without a word.
func TestUnitTestGivenQueryByName(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":   "name: shop\n",
		"seeds/pays.csv": "id,amount,note\n1,2.5,x\n",
		"models/stg.sql": `select id, amount * 2 as doubled, note from {{ ref "pays" }}` + "\n",
		"models/unit.yml": `unit_tests:
  - name: any_order
    model: stg
    given:
      - input: ref('pays')
        format: sql
        rows: select 7.5 as amount, 3 as id
    expect:
      rows: [{id: 3, doubled: 15, note: null}]
  - name: typo
    model: stg
    given:
      - input: ref('pays')
        format: sql
        rows: select 1 as id, 2 as amont
    expect:
      rows: []
`,
	})
	out := must(t, 1, dir, "test", "-s", "test_type:unit")
	mustContain(t, out, "PASS any_order ",
		`models/unit.yml:15:15: unit test typo: given ref('pays'): its query (format sql) returns column "amont", which the input does not have (it has id, amount, note) (did you mean "amount"?)`,
		"PASS=1 WARN=0 FAIL=0 ERROR=1 SKIP=0")
}

// TestUnitTestBrokenParentNamed: when a model a unit test reads is
// rejected by PostgreSQL, the test's error is that model's, with its
// place, not that another input, built on it, was "not checked: parent
// z_broken failed", which does not say what is wrong.
func TestUnitTestBrokenParentNamed(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":        "name: shop\n",
		"seeds/people.csv":    "id,name\n1,ann\n",
		"models/z_broken.sql": `select id, nmae from {{ ref "people" }}` + "\n",
		"models/b_child.sql":  `select id from {{ ref "z_broken" }}` + "\n",
		"models/m.sql":        `select b.id from {{ ref "b_child" }} as b join {{ ref "z_broken" }} as z on z.id = b.id` + "\n",
		"models/unit.yml": `unit_tests:
  - name: reads_a_broken_model
    model: m
    given:
      - input: ref('b_child')
        rows: [{id: 1}]
      - input: ref('z_broken')
        rows: [{id: 1}]
    expect:
      rows: [{id: 1}]
`,
	})
	out := must(t, 1, dir, "test", "-s", "test_type:unit")
	mustContain(t, out, `models/unit.yml:7:16: unit test reads_a_broken_model: the columns of model z_broken are not known: strata check: models/z_broken.sql:1:12: column "nmae" does not exist`)
}

// TestUnitTestArrays: a list, given or expected, is an array in an array
// column, as PostgreSQL writes one ({"a","b"}), with quotes, NULLs and
// nested lists; it was given as JSON text, which an array column refuses
// ('malformed array literal: "["a","b"]"').
func TestUnitTestArrays(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: shop\n",
		"models/a.sql": `select array['x', 'y']::text[] as tags, array[[1, 2], [3, 4]]::int[] as grid, array[1.5, 2.25]::numeric(5,2)[] as amounts`,
		"models/b.sql": `select tags[2] as second, array_length(tags, 1) as n, tags, grid, amounts from {{ ref "a" }}`,
		"models/unit.yml": `unit_tests:
  - name: lists
    model: b
    given:
      - input: ref('a')
        rows: [{tags: [p, 'q "r\s', null], grid: [[1, 2], [3, 4]], amounts: [1.5, 2.25]}]
    expect:
      rows: [{second: 'q "r\s', n: 3, tags: [p, 'q "r\s', null], grid: [[1, 2], [3, 4]], amounts: [1.50, 2.25]}]
  - name: lists_differ
    model: b
    given:
      - input: ref('a')
        rows: [{tags: [p]}]
    expect:
      rows: [{tags: [q]}]
`,
	})
	out := must(t, 1, dir, "test", "-s", "test_type:unit")
	mustContain(t, out, "PASS lists ", "FAIL 2 lists_differ ", "+ {p}\n          - {q}\n", "PASS=1 WARN=0 FAIL=1 ERROR=0 SKIP=0")
}

// TestUnitTestErrorLineInItsSQL: a model's error in a unit test names the
// line of the SQL the test rendered, in the file the test writes it to,
// not the model's compiled file, whose lines differ when the test renders
// the incremental branch.
func TestUnitTestErrorLineInItsSQL(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: shop\n",
		"seeds/s.csv":  "id\n1\n",
		"models/inc.sql": `{{ config "materialized" "incremental" }}
select id,
{{- if is_incremental }}
  -- only
  -- when
  -- incremental
  nosuch as x
{{- else }}
  1 as x
{{- end }}
from {{ ref "s" }}
`,
		"models/unit.yml": `unit_tests:
  - name: late_rows
    model: inc
    overrides:
      macros: {is_incremental: true}
    given: []
    expect:
      rows: []
`,
	})
	out := must(t, 1, dir, "test", "-s", "test_type:unit")
	mustContain(t, out, `models/inc.sql:7:3: column "nosuch" does not exist`, "(at line 6 of target/compiled/models/unit.yml/unit_tests/late_rows.sql)")
	sql, err := os.ReadFile(filepath.Join(dir, "target", "compiled", "models", "unit.yml", "unit_tests", "late_rows.sql"))
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(string(sql), "\n"); len(lines) < 6 || !strings.Contains(lines[5], "nosuch") {
		t.Errorf("line 6 of the test's SQL is not the error's:\n%s", sql)
	}
}

// TestUnitTestPlacesCSVValuesAndQueryErrors: a CSV value that does not
// convert is placed at the value inside the CSV block (or the fixture
// file), and PostgreSQL's error in a query of format sql at its place in
// the query, not at rows:.
func TestUnitTestPlacesCSVValuesAndQueryErrors(t *testing.T) {
	url := pgtest.DB(t)
	dir := unitProject(t, url, `unit_tests:
  - name: csv_given
    model: stg_people
    given:
      - input: ref('people')
        format: csv
        rows: |
          id, name, joined
          1,  ann,  2024-01-01
          2,  bob,  2024-02-30
    expect:
      rows: []
  - name: csv_expected
    model: stg_people
    given:
      - input: ref('people')
        rows: [{id: 1}]
    expect:
      format: csv
      rows: |
        id,name
        one,ANN
  - name: csv_fixture
    model: stg_people
    given:
      - input: ref('people')
        fixture: bad_people
    expect:
      rows: []
  - name: sql_given
    model: stg_people
    given:
      - input: ref('people')
        format: sql
        rows: |
          select 1 as id,
                 'ann' as name
          fromm people
    expect:
      rows: []
  - name: sql_expected
    model: stg_people
    given:
      - input: ref('people')
        rows: [{id: 1}]
    expect:
      format: sql
      rows: select 1 as id, nosuch as name
  - name: sql_fixture
    model: stg_people
    given:
      - input: ref('people')
        format: sql
        fixture: tests/fixtures/bad_people.sql
    expect:
      rows: []
`)
	for name, text := range map[string]string{
		"bad_people.csv": "id,name,score\n1,ann,1.5\n2,bob,x\n",
		"bad_people.sql": "-- the people\nselect 1 as id, 'ann' as nmae, 2 / 0 as score where nope\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, "tests", "fixtures", name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := must(t, 1, dir, "test", "-s", "test_type:unit")
	mustContain(t, out,
		`models/unit.yml:10:21: unit test csv_given: given ref('people'), row 2, column joined: "2024-02-30" is not a date`,
		`models/unit.yml:22:9: unit test csv_expected: expect of model stg_people, row 1, column id: "one" is not a bigint`,
		`tests/fixtures/bad_people.csv:3:7: unit test csv_fixture: given ref('people'), row 2, column score: "x" is not a numeric`,
		`models/unit.yml:38:11: unit test sql_given: given ref('people'): syntax error at or near "fromm"`,
		`models/unit.yml:48:29: unit test sql_expected: expect (format sql): column "nosuch" does not exist`,
		`tests/fixtures/bad_people.sql:2:53: unit test sql_fixture: given ref('people'): column "nope" does not exist`,
		"PASS=0 WARN=0 FAIL=0 ERROR=6 SKIP=0")
}

// TestUnitTestComparesTheTypesItsOverridesGive: a test whose overrides
// render the model with other output types than check found (a var 1
// overridden by 1.5, a macro's integer by a numeric) compares the output
// as it is: its one-batch path cast the output to check's types, so a
// model returning 1.5 passed a test expecting 2 (1.5 as an integer).
func TestUnitTestComparesTheTypesItsOverridesGive(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":     "name: shop\nvars: {rate: 1}\n",
		"seeds/people.csv": "id,score\n1,2\n",
		"macros/m.sql":     `{{ define "bonus" }}10{{ end }}` + "\n",
		"models/m.sql":     `select id, {{ var "rate" }} as rate, score * {{ var "rate" }} as scaled, {{ include "bonus" }} as bonus from {{ ref "people" }}` + "\n",
		"models/unit.yml": `unit_tests:
  - name: rate_rounded
    model: m
    overrides: {vars: {rate: 1.5}}
    given:
      - input: ref('people')
        rows: [{id: 1, score: 2}]
    expect:
      rows: [{id: 1, rate: 2, scaled: 3}]
  - name: rate_as_written
    model: m
    overrides: {vars: {rate: 1.5}}
    given:
      - input: ref('people')
        rows: [{id: 1, score: 2}]
    expect:
      rows: [{id: 1, rate: 1.5, scaled: 3}]
  - name: bonus_rounded
    model: m
    overrides: {macros: {bonus: "10.4"}}
    given:
      - input: ref('people')
        rows: [{id: 1}]
    expect:
      rows: [{bonus: 10}]
  - name: every_column
    model: m
    overrides: {macros: {bonus: "10.4"}}
    given:
      - input: ref('people')
        rows: [{id: 1}]
    expect:
      rows: []
`,
	})
	out := must(t, 1, dir, "test", "-s", "test_type:unit")
	mustContain(t, out,
		"FAIL 2 rate_rounded ", "+ 1  | 1.5  | 3.0\n          - 1  | 2    | 3\n",
		"PASS rate_as_written ",
		"FAIL 2 bonus_rounded ", "- 10\n          + 10.4\n",
		"FAIL 1 every_column ", "+ 1  | 1    | NULL   | 10.4\n",
		"PASS=1 WARN=0 FAIL=3 ERROR=0 SKIP=0")
}

// TestUnitTestExpectedQueryAsWritten: the rows of an expect of format sql
// are compared as their values print, as a mapping's values are: 10.5
// expected of an integer column is no 11 (the query's numeric was cast to
// the output's integer, rounding it, and the test passed), and a value
// that does not convert names its row and column (it failed in the
// comparing query, 'models/unit.yml:18: ERROR: invalid input syntax').
func TestUnitTestExpectedQueryAsWritten(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":     "name: shop\n",
		"seeds/orders.csv": "id,amount\n1,10.5\n",
		"models/m.sql":     `select id, round(amount)::int as amount, 'x' as note from {{ ref "orders" }}` + "\n",
		"models/unit.yml": `unit_tests:
  - name: rounded
    model: m
    given:
      - input: ref('orders')
        rows: [{id: 1, amount: 10.5}]
    expect:
      format: sql
      rows: select 1 as id, 10.5 as amount
  - name: as_written
    model: m
    given:
      - input: ref('orders')
        rows: [{id: 1, amount: 10.5}]
    expect:
      format: sql
      rows: select 'x' as note, 11 as amount, 1::smallint as id
  - name: no_number
    model: m
    given:
      - input: ref('orders')
        rows: [{id: 1, amount: 10.5}]
    expect:
      format: sql
      rows: select 1 as id, 'eleven' as amount
`,
	})
	out := must(t, 1, dir, "test", "-s", "test_type:unit")
	mustContain(t, out,
		"ERROR test rounded ", `models/unit.yml:9:13: unit test rounded: expect (format sql) of model m, row 1, column amount: "10.5" is not a integer (invalid input syntax for type integer: "10.5")`,
		"PASS as_written ",
		"ERROR test no_number ", `models/unit.yml:25:13: unit test no_number: expect (format sql) of model m, row 1, column amount: "eleven" is not a integer`,
		"PASS=1 WARN=0 FAIL=0 ERROR=2 SKIP=0")
}

// TestUnitTestTypingWaitsForALock: another session holds a table that
// the input of a unit test reads in ACCESS EXCLUSIVE mode (a DDL by hand in
// an open transaction). Typing the unit tests' inputs, before the build's
// first node, waits for it as a model's swap waits for its readers: each
// wait is said (a lock_wait line, as a model's), and it gives up after the
// target's swap_max_wait, failing the unit test with the reason. It
// waited without a word for check's lock_timeout (twice: the chunk, then
// the model alone), then failed the test saying check renames the table
// aside, which it does not do there.
func TestUnitTestTypingWaitsForALock(t *testing.T) {
	const waits = "... typing the unit tests' inputs: model m reads a relation another session holds locked ("
	cases := []struct {
		name    string
		maxWait string
		release time.Duration // 0: held to the end
		args    []string
		code    int
		want    []string
	}{
		{"released", "60s", 1500 * time.Millisecond, nil, 0, []string{waits, "PASS doubles", "OK created table model public.m2", "ERROR=0"}},
		{"held", "1s", 0, []string{"-s", "m2"}, 1, []string{waits, "ERROR test doubles", "models/unit.yml:",
			"the columns of model m are not known: strata check: models/m.sql:1:",
			"another session holds a relation it reads locked (ALTER TABLE or another DDL in a transaction that has not ended, say) longer than lock_timeout",
			"gave up after waiting", "the target's swap_max_wait", "SKIP table model public.m2"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			url := pgtest.DB(t)
			dir := writeProject(t, url, map[string]string{
				"project.yaml":   "name: lk\nmodels: {'.': {materialized: table}}\n" + target(url, ", swap_lock_timeout: 100ms, swap_max_wait: "+c.maxWait),
				"models/src.yml": "sources:\n  - name: raw\n    schema: public\n    tables:\n      - name: src\n",
				"models/m.sql":   `select x from {{ source "raw" "src" }}` + "\n",
				"models/m2.sql":  `select x * 2 as doubled from {{ ref "m" }}` + "\n",
				"models/unit.yml": `unit_tests:
  - name: doubles
    model: m2
    given:
      - input: ref('m')
        rows: [{x: 2}]
    expect:
      rows: [{doubled: 4}]
`,
			})
			ctx := context.Background()
			conn := connect(t, url)
			if _, err := conn.Exec(ctx, "create table public.src (x int)"); err != nil {
				t.Fatal(err)
			}
			must(t, 0, dir, "build")
			tx, err := conn.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(ctx) //nolint:errcheck
			if _, err := tx.Exec(ctx, "lock table public.src in access exclusive mode"); err != nil {
				t.Fatal(err)
			}
			released := make(chan struct{})
			go func() {
				defer close(released)
				if c.release > 0 {
					time.Sleep(c.release)
					_ = tx.Rollback(ctx)
				}
			}()
			bctx, cancel := context.WithTimeout(ctx, 60*time.Second)
			defer cancel()
			var buf bytes.Buffer
			code := Main(bctx, append([]string{"--project-dir", dir, "--no-color", "build"}, c.args...), &buf, &buf)
			<-released
			out := buf.String()
			if code != c.code {
				t.Errorf("exit %d, want %d:\n%s", code, c.code, out)
			}
			mustContain(t, out, c.want...)
		})
	}
}
