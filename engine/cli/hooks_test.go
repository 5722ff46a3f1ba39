package cli

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"strata/engine/internal/pgtest"
)

// TestRunHookFailureAndCancel: a failed on-run-start hook is a "hook"
// event under --log-format json, as a failed on-run-end one is (its stdout
// said nothing of why nothing ran). Ctrl-C during a hook says the command
// was cancelled there, not that the hook failed with "canceling statement
// due to user request", and exits 130 (during on-run-end it counted an
// error in the summary and did not say it was cancelled).
func TestRunHookFailureAndCancel(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: hk\nvars: {start: 'select 1', end: 'select 1'}\non-run-start: ['{{ var \"start\" }}']\non-run-end: ['{{ var \"end\" }}']\n",
		"models/a.sql": "select 1 as id",
	})
	code, events := jsonRun(t, dir, "run", "--vars", "start: select 1/0")
	if code != ExitFailed {
		t.Errorf("run with a failing on-run-start hook exited %d, want %d", code, ExitFailed)
	}
	if len(events) != 1 || events[0]["event"] != "hook" || events[0]["hook"] != "on-run-start" || events[0]["status"] != "error" ||
		!strings.Contains(fmt.Sprint(events[0]["message"]), "division by zero") {
		t.Errorf("a failing on-run-start hook printed %v, want one hook event", events)
	}

	for _, which := range []string{"start", "end"} {
		ctx, cancel := context.WithCancel(context.Background())
		var out bytes.Buffer
		done := make(chan int, 1)
		go func() {
			done <- Main(ctx, []string{"--project-dir", dir, "--no-color", "run", "--vars", which + ": select pg_sleep(60)"}, &out, &out)
		}()
		// Only an active backend: the previous round's cancelled session
		// can still be listed, idle, with its last query.
		until(t, "the on-run-"+which+" hook sleeps", func() bool {
			return queryInt(t, url, "select count(*) from pg_stat_activity where datname = current_database() and state = 'active' and query like '%pg_sleep(60)%' and pid <> pg_backend_pid()") > 0
		})
		cancel()
		select {
		case code := <-done:
			s := out.String()
			if code != ExitCancelled || !strings.Contains(s, "cancelled during the on-run-"+which+" hooks") || strings.Contains(s, "hook failed") || strings.Contains(s, "ERROR=1") {
				t.Errorf("Ctrl-C in on-run-%s: exit %d, want %d:\n%s", which, code, ExitCancelled, s)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("the run cancelled in its on-run-%s hook never ended", which)
		}
	}
	// The on-run-end hooks that were cancelled run again.
	mustContain(t, must(t, ExitOK, dir, "retry", "--vars", "end: select 1"), "Running the on-run-end hooks again")
}

// TestThreadsBeyondTheNodesOpenNoMoreConnections: a run opens a connection
// per node that can run at once and one for its lock; --threads 60 for one
// model opened 61 as it started, as many as the server's max_connections
// let it, shutting other clients out.
func TestThreadsBeyondTheNodesOpenNoMoreConnections(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: th\nmodels: {'.': {materialized: table}}\n",
		"models/a.sql": "select 1 as id from pg_sleep(3)",
		"models/b.sql": "select 1 as id",
	})
	var out bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- Main(context.Background(), []string{"--project-dir", dir, "--no-color", "run", "-s", "a", "--threads", "60"}, &out, &out)
	}()
	count := "select count(*) from pg_stat_activity where datname = current_database() and application_name = 'strata'"
	until(t, "the model runs", func() bool {
		return queryInt(t, url, "select count(*) from pg_stat_activity where datname = current_database() and query like '%pg_sleep(3)%' and pid <> pg_backend_pid()") > 0
	})
	time.Sleep(300 * time.Millisecond) // the pool's connections are opened in the background
	if n := queryInt(t, url, count); n > 2 {
		t.Errorf("a run of one model with --threads 60 holds %d connections, want 2 (the model's and the lock's)", n)
	}
	if code := <-done; code != ExitOK {
		t.Errorf("run exited %d:\n%s", code, out.String())
	}
	mustContain(t, out.String(), "Running 1 node with 60 threads")
}
