package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"strata/engine/internal/pgtest"
	"strata/engine/pipeline"
)

// TestRunnerReadersNeverSeeAMissingTable rebuilds a table 20 times while a
// reader queries it (and a view on it) in a loop: every query must succeed.
func TestRunnerReadersNeverSeeAMissingTable(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: rd\nmodels: {'.': {materialized: table}}\n",
		"models/t.sql": "select g as id from generate_series(1, 2000) g",
		"models/v.sql": "{{ config \"materialized\" \"view\" }}select count(*) as n from {{ ref \"t\" }}",
	})
	must(t, 0, dir, "run")
	ctx, stop := context.WithCancel(context.Background())
	var queries, failures atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for _, q := range []string{"select count(*) from public.t", "select n from public.v"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := pgx.Connect(context.Background(), url)
			if err != nil {
				firstErr.Store(err.Error())
				failures.Add(1)
				return
			}
			defer conn.Close(context.Background())
			for ctx.Err() == nil {
				var n int64
				if err := conn.QueryRow(context.Background(), q).Scan(&n); err != nil {
					failures.Add(1)
					firstErr.CompareAndSwap(nil, q+": "+err.Error())
				} else if n != 2000 {
					failures.Add(1)
					firstErr.CompareAndSwap(nil, q+": saw a half-built table")
				}
				queries.Add(1)
			}
		}()
	}
	for range 20 {
		must(t, 0, dir, "run")
	}
	stop()
	wg.Wait()
	if failures.Load() > 0 {
		t.Fatalf("%d of %d reads failed; first: %v", failures.Load(), queries.Load(), firstErr.Load())
	}
	if queries.Load() < 20 {
		t.Fatalf("only %d reads ran", queries.Load())
	}
}

// TestRunnerHandMadeViewsSurviveARebuild: views a user made by hand on a
// model (a chain of them) are recreated with their owner, grants and comments.
func TestRunnerHandMadeViewsSurviveARebuild(t *testing.T) {
	url := pgtest.DB(t)
	createRoles(t, url, "runner_owner", "runner_viewer")
	dir := writeProject(t, url, map[string]string{
		"project.yaml":      "name: hv\nvars: {k: 1}\nmodels: {'.': {materialized: table}}\n",
		"models/m.sql":      `select g as id, 'n' || g as name, g * {{ var "k" }} as amount from generate_series(1, 3) g`,
		"models/mv.sql":     "{{ config \"materialized\" \"view\" }}select id from {{ ref \"m\" }}",
		"models/top.sql":    `select sum(amount) as total from {{ ref "m" }}`,
		"models/schema.yml": "models:\n  - name: m\n    config: {grants: {select: [runner_owner]}}\n",
	})
	must(t, 0, dir, "run")
	execSQL(t, url,
		"create view public.hv1 as select id, name from public.m",
		"create view public.hv2 as select h.id, h.name, m.amount from public.hv1 h join public.m using (id)",
		"alter view public.hv1 owner to runner_owner",
		"grant select on public.hv2 to runner_viewer",
		"comment on view public.hv1 is 'made by hand'",
		"comment on column public.hv2.name is 'the name'",
	)
	must(t, 0, dir, "run", "--select", "m", "--vars", "k: 2")
	if got := queryText(t, url, "select pg_get_userbyid(relowner)::text from pg_class where oid = 'public.hv1'::regclass"); got != "runner_owner" {
		t.Errorf("hv1 owner %s", got)
	}
	if got := queryText(t, url, "select obj_description('public.hv1'::regclass, 'pg_class')"); got != "made by hand" {
		t.Errorf("hv1 comment %q", got)
	}
	if got := queryText(t, url, "select col_description('public.hv2'::regclass, 2)"); got != "the name" {
		t.Errorf("hv2 column comment %q", got)
	}
	if got := queryText(t, url, "select has_table_privilege('runner_viewer', 'public.hv2', 'select')::text"); got != "true" {
		t.Errorf("hv2 lost its grant")
	}
	if got := queryInt(t, url, "select sum(amount) from public.hv2"); got != 12 {
		t.Errorf("hv2 reads %d, want the new data (12)", got)
	}
	if got := queryInt(t, url, "select count(*) from public.mv"); got != 3 {
		t.Errorf("managed view mv reads %d rows", got)
	}

	// The new version lacks a column hv1 uses: the swap refuses, naming both,
	// and nothing changes.
	writeFile(t, dir, "models/m.sql", `select g as id, g * 3 as amount from generate_series(1, 3) g`)
	out := must(t, 1, dir, "run", "--select", "m")
	t.Logf("the refusal:\n%s", out)
	if !strings.Contains(out, "view public.hv1 depends on it") || !strings.Contains(out, "column m.name does not exist") {
		t.Errorf("the refusal does not name the view and the column:\n%s", out)
	}
	if got := queryInt(t, url, "select sum(amount) from public.m"); got != 12 {
		t.Errorf("the old table changed: sum %d", got)
	}
	if got := queryInt(t, url, "select count(*) from public.hv2"); got != 3 {
		t.Errorf("hv2 reads %d rows after the refusal", got)
	}
	if got := queryText(t, url, "select coalesce(to_regclass('public.m__strata_new')::text, 'none')"); got != "none" {
		t.Errorf("left behind %s", got)
	}
}

// waitForSleep waits until a strata session runs pg_sleep.
func waitForSleep(t *testing.T, url string) {
	t.Helper()
	if !untilActivity(t, url, "application_name = 'strata' and state = 'active' and query like '%pg_sleep%'") {
		t.Fatal("strata never started the slow model")
	}
}

// untilActivity waits, a minute at most, until another session of the
// server matches where (a condition on pg_stat_activity), and says
// whether one did. It calls no t.Fatal, so a goroutine may use it.
func untilActivity(t *testing.T, url, where string) bool {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if queryInt(t, url, "select count(*) from pg_stat_activity where "+where+" and pid <> pg_backend_pid()") > 0 {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

func sleepingProject(t *testing.T, url string) string {
	return writeProject(t, url, map[string]string{
		"project.yaml": "name: sl\nvars: {sleep: 0, v: 1}\nmodels: {'.': {materialized: table}}\n",
		"models/m.sql": `select {{ var "v" }} as v, (select 1 from pg_sleep({{ var "sleep" }})) as slept`,
	})
}

// TestRunnerCancelStopsServerStatements: a cancelled run (Ctrl-C) exits 130
// at once, the statement stops on the server, and the old table is intact.
// The model that ran says it was cancelled (not "canceling statement due
// to user request", nor "context canceled"), and the model after it is
// skipped as the run was stopped, not "because m failed".
func TestRunnerCancelStopsServerStatements(t *testing.T) {
	url := pgtest.DB(t)
	dir := sleepingProject(t, url)
	writeFile(t, dir, "models/after.sql", `select v from {{ ref "m" }}`)
	must(t, 0, dir, "run")
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		waitForSleep(t, url)
		cancel()
	}()
	var out bytes.Buffer
	start := time.Now()
	code := Main(ctx, []string{"--project-dir", dir, "run", "--vars", "{sleep: 60, v: 2}"}, &out, &out)
	if code != ExitCancelled {
		t.Fatalf("exit %d, want %d\n%s", code, ExitCancelled, out.String())
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("cancelling took %s", d)
	}
	mustContain(t, out.String(), "models/m.sql: "+pipeline.Cancelled, "SKIP table model public.after", "skipped: the run was stopped")
	for _, bad := range []string{"canceling statement", "context canceled", "because model.sl.m failed"} {
		if strings.Contains(out.String(), bad) {
			t.Errorf("the output says %q:\n%s", bad, out.String())
		}
	}
	if n := queryInt(t, url, "select count(*) from pg_stat_activity where query like '%pg_sleep(60)%' and pid <> pg_backend_pid()"); n != 0 {
		t.Errorf("%d statements still run on the server", n)
	}
	if got := queryInt(t, url, "select v from public.m"); got != 1 {
		t.Errorf("the old table changed: v = %d", got)
	}
	if got := queryText(t, url, "select coalesce(to_regclass('public.m__strata_new')::text, 'none')"); got != "none" {
		t.Errorf("left behind %s", got)
	}
}

// TestRunnerTargetLock: a second run on a target waits for the first, or fails with --no-wait.
func TestRunnerTargetLock(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: lk\n",
		"models/m.sql": "select 1 as id",
	})
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), "select pg_advisory_lock(hashtextextended('strata:lk', 0))"); err != nil {
		t.Fatal(err)
	}
	out := must(t, 1, dir, "run", "--no-wait")
	if !strings.Contains(out, "another strata run holds target t") {
		t.Errorf("--no-wait:\n%s", out)
	}
	type res struct {
		code int
		out  string
	}
	done := make(chan res, 1)
	go func() {
		var b bytes.Buffer
		code := Main(context.Background(), []string{"--project-dir", dir, "run"}, &b, &b)
		done <- res{code, b.String()}
	}()
	select {
	case r := <-done:
		t.Fatalf("the second run did not wait: exit %d\n%s", r.code, r.out)
	case <-time.After(time.Second):
	}
	// Ctrl-C (or SIGTERM) while waiting: cancelled, and it says so.
	ctx, cancel := context.WithCancel(context.Background())
	cancelled := make(chan res, 1)
	var b syncBuffer
	go func() {
		code := Main(ctx, []string{"--project-dir", dir, "run"}, &b, &b)
		cancelled <- res{code, b.String()}
	}()
	until(t, "the third run waits", func() bool { return strings.Contains(b.String(), "Waiting for another strata run") })
	cancel()
	select {
	case r := <-cancelled:
		if r.code != ExitCancelled || !strings.Contains(r.out, "strata run: cancelled while waiting for the other strata run on target t; nothing was run") || strings.Contains(r.out, "context canceled") {
			t.Errorf("cancelled while waiting: exit %d\n%s", r.code, r.out)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the cancelled run never ended")
	}
	if _, err := conn.Exec(context.Background(), "select pg_advisory_unlock(hashtextextended('strata:lk', 0))"); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		if r.code != 0 || !strings.Contains(r.out, "Waiting for another strata run") {
			t.Fatalf("exit %d\n%s", r.code, r.out)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the waiting run never finished")
	}
}

// TestRunnerSIGKILLDuringABuild kills the strata binary in the middle of a
// table build: the old table stays intact and the next run succeeds.
func TestRunnerSIGKILLDuringABuild(t *testing.T) {
	url := pgtest.DB(t)
	bin := filepath.Join(t.TempDir(), "strata")
	if out, err := exec.Command("go", "build", "-o", bin, "strata/cmd/strata").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := sleepingProject(t, url)
	must(t, 0, dir, "run")
	cmd := exec.Command(bin, "--project-dir", dir, "run", "--vars", "{sleep: 60, v: 2}")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitForSleep(t, url)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if got := queryInt(t, url, "select v from public.m"); got != 1 {
		t.Errorf("the old table changed: v = %d", got)
	}
	start := time.Now()
	must(t, 0, dir, "run", "--vars", "{sleep: 0, v: 3}")
	if got := queryInt(t, url, "select v from public.m"); got != 3 {
		t.Errorf("the next run did not build: v = %d", got)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("the next run waited %s for the killed one", d)
	}
}

// TestSwapRedefinesTheRunsOwnView: a column removed from a table and from
// the view model that reads it, in one change, used to fail the table
// (the view's old definition cannot be recreated on the new version:
// "change or drop that view first"), its own view in the way. When the run
// builds that view too, the swap creates it from its new SQL (its owner,
// grants and column comments kept), and a hand-made view on it is
// recreated on top; when it does not, the refusal says to build them
// together.
func TestSwapRedefinesTheRunsOwnView(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: rd\n",
		"models/t.sql": `{{ config "materialized" "table" }}select g as a, g * 2 as c from generate_series(1, 3) g`,
		"models/v.sql": `select a, c from {{ ref "t" }}`,
	})
	must(t, 0, dir, "run")
	execSQL(t, url,
		"create view public.hand as select a from public.v",
		"comment on column public.v.a is 'the a'",
		"comment on column public.v.c is 'the c'",
	)
	writeFile(t, dir, "models/t.sql", `{{ config "materialized" "table" }}select g as a from generate_series(1, 4) g`)
	writeFile(t, dir, "models/v.sql", `select a from {{ ref "t" }}`)
	out := must(t, 1, dir, "run", "-s", "t")
	mustContain(t, out, "refusing to replace public.t: view public.v depends on it", "public.v is the view of model v, which this run does not build: build them together (-s 't v')")
	if got := queryInt(t, url, "select count(*) from public.hand"); got != 3 {
		t.Errorf("after the refusal hand reads %d rows, want 3", got)
	}
	must(t, 0, dir, "run")
	if got := queryInt(t, url, "select count(*) from public.hand"); got != 4 {
		t.Errorf("hand reads %d rows, want 4", got)
	}
	if got := queryText(t, url, "select string_agg(attname, ',' order by attnum) from pg_attribute where attrelid = 'public.v'::regclass and attnum > 0"); got != "a" {
		t.Errorf("v has columns %s, want a", got)
	}
	if got := queryText(t, url, "select col_description('public.v'::regclass, 1)"); got != "the a" {
		t.Errorf("v's column comment %q", got)
	}
}

// TestSwapRedefinesTheRunsOwnMaterializedView: as for a view model, a
// column renamed in a table and in the materialized view model that reads
// it, in one change, failed the table ("change or drop that view first"),
// also when the run built both, and also with --full-refresh: the only way
// out was to drop the materialized view by hand. When the run builds it,
// the swap (or sync_all_columns' change in place) creates it, populated,
// from its new SQL, with its grants and the indexes its new columns allow;
// when it does not, the refusal says to build them together.
func TestSwapRedefinesTheRunsOwnMaterializedView(t *testing.T) {
	url := pgtest.DB(t)
	execSQL(t, url, "do $$ begin if not exists (select from pg_roles where rolname = 'mvr_reader') then create role mvr_reader; end if; end $$")
	mv := "{{ config \"materialized\" \"materialized_view\" \"indexes\" (list (dict \"columns\" (list \"a\") \"unique\" true)) }}select a, %s from {{ ref \"%s\" }}"
	inc := `{{ config "materialized" "incremental" "unique_key" "id" "on_schema_change" "sync_all_columns" }}select g as id, %s from generate_series(1, {{ var "n" 2 }}) g`
	dir := writeProject(t, url, map[string]string{
		"project.yaml":   "name: rdm\n",
		"models/t.sql":   `{{ config "materialized" "table" }}select g as a, g * 2 as c from generate_series(1, 3) g`,
		"models/mv.sql":  fmt.Sprintf(mv, "c", "t"),
		"models/inc.sql": fmt.Sprintf(inc, "g * 2 as amt"),
		"models/mv2.sql": `{{ config "materialized" "materialized_view" }}select id, amt from {{ ref "inc" }}`,
	})
	must(t, 0, dir, "run")
	execSQL(t, url, "create view public.hand as select a from public.mv", "grant select on public.mv to mvr_reader")
	writeFile(t, dir, "models/t.sql", `{{ config "materialized" "table" }}select g as a, g * 3 as d from generate_series(1, 4) g`)
	writeFile(t, dir, "models/mv.sql", fmt.Sprintf(mv, "d", "t"))
	out := must(t, 1, dir, "run", "-s", "t")
	mustContain(t, out, "refusing to replace public.t: view public.mv depends on it", "public.mv is the materialized view of model mv, which this run does not build: build them together (-s 't mv')")
	if got := queryInt(t, url, "select count(*) from public.hand"); got != 3 {
		t.Errorf("after the refusal hand reads %d rows, want 3", got)
	}
	// Created from its new SQL in t's swap, mv is then rebuilt, not
	// refreshed: its contract is checked as for any change of its query
	// (a refresh would have skipped it).
	writeFile(t, dir, "models/mv.yml", "models:\n  - name: mv\n    config: {contract: true}\n    columns:\n      - {name: a, data_type: integer}\n      - {name: d, data_type: bigint}\n")
	out = must(t, 1, dir, "run", "-s", "t mv")
	mustContain(t, out, "models/mv.yml:6:16: contract violated, nothing was built: column d is integer, declared bigint")
	writeFile(t, dir, "models/mv.yml", "models:\n  - name: mv\n    config: {contract: true}\n    columns:\n      - {name: a, data_type: integer}\n      - {name: d, data_type: integer}\n")
	out = must(t, 0, dir, "run", "-s", "t mv")
	// t's swap in the run refused above created mv from its new SQL
	// already, so mv's own build finds its definition unchanged and
	// refreshes it (the output said "created" of every model).
	mustContain(t, out, "OK refreshed materialized_view model public.mv ")
	if got := queryText(t, url, "select string_agg(a || ':' || d, ',' order by a) from public.mv"); got != "1:3,2:6,3:9,4:12" {
		t.Errorf("mv reads %s", got)
	}
	if got := queryInt(t, url, "select count(*) from public.hand"); got != 4 {
		t.Errorf("hand reads %d rows, want 4", got)
	}
	if got := queryText(t, url, "select has_table_privilege('mvr_reader', 'public.mv', 'select')::text"); got != "true" {
		t.Errorf("mv lost its grant")
	}
	if got := queryInt(t, url, "select count(*) from pg_index where indrelid = 'public.mv'::regclass and indisunique"); got != 1 {
		t.Errorf("mv has %d unique indexes, want 1", got)
	}
	// --full-refresh, which could not get past it either.
	if err := os.Remove(filepath.Join(dir, "models/mv.yml")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "models/t.sql", `{{ config "materialized" "table" }}select g as a, g * 4 as e from generate_series(1, 2) g`)
	writeFile(t, dir, "models/mv.sql", fmt.Sprintf(mv, "e", "t"))
	must(t, 0, dir, "run", "--full-refresh", "-s", "t mv")
	if got := queryText(t, url, "select string_agg(a || ':' || e, ',' order by a) from public.mv"); got != "1:4,2:8" {
		t.Errorf("after --full-refresh mv reads %s", got)
	}
	// sync_all_columns drops amt in place.
	writeFile(t, dir, "models/inc.sql", fmt.Sprintf(inc, "g * 5 as amt2"))
	writeFile(t, dir, "models/mv2.sql", `{{ config "materialized" "materialized_view" }}select id, amt2 from {{ ref "inc" }}`)
	out = must(t, 1, dir, "run", "-s", "inc")
	mustContain(t, out, "refusing to change public.inc: view public.mv2 depends on it", "build them together (-s 'inc mv2')")
	must(t, 0, dir, "run", "-s", "inc mv2", "--vars", "n: 3")
	if got := queryText(t, url, "select string_agg(id || ':' || coalesce(amt2::text, '-'), ',' order by id) from public.mv2"); got != "1:5,2:10,3:15" {
		t.Errorf("mv2 reads %s", got)
	}
}

// TestSyncAllColumnsKeepsViews: on_schema_change: sync_all_columns drops
// and retypes columns in place, which PostgreSQL refused while a view read
// them (the model failed: "cannot drop column ... because other objects
// depend on it"). The views on the table are dropped and recreated around
// the change, as a swap recreates them: a hand-made one with its grant, on
// the retyped column; the project's own, from its new SQL when the run
// builds it; one that cannot be recreated fails the model, nothing changed.
func TestSyncAllColumnsKeepsViews(t *testing.T) {
	url := pgtest.DB(t)
	execSQL(t, url, "do $$ begin if not exists (select from pg_roles where rolname = 'sync_reader') then create role sync_reader; end if; end $$")
	inc := `{{ config "materialized" "incremental" "unique_key" "id" "on_schema_change" "sync_all_columns" }}select g as id, %s from generate_series(1, {{ var "n" 2 }}) g`
	dir := writeProject(t, url, map[string]string{
		"project.yaml":   "name: sk\n",
		"models/inc.sql": fmt.Sprintf(inc, "g * 2 as amt, 'x' || g as note"),
		"models/v.sql":   `select id, note from {{ ref "inc" }}`,
	})
	must(t, 0, dir, "run")
	execSQL(t, url, "create view public.hand as select id, amt from public.inc", "grant select on public.hand to sync_reader")
	writeFile(t, dir, "models/inc.sql", fmt.Sprintf(inc, "(g * 2)::numeric(10, 1) as amt, 'y' || g as note2"))
	writeFile(t, dir, "models/v.sql", `select id, note2 from {{ ref "inc" }}`)
	out := must(t, 1, dir, "run", "-s", "inc")
	mustContain(t, out, "refusing to change public.inc: view public.v depends on it and cannot be recreated on the new version", "build them together (-s 'inc v')")
	if got := queryText(t, url, "select format_type(atttypid, atttypmod) from pg_attribute where attrelid = 'public.inc'::regclass and attname = 'amt'"); got != "integer" {
		t.Errorf("after the refusal amt is %s", got)
	}
	must(t, 0, dir, "run", "--vars", "n: 3")
	if got := queryText(t, url, "select string_agg(id || ':' || amt, ',' order by id) from public.hand"); got != "1:2.0,2:4.0,3:6.0" {
		t.Errorf("hand reads %s", got)
	}
	if got := queryText(t, url, "select has_table_privilege('sync_reader', 'public.hand', 'select')::text"); got != "true" {
		t.Errorf("hand lost its grant")
	}
	if got := queryText(t, url, "select string_agg(note2, ',' order by id) from public.v"); got != "y1,y2,y3" {
		t.Errorf("v reads %s", got)
	}
}

// TestSeedSwapRedefinesTheRunsOwnView: a column removed from a seed's file
// and from the view model that reads it, in one change, failed the seed
// ("change or drop that view first") although the run builds the view, as
// a model's swap no longer did (TestSwapRedefinesTheRunsOwnView): the
// seed's swap was not given the view's new SQL. It is; and when the run
// does not build the view, the refusal says to build them together.
func TestSeedSwapRedefinesTheRunsOwnView(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":  "name: sr\n",
		"seeds/raw.csv": "id,x\n1,2\n",
		"models/v.sql":  `select id, x from {{ ref "raw" }}`,
	})
	must(t, 0, dir, "build")
	writeFile(t, dir, "seeds/raw.csv", "id\n1\n2\n")
	writeFile(t, dir, "models/v.sql", `select id from {{ ref "raw" }}`)
	out := must(t, 1, dir, "seed")
	mustContain(t, out, "refusing to replace public.raw: view public.v depends on it", "public.v is the view of model v, which this run does not build: build them together (-s 'raw v')")
	must(t, 0, dir, "build")
	if got := queryInt(t, url, "select count(*) from public.v"); got != 2 {
		t.Errorf("v reads %d rows, want 2", got)
	}
}

// TestHandMadeViewsKeepGrantsOfEveryRole: a view by hand on a model keeps,
// across the model's rebuild, its grants to a role whose name needs quotes
// and to PUBLIC, and an owner whose name needs quotes. The grantee was read
// quoted (regrole) and quoted again, so the rebuild failed ('refusing to
// replace public.t: view public.hv depends on it and cannot be recreated on
// the new version (role ""Hand View-Reader"" does not exist)'), and PUBLIC's
// grant was not read at all: the view lost it without a word.
func TestHandMadeViewsKeepGrantsOfEveryRole(t *testing.T) {
	url := pgtest.DB(t)
	createRoles(t, url, `"Hand View-Reader"`, `"Hand O'wner ""x"""`)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: hg\n",
		"models/t.sql": `{{ config "materialized" "table" }}select 1 as id`,
	})
	must(t, 0, dir, "build")
	execSQL(t, url,
		"create view public.hv as select id from public.t",
		`alter view public.hv owner to "Hand O'wner ""x"""`,
		`grant select on public.hv to "Hand View-Reader" with grant option`,
		"grant select on public.hv to public",
	)
	for _, model := range []string{"select 1 as id, 2 as x", "select 1 as id, 3 as x"} {
		writeFile(t, dir, "models/t.sql", `{{ config "materialized" "table" }}`+model)
		must(t, 0, dir, "build")
		if got := queryText(t, url, "select has_table_privilege('Hand View-Reader', 'public.hv', 'select with grant option')::text"); got != "true" {
			t.Errorf("after %q: hv lost its grant to \"Hand View-Reader\"", model)
		}
		if got := queryInt(t, url, "select count(*) from aclexplode((select relacl from pg_class where oid = 'public.hv'::regclass)) where grantee = 0 and privilege_type = 'SELECT'"); got != 1 {
			t.Errorf("after %q: hv lost its grant to PUBLIC", model)
		}
		if got := queryText(t, url, "select pg_get_userbyid(relowner) from pg_class where oid = 'public.hv'::regclass"); got != `Hand O'wner "x"` {
			t.Errorf("after %q: hv's owner is %s", model, got)
		}
	}
}
