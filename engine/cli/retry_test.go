package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"strata/engine/artifacts"
	"strata/engine/pgname"
	"strata/engine/pipeline"

	"strata/engine/internal/pgtest"
)

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
	mustContain(t, out, "Running 3 nodes", "PASS=3 WARN=0 FAIL=0 ERROR=0 SKIP=0")
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
	mustContain(t, out, "on-run-end hook failed", "PASS=2 WARN=0 FAIL=0 ERROR=1 SKIP=0")
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

// A build --check is retried with its check: the nodes retried are
// checked first, and nothing is built when PostgreSQL rejects one.
func TestRetryRepeatsCheck(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: rc\nmodels: {'.': {materialized: table}}\n",
		"models/a.sql": "select 1/0 as id", // passes the check, fails the build
		"models/b.sql": `select * from {{ ref "a" }}`,
	})
	out := must(t, 1, dir, "build", "--check")
	mustContain(t, out, "(--check)", "division by zero")
	// a is fixed, b broken: without the check, a would be built.
	writeFile(t, dir, "models/a.sql", "select 1 as id")
	writeFile(t, dir, "models/b.sql", `select nosuch from {{ ref "a" }}`)
	out = must(t, 1, dir, "retry")
	mustContain(t, out, "Checking the 2 selected nodes first (--check)", "nothing was built: the check above failed", "nosuch")
	if got := queryInt(t, url, "select count(*) from pg_class where relname in ('a', 'b') and relnamespace = 'public'::regnamespace"); got != 0 {
		t.Errorf("%d of a and b were built after a failed check", got)
	}
}

// A build --check whose check fails is recorded as a run that built
// nothing: junit.xml and run_results.json are not the last run's (a CI job
// uploaded yesterday's passing tests), and retry, once the model is fixed,
// builds the selection with its check.
func TestFailedCheckIsRecorded(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: fc\nmodels: {'.': {materialized: table}}\n",
		"models/a.sql": "select 1 as id",
		"models/a.yml": "models:\n  - name: a\n    columns: [{name: id, tests: [not_null]}]\n",
	})
	must(t, 0, dir, "build")
	writeFile(t, dir, "models/a.sql", "select nosuch as id")
	out := must(t, 1, dir, "build", "--check")
	mustContain(t, out, "nothing was built: the check above failed")
	junit, err := os.ReadFile(filepath.Join(dir, "target", "junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(junit), `skipped="1"`) || !strings.Contains(string(junit), "the check failed (--check)") {
		t.Errorf("junit.xml after a failed check is not this run's:\n%s", junit)
	}
	rr, err := artifacts.ReadRunResults(filepath.Join(dir, "target", "run_results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if rr.InProgress || rr.Summary.Skip != 2 || rr.Args == nil || !rr.Args.Check {
		t.Errorf("run_results.json after a failed check: %+v", rr)
	}
	writeFile(t, dir, "models/a.sql", "select 2 as id")
	out = must(t, 0, dir, "retry")
	mustContain(t, out, "Checking the 2 selected nodes first (--check)", "PASS=2")
	if got := queryInt(t, url, "select id from public.a"); got != 2 {
		t.Errorf("retry did not build a: id %d", got)
	}
}

// retryWithin runs strata retry with args in dir, cancelled after a
// minute: a retry that waits for a run lock the test holds ends so
// (exit 130) instead of hanging the test.
func retryWithin(t *testing.T, dir string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	code := Main(ctx, append([]string{"--project-dir", dir, "--no-color", "retry"}, args...), &out, &errOut)
	return code, out.String() + errOut.String()
}

// TestRetryOfARunGoingOn: retry does not wait for a run that holds the
// run lock of the place it retries, which it would then repeat (the run
// it retries is not killed, or one started after it is going on): it says
// so, runs nothing and exits 1. A run going on in another environment is
// no reason not to retry, nor a lock held for a moment, as by the session
// of a run just killed.
func TestRetryOfARunGoingOn(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":    "name: rl\nvars: {bad: false}\nmodels: {'.': {materialized: table}}\n",
		"models/a.sql":    `select {{ if var "bad" }}1/0{{ else }}1{{ end }} as id`,
		"models/gate.sql": `with w as (select pg_advisory_xact_lock_shared(hashtextextended('gate', 0))) select a.id from {{ ref "a" }} a, w`,
	})
	ctx := context.Background()
	holder := connect(t, url)
	lock := func(key string) {
		t.Helper()
		if _, err := holder.Exec(ctx, "select pg_advisory_lock(hashtextextended($1, 0))", key); err != nil {
			t.Fatal(err)
		}
	}
	unlock := func(key string) {
		t.Helper()
		if _, err := holder.Exec(ctx, "select pg_advisory_unlock(hashtextextended($1, 0))", key); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("the run it retries goes on", func(t *testing.T) {
		// The build waits in gate until the test unlocks "gate".
		lock("gate")
		done := make(chan string, 1)
		go func() {
			code, out := strataB(t, dir, "build")
			done <- fmt.Sprintf("exit %d\n%s", code, out)
		}()
		until(t, "gate waits for the lock", func() bool {
			return queryInt(t, url, "select count(*) from pg_locks where locktype = 'advisory' and not granted and database = (select oid from pg_database where datname = current_database())") > 0
		})
		code, out := retryWithin(t, dir)
		unlock("gate")
		if build := <-done; !strings.HasPrefix(build, "exit 0\n") {
			t.Fatalf("the build: %s", build)
		}
		if code != 1 {
			t.Fatalf("retry of a run going on: exit %d, want 1\n%s", code, out)
		}
		mustContain(t, out, "strata retry: the run it would repeat (strata build on target t, started ", ") is still going on (its run lock is held by PostgreSQL session ",
			"): wait for it to end, then strata retry --target t repeats what it did not finish; nothing was run")
		if strings.Contains(out, "Waiting") || strings.Contains(out, "Running") {
			t.Errorf("retry waited for the run or ran something:\n%s", out)
		}
		mustContain(t, must(t, 0, dir, "retry"), "Nothing to retry")
	})

	t.Run("a later run goes on", func(t *testing.T) {
		must(t, 1, dir, "run", "--vars", "bad: true")
		// Another run of the project in production, which has not yet
		// recorded itself (it waits for its connections, say).
		key := pgname.RunLock(pipeline.LockName("rl", ""))
		lock(key)
		code, out := retryWithin(t, dir, "--vars", "bad: false")
		unlock(key)
		if code != 1 {
			t.Fatalf("retry while another run goes on: exit %d, want 1\n%s", code, out)
		}
		mustContain(t, out, "strata retry: another strata run on target t is going on (its run lock is held by PostgreSQL session ",
			"started after the run it would repeat (strata run, started ", "; nothing was run")
		// A run in another environment holds a lock of its own.
		key = pgname.RunLock(pipeline.LockName("rl", "pr1"))
		lock(key)
		code, out = retryWithin(t, dir, "--vars", "bad: false")
		unlock(key)
		if code != 0 {
			t.Fatalf("retry while a run goes on in another environment: exit %d, want 0\n%s", code, out)
		}
		mustContain(t, out, "Running 2 nodes", "PASS=2")
	})

	t.Run("a run killed a moment ago", func(t *testing.T) {
		// Its session, which the server ends within about a second of the
		// kill, still holds the lock as retry starts: retry takes it once
		// it is free, not as a run going on.
		must(t, 1, dir, "run", "--vars", "bad: true")
		key := pgname.RunLock(pipeline.LockName("rl", ""))
		lock(key)
		unlocked := make(chan error, 1)
		go func() {
			time.Sleep(500 * time.Millisecond)
			_, err := holder.Exec(ctx, "select pg_advisory_unlock(hashtextextended($1, 0))", key)
			unlocked <- err
		}()
		code, out := retryWithin(t, dir, "--vars", "bad: false")
		// holder is closed when the test ends: not while the unlock
		// still uses it (go test -race saw both at once).
		if err := <-unlocked; err != nil {
			t.Error(err)
		}
		if code != 0 {
			t.Fatalf("retry just after a kill: exit %d, want 0\n%s", code, out)
		}
		mustContain(t, out, "Running 2 nodes", "PASS=2")
	})
}

// A run stopped after its last node leaves a record in progress in which
// every node ended: retry cannot know whether the on-run-end hooks ran,
// so it runs them; with no such hooks it has nothing to do, and says why.
func TestRetryOfARunStoppedAfterItsLastNode(t *testing.T) {
	url := pgtest.DB(t)
	stopAtTheEnd := func(dir string) {
		t.Helper()
		for _, path := range recordsOf(t, dir) {
			var rr map[string]any
			b, err := os.ReadFile(path)
			if err == nil {
				err = json.Unmarshal(b, &rr)
			}
			if err != nil {
				t.Fatal(err)
			}
			rr["in_progress"] = true // as the run wrote it before its end
			if b, err = json.Marshal(rr); err == nil {
				err = os.WriteFile(path, b, 0o644)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: re\non-run-end: ['create table if not exists public.ends (n int)', 'insert into public.ends values (1)']\n",
		"models/a.sql": "select 1 as id",
	})
	must(t, 0, dir, "run")
	stopAtTheEnd(dir)
	out := must(t, 0, dir, "retry")
	mustContain(t, out, "did not finish: each of its nodes completed, but it may have stopped before its on-run-end hooks", "Running 0 nodes", "Ran 2 on-run-end hooks")
	if strings.Contains(out, "they failed in the last run") {
		t.Errorf("retry says the hooks failed:\n%s", out)
	}
	if got := queryInt(t, url, "select count(*) from public.ends"); got != 2 {
		t.Errorf("the on-run-end hooks ran %d times, want 2 (the run, then retry)", got)
	}
	mustContain(t, must(t, 0, dir, "retry"), "Nothing to retry: the last run had no failures or skips.")

	// A run of only unit tests runs no hooks: nor does its retry.
	writeFile(t, dir, "models/a.yml", `unit_tests:
  - name: a_is_one
    model: a
    expect: {rows: [{id: 1}]}
`)
	mustContain(t, must(t, 0, dir, "test", "-s", "test_type:unit"), "PASS=1")
	stopAtTheEnd(dir)
	mustContain(t, must(t, 0, dir, "retry"), "Nothing to retry: each node of the last run (strata test, started ", "a run of only unit tests runs no hooks")
	if got := queryInt(t, url, "select count(*) from public.ends"); got != 2 {
		t.Errorf("the on-run-end hooks ran %d times, want 2: not for unit tests", got)
	}

	// (Another project on the database: its model is not re's a.)
	dir = writeProject(t, url, map[string]string{
		"project.yaml": "name: rf\n",
		"models/b.sql": "select 1 as id",
	})
	must(t, 0, dir, "run")
	stopAtTheEnd(dir)
	out = must(t, 0, dir, "retry")
	mustContain(t, out, "Nothing to retry: each node of the last run (strata run, started ", "did not record its end, and the project has no on-run-end hooks")
	if strings.Contains(out, "Running") {
		t.Errorf("retry ran something:\n%s", out)
	}
}

// A run whose on-run-start hook fails ends before its first node: its
// record says so (not "in progress", as a killed run's), with the hook's
// error and every node skipped, and retry runs them.
func TestOnRunStartFailureIsRecorded(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: rs\nvars: {d: 0}\non-run-start: ['select 1/{{ var \"d\" }}']\nmodels: {'.': {materialized: table}}\n",
		"models/a.sql": "select 1 as id",
	})
	mustContain(t, must(t, 1, dir, "build"), "on-run-start hook failed")
	rr, err := artifacts.ReadRunResults(filepath.Join(dir, "target", "run_results.json"))
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, r := range rr.Results {
		status[r.ID] = r.Status
	}
	if rr.InProgress || status["on-run-start"] != "error" || status["model.rs.a"] != "skipped" || rr.Summary.Error != 1 || rr.Summary.Skip != 1 {
		t.Errorf("run_results.json: in progress %v, statuses %v, summary %+v", rr.InProgress, status, rr.Summary)
	}
	if _, err := os.Stat(filepath.Join(dir, "target", artifacts.ProgressFile)); !os.IsNotExist(err) {
		t.Errorf("%s after the run ended: %v", artifacts.ProgressFile, err)
	}
	out := must(t, 0, dir, "retry", "--vars", "d: 1")
	mustContain(t, out, "Running 1 node", "PASS=1")
	if strings.Contains(out, "did not finish") {
		t.Errorf("retry took the run for a killed one:\n%s", out)
	}
	mustContain(t, must(t, 0, dir, "retry"), "Nothing to retry")
}

// recordsOf are the run_results.json files of the project in dir: the last
// run's in target/, and each target's and environment's in target/runs/.
func recordsOf(t *testing.T, dir string) []string {
	t.Helper()
	var paths []string
	err := filepath.WalkDir(filepath.Join(dir, "target"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == "run_results.json" {
			paths = append(paths, path)
		}
		return err
	})
	if err != nil || len(paths) < 2 {
		t.Fatalf("run_results.json files %v, %v", paths, err)
	}
	return paths
}

// TestRetryBeforeAnyRun: retry in a project where nothing has run yet
// said 'no earlier run to retry (no such file or directory)', not which
// file; it names target/run_results.json and why it is missing (exit 2).
func TestRetryBeforeAnyRun(t *testing.T) {
	dir := writeProject(t, "", map[string]string{"project.yaml": "name: pj\n", "models/a.sql": "select 1 as x\n"})
	code, out := strata(t, dir, "retry")
	want := "strata retry: no earlier run to retry: there is no target/run_results.json (no seed, run, test or build has run in this folder since target/ was made)\n"
	if code != ExitBadInput || out != want {
		t.Errorf("retry before any run: exit %d, %q; want 2 and %q", code, out, want)
	}
}

// TestRetryReadsSTRATA_TARGET: retry without --target retries the last run
// on the target STRATA_TARGET selects, as build would run on it, not the
// last run started in the folder (on another target).
func TestRetryReadsSTRATA_TARGET(t *testing.T) {
	urlA, urlB := pgtest.DB(t), pgtest.DB(t)
	dir := writeProject(t, "", map[string]string{
		"project.yaml": "name: st\nvars: {bad: false}\nmodels: {'.': {materialized: table}}\ntarget: b\ntargets:\n" +
			"  a: {type: postgres, url: '" + urlA + "'}\n  b: {type: postgres, url: '" + urlB + "'}\n",
		"models/m.sql": `select {{ if var "bad" }}1/0{{ else }}1{{ end }} as id`,
	})
	mustContain(t, must(t, 1, dir, "build", "--target", "a", "--vars", "bad: true"), "ERROR=1")
	mustContain(t, must(t, 0, dir, "build", "--target", "b"), "PASS=1")
	t.Setenv("STRATA_TARGET", "a")
	mustContain(t, must(t, 0, dir, "retry", "--vars", "bad: false"), "on target a", "PASS=1")
	if n := queryInt(t, urlA, "select id from public.m"); n != 1 {
		t.Errorf("m on a: %d, want 1", n)
	}
	// A target with no run recorded: refused, as with --target.
	t.Setenv("STRATA_TARGET", "c")
	code, out := strata(t, dir, "retry")
	if code != 2 {
		t.Errorf("retry with STRATA_TARGET=c: exit %d, want 2\n%s", code, out)
	}
	mustContain(t, out, "STRATA_TARGET c: target \"c\" is not defined")
}

// A build --check whose check fails is red in CI's test report too:
// junit.xml has a failing case for each node the check refused, in the
// check's words at the node's file and line (a data test the check
// refused there, not also among the skipped data tests), where before
// every test was skipped, with 0 failures and 0 errors.
func TestFailedCheckFailsJUnit(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":          "name: fj\nmodels: {'.': {materialized: table}}\n",
		"models/a.sql":          "select nosuch as id",
		"models/b.sql":          "select 1 as id",
		"models/b.yml":          "models:\n  - name: b\n    columns: [{name: id, tests: [not_null]}]\n",
		"tests/b_has_other.sql": `select other from {{ ref "b" }}`,
	})
	must(t, 1, dir, "build", "--check")
	b, err := os.ReadFile(filepath.Join(dir, "target", "junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	var junit artifacts.JUnit
	if err := xml.Unmarshal(b, &junit); err != nil {
		t.Fatal(err)
	}
	if junit.Failures != 2 || junit.Tests != 3 || junit.Skipped != 1 {
		t.Errorf("junit.xml after a failed check: %d tests, %d failures, %d skipped; want 3, 2, 1:\n%s", junit.Tests, junit.Failures, junit.Skipped, b)
	}
	failed := map[string]string{}
	for _, s := range junit.Suites {
		for _, c := range s.Cases {
			if c.Failure != nil {
				failed[s.Name+": "+c.ClassName+" "+c.Name] = c.Failure.Message
			}
		}
	}
	for name, want := range map[string]string{
		"fj check (--check): models.a a":           `models/a.sql:1`,
		"fj check (--check): models.b b_has_other": `tests/b_has_other.sql:1`,
	} {
		if got, ok := failed[name]; !ok || !strings.Contains(got, want) {
			t.Errorf("junit.xml: failing case %q = %q, want it to say %q:\n%s", name, got, want, b)
		}
	}
}

// A build --check whose check ended in an error before it had a result
// for each node (here its connection was terminated while it waited for
// a lock on a model's table) wrote a junit.xml of skipped tests and 0
// failures, green for a CI test report while the job was red (exit 1);
// the check's end is a failing case of the check's suite, in its words.
func TestUnfinishedCheckFailsJUnit(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: uj\nmodels: {'.': {materialized: table}}\n",
		"models/a.sql": "select 1 as id",
		"models/a.yml": "models:\n  - name: a\n    columns: [{name: id, tests: [not_null]}]\n",
	})
	must(t, 0, dir, "build")
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, "lock table public.a in access share mode"); err != nil {
		t.Fatal(err)
	}
	killer, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer killer.Close(ctx)
	done := make(chan bool, 1)
	go func() {
		// The check's connection, once it waits for the lock on a.
		for range 250 {
			var n int
			if err := killer.QueryRow(ctx, "select count(pg_terminate_backend(pid)) from pg_stat_activity where application_name = 'strata' and wait_event_type = 'Lock' and datname = current_database()").Scan(&n); err == nil && n > 0 {
				done <- true
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		done <- false
	}()
	out := must(t, 1, dir, "build", "--check")
	if !<-done {
		t.Fatalf("the check never waited for the lock on a:\n%s", out)
	}
	mustContain(t, out, "nothing was built: the check above failed (--check)")
	b, err := os.ReadFile(filepath.Join(dir, "target", "junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	var junit artifacts.JUnit
	if err := xml.Unmarshal(b, &junit); err != nil {
		t.Fatal(err)
	}
	if junit.Failures != 1 || junit.Tests != 2 || junit.Skipped != 1 {
		t.Fatalf("junit.xml after a check that ended in an error: %d tests, %d failures, %d skipped; want 2, 1, 1:\n%s", junit.Tests, junit.Failures, junit.Skipped, b)
	}
	for _, s := range junit.Suites {
		for _, c := range s.Cases {
			if c.Failure != nil && (s.Name != "uj check (--check)" || c.Name != "check" || !strings.HasPrefix(c.Failure.Message, "strata check ended before it had checked every node, and nothing was built: ")) {
				t.Errorf("junit.xml: failing case %s: %s %q, want the check's end in suite 'uj check (--check)':\n%s", s.Name, c.Name, c.Failure.Message, b)
			}
		}
	}
}

// lockAndTerminate holds an access exclusive lock on table until the test
// ends, and terminates strata's backend in url's database once it waits
// for that lock; the returned func says whether it did.
func lockAndTerminate(t *testing.T, url, table string) func() bool {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tx.Rollback(ctx) })
	if _, err := tx.Exec(ctx, "lock table "+table+" in access exclusive mode"); err != nil {
		t.Fatal(err)
	}
	killer, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan bool, 1)
	go func() {
		defer killer.Close(ctx)
		for range 500 {
			var n int
			if err := killer.QueryRow(ctx, "select count(pg_terminate_backend(pid)) from pg_stat_activity where application_name = 'strata' and wait_event_type = 'Lock' and datname = current_database()").Scan(&n); err == nil && n > 0 {
				done <- true
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		done <- false
	}()
	return func() bool { return <-done }
}

// TestCheckConnectionLost: a check whose connection was lost while it
// ran (its backend terminated, as by a server restart) said 'strata
// check: rolling back to a savepoint: conn closed'. It now says that the
// connection to the server was lost, while checking what, with the
// server's reason, and that nothing was changed; the database is as it
// was. Both ways a node is sent: alone, and in a batch with others.
func TestCheckConnectionLost(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"alone", map[string]string{}, "model a ("},
		{"in a batch", map[string]string{"models/a.yml": "models:\n  - name: a\n    columns: [{name: id, tests: [not_null]}]\n"}, "model a, sent with test not_null_a_id ("},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := pgtest.DB(t)
			files := map[string]string{
				"project.yaml": "name: cl\nmodels: {'.': {materialized: table}}\n",
				"models/a.sql": "select 1 as id",
			}
			maps.Copy(files, tc.files)
			dir := writeProject(t, url, files)
			must(t, 0, dir, "build")
			before := userRelations(t, url)
			terminated := lockAndTerminate(t, url, "public.a")
			out := must(t, 1, dir, "check")
			if !terminated() {
				t.Fatalf("the check never waited for the lock on a:\n%s", out)
			}
			mustContain(t, out, "strata check: the connection to the server was lost while checking "+tc.want+"FATAL: terminating connection due to administrator command (SQLSTATE 57P01)); nothing was changed: check's transaction, which it always rolls back, ended with the connection. Run it again once the server answers")
			if strings.Contains(out, "savepoint") || strings.Contains(out, "conn closed") {
				t.Errorf("check's message is about its own rollback, not the lost connection:\n%s", out)
			}
			if after := userRelations(t, url); after != before {
				t.Errorf("the check changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}

// TestEmptyCheckEndedFailsJUnit: build --empty and test --empty whose
// check ended in an error before it had a result for each node (its
// connection lost) removed junit.xml, while build --check writes a
// failing case 'check' for the same (TestUnfinishedCheckFailsJUnit), as
// docs/ci.md says --empty does too: CI's test report had no file, or an
// earlier run's. Each now writes the failing case 'check' in the suite
// '<project> check (--empty)', with the error, and its tests skipped.
func TestEmptyCheckEndedFailsJUnit(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: ej\nmodels: {'.': {materialized: table}}\n",
		"models/a.sql": "select 1 as id",
		"models/a.yml": "models:\n  - name: a\n    columns: [{name: id, tests: [not_null]}]\n",
	})
	must(t, 0, dir, "build")
	for _, cmd := range []string{"build", "test"} {
		t.Run(cmd, func(t *testing.T) { emptyCheckEnded(t, url, dir, cmd) })
	}
}

func emptyCheckEnded(t *testing.T, url, dir, cmd string) {
	terminated := lockAndTerminate(t, url, "public.a")
	out := must(t, 1, dir, cmd, "--empty")
	if !terminated() {
		t.Fatalf("%s --empty: the check never waited for the lock on a:\n%s", cmd, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "target", "junit.xml"))
	if err != nil {
		t.Fatalf("%s --empty whose check ended in an error: %v\n%s", cmd, err, out)
	}
	var junit artifacts.JUnit
	if err := xml.Unmarshal(b, &junit); err != nil {
		t.Fatal(err)
	}
	if junit.Failures != 1 || junit.Tests != 2 || junit.Skipped != 1 {
		t.Fatalf("%s --empty: junit.xml after a check that ended in an error: %d tests, %d failures, %d skipped; want 2, 1, 1:\n%s", cmd, junit.Tests, junit.Failures, junit.Skipped, b)
	}
	for _, s := range junit.Suites {
		for _, c := range s.Cases {
			if c.Failure != nil && (s.Name != "ej check (--empty)" || c.Name != "check" || !strings.HasPrefix(c.Failure.Message, "strata check ended before it had checked every node, and nothing was built: the connection to the server was lost while checking ")) {
				t.Errorf("%s --empty: junit.xml: failing case %s: %s %q, want the check's end in suite 'ej check (--empty)':\n%s", cmd, s.Name, c.Name, c.Failure.Message, b)
			}
		}
	}
	if err := os.Remove(filepath.Join(dir, "target", "junit.xml")); err != nil {
		t.Fatal(err)
	}
}

// A build whose only failures are nodes that are not tests (a model's SQL
// error, an on-run-end hook) wrote a junit.xml with 0 failures, the tests
// after the model skipped: the CI test report was green while the job
// was red. Each such node is a failing case in a suite '<project> nodes',
// its message at the file and line; the nodes that passed are not listed.
func TestFailedNodeFailsJUnit(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: fn\nmodels: {'.': {materialized: table}}\non-run-end: ['select nosuch_end']\n",
		"models/a.sql": "select nosuch as id",
		"models/a.yml": "models:\n  - name: a\n    columns: [{name: id, tests: [not_null]}]\n",
		"models/b.sql": "select 1 as id",
	})
	must(t, 1, dir, "build")
	b, err := os.ReadFile(filepath.Join(dir, "target", "junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	var junit artifacts.JUnit
	if err := xml.Unmarshal(b, &junit); err != nil {
		t.Fatal(err)
	}
	if junit.Failures != 2 || junit.Tests != 3 || junit.Skipped != 1 {
		t.Errorf("junit.xml after a failed model and hook: %d tests, %d failures, %d skipped; want 3, 2, 1:\n%s", junit.Tests, junit.Failures, junit.Skipped, b)
	}
	failed := map[string]string{}
	for _, s := range junit.Suites {
		for _, c := range s.Cases {
			if c.Failure != nil {
				failed[s.Name+": "+c.ClassName+" "+c.Name+" ("+c.Failure.Type+")"] = c.Failure.Message
			}
		}
	}
	for name, want := range map[string]string{
		"fn nodes: models.a a (model)":        `models/a.sql:1`,
		"fn nodes: project on-run-end (hook)": `project.yaml:3`,
	} {
		if got, ok := failed[name]; !ok || !strings.Contains(got, want) {
			t.Errorf("junit.xml: failing case %q = %q, want it to say %q:\n%s", name, got, want, b)
		}
	}
}
