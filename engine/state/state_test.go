package state

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"strata/engine/internal/pgtest"
	"strata/engine/pgname"
)

// TestMain stops the package's shared PostgreSQL after the tests (one per package: add no other).
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func pool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	db, err := pgxpool.New(context.Background(), pgtest.DB(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

func exec(t *testing.T, db *pgxpool.Pool, sql string) {
	t.Helper()
	if _, err := db.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

var prod = Scope{Project: "shop", Target: "dev"}

func TestMissingIsNotCreatedByReaders(t *testing.T) {
	ctx := context.Background()
	db := pool(t)
	recs, err := Read(ctx, db, prod)
	if !errors.Is(err, ErrMissing) || len(recs) != 0 {
		t.Fatalf("Read of a fresh target = %v, %v; want ErrMissing", recs, err)
	}
	envs, err := Envs(ctx, db, "shop", "dev")
	if err != nil || len(envs) != 0 {
		t.Fatalf("Envs = %v, %v", envs, err)
	}
	var exists bool
	if err := db.QueryRow(ctx, "select exists (select from pg_namespace where nspname = 'strata_meta')").Scan(&exists); err != nil || exists {
		t.Fatalf("a reader created strata_meta (%v)", err)
	}
}

func TestWriteReadInTheBuildsTransaction(t *testing.T) {
	ctx := context.Background()
	db := pool(t)
	if err := Begin(ctx, db, Invocation{ID: "inv1", Scope: prod, Command: "build", Version: "test"}); err != nil {
		t.Fatal(err)
	}
	exec(t, db, "create schema staging")
	n := Node{ID: "model.shop.stg", Kind: "model", Name: "stg", Relation: pgname.Rel{Schema: "staging", Name: "stg"}, Materialized: "table",
		Checksum: "c1", ConfigSum: "k1", Config: []byte(`{"materialized":"table"}`), Vars: map[string]string{"v": "h"},
		SQL: "select 1 as id, 'x'::varchar(3) as name", SQLHash: Hash("select 1"), Status: "success", Invocation: "inv1"}
	// Rolled back with the build: nothing recorded.
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "create table staging.stg as "+n.SQL); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, Write(prod, n)); err != nil {
		t.Fatal(err)
	}
	_ = tx.Rollback(ctx)
	recs, err := Read(ctx, db, prod)
	if err != nil || len(recs) != 0 {
		t.Fatalf("after a rolled-back build: %v, %v", recs, err)
	}
	// Committed with the build: recorded, with the columns as built.
	tx, _ = db.Begin(ctx)
	if _, err := tx.Exec(ctx, "create table staging.stg as "+n.SQL+"; "+Write(prod, n)); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	recs, err = Read(ctx, db, prod)
	if err != nil {
		t.Fatal(err)
	}
	got := recs["model.shop.stg"]
	if got == nil || got.Checksum != "c1" || got.Vars["v"] != "h" || got.Relation.String() != "staging.stg" || got.Invocation != "inv1" || got.SQL != n.SQL {
		t.Fatalf("record = %+v", got)
	}
	if len(got.Columns) != 2 || got.Columns[0] != (Column{"id", "integer"}) || got.Columns[1] != (Column{"name", "character varying(3)"}) {
		t.Fatalf("columns = %+v", got.Columns)
	}
	// Another environment's records are its own.
	other, err := Read(ctx, db, Scope{Project: "shop", Target: "dev", Env: "pr1"})
	if err != nil || len(other) != 0 {
		t.Fatalf("env records = %v, %v", other, err)
	}
	// Written again: updated in place.
	n.Checksum = "c2"
	exec(t, db, Write(prod, n))
	recs, _ = Read(ctx, db, prod)
	if recs["model.shop.stg"].Checksum != "c2" || len(recs) != 1 {
		t.Fatalf("rewrite: %+v", recs)
	}
	if err := Finish(ctx, db, "inv1", "success"); err != nil {
		t.Fatal(err)
	}
}

func TestMigrateFromLayout1(t *testing.T) {
	ctx := context.Background()
	db := pool(t)
	if err := MigrateTo(ctx, db, 1); err != nil {
		t.Fatal(err)
	}
	exec(t, db, `insert into strata_meta.invocations values ('old', 'shop', 'dev', '', 'build', now(), '0.0.1');
		insert into strata_meta.nodes (project, target, env, unique_id, kind, name, checksum, config_checksum, config, status, built_at, invocation_id)
		values ('shop', 'dev', '', 'model.shop.a', 'model', 'a', 'c', 'k', '{}', 'success', now(), 'old')`)
	// An older layout reads as nothing recorded yet, and is not changed by reading.
	if recs, err := Read(ctx, db, prod); err != nil || len(recs) != 0 {
		t.Fatalf("Read of layout 1 = %v, %v", recs, err)
	}
	if err := Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	recs, err := Read(ctx, db, prod)
	if err != nil || recs["model.shop.a"] == nil {
		t.Fatalf("after migrating: %v, %v", recs, err)
	}
	if err := Finish(ctx, db, "old", "success"); err != nil {
		t.Fatalf("layout 2's finished_at: %v", err)
	}
	if v, _ := version(ctx, db); v != Version {
		t.Fatalf("version = %d", v)
	}
	// Migrating again is nothing.
	if err := Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
}

func TestNewerLayoutIsAnError(t *testing.T) {
	ctx := context.Background()
	db := pool(t)
	if err := Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	exec(t, db, "update strata_meta.layout set version = 99")
	want := "schema strata_meta has layout version 99, newer than this strata's 2: upgrade strata (or use the strata that wrote it)"
	for name, err := range map[string]error{
		"Migrate": Migrate(ctx, db),
		"Begin":   Begin(ctx, db, Invocation{ID: "x", Scope: prod}),
		"Read":    func() error { _, err := Read(ctx, db, prod); return err }(),
		"Envs":    func() error { _, err := Envs(ctx, db, "shop", "dev"); return err }(),
		"Drop":    func() error { _, err := Drop(ctx, db, Scope{Project: "shop", Target: "dev", Env: "pr1"}); return err }(),
	} {
		var ne *NewerError
		if !errors.As(err, &ne) || err.Error() != want {
			t.Errorf("%s: %v, want %q", name, err, want)
		}
	}
	var v int
	if err := db.QueryRow(ctx, "select version from strata_meta.layout").Scan(&v); err != nil || v != 99 {
		t.Fatalf("the newer layout was changed: %d %v", v, err)
	}
}

func TestDropOnlyWhatWasRecordedAllOrNothing(t *testing.T) {
	ctx := context.Background()
	db := pool(t)
	env := Scope{Project: "shop", Target: "dev", Env: "pr1"}
	if err := Begin(ctx, db, Invocation{ID: "i", Scope: env, Command: "build"}); err != nil {
		t.Fatal(err)
	}
	exec(t, db, `create schema staging__pr1; create schema warehouse__pr1; create schema staging;
		create table staging.stg (id int); insert into staging.stg values (1);
		create view staging__pr1.stg as select * from staging.stg;
		create table warehouse__pr1.fact as select * from staging__pr1.stg;
		create view warehouse__pr1.fact_v as select * from warehouse__pr1.fact;
		create table warehouse__pr1.by_hand (id int)`)
	for _, r := range []pgname.Rel{{Schema: "staging__pr1", Name: "stg"}, {Schema: "warehouse__pr1", Name: "fact"}, {Schema: "warehouse__pr1", Name: "fact_v"}} {
		exec(t, db, Write(env, Node{ID: "model.shop." + r.Name, Kind: "model", Name: r.Name, Relation: r, Checksum: "c", ConfigSum: "k", Status: "success", Invocation: "i"}))
	}
	envs, err := Envs(ctx, db, "shop", "dev")
	if err != nil || len(envs) != 1 || envs[0].Name != "pr1" || envs[0].Models != 3 || envs[0].Bytes == 0 {
		t.Fatalf("Envs = %+v, %v", envs, err)
	}
	// A view someone made on the environment's table keeps the drop from happening at all.
	exec(t, db, "create view staging.reads_env as select * from warehouse__pr1.fact")
	if _, err := Drop(ctx, db, env); err == nil || !strings.Contains(err.Error(), "reads_env") {
		t.Fatalf("Drop with a foreign dependent = %v", err)
	}
	var n int
	if err := db.QueryRow(ctx, "select count(*) from pg_class c join pg_namespace s on s.oid = c.relnamespace where s.nspname like '%\\_\\_pr1'").Scan(&n); err != nil || n != 4 {
		t.Fatalf("after a refused drop %d relations are left (%v), want all 4", n, err)
	}
	exec(t, db, "drop view staging.reads_env")
	d, err := Drop(ctx, db, env)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Relations) != 3 || strings.Join(d.Schemas, ",") != "staging__pr1" {
		t.Fatalf("dropped %+v", d)
	}
	// What strata did not record stays, and so does its schema; production is untouched.
	for _, rel := range []string{"warehouse__pr1.by_hand", "staging.stg"} {
		var ok bool
		if err := db.QueryRow(ctx, "select to_regclass($1) is not null", rel).Scan(&ok); err != nil || !ok {
			t.Errorf("%s was dropped", rel)
		}
	}
	if recs, _ := Read(ctx, db, env); len(recs) != 0 {
		t.Fatalf("records left: %v", recs)
	}
	if envs, _ := Envs(ctx, db, "shop", "dev"); len(envs) != 0 {
		t.Fatalf("envs left: %v", envs)
	}
	if _, err := Drop(ctx, db, prod); err == nil {
		t.Fatal("Drop of production did not refuse")
	}
}

// A run that was killed never records its end; the next run of the same
// scope (which holds the run lock, so the killed one is not running)
// records it as interrupted, ended at its last node. Other scopes'
// unfinished runs are theirs.
func TestBeginEndsAKilledInvocation(t *testing.T) {
	ctx := context.Background()
	db := pool(t)
	pr := Scope{Project: "shop", Target: "dev", Env: "pr1"}
	begin := func(id string, s Scope, at time.Time) {
		t.Helper()
		if err := Begin(ctx, db, Invocation{ID: id, Scope: s, Command: "build", Started: at, Version: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC)
	begin("other-env", pr, t0)
	begin("killed", prod, t0)
	exec(t, db, `insert into strata_meta.nodes (project, target, env, unique_id, kind, name, checksum, config_checksum, config, status, built_at, invocation_id)
		values ('shop', 'dev', '', 'model.shop.a', 'model', 'a', 'c', 'k', '{}', 'success', '2026-12-01 06:00:30+00', 'killed')`)
	begin("killed-empty", prod, t0.Add(time.Minute))
	begin("next", prod, t0.Add(time.Hour))
	type row struct {
		status string
		end    *time.Time
	}
	got := map[string]row{}
	rows, err := db.Query(ctx, "select invocation_id, status, finished_at from strata_meta.invocations")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		var r row
		if err := rows.Scan(&id, &r.status, &r.end); err != nil {
			t.Fatal(err)
		}
		got[id] = r
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		status string
		end    time.Time
	}{
		"killed":       {"interrupted", t0.Add(30 * time.Second)},
		"killed-empty": {"interrupted", t0.Add(time.Minute)},
	}
	for id, w := range want {
		r := got[id]
		if r.status != w.status || r.end == nil || !r.end.Equal(w.end) {
			t.Errorf("%s: status %q, end %v; want %q at %v", id, r.status, r.end, w.status, w.end)
		}
	}
	for _, id := range []string{"other-env", "next"} {
		if r := got[id]; r.status != "" || r.end != nil {
			t.Errorf("%s: status %q, end %v; want it unfinished", id, r.status, r.end)
		}
	}
}

// An environment that was never built (a typo, or one dropped already)
// has nothing to drop: Drop says it dropped nothing, not the schemas it
// was given that do not exist; one of them that exists, empty, is dropped.
func TestDropOfAnUnknownEnvDropsNothing(t *testing.T) {
	ctx := context.Background()
	db := pool(t)
	if err := Begin(ctx, db, Invocation{ID: "i", Scope: prod, Command: "build"}); err != nil {
		t.Fatal(err)
	}
	env := Scope{Project: "shop", Target: "dev", Env: "nosuch"}
	d, err := Drop(ctx, db, env, "staging__nosuch", "warehouse__nosuch")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Relations)+len(d.Schemas) != 0 {
		t.Fatalf("Drop of an environment that does not exist dropped %+v", d)
	}
	exec(t, db, "create schema warehouse__nosuch")
	if d, err = Drop(ctx, db, env, "staging__nosuch", "warehouse__nosuch"); err != nil || strings.Join(d.Schemas, ",") != "warehouse__nosuch" {
		t.Fatalf("Drop with one empty schema left = %+v, %v", d, err)
	}
}

// TestRecordsTakeOneRoundTripEach: the statements a run sends to
// strata_meta once (the layout, the run's start and end, reading the
// records, forgetting removed nodes) go in one round trip each, not
// prepared first in a round trip of their own (they were, as pgx does by
// default: ten round trips more before a run's first model and after its
// last); and their arguments and results keep their types, the run's
// start to the microsecond in any time zone.
func TestRecordsTakeOneRoundTripEach(t *testing.T) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgtest.DB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	started := time.Date(2026, 12, 7, 9, 30, 1, 123456000, time.FixedZone("x", 5*3600+1800))
	if err := Begin(ctx, conn, Invocation{ID: "inv1", Scope: prod, Command: "run", Started: started, Version: "test"}); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "create schema staging; create table staging.stg as select 1 as id; "+Write(prod, Node{ID: "model.shop.stg", Kind: "model", Name: "stg",
		Relation: pgname.Rel{Schema: "staging", Name: "stg"}, Materialized: "table", Config: []byte(`{}`), Status: "success", Invocation: "inv1"})); err != nil {
		t.Fatal(err)
	}
	recs, err := Read(ctx, conn, prod)
	if err != nil {
		t.Fatal(err)
	}
	if r := recs["model.shop.stg"]; r == nil || r.Invocation != "inv1" || r.BuiltAt.IsZero() || len(r.Columns) != 1 {
		t.Fatalf("record = %+v", r)
	}
	if err := Forget(ctx, conn, prod, []string{"model.shop.other"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := Finish(ctx, conn, "inv1", "success"); err != nil {
		t.Fatal(err)
	}
	var at time.Time
	var status string
	if err := conn.QueryRow(ctx, "select started_at, status from strata_meta.invocations where invocation_id = 'inv1'", pgx.QueryExecModeSimpleProtocol).Scan(&at, &status); err != nil {
		t.Fatal(err)
	}
	if !at.Equal(started) || status != "success" {
		t.Errorf("invocation recorded as started %v, %q; want %v, success", at, status, started)
	}
	// (Forget kept the node whose relation exists.)
	if recs, _ := Read(ctx, conn, prod); recs["model.shop.stg"] == nil {
		t.Errorf("Forget dropped the record of a relation that exists: %v", recs)
	}
	// The relations left behind, looked for once a run has begun: one
	// statement, in one round trip (staging.stg is one when no node is
	// built there).
	cq := &counting{Conn: conn}
	if left, err := Leftovers(ctx, cq, prod, nil); err != nil || len(left) != 1 || left[0].Relation.Name != "stg" {
		t.Errorf("Leftovers = %+v, %v; want staging.stg", left, err)
	}
	if cq.n != 1 {
		t.Errorf("Leftovers sent %d statements, want 1", cq.n)
	}
	// Another project's relations among those a run builds: one
	// statement too.
	cq.n = 0
	if taken, err := TakenElsewhere(ctx, cq, Scope{Project: "crm", Target: "dev"}, []pgname.Rel{{Schema: "staging", Name: "stg"}}); err != nil || len(taken) != 0 {
		t.Errorf("TakenElsewhere = %+v, %v; want none (prod builds staging.stg no more)", taken, err)
	}
	if cq.n != 1 {
		t.Errorf("TakenElsewhere sent %d statements, want 1", cq.n)
	}
	var prepared []string
	rows, err := conn.Query(ctx, "select statement from pg_prepared_statements where not from_sql", pgx.QueryExecModeSimpleProtocol)
	if err == nil {
		prepared, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(prepared) > 0 {
		t.Errorf("%d statements were prepared in a round trip of their own:\n%s", len(prepared), strings.Join(prepared, "\n---\n"))
	}
}

// TestReadUnderAnyDateStyle: Read sends its statement in one round trip
// (postgres.Once), whose results come back as text, and a timestamp's text
// follows the session's DateStyle: under SQL, German or Postgres styles
// (set on a server, a database or a role) every run failed reading its own
// records ('invalid PostgreSQL date/time value "07/12/2026 19:03:49.242278
// IST"'). Each record's built_at reads the same as the server has it.
func TestReadUnderAnyDateStyle(t *testing.T) {
	ctx := context.Background()
	url := pgtest.DB(t)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := Begin(ctx, conn, Invocation{ID: "inv1", Scope: prod, Command: "run", Started: time.Now(), Version: "test"}); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "create schema staging; create table staging.stg as select 1 as id; "+Write(prod, Node{ID: "model.shop.stg", Kind: "model", Name: "stg",
		Relation: pgname.Rel{Schema: "staging", Name: "stg"}, Materialized: "table", Config: []byte(`{}`), Status: "success", Invocation: "inv1"})); err != nil {
		t.Fatal(err)
	}
	var want time.Time // read in binary, as the server has it
	if err := conn.QueryRow(ctx, "select built_at from strata_meta.nodes where unique_id = 'model.shop.stg'").Scan(&want); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ style, zone string }{
		{"ISO, MDY", "UTC"},
		{"SQL, DMY", "Asia/Kolkata"},
		{"German", "Europe/Berlin"},
		{"Postgres, MDY", "America/St_Johns"},
		{"SQL, MDY", "Pacific/Chatham"},
	} {
		t.Run(c.style+" "+c.zone, func(t *testing.T) {
			if _, err := conn.Exec(ctx, "select set_config('datestyle', $1, false), set_config('timezone', $2, false)", c.style, c.zone); err != nil {
				t.Fatal(err)
			}
			recs, err := Read(ctx, conn, prod)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			r := recs["model.shop.stg"]
			if r == nil || !r.BuiltAt.Equal(want) {
				t.Fatalf("record = %+v; want built_at %v", r, want)
			}
		})
	}
}

// TestLeftoversBuiltSinceElsewhere: a relation prod recorded for a model it
// no longer builds is left behind, unless a model or seed of another
// project, target or environment, or another node of prod, was built at it
// since: the relation then holds that build (a model moved to another
// project on the same database), which prod's run is not to call its own
// nor tell to drop. One built there before prod's build does not hide it.
func TestLeftoversBuiltSinceElsewhere(t *testing.T) {
	ctx := context.Background()
	db := pool(t)
	scopes := map[string]Scope{"prod": prod, "crm": {Project: "crm", Target: "dev"}, "ci": {Project: "shop", Target: "ci"}, "e1": {Project: "shop", Target: "dev", Env: "e1"}}
	for inv, s := range scopes {
		if err := Begin(ctx, db, Invocation{ID: inv, Scope: s, Command: "build", Started: time.Date(2026, 12, 1, 5, 0, 0, 0, time.UTC), Version: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	record := func(inv, id, kind, rel, at string) {
		s := scopes[inv]
		exec(t, db, `insert into strata_meta.nodes (project, target, env, unique_id, kind, name, relation_schema, relation_name, checksum, config_checksum, config, status, built_at, invocation_id)
			values (`+strings.Join([]string{pgname.Literal(s.Project), pgname.Literal(s.Target), pgname.Literal(s.Env), pgname.Literal(id), pgname.Literal(kind), pgname.Literal(rel),
			"'public'", pgname.Literal(rel), "'c'", "'k'", "'{}'", "'success'", pgname.Literal("2026-12-01 " + at + "+00"), pgname.Literal(inv)}, ", ")+`)`)
	}
	cases := []struct {
		rel   string
		other string // the scope that also recorded rel, and how
		id    string
		kind  string
		at    string
		left  bool
	}{
		{"alone", "", "", "", "", true},
		{"other_project_since", "crm", "model.crm.x", "model", "07:00", false},
		{"other_target_since", "ci", "model.shop.x", "model", "07:00", false},
		{"other_env_since", "e1", "model.shop.x", "model", "07:00", false},
		{"own_seed_since", "prod", "seed.shop.y", "seed", "07:00", false},
		{"other_project_before", "crm", "model.crm.x", "model", "05:00", true},
		{"other_test_since", "crm", "test.crm.t", "test", "07:00", true},
	}
	for i, c := range cases {
		exec(t, db, "create table public."+c.rel+" (id int)")
		record("prod", "model.shop.gone"+strings.Repeat("_", i), "model", c.rel, "06:00")
		if c.other != "" {
			record(c.other, c.id+"_"+c.rel, c.kind, c.rel, c.at)
		}
	}
	left, err := Leftovers(ctx, db, prod, nil)
	if err != nil {
		t.Fatal(err)
	}
	// (The seed's own record is one: prod builds it no more either.)
	got := map[string]bool{}
	for _, l := range left {
		got[l.ID] = true
	}
	for i, c := range cases {
		if id := "model.shop.gone" + strings.Repeat("_", i); got[id] != c.left {
			t.Errorf("%s: %s left behind %v, want %v (%+v)", c.rel, id, got[id], c.left, left)
		}
	}
}

// counting is a connection that counts the statements sent through it.
type counting struct {
	*pgx.Conn
	n int
}

func (c *counting) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	c.n++
	return c.Conn.Exec(ctx, sql, args...)
}

func (c *counting) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	c.n++
	return c.Conn.Query(ctx, sql, args...)
}

func (c *counting) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	c.n++
	return c.Conn.QueryRow(ctx, sql, args...)
}
