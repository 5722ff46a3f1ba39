package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"strata/engine/internal/pgtest"
	"strata/engine/pgname"
	"strata/engine/pipeline"
)

// TestRunLockIsPerProject (issue 21): the run lock is named after the
// project ("strata:<project>"), so a run of another project on the same
// database never waits for it, while a run of the same project does.
func TestRunLockIsPerProject(t *testing.T) {
	url := pgtest.DB(t)
	one := writeProject(t, url, map[string]string{
		"project.yaml": "name: one\nmodels: {'.': {schema: one}}\n",
		"models/a.sql": "select 1 as id",
	})
	ctx := context.Background()
	holder := connect(t, url)
	// A run of project two is under way.
	if _, err := holder.Exec(ctx, "select pg_advisory_lock(hashtextextended($1, 0))", pgname.RunLock("two")); err != nil {
		t.Fatal(err)
	}
	must(t, 0, one, "build", "--no-wait")
	// A run of project one is under way.
	if _, err := holder.Exec(ctx, "select pg_advisory_lock(hashtextextended($1, 0))", pgname.RunLock("one")); err != nil {
		t.Fatal(err)
	}
	// It says which session holds the lock, for whoever a scheduler's
	// failure reaches.
	var pid int
	if err := holder.QueryRow(ctx, "select pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	held := fmt.Sprintf("another strata run holds target t (--no-wait was given): its run lock is held by PostgreSQL session %d (", pid)
	if code, out := strata(t, one, "build", "--no-wait"); code != ExitFailed || !strings.Contains(out, held) || !strings.Contains(out, " UTC); nothing was run") {
		t.Errorf("a second run of one: exit %d, want 1 and %q\n%s", code, held, out)
	}
	// In an environment, the lock is the environment's, and said so.
	if _, err := holder.Exec(ctx, "select pg_advisory_lock(hashtextextended($1, 0))", pgname.RunLock(pipeline.LockName("one", "e1"))); err != nil {
		t.Fatal(err)
	}
	held = fmt.Sprintf("another strata run holds environment e1 of target t (--no-wait was given): its run lock is held by PostgreSQL session %d (", pid)
	if code, out := strata(t, one, "build", "--env", "e1", "--no-wait"); code != ExitFailed || !strings.Contains(out, held) {
		t.Errorf("a second run of one in e1: exit %d, want 1 and %q\n%s", code, held, out)
	}
}

// TestRunLockWaitingRunWritesNothingMeanwhile: a run that waits for the run
// lock, or gives up on it with --no-wait, writes nothing to target/ while
// the other run goes on. It wrote its '=== strata build' header to
// strata.log at once, so that the running run's later lines read as the
// refused (or waiting) run's, and replaced manifest.json with its own.
func TestRunLockWaitingRunWritesNothingMeanwhile(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: one\nmodels: {'.': {schema: one}}\n",
		"models/a.sql": "select 1 as id",
	})
	must(t, 0, dir, "build")
	read := func(name string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, "target", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	log, man := read("strata.log"), read("manifest.json")
	// Another run holds the lock; the project has changed since it started.
	ctx := context.Background()
	holder := connect(t, url)
	if _, err := holder.Exec(ctx, "select pg_advisory_lock(hashtextextended($1, 0))", pgname.RunLock("one")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "models", "b.sql"), []byte("select 2 as id"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out := strata(t, dir, "build", "--no-wait"); code != ExitFailed || !strings.Contains(out, "another strata run holds target t") {
		t.Fatalf("build --no-wait: exit %d\n%s", code, out)
	}
	if got := read("strata.log"); got != log {
		t.Errorf("a run refused by the lock wrote to strata.log:\n%s", strings.TrimPrefix(got, log))
	}
	if read("manifest.json") != man {
		t.Error("a run refused by the lock replaced manifest.json")
	}

	// A run that waits writes its section once it holds the lock.
	done := make(chan string)
	go func() {
		var out, errOut bytes.Buffer
		code := Main(ctx, []string{"--project-dir", dir, "--no-color", "build"}, &out, &errOut)
		done <- fmt.Sprintf("exit %d\n%s%s", code, out.String(), errOut.String())
	}()
	for i := 0; queryInt(t, url, "select count(*) from pg_locks where locktype = 'advisory' and not granted") == 0; i++ {
		if i == 600 {
			t.Fatal("the second build never waited for the lock")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := read("strata.log"); got != log {
		t.Errorf("a run waiting for the lock wrote to strata.log:\n%s", strings.TrimPrefix(got, log))
	}
	if read("manifest.json") != man {
		t.Error("a run waiting for the lock replaced manifest.json")
	}
	if _, err := holder.Exec(ctx, "select pg_advisory_unlock(hashtextextended($1, 0))", pgname.RunLock("one")); err != nil {
		t.Fatal(err)
	}
	if out := <-done; !strings.HasPrefix(out, "exit 0\n") {
		t.Fatal(out)
	}
	section, ok := strings.CutPrefix(read("strata.log"), log)
	if !ok || !strings.HasPrefix(section, "\n=== strata build ") || !strings.Contains(section, "Waited ") || strings.Contains(section, "Waiting for another") {
		t.Errorf("the waiting run's section of strata.log:\n%s", section)
	}
	if !strings.Contains(read("manifest.json"), "model.one.b") {
		t.Error("manifest.json does not have the waiting run's model b")
	}
}

// TestRunLockWaitNamesTheOtherRun: a run waiting for the run lock names
// the run that holds it (its command, project, target and start, read
// from the statement its lock's session took it with) and that session.
// It said only "Waiting for another strata run on target t to finish
// ...", the same for a run started a minute ago and for one of another
// target on this database hung since the night before.
func TestRunLockWaitNamesTheOtherRun(t *testing.T) {
	url := pgtest.DB(t)
	files := map[string]string{
		"project.yaml": "name: one\nmodels: {'.': {schema: one, materialized: table}}\n",
		"models/a.sql": "select 1 as id from (select pg_advisory_xact_lock_shared(4243)) held",
	}
	dir := writeProject(t, url, files)
	ctx := context.Background()
	holder := connect(t, url)
	if _, err := holder.Exec(ctx, "select pg_advisory_lock(4243)"); err != nil {
		t.Fatal(err)
	}
	before := time.Now().UTC().Truncate(time.Second)
	first := start(ctx, dir, "build")
	if !untilActivity(t, url, "application_name = 'strata' and wait_event_type = 'Lock' and query like '%4243%'") {
		t.Fatalf("the first run does not wait for the model's lock:\n%s", first.out.String())
	}
	var pid int
	if err := holder.QueryRow(ctx, "select pid from pg_locks where locktype = 'advisory' and granted and pid <> pg_backend_pid() and objid = (hashtextextended($1, 0) & 4294967295)::text::oid", pgname.RunLock("one")).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	second := start(ctx, dir, "build")
	until(t, "the second run waits", func() bool { return strings.Contains(second.out.String(), "Waiting for another strata run") })
	if _, err := holder.Exec(ctx, "select pg_advisory_unlock(4243)"); err != nil {
		t.Fatal(err)
	}
	if code := first.wait(t); code != 0 {
		t.Fatalf("first run: exit %d\n%s", code, first.out.String())
	}
	if code := second.wait(t); code != 0 {
		t.Fatalf("second run: exit %d\n%s", code, second.out.String())
	}
	out := second.out.String()
	want := "Waiting for another strata run on target t to finish ... (its run lock is held by strata build of project one on target t, started "
	i := strings.Index(out, want)
	if i < 0 {
		t.Fatalf("the second run does not name the first:\n%s", out)
	}
	rest := out[i+len(want):]
	started, err := time.Parse("2006-01-02 15:04:05", strings.TrimSuffix(rest[:23], " UTC"))
	if err != nil || started.Before(before) || started.After(time.Now()) {
		t.Errorf("the first run's start %q (%v), want a time since %s", rest[:23], err, before)
	}
	if next := fmt.Sprintf(" UTC, in PostgreSQL session %d (strata, ", pid); !strings.HasPrefix(rest[19:], next) {
		t.Errorf("got %q, want the run lock's session: %q", rest, next)
	}
}
