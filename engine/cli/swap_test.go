package cli

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"strata/engine/internal/pgtest"
)

// syncBuffer is an output a running strata writes to while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// running is a strata command running in the background.
type running struct {
	out  *syncBuffer
	done chan int
}

func start(ctx context.Context, dir string, args ...string) *running {
	r := &running{out: &syncBuffer{}, done: make(chan int, 1)}
	go func() {
		r.done <- Main(ctx, append([]string{"--project-dir", dir, "--no-color"}, args...), r.out, r.out)
	}()
	return r
}

// wait waits for the command to end and returns its exit code.
func (r *running) wait(t *testing.T) int {
	t.Helper()
	select {
	case code := <-r.done:
		return code
	case <-time.After(3 * time.Minute):
		t.Fatalf("strata did not end:\n%s", r.out.String())
	}
	return 0
}

// until polls cond (a state of the database or of the output, not a
// moment in time) until it holds, and fails the test after a minute.
func until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never happened: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func target(url, extra string) string {
	return "target: t\ntargets:\n  t: {type: postgres, url: '" + url + "', threads: 2" + extra + "}\n"
}

// TestSwapWaitsForReadersWithoutBlockingThem (issue 21, item 6): while a
// transaction holds a table and a seed, the build waits for it with a short
// lock_timeout, tried again and logged, and the readers that come after are
// not queued behind the build.
func TestSwapWaitsForReadersWithoutBlockingThem(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":   "name: rw\nvars: {k: 1}\nmodels: {'.': {materialized: table}}\n" + target(url, ", swap_lock_timeout: 50ms"),
		"models/t.sql":   `select g as id, {{ var "k" }} as k from generate_series(1, 100) g`,
		"models/s_v.sql": `{{ config "materialized" "view" }}select * from {{ ref "s" }}`,
		"seeds/s.csv":    "id\n1\n",
	})
	must(t, 0, dir, "build")
	writeFile(t, dir, "seeds/s.csv", "id\n2\n1\n") // not an append: the seed is emptied and refilled
	ctx := context.Background()
	reader := connect(t, url)
	tx, err := reader.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"select count(*) from public.t", "select count(*) from public.s"} {
		if _, err := tx.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	b := start(ctx, dir, "build", "--vars", "k: 2")
	until(t, "the build says it waits for the reader", func() bool {
		out := b.out.String()
		return strings.Contains(out, "which holds public.t (") && strings.Contains(out, "which holds public.s (")
	})
	// Later readers go on: without the lock_timeout they would queue behind
	// the build's lock request, which waits for the first reader, until
	// their statement_timeout.
	later := connect(t, url)
	if _, err := later.Exec(ctx, "set statement_timeout = '20s'"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		for _, q := range []string{"select count(*) from public.t", "select count(*) from public.s", "select count(*) from public.s_v"} {
			if _, err := later.Exec(ctx, q); err != nil {
				t.Fatalf("a later reader was held up by the build: %s: %v", q, err)
			}
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if code := b.wait(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, b.out.String())
	}
	mustContain(t, b.out.String(), "which holds public.t (", "which holds public.s (", "for readers)")
	seedLine := ""
	for _, line := range strings.Split(b.out.String(), "\n") {
		if strings.Contains(line, "OK loaded seed public.s ") {
			seedLine = line
		}
	}
	if !strings.Contains(seedLine, "for readers)") {
		t.Errorf("the seed's line does not say it waited for readers: %q", seedLine)
	}
	if got := queryText(t, url, "select max(k)::text || ':' || (select count(*) from public.s) from public.t"); got != "2:2" {
		t.Errorf("the build did not publish: %s", got)
	}
}

// TestSwapGivesUpAfterSwapMaxWait: a reader that never lets go ends the
// build with an error saying so, and the previous version stays.
func TestSwapGivesUpAfterSwapMaxWait(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: mw\nvars: {k: 1}\nmodels: {'.': {materialized: table}}\n" + target(url, ", swap_lock_timeout: 20ms, swap_max_wait: 300ms"),
		"models/t.sql": `select {{ var "k" }} as k`,
	})
	must(t, 0, dir, "run")
	ctx := context.Background()
	reader := connect(t, url)
	tx, err := reader.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	if _, err := tx.Exec(ctx, "select * from public.t"); err != nil {
		t.Fatal(err)
	}
	out := must(t, 1, dir, "run", "--vars", "k: 2")
	mustContain(t, out, "gave up after waiting", "swap_max_wait", "the previous version was kept")
	if _, err := tx.Exec(ctx, "select * from public.t"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := queryText(t, url, "select k::text from public.t"); got != "1" {
		t.Errorf("k = %s", got)
	}
}

// TestSwapGiveUpSaysWhoHoldsTheLock: a build that gives up after
// swap_max_wait names who held the lock, as its waits do: it said "gave up
// after waiting 300ms for the sessions that hold locks on it" whoever they
// were. A reader by its pid, application, role and since when its
// transaction runs; another strata run's build by the relation it builds
// and that run (its command, project, target and start). Both are real
// sessions.
func TestSwapGiveUpSaysWhoHoldsTheLock(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: mw\nvars: {k: 1}\nmodels: {'.': {materialized: table}}\n" + target(url, ", swap_lock_timeout: 20ms, swap_max_wait: 300ms"),
		"models/t.sql": `select {{ var "k" }} as k`,
	})
	must(t, 0, dir, "run")
	ctx := context.Background()

	reader := connect(t, url+"&application_name=nightly_report")
	var pid int
	if err := reader.QueryRow(ctx, "select pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	tx, err := reader.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var since string
	if err := tx.QueryRow(ctx, "select to_char(now() at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC' from public.t").Scan(&since); err != nil {
		t.Fatal(err)
	}
	out := must(t, 1, dir, "run", "--vars", "k: 2")
	mustContain(t, out, fmt.Sprintf(" for session %d (nightly_report, role postgres, idle in transaction, in a transaction since %s), which holds public.t (the target's swap_max_wait); the previous version was kept: ", pid, since))
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}

	// Another project's build, whose model reads public.t for a while.
	other := writeProject(t, url, map[string]string{
		"project.yaml":    "name: other\nmodels: {'.': {materialized: table}}\n" + target(url, ""),
		"models/slow.sql": "select t.k from public.t, pg_sleep(3)",
	})
	o := start(ctx, other, "build")
	if !untilActivity(t, url, "application_name = 'strata' and state = 'active' and query like '%pg_sleep(3)%'") {
		t.Fatalf("the other project's build never ran:\n%s", o.out.String())
	}
	out = must(t, 1, dir, "run", "--vars", "k: 3")
	mustContain(t, out, " for another strata run's build of public.slow (session ", " of strata build of project other on target t, started ", "), which holds public.t (the target's swap_max_wait)")
	if code := o.wait(t); code != 0 {
		t.Fatalf("the other project's build: exit %d:\n%s", code, o.out.String())
	}
	if got := queryText(t, url, "select k::text from public.t"); got != "1" {
		t.Errorf("k = %s, want the first build's 1", got)
	}
}

// TestSnapshotReaders (issue 21, item 5): what a REPEATABLE READ
// transaction sees of a table rebuilt while it runs, as docs/guarantees.md
// says: a swapped-in table is empty to a snapshot taken before the swap;
// with swap: truncate_insert it keeps the old rows, and the build does not
// wait for a snapshot reader that already read the table.
func TestSnapshotReaders(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":       "name: rr\nvars: {n: 3}\nmodels: {'.': {materialized: table}}\n" + target(url, ", swap_lock_timeout: 20ms, swap_max_wait: 2s"),
		"models/renamed.sql": `select g as id from generate_series(1, {{ var "n" }}) g`,
		"models/inplace.sql": `{{ config "swap" "truncate_insert" }}select g as id from generate_series(1, {{ var "n" }}) g`,
		"models/schema.yml":  "models:\n  - name: inplace\n    columns: [{name: id, tests: [unique]}]\n",
	})
	must(t, 0, dir, "build")
	ctx := context.Background()
	count := func(q pgx.Tx, rel string) int64 {
		t.Helper()
		var n int64
		if err := q.QueryRow(ctx, "select count(*) from "+rel).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	reader := connect(t, url)
	tx, err := reader.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "select 1"); err != nil { // the snapshot
		t.Fatal(err)
	}
	must(t, 0, dir, "build", "--vars", "n: 5")
	if n := count(tx, "public.renamed"); n != 0 {
		t.Errorf("a snapshot from before the swap sees %d rows of the swapped-in table, want 0 (documented)", n)
	}
	if n := count(tx, "public.inplace"); n != 3 {
		t.Errorf("a snapshot from before a truncate_insert sees %d rows, want the old 3", n)
	}
	// The snapshot reader now holds inplace: the next build still goes
	// through (no exclusive lock), and the reader's view stays the same.
	out := must(t, 0, dir, "build", "-s", "inplace", "--vars", "n: 7")
	mustContain(t, out, "DELETE+INSERT 7")
	if n := count(tx, "public.inplace"); n != 3 {
		t.Errorf("the snapshot reader sees %d rows after the second build, want 3", n)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := queryText(t, url, "select (select count(*) from public.renamed) || ':' || (select count(*) from public.inplace)"); got != "5:7" {
		t.Errorf("after the reader: %s, want 5:7", got)
	}
	// A change of columns cannot be made in place: the table is rebuilt.
	writeFile(t, dir, "models/inplace.sql", `{{ config "swap" "truncate_insert" }}select g as id, 'x' as name from generate_series(1, 2) g`)
	out = must(t, 0, dir, "build", "-s", "inplace")
	mustContain(t, out, "SELECT 2")
	if got := queryText(t, url, "select string_agg(name, ',') from public.inplace"); got != "x,x" {
		t.Errorf("after a change of columns: %s", got)
	}
}

// TestStaleScratchRelationsAreDropped (issue 21, item 3): scratch relations
// left by an older strata that was killed between its two transactions are
// listed by debug and dropped by the next build of their model, which does
// not trip over them. No name strata builds with stays on anything, the
// indexes of a partitioned table's partitions included (item 10).
func TestStaleScratchRelationsAreDropped(t *testing.T) {
	url := pgtest.DB(t)
	createRoles(t, url, "scratch_reader")
	execSQL(t, url, "create schema raw", "create table raw.src as select g as id, 'n' || g as name from generate_series(1, 3) g")
	dir := writeProject(t, url, map[string]string{
		"project.yaml":   "name: sc\nmodels: {'.': {materialized: table, grants: {select: [scratch_reader]}}}\n",
		"models/t.sql":   "select 1 as id",
		"models/inc.sql": `{{ config "materialized" "incremental" "unique_key" "id" "partition_by" (dict "column" "d") "indexes" (list (dict "columns" (list "id"))) }}select 1 as id, date '2024-01-05' as d`,
		"models/dim.sql": `{{ config "materialized" "scd2" "unique_key" "id" "strategy" "check" }}select * from raw.src`,
		"models/v.sql":   `{{ config "materialized" "view" }}select 1 as id`,
	})
	must(t, 0, dir, "build")
	execSQL(t, url,
		"create table public.t__strata_new as select 2 as id",
		"grant select on public.t__strata_new to scratch_reader",
		"create table public.inc__strata_new (id int, d date) partition by range (d)",
		"create table public.inc__strata_new_p202401 partition of public.inc__strata_new for values from ('2024-01-01') to ('2024-02-01')",
		"create unlogged table public.dim__strata_src as select * from raw.src",
		"create view public.v__strata_new as select 2 as id",
	)
	out := must(t, 0, dir, "debug")
	mustContain(t, out, "scratch relations: 4 stale", "table public.t__strata_new", "partitioned table public.inc__strata_new", "table public.dim__strata_src", "view public.v__strata_new")
	if strings.Contains(out, "inc__strata_new_p202401") {
		t.Errorf("debug lists a partition on its own:\n%s", out)
	}
	must(t, 0, dir, "build")
	if got := queryText(t, url, "select coalesce(string_agg(relname, ','), 'none') from pg_class where relname like '%\\_\\_strata\\_%'"); got != "none" {
		t.Errorf("left after the build: %s", got)
	}
	must(t, 0, dir, "build", "--full-refresh", "--full-refresh-scd2")
	if got := queryText(t, url, "select coalesce(string_agg(relname, ','), 'none') from pg_class where relname like '%\\_\\_strata\\_%'"); got != "none" {
		t.Errorf("left after a full refresh: %s", got)
	}
	if got := queryText(t, url, "select string_agg(indexrelid::regclass::text, ',' order by 1) from pg_index where indrelid = 'public.inc_p202401'::regclass"); got != "inc_p202401__id_idx" {
		t.Errorf("the partition's index is %s", got)
	}
	mustContain(t, must(t, 0, dir, "debug"), "scratch relations: none")
}

// TestConfigErrorsPointAtTheirYAML (issue 21, item 9): a grant to a role
// that does not exist and an index on a column that does not exist are
// reported at the line of YAML that set them; a function whose body reads
// a model's table is named, with what to do, when it blocks the rebuild.
func TestConfigErrorsPointAtTheirYAML(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":   "name: ce\nvars: {k: 1}\nmodels: {'.': {materialized: table}}\n",
		"models/m.sql":   "select 1 as id",
		"models/n.sql":   "select 1 as id",
		"models/f_t.sql": `select {{ var "k" }} as id`,
		"models/schema.yml": `models:
  - name: m
    config:
      grants: {select: [no_such_role_x]}
  - name: n
    config:
      indexes: [{columns: [nope]}]
`,
	})
	out := must(t, 1, dir, "run")
	mustContain(t, out,
		`models/schema.yml:4:15: grants: grant select on "public"."m" to "no_such_role_x": role "no_such_role_x" does not exist`,
		`models/schema.yml:7:16: indexes: create index if not exists "n__nope_idx" on "public"."n" ("nope"): column "nope" does not exist`)
	for _, bad := range []string{"models/m.sql: models/schema.yml", "models/n.sql: models/schema.yml"} {
		if strings.Contains(out, bad) {
			t.Errorf("the error is placed on the model's file too:\n%s", out)
		}
	}
	execSQL(t, url, "create function public.f_rows() returns setof public.f_t language sql begin atomic select * from public.f_t; end")
	out = must(t, 1, dir, "run", "-s", "f_t", "--vars", "k: 2")
	mustContain(t, out, "refusing to replace public.f_t: function f_rows() depends on it", "nothing was changed", "Drop it before the build and create it again after it")
	if got := queryText(t, url, "select id::text from public.f_t"); got != "1" {
		t.Errorf("the table changed: %s", got)
	}
}

// TestAuditFaults (write-audit-publish: bad input and faults): a test that times out
// (the target's statement_timeout) blocks the publish and says so; Ctrl-C
// during an audit leaves the old relation; a second run waits for a run
// that is auditing.
func TestAuditFaults(t *testing.T) {
	url := pgtest.DB(t)
	files := map[string]string{
		"project.yaml":      "name: af\nvars: {k: 1}\nmodels: {'.': {materialized: table}}\n",
		"models/m.sql":      `select {{ var "k" }} as id`,
		"models/schema.yml": "models:\n  - name: m\n    columns: [{name: id, tests: [not_null]}]\n",
	}
	dir := writeProject(t, url, files)
	must(t, 0, dir, "build")

	// The target's statement_timeout cuts a slow test off: an error, not
	// a pass, and nothing is published.
	slow := writeProject(t, url+"&options=-c%20statement_timeout%3D500", map[string]string{
		"project.yaml":      files["project.yaml"],
		"models/m.sql":      files["models/m.sql"],
		"models/schema.yml": files["models/schema.yml"],
		"tests/slow.sql":    `select m.* from {{ ref "m" }} m where m.id is null or (select pg_sleep(30)) is null`,
	})
	out := must(t, 1, slow, "build", "--vars", "k: 2")
	mustContain(t, out, "[AUDIT FAILED in", "1 of 2 tests failed: slow (error: ", "canceling statement due to statement timeout")
	if got := queryText(t, url, "select id::text from public.m"); got != "1" {
		t.Errorf("published after a test timed out: %s", got)
	}

	// A test that waits for a lock the test holds: the audit is under way.
	writeFile(t, dir, "tests/held.sql", `select m.* from {{ ref "m" }} m where pg_advisory_lock_shared(4242)::text is null`)
	ctx := context.Background()
	holder := connect(t, url)
	if _, err := holder.Exec(ctx, "select pg_advisory_lock(4242)"); err != nil {
		t.Fatal(err)
	}
	auditing := func() bool {
		return queryInt(t, url, "select count(*) from pg_locks where locktype = 'advisory' and objid = 4242 and not granted") > 0
	}
	cctx, cancel := context.WithCancel(ctx)
	b := start(cctx, dir, "build", "--vars", "k: 3")
	until(t, "the audit waits for the lock", auditing)
	cancel()
	if code := b.wait(t); code != ExitCancelled {
		t.Fatalf("exit %d after Ctrl-C:\n%s", code, b.out.String())
	}
	if got := queryText(t, url, "select id::text from public.m"); got != "1" {
		t.Errorf("Ctrl-C during the audit changed the table: %s", got)
	}
	if got := queryText(t, url, "select coalesce(string_agg(relname, ','), 'none') from pg_class where relname like '%\\_\\_strata\\_%'"); got != "none" {
		t.Errorf("Ctrl-C left %s", got)
	}
	until(t, "the cancelled audit is gone from the server", func() bool { return !auditing() })

	// Two runs auditing the same model: the second waits for the first.
	first := start(ctx, dir, "build", "--vars", "k: 4")
	until(t, "the first run audits", auditing)
	second := start(ctx, dir, "build", "--vars", "k: 5")
	until(t, "the second run waits", func() bool { return strings.Contains(second.out.String(), "Waiting for another strata run") })
	if _, err := holder.Exec(ctx, "select pg_advisory_unlock(4242)"); err != nil {
		t.Fatal(err)
	}
	if code := first.wait(t); code != 0 {
		t.Fatalf("first run: exit %d\n%s", code, first.out.String())
	}
	if code := second.wait(t); code != 0 {
		t.Fatalf("second run: exit %d\n%s", code, second.out.String())
	}
	if got := queryText(t, url, "select id::text from public.m"); got != "5" {
		t.Errorf("after both runs: %s, want the second's 5", got)
	}
}

// TestSCD2RebuildsShareViews: two scd2 dimensions rebuilt side by side
// (--full-refresh --full-refresh-scd2), with a view over both, each swap
// recreating it. The rebuild's swap took no swap lock: the second read
// the views on its dimension while the first dropped and created them
// ("could not open relation with OID"), or dropped one the first had
// just replaced.
func TestSCD2RebuildsShareViews(t *testing.T) {
	url := pgtest.DB(t)
	files := map[string]string{
		"project.yaml":          "name: sv\n",
		"seeds/raw_regions.csv": "region_id,name\n1,north\n2,south\n",
		"models/both.sql":       `{{ config "materialized" "view" }}select a.region_id, a.name, b.name as b_name from {{ ref "dim_a" }} as a join {{ ref "dim_b" }} as b using (region_id) where a.is_current and b.is_current`,
		"models/dims.yml": `models:
  - name: dim_a
    config: {materialized: scd2, unique_key: region_id, strategy: check, check_cols: all}
  - name: dim_b
    config: {materialized: scd2, unique_key: region_id, strategy: check, check_cols: all}
`,
	}
	for _, m := range []string{"dim_a", "dim_b"} {
		files["models/"+m+".sql"] = `select region_id, name from {{ ref "raw_regions" }}`
	}
	dir := writeProject(t, url, files)
	must(t, 0, dir, "build")
	for i := range 5 {
		must(t, 0, dir, "build", "--full-refresh", "--full-refresh-scd2", "-s", "dim_a", "-s", "dim_b")
		if got := queryText(t, url, "select string_agg(region_id || '=' || b_name, ',' order by region_id) from public.both"); got != "1=north,2=south" {
			t.Fatalf("rebuild %d: both = %s", i+1, got)
		}
	}
}

// TestLockWaitSaysWhoHoldsTheLock: a build that waits to replace a
// relation says which session holds it, and tells a reader from another
// strata run's build, the two cases the line "waits for sessions that
// hold public.t" said alike: a reader by its pid, application, role and
// since when its transaction runs; another strata run's build by the
// relation it builds (its query reads public.t meanwhile). Both are real
// sessions: a reader's transaction, and a build of another project.
func TestLockWaitSaysWhoHoldsTheLock(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: holder\nvars: {k: 1}\nmodels: {'.': {materialized: table}}\n" + target(url, ", swap_lock_timeout: 50ms, swap_max_wait: 1m"),
		"models/t.sql": `select {{ var "k" }} as k`,
		"seeds/s.csv":  "id\n1\n",
	})
	must(t, 0, dir, "build")
	ctx := context.Background()

	// A reader, in a transaction that read public.t and public.s.
	reader := connect(t, url+"&application_name=nightly_report")
	var pid int
	if err := reader.QueryRow(ctx, "select pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	tx, err := reader.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var since string
	if err := tx.QueryRow(ctx, "select to_char(now() at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC' from public.t, public.s").Scan(&since); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "seeds/s.csv", "id\n2\n1\n")
	b := start(ctx, dir, "build", "--vars", "k: 2")
	for _, rel := range []string{"public.t", "public.s"} {
		want := fmt.Sprintf("waits for session %d (nightly_report, role postgres, idle in transaction, in a transaction since %s), which holds %s (", pid, since, rel)
		until(t, "the build says the reader holds "+rel+": "+want, func() bool { return strings.Contains(b.out.String(), want) })
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if code := b.wait(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, b.out.String())
	}

	// Another project's build, whose model reads public.t for a while.
	other := writeProject(t, url, map[string]string{
		"project.yaml":    "name: other\nmodels: {'.': {materialized: table}}\n" + target(url, ""),
		"models/slow.sql": "select t.k from public.t, pg_sleep(3)",
	})
	o := start(ctx, other, "build")
	if !untilActivity(t, url, "application_name = 'strata' and state = 'active' and query like '%pg_sleep(3)%'") {
		t.Fatalf("the other project's build never ran:\n%s", o.out.String())
	}
	out := must(t, 0, dir, "build", "--vars", "k: 3", "-s", "t")
	mustContain(t, out, "t waits for another strata run's build of public.slow (session ")
	if code := o.wait(t); code != 0 {
		t.Fatalf("the other project's build: exit %d:\n%s", code, o.out.String())
	}
}
