package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"strata/engine/internal/pgtest"
)

// mustContain fails the test for each of wants that out lacks.
func mustContain(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

// A model's leading lines (a config call, a comment, blank lines) stay in
// the compiled file, so the error must count them too, with and without --empty.
func TestSQLErrorLineCountsLeadingLines(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":  "name: p3\n",
		"models/t1.sql": "{{ config \"materialized\" \"table\" }}\n{{/* c */}}\n\n\nselect 1 as id,\n  nosuchcol as x\n",
	})
	for _, args := range [][]string{{"run"}, {"run", "--empty"}} {
		out := must(t, 1, dir, args...)
		mustContain(t, out, `models/t1.sql: column "nosuchcol" does not exist`, "(at line 6 of target/compiled/models/t1.sql)")
	}
}

// A data test's SQL error names the line: the compiled file's line for a
// singular test, and the declaration's line in the YAML file for a generic one.
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
		mustContain(t, out, `models/m.yml:8: column "gone" does not exist`)
	}
	out := must(t, 1, dir, "test", "-s", "sing stored")
	mustContain(t, out, `tests/sing.sql: column "nosuch" does not exist`, "(at line 5 of target/compiled/tests/sing.sql)",
		`tests/stored.sql: column "nosuch2" does not exist`, "(at line 3 of target/compiled/tests/stored.sql)")
}

// Retry selects the failed and skipped nodes by id, so names with spaces (a
// model file, a test on a CSV column) are all rerun.
func TestRetryNamesWithSpaces(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":          "name: p1\nmodels:\n  '.': {materialized: table}\n",
		"models/with space.sql": `select nosuch as "Na me"`,
		"models/child.sql":      `select * from {{ ref "with space" }}`,
		"models/ok.sql":         "select 1 as id",
		"models/m.yml":          "models:\n  - name: with space\n    columns:\n      - name: Na me\n        tests: [not_null]\n",
	})
	must(t, 1, dir, "build")
	if err := os.WriteFile(filepath.Join(dir, "models", "with space.sql"), []byte(`select 1 as "Na me"`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := must(t, 0, dir, "retry")
	mustContain(t, out, "Running 3 nodes", "PASS=3 WARN=0 ERROR=0 SKIP=0")
	res := results(t, dir)
	for _, id := range []string{"model.p1.with space", "model.p1.child"} {
		if res[id].Status != "success" {
			t.Errorf("%s: %q after retry", id, res[id].Status)
		}
	}
	if got := queryInt(t, url, `select count(*) from public.child`); got != 1 {
		t.Errorf("child has %d rows", got)
	}
	out = must(t, 0, dir, "run", "-s", "with space")
	mustContain(t, out, "Running 1 node", "OK created table model public.with space ")
}

// A failed on-run-end hook counts in the summary, and retry runs it again.
func TestOnRunEndFailureIsCountedAndRetried(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: p6\non-run-end: ['select 1/0']\n",
		"models/a.sql": "select 1 as id",
		"models/b.sql": "select 2 as id",
	})
	out := must(t, 1, dir, "run")
	mustContain(t, out, "on-run-end hook failed", "PASS=2 WARN=0 ERROR=1 SKIP=0")
	out = must(t, 1, dir, "retry")
	mustContain(t, out, "Running the on-run-end hooks again", "Running 0 nodes", "ERROR=1")
	yaml := filepath.Join(dir, "project.yaml")
	b, err := os.ReadFile(yaml)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(yaml, bytes.Replace(b, []byte("select 1/0"), []byte("select 1"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	out = must(t, 0, dir, "retry")
	mustContain(t, out, "Ran 1 on-run-end hook", "ERROR=0")
	if code, out := strata(t, dir, "retry"); code != 0 || !strings.Contains(out, "Nothing to retry") {
		t.Errorf("third retry exited %d:\n%s", code, out)
	}
}

// jsonRun runs strata with --log-format json, checks that every line of
// stdout is a JSON object and returns the exit code and the events.
func jsonRun(t *testing.T, dir string, args ...string) (int, []map[string]any) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), append([]string{"--project-dir", dir, "--log-format", "json"}, args...), &stdout, &stderr)
	var events []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Errorf("%v: not a JSON object: %q (%v)", args, line, err)
			continue
		}
		events = append(events, ev)
	}
	return code, events
}

// Under --log-format json every line of stdout is a JSON object, and an
// error's message names its file as the text output does.
func TestJSONLogIsOnlyJSON(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":   "name: p7\non-run-end: ['select 1']\n",
		"models/bad.sql": "select nosuch",
		"models/a.sql":   "select 1 as id",
	})
	code, events := jsonRun(t, dir, "run")
	if code != 1 {
		t.Fatalf("run exited %d, want 1: %v", code, events)
	}
	var badMsg, running string
	for _, ev := range events {
		msg, _ := ev["message"].(string)
		switch {
		case ev["event"] == "end" && ev["node"] == "model.p7.bad":
			badMsg = msg
		case strings.HasPrefix(msg, "Running "):
			running = msg
		}
	}
	if !strings.HasPrefix(badMsg, "models/bad.sql: ") || !strings.Contains(badMsg, "(at line 1 of target/compiled/models/bad.sql)") {
		t.Errorf("the error's message is %q, want it to start with models/bad.sql: and give the line", badMsg)
	}
	if running != "Running 2 nodes with 4 threads on target t" {
		t.Errorf("the Running line is %q", running)
	}
	if err := os.WriteFile(filepath.Join(dir, "models", "bad.sql"), []byte("select 1 as id"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, events := jsonRun(t, dir, "retry"); code != 0 {
		t.Errorf("retry exited %d: %v", code, events)
	}
	if code, events := jsonRun(t, dir, "retry"); code != 0 || len(events) != 1 || !strings.HasPrefix(fmt.Sprint(events[0]["message"]), "Nothing to retry") {
		t.Errorf("second retry exited %d: %v", code, events)
	}
}
