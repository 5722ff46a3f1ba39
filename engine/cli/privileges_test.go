package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"strata/engine/internal/pgtest"
	"strata/engine/pgname"
)

// asRole creates a login role that is neither superuser nor may create
// schemas in the test's database (as a DBA sets up a role for strata), runs
// setup as the superuser (ROLE and DB in it stand for them), and returns a URL that connects as the role. The
// role and what it owns are dropped when the test ends.
func asRole(t *testing.T, url, name, setup string) (roleURL, role, db string) {
	t.Helper()
	db = queryText(t, url, "select current_database()")
	role = name + "_" + db
	execSQL(t, url, "create role "+role+" login nosuperuser nocreatedb nocreaterole; revoke create on database "+db+" from public; revoke create on schema public from public; "+
		strings.NewReplacer("ROLE", role, "DB", db).Replace(setup))
	t.Cleanup(func() { execSQL(t, url, "drop owned by "+role+"; drop role "+role) })
	roleURL = strings.Replace(url, "postgres://postgres@", "postgres://"+role+"@", 1)
	if roleURL == url {
		t.Fatalf("cannot make a URL for another role from %s", url)
	}
	return roleURL, role, db
}

// TestBuildInSchemasADBACreated: a role without the CREATE privilege on the
// database, given the schemas it builds in (strata_meta among them), builds,
// tests and builds again; the first build failed at 'creating schema
// strata_meta: permission denied for database', since 'create schema if not
// exists' checks that privilege before it looks for the schema. A schema it
// does not have is an error that says what to grant.
func TestBuildInSchemasADBACreated(t *testing.T) {
	url := pgtest.DB(t)
	as, role, db := asRole(t, url, "etl", "create schema strata_meta authorization ROLE; create schema raw authorization ROLE; create schema staging authorization ROLE")
	dir := writeProject(t, as, map[string]string{
		"project.yaml":         "name: dba\nseeds: {schema: raw}\nmodels:\n  staging: {schema: staging}\n",
		"seeds/people.csv":     "id,name\n1,ann\n2,bob\n",
		"models/staging/s.sql": "select id, name from {{ ref \"people\" }}",
		"models/staging/s.yml": "models:\n  - name: s\n    columns:\n      - {name: id, tests: [unique, not_null]}\n",
	})
	must(t, 0, dir, "build")
	must(t, 0, dir, "build")
	must(t, 0, dir, "test")
	if got := queryText(t, url, "select count(*)::text from strata_meta.nodes where project = 'dba'"); got == "0" {
		t.Errorf("nothing recorded in strata_meta")
	}

	for name, tc := range map[string]struct{ file, body, schema string }{
		"model": {"models/marts/m.sql", "{{ config \"schema\" \"marts\" }}select id from {{ ref \"s2\" }}", "marts"},
		"seed":  {"seeds/more/places.csv", "id\n1\n", "raw2"},
	} {
		t.Run(name, func(t *testing.T) {
			files := map[string]string{
				"project.yaml": "name: dba_" + name + "\nseeds: {schema: raw}\nmodels:\n  staging: {schema: staging}\n",
				tc.file:        tc.body,
			}
			if name == "seed" {
				files["seeds/more/more.yml"] = "seeds:\n  - name: places\n    config: {schema: raw2}\n"
			} else {
				// (not dba's staging.s: another project's relation)
				files["models/staging/s2.sql"] = "select 1 as id"
			}
			dir := writeProject(t, as, files)
			out := must(t, 1, dir, "build")
			mustContain(t, out, "cannot create schema "+tc.schema+": role "+role+" may not create schemas in database "+db+
				" (permission denied for database "+db+" [SQLSTATE 42501]): have the schema created for the role (create schema "+tc.schema+" authorization "+role+
				"), or grant it the CREATE privilege on the database (grant create on database "+db+" to "+role+")")
		})
	}

	// Without strata_meta, the run says what to grant before it builds anything.
	as2, role2, db := asRole(t, pgtest.DB(t), "etl2", "create schema raw2 authorization ROLE")
	dir = writeProject(t, as2, map[string]string{"project.yaml": "name: dba2\nseeds: {schema: raw2}\n", "seeds/p.csv": "id\n1\n"})
	out := must(t, 1, dir, "build")
	mustContain(t, out, "cannot create schema strata_meta: role "+role2+" may not create schemas in database "+db, "(create schema strata_meta authorization "+role2+")")
}

// TestReadOnlyConnectionIsSaidSo: a role (or database) whose transactions
// are read-only by default stops each command that writes before it starts,
// saying where read-only was set and how to undo it; build failed with
// 'recording the run in strata_meta: ERROR: cannot execute INSERT in a
// read-only transaction', check with that error at every model, and a unit
// test at 'creating its inputs'.
func TestReadOnlyConnectionIsSaidSo(t *testing.T) {
	url := pgtest.DB(t)
	as, role, db := asRole(t, url, "ro", "grant create on database DB to ROLE; grant create on schema public to ROLE")
	dir := writeProject(t, as, map[string]string{
		"project.yaml": "name: ro\n",
		"seeds/s.csv":  "id\n1\n",
		"models/m.sql": "select id from {{ ref \"s\" }}",
		"models/m.yml": "unit_tests:\n  - name: one\n    model: m\n    given:\n      - {input: ref('s'), rows: [{id: 1}]}\n    expect: {rows: [{id: 1}]}\n",
	})
	must(t, 0, dir, "build")
	for _, tc := range []struct{ set, reset, where, undo string }{
		{"alter role ROLE set default_transaction_read_only = on", "alter role ROLE reset default_transaction_read_only",
			"for role ROLE", "alter role ROLE reset default_transaction_read_only, or connect as a role that may write"},
		{"alter database DB set default_transaction_read_only = on", "alter database DB reset default_transaction_read_only",
			"for database DB", "alter database DB reset default_transaction_read_only"},
	} {
		sub := func(s string) string { return strings.NewReplacer("ROLE", role, "DB", db).Replace(s) }
		execSQL(t, url, sub(tc.set))
		want := "the connection is read-only: default_transaction_read_only is on " + sub(tc.where) + ", and strata writes: " + sub(tc.undo)
		for _, c := range []struct {
			args []string
			code int
			tail string
		}{
			{[]string{"build"}, 1, "; nothing was run"},
			{[]string{"seed"}, 1, "; nothing was run"},
			{[]string{"test", "-s", "test_type:unit"}, 1, "; nothing was run"},
			{[]string{"check"}, 2, "; nothing was checked"},
			{[]string{"env", "drop", "pr1"}, 1, "; nothing was dropped"},
		} {
			out := must(t, c.code, dir, c.args...)
			mustContain(t, out, "target t: "+want+c.tail)
		}
		// Reading is fine.
		must(t, 0, dir, "plan")
		execSQL(t, url, "set default_transaction_read_only = off", sub(tc.reset))
	}
	must(t, 0, dir, "build")
}

// TestRoleTimeoutsDoNotCutStrataShort: timeouts a DBA sets on the role,
// for its statements and idle sessions, do not end what strata waits for
// on purpose. idle_session_timeout ended the session that holds the run
// lock, so that a second run could start beside the first; the role's
// lock_timeout ended a run's wait for another run ('waiting for the target
// lock: canceling statement due to lock timeout'); and
// idle_in_transaction_session_timeout ended a build that waited for a
// reader between two attempts at its swap ('terminating connection due to
// idle-in-transaction timeout').
func TestRoleTimeoutsDoNotCutStrataShort(t *testing.T) {
	url := pgtest.DB(t)
	as, _, _ := asRole(t, url, "tmo", "grant create on database DB to ROLE; grant create on schema public to ROLE; "+
		"alter role ROLE set idle_session_timeout = '300ms'; alter role ROLE set idle_in_transaction_session_timeout = '300ms'; alter role ROLE set lock_timeout = '100ms'")
	dir := writeProject(t, as, map[string]string{
		"project.yaml":    "name: tmo\nmodels: {'.': {materialized: table}}\n",
		"models/a.sql":    "select 1 as id",
		"models/slow.sql": "select 1 as id from pg_sleep(1.5)",
	})
	ctx := context.Background()
	admin := connect(t, url)
	lockHeld := func() bool {
		var held bool
		if err := admin.QueryRow(ctx, `select exists (select from pg_locks l, (select hashtextextended($1, 0) as k) k
			where l.locktype = 'advisory' and l.granted and l.objsubid = 1 and l.database = (select oid from pg_database where datname = current_database())
			and l.classid = ((k.k >> 32) & 4294967295)::text::oid and l.objid = (k.k & 4294967295)::text::oid)`, pgname.RunLock("tmo")).Scan(&held); err != nil {
			t.Error(err)
		}
		return held
	}

	// The run lock is held for the whole run, its session idle meanwhile.
	heldLate := make(chan bool)
	go func() {
		time.Sleep(1200 * time.Millisecond)
		heldLate <- lockHeld()
	}()
	must(t, 0, dir, "build")
	if !<-heldLate {
		t.Errorf("the run lock was not held 1.2s into a run of 1.5s")
	}

	// A run waits for another as long as that one runs.
	holder := connect(t, url)
	if _, err := holder.Exec(ctx, "select pg_advisory_lock(hashtextextended($1, 0))", pgname.RunLock("tmo")); err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(time.Second)
		_, _ = holder.Exec(ctx, "select pg_advisory_unlock_all()")
	}()
	mustContain(t, must(t, 0, dir, "build", "-s", "a"), "Waiting for another strata run on target t to finish ...", "Waited ")

	// A build waits for a reader, its transaction idle between attempts.
	reader := connect(t, url)
	if _, err := reader.Exec(ctx, "begin; select * from public.a"); err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(1500 * time.Millisecond)
		_, _ = reader.Exec(ctx, "commit")
	}()
	mustContain(t, must(t, 0, dir, "build", "-s", "a"), "for readers")
}

// TestStatementTimeoutOfTheRoleIsSaidSo: a model stopped by the role's
// statement_timeout says whose timeout it was and how to raise it (it said
// only 'canceling statement due to statement timeout'), and the pre_hook it
// suggests does raise it for the model.
func TestStatementTimeoutOfTheRoleIsSaidSo(t *testing.T) {
	url := pgtest.DB(t)
	as, _, _ := asRole(t, url, "st", "grant create on database DB to ROLE; grant create on schema public to ROLE; alter role ROLE set statement_timeout = '1s'")
	dir := writeProject(t, as, map[string]string{
		"project.yaml":    "name: st\nmodels: {'.': {materialized: table}}\n",
		"models/slow.sql": "select 1 as id from pg_sleep(3)",
	})
	// The role's timeout is 1s, not less: it holds for every statement of
	// the run, and strata_meta's first migration took over 200ms on a
	// loaded machine, failing the run before the model.
	out := must(t, 1, dir, "build")
	mustContain(t, out, "models/slow.sql: canceling statement due to statement timeout (the statement_timeout set for the role or database strata connects as: raise it there, alter role ... set statement_timeout = '1h', or for one model in its pre_hook: set local statement_timeout = '1h') [SQLSTATE 57014]")
	writeFile(t, dir, "models/slow.sql", "{{ config \"pre_hook\" \"set local statement_timeout = '1h'\" }}select 1 as id from pg_sleep(3)")
	must(t, 0, dir, "build")
}

// TestClientEncodingOfTheRoleDoesNotGarbleText: strata's sessions speak
// UTF-8 whatever client_encoding the role (or database, or server) sets: a
// role with client_encoding LATIN1 had a model's 'Zürich €' stored as
// 'ZÃ¼rich â\u0082¬', in the view's definition, a table's rows and a
// seed's.
func TestClientEncodingOfTheRoleDoesNotGarbleText(t *testing.T) {
	url := pgtest.DB(t)
	as, _, _ := asRole(t, url, "enc", "grant create on database DB to ROLE; grant create on schema public to ROLE; alter role ROLE set client_encoding = 'LATIN1'")
	dir := writeProject(t, as, map[string]string{
		"project.yaml": "name: enc\n",
		"seeds/s.csv":  "city\nZürich €\n",
		"models/v.sql": "select 'Zürich €' as city",
		"models/t.sql": "{{ config \"materialized\" \"table\" }}select city from {{ ref \"s\" }} union all select 'Zürich €'",
		"models/v.yml": "models:\n  - name: t\n    columns:\n      - {name: city, tests: [{accepted_values: {values: ['Zürich €']}}]}\n",
	})
	must(t, 0, dir, "build")
	for _, q := range []string{"select city from public.v", "select string_agg(distinct city, ',') from public.t", "select city from public.s"} {
		if got := queryText(t, url, q); got != "Zürich €" {
			t.Errorf("%s = %q, want %q", q, got, "Zürich €")
		}
	}
}

// TestStrataMetaOfAnotherRoleIsSaid: on a database where another role made
// strata_meta (a CI role built first), a second role's build and plan said
// only PostgreSQL's "permission denied for schema strata_meta"; they now
// name the role that made it and what to do, and once the role does it,
// its build runs.
func TestStrataMetaOfAnotherRoleIsSaid(t *testing.T) {
	url := pgtest.DB(t)
	files := map[string]string{
		"project.yaml": "name: two\n",
		"models/m.sql": "select 1 as id",
	}
	must(t, 0, writeProject(t, url, files), "build") // strata_meta is the superuser's
	as, role, _ := asRole(t, url, "dev", "grant create on database DB to ROLE")
	dir := writeProject(t, as, files)
	want := "role " + role + " may not use schema strata_meta, where strata keeps its records of the target's runs; role postgres made it: run strata as postgres, or make " + role + " a member of it (grant postgres to " + role + ")"
	for _, cmd := range []string{"build", "plan"} {
		code, out := strata(t, dir, cmd)
		if code == 0 || !strings.Contains(out, want) || !strings.Contains(out, "permission denied for schema strata_meta") {
			t.Errorf("strata %s as %s: exit %d\n%s\nwant an error with %q and PostgreSQL's own", cmd, role, code, out, want)
		}
	}
	execSQL(t, url, "grant postgres to "+role)
	must(t, 0, dir, "build")
}
