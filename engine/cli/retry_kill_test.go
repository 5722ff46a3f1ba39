package cli

import (
	"bytes"
	"context"
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
