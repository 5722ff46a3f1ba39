package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"strata/engine/artifacts"
	"strata/engine/internal/pgtest"
)

// retryProject is a project whose model gate waits for advisory lock 4243
// (which the test holds to stop a run there) after a and inc are built;
// gate is incremental, so only a full refresh rebuilds it with new vars.
func retryProject(t *testing.T, url string) string {
	return writeProject(t, url, map[string]string{
		"project.yaml": "name: rk\nvars: {k: 1}\nmodels: {'.': {materialized: table}}\n",
		"models/a.sql": `select {{ var "k" }} as k`,
		"models/gate.sql": `{{ config "materialized" "incremental" }}
with w as (select pg_advisory_xact_lock_shared(4243))
select g as id, a.k from generate_series(1, 3) g, {{ ref "a" }} a, w
{{ if is_incremental }}where g > (select max(id) from {{ this }}){{ end }}`,
		"models/b.sql":      `select id, k * 10 as k10 from {{ ref "gate" }}`,
		"models/schema.yml": "models:\n  - name: b\n    columns: [{name: id, tests: [not_null, unique]}]\n",
	})
}

// tablesOf is the rows of rk's tables, as text.
func tablesOf(t *testing.T, url string) string {
	var b strings.Builder
	for _, rel := range []string{"a", "gate", "b"} {
		b.WriteString(rel + ": " + queryText(t, url, "select coalesce(string_agg(r::text, ' ' order by r::text), '') from public."+rel+" r") + "\n")
	}
	return b.String()
}

// TestRetryAfterKill (issue 21 item 2): a build given --vars and
// --full-refresh is killed (SIGKILL, then SIGTERM) while a model waits;
// run_results.json then says what it did and did not finish, and retry
// completes that run with its flags, not the default vars nor an
// incremental load: the tables equal those of the same build run whole.
func TestRetryAfterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("needs PostgreSQL")
	}
	bin := buildStrata(t)
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			args := []string{"build", "--full-refresh", "--vars", "k: 2"}
			// The reference: day 1, then the build run whole.
			refURL := pgtest.DB(t)
			ref := retryProject(t, refURL)
			must(t, 0, ref, "build")
			must(t, 0, ref, args...)
			want := tablesOf(t, refURL)
			if !strings.Contains(want, "b: (1,20) (2,20) (3,20)") {
				t.Fatalf("the reference build:\n%s", want)
			}

			url := pgtest.DB(t)
			dir := retryProject(t, url)
			must(t, 0, dir, "build")
			holder := connect(t, url)
			ctx := context.Background()
			if _, err := holder.Exec(ctx, "select pg_advisory_lock(4243)"); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(bin, append([]string{"--project-dir", dir, "--no-color"}, args...)...)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			until(t, "gate waits for the lock", func() bool {
				return queryInt(t, url, "select count(*) from pg_locks where locktype = 'advisory' and objid = 4243 and not granted") > 0
			})
			_ = cmd.Process.Signal(sig)
			_ = cmd.Wait()
			if _, err := holder.Exec(ctx, "select pg_advisory_unlock(4243)"); err != nil {
				t.Fatal(err)
			}
			t.Logf("the killed build printed:\n%s", out.String())

			// The record says what the run did.
			rr, err := artifacts.ReadRunResults(filepath.Join(dir, "target", "run_results.json"))
			if err != nil {
				t.Fatal(err)
			}
			if rr.Args == nil || rr.Args.Vars != "k: 2" || !rr.Args.FullRefresh || rr.InProgress != (sig == syscall.SIGKILL) {
				t.Errorf("run_results.json: args %+v, in progress %v", rr.Args, rr.InProgress)
			}
			status := map[string]string{}
			for _, r := range rr.Results {
				status[strings.TrimPrefix(r.ID, "model.rk.")] = r.Status
			}
			if status["a"] != "success" || status["gate"] == "success" || status["b"] != "skipped" || len(rr.Results) != 5 {
				t.Errorf("run_results.json after the kill: %v", status)
			}

			out.Reset()
			got := must(t, 0, dir, "retry")
			mustContain(t, got, "Running 4 nodes", "PASS=4")
			if sig == syscall.SIGKILL {
				mustContain(t, got, "The last run (strata build, started ")
			}
			if have := tablesOf(t, url); have != want {
				t.Errorf("after retry:\n%s\nwant, as the build run whole:\n%s", have, want)
			}
			if _, ok := runResults(t, dir)["model.rk.a"]; ok {
				t.Errorf("retry built a again, which the killed run had built")
			}
			if _, err := os.Stat(filepath.Join(dir, "target", artifacts.ProgressFile)); !os.IsNotExist(err) {
				t.Errorf("%s after the run ended: %v", artifacts.ProgressFile, err)
			}
			if code, out := strata(t, dir, "retry"); code != 0 || !strings.Contains(out, "Nothing to retry") {
				t.Errorf("second retry exited %d:\n%s", code, out)
			}
		})
	}
}

// TestRetryOfOneOfTwoRunsAtOnce: two runs of a project at once in one
// folder, on two targets (two run locks): the first is killed while a
// model waits, the second, started later, fails with its own vars. Each
// keeps its own record (target/runs/), and retry of the first's target
// finishes the first run with its flags: it neither runs the second's
// failed nodes there nor with the second's vars (before, target/'s record
// was the second run's alone, and retry --target a built a with bad:
// true: exit 1). A retry of a place with no record is refused.
func TestRetryOfOneOfTwoRunsAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("needs PostgreSQL")
	}
	bin := buildStrata(t)
	urlA, urlB := pgtest.DB(t), pgtest.DB(t)
	dir := writeProject(t, "", map[string]string{
		"project.yaml": "name: tw\nvars: {bad: false}\nmodels: {'.': {materialized: table}}\ntarget: a\ntargets:\n" +
			"  a: {type: postgres, url: '" + urlA + "'}\n  b: {type: postgres, url: '" + urlB + "'}\n",
		"models/a.sql":     `select {{ if var "bad" }}1/0{{ else }}1{{ end }} as id`,
		"models/gate.sql":  `with w as (select pg_advisory_xact_lock_shared(4244)) select a.id from {{ ref "a" }} a, w`,
		"models/after.sql": `select id * 10 as id from {{ ref "gate" }}`,
	})
	holder := connect(t, urlA) // advisory locks are per database: b's gate does not wait
	ctx := context.Background()
	if _, err := holder.Exec(ctx, "select pg_advisory_lock(4244)"); err != nil {
		t.Fatal(err)
	}
	first := exec.Command(bin, "--project-dir", dir, "--no-color", "build", "--target", "a", "--threads", "1")
	var out bytes.Buffer
	first.Stdout, first.Stderr = &out, &out
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	until(t, "gate waits for the lock on a", func() bool {
		return queryInt(t, urlA, "select count(*) from pg_locks where locktype = 'advisory' and objid = 4244 and not granted") > 0
	})
	second := must(t, 1, dir, "build", "--target", "b", "--vars", "bad: true")
	mustContain(t, second, "ERROR=1")
	_ = first.Process.Kill()
	_ = first.Wait()
	if _, err := holder.Exec(ctx, "select pg_advisory_unlock(4244)"); err != nil {
		t.Fatal(err)
	}
	t.Logf("the killed build printed:\n%s", out.String())

	// target/run_results.json is the run that started last; the first
	// run's own record says what it finished.
	last, err := artifacts.ReadRunResults(filepath.Join(dir, "target", "run_results.json"))
	if err != nil || last.Target != "b" || last.InProgress {
		t.Fatalf("target/run_results.json: %+v, %v", last, err)
	}
	own, err := artifacts.ReadRunResults(filepath.Join(artifacts.RunDir(filepath.Join(dir, "target"), "a", ""), "run_results.json"))
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, r := range own.Results {
		status[strings.TrimPrefix(r.ID, "model.tw.")] = r.Status
	}
	if own.Target != "a" || !own.InProgress || status["a"] != "success" || status["gate"] != "skipped" || status["after"] != "skipped" {
		t.Errorf("target a's record: target %q, in progress %v, %v", own.Target, own.InProgress, status)
	}

	got := must(t, 0, dir, "retry", "--target", "a")
	mustContain(t, got, "The last run (strata build, started ", "Running 2 nodes", "on target a", "PASS=2")
	if n := queryInt(t, urlA, "select id from public.after"); n != 10 {
		t.Errorf("after on a: %d, want 10", n)
	}
	mustContain(t, must(t, 0, dir, "retry", "--target", "a"), "Nothing to retry")
	// b's run, with its vars; then, without flags, the last run started
	// (that retry, on b).
	mustContain(t, must(t, 1, dir, "retry", "--target", "b"), "on target b", "ERROR=1")
	mustContain(t, must(t, 0, dir, "retry", "--vars", "bad: false"), "on target b", "PASS=3")
	// A place no run was recorded on: refused, naming the last run.
	code, refused := strata(t, dir, "retry", "--target", "a", "--env", "pr1")
	if code != 2 {
		t.Errorf("retry in an environment with no run: exit %d, want 2\n%s", code, refused)
	}
	mustContain(t, refused, "no run on environment pr1 of target a is recorded in target/", "was on target b: strata retry --target b retries it")
}

// TestRetryOfTheLaterOfTwoRunsInEnvironments: two runs of a project at
// once in one folder, in two environments (two run locks), the later one
// killed (SIGKILL) while a model waits and the earlier one ending after
// it. Both wrote target/run_progress.jsonl; the earlier one's end leaves
// target/'s record to the killed run, and strata retry without flags
// repeats exactly the killed run's unfinished nodes, in its environment,
// not the earlier run's (which passed) nor the nodes the killed run built.
func TestRetryOfTheLaterOfTwoRunsInEnvironments(t *testing.T) {
	if testing.Short() {
		t.Skip("needs PostgreSQL")
	}
	bin := buildStrata(t)
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":     "name: te\nvars: {lk: 0}\nmodels: {'.': {materialized: table}}\n",
		"models/a.sql":     `select 1 as id`,
		"models/gate.sql":  `with w as (select pg_advisory_xact_lock_shared({{ var "lk" }})) select a.id from {{ ref "a" }} a, w`,
		"models/after.sql": `select id * 10 as id from {{ ref "gate" }}`,
	})
	holder := connect(t, url)
	ctx := context.Background()
	if _, err := holder.Exec(ctx, "select pg_advisory_lock(4246), pg_advisory_lock(4247)"); err != nil {
		t.Fatal(err)
	}
	waiting := func(n int64) func() bool {
		return func() bool {
			return queryInt(t, url, "select count(*) from pg_locks where locktype = 'advisory' and not granted and database = (select oid from pg_database where datname = current_database())") == n
		}
	}
	done := make(chan string, 1)
	go func() {
		code, out := strataB(t, dir, "build", "--env", "e1", "--vars", "lk: 4246")
		done <- fmt.Sprintf("exit %d\n%s", code, out)
	}()
	until(t, "gate waits in e1", waiting(1))
	second := exec.Command(bin, "--project-dir", dir, "--no-color", "build", "--env", "e2", "--vars", "lk: 4247", "--threads", "1")
	var out bytes.Buffer
	second.Stdout, second.Stderr = &out, &out
	if err := second.Start(); err != nil {
		t.Fatal(err)
	}
	until(t, "gate waits in e2 too", waiting(2))
	_ = second.Process.Kill()
	_ = second.Wait()
	t.Logf("the killed build printed:\n%s", out.String())
	if _, err := holder.Exec(ctx, "select pg_advisory_unlock(4246), pg_advisory_unlock(4247)"); err != nil {
		t.Fatal(err)
	}
	first := <-done
	if !strings.HasPrefix(first, "exit 0\n") {
		t.Fatalf("the first build: %s", first)
	}
	mustContain(t, first, "target/run_results.json keeps the record of the run of strata build on environment e2 of target t")

	got := must(t, 0, dir, "retry")
	mustContain(t, got, "The last run (strata build, started ", "running again the 2 nodes it did not complete", "Running 2 nodes with 1 thread on target t, in environment e2", "PASS=2")
	if strings.Contains(got, "public__e2.a ") || strings.Contains(got, "public__e1.") {
		t.Errorf("retry built a again, or in e1:\n%s", got)
	}
	if n := queryInt(t, url, "select id from public__e2.after"); n != 10 {
		t.Errorf("after in e2: %d, want 10", n)
	}
	mustContain(t, must(t, 0, dir, "retry"), "Nothing to retry")
	mustContain(t, must(t, 0, dir, "retry", "--env", "e1"), "Nothing to retry")
}
