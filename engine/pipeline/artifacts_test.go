package pipeline

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"

	"strata/engine/artifacts"
	"strata/engine/run"
)

// TestWriteResultsSummaryAndJUnit: a test that found rows counts as fail,
// not error, in run_results.json's summary; in junit.xml a test's classname
// reads as the path of what it tests (models.analytics.daily_sales, also
// for a singular test that reads one model; the file of a singular test
// that reads several; a source table), and times are in seconds rounded to
// the millisecond.
func TestWriteResultsSummaryAndJUnit(t *testing.T) {
	l := load(t, fstest.MapFS{
		"project.yaml":                     file("name: p\n"),
		"models/analytics/daily_sales.sql": file(`select 1 as id from {{ source "crm" "accounts" }}`),
		"models/analytics/analytics.yml": file(`models:
  - name: daily_sales
    columns:
      - name: id
        tests: [not_null, unique]
sources:
  - name: crm
    tables:
      - name: accounts
        columns:
          - name: id
            tests: [not_null]
`),
		"models/other.sql":       file("select 1 as id"),
		"tests/no_negative.sql":  file(`select * from {{ ref "daily_sales" }} where id < 0`),
		"tests/sub/same_ids.sql": file(`select id from {{ ref "daily_sales" }} except select id from {{ ref "other" }}`),
	})
	var sourceTest string
	for id, n := range l.Manifest.Nodes {
		if n.TestInfo != nil && n.TestInfo.Attached == "source.p.crm.accounts" {
			sourceTest = id
		}
	}
	notNull, unique := testOf(t, l, "not_null", "daily_sales"), testOf(t, l, "unique", "daily_sales")
	results := []run.Result{
		{ID: "model.p.daily_sales", Status: run.Success, Duration: 1234567 * time.Microsecond},
		{ID: notNull, Status: run.Fail, Failures: 3, Duration: 2345600 * time.Nanosecond},
		{ID: unique, Status: run.Error, Message: "boom", Duration: 1500 * time.Microsecond},
		{ID: "test.p.no_negative", Status: run.Pass, Duration: 100 * time.Microsecond},
		{ID: "test.p.same_ids", Status: run.Pass},
		{ID: sourceTest, Status: run.Skipped, Message: "skipped"},
	}
	if errs := l.WriteResults("build", time.Now(), results); len(errs) > 0 {
		t.Fatal(errs)
	}
	rr, err := artifacts.ReadRunResults(filepath.Join(l.TargetDir(), "run_results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if want := (artifacts.Summary{Pass: 3, Fail: 1, Error: 1, Skip: 1}); rr.Summary != want {
		t.Errorf("summary = %+v, want %+v", rr.Summary, want)
	}
	b, err := os.ReadFile(filepath.Join(l.TargetDir(), "junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	var j artifacts.JUnit
	if err := xml.Unmarshal(b, &j); err != nil {
		t.Fatal(err)
	}
	type tc struct {
		class string
		time  float64
	}
	want := map[string]tc{
		"not_null_daily_sales_id":         {"models.analytics.daily_sales", 0.002},
		"unique_daily_sales_id":           {"models.analytics.daily_sales", 0.002},
		"no_negative":                     {"models.analytics.daily_sales", 0},
		"same_ids":                        {"tests.sub.same_ids", 0},
		l.Manifest.Nodes[sourceTest].Name: {"sources.crm.accounts", 0},
	}
	if len(j.Suites) != 1 || len(j.Suites[0].Cases) != len(want) {
		t.Fatalf("junit.xml:\n%s", b)
	}
	for _, c := range j.Suites[0].Cases {
		if got := (tc{c.ClassName, c.Time}); got != want[c.Name] {
			t.Errorf("test %s: classname %q time %v, want %q %v", c.Name, c.ClassName, c.Time, want[c.Name].class, want[c.Name].time)
		}
	}
	if j.Time != 0.004 || j.Suites[0].Time != 0.004 {
		t.Errorf("junit time %v, suite time %v, want 0.004 (the tests' 3.9456ms, rounded)", j.Time, j.Suites[0].Time)
	}
}
