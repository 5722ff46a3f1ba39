package run_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"strata/engine/cli"
	"strata/engine/internal/pgtest"
)

// scd2Steps drives one dimension, dim_c over raw.customers (id int, v text,
// updated_at timestamptz), through steps: each sets the config, changes the
// source, runs, and says what the run must print. After every step the
// history must be sound (checkHistory).
type scd2Step struct {
	config string // the model's config; "" keeps the previous one
	sql    string // run against the database before the build
	code   int    // strata's exit code
	out    string // in strata's output
}

func runSCD2Steps(t *testing.T, url, dir string, steps []scd2Step) {
	t.Helper()
	runSCD2StepsCtx(context.Background(), t, url, dir, steps)
}

// runSCD2StepsCtx is runSCD2Steps with the commands run under ctx.
func runSCD2StepsCtx(ctx context.Context, t *testing.T, url, dir string, steps []scd2Step) {
	t.Helper()
	for i, s := range steps {
		if s.config != "" {
			body := "models:\n  - name: dim_c\n    config:\n" + s.config
			if err := os.WriteFile(filepath.Join(dir, "models", "schema.yml"), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if s.sql != "" {
			execSQL(t, url, s.sql)
		}
		code, out := runStrataCtx(ctx, dir, "run")
		if code != s.code || !strings.Contains(out, s.out) {
			t.Fatalf("step %d: exit %d, want %d and %q in:\n%s", i+1, code, s.code, s.out, out)
		}
		checkHistory(t, url)
	}
}

// checkHistory fails the test when a key's versions overlap, run
// backwards, or are not exactly one current at the end, or when a
// surrogate key repeats.
func checkHistory(t *testing.T, url string) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var bad, dupKeys, twoCurrent int
	err = conn.QueryRow(context.Background(), `select
		(select count(*) from (
			select valid_from, valid_to, is_current, lead(valid_from) over (partition by id order by valid_from) as next_from
			from public.dim_c) v
		 where (valid_to is not null and valid_to <= valid_from)
		    or (next_from is not null and (valid_to is null or valid_to > next_from))
		    or (is_current <> (valid_to is null))),
		(select count(*) - count(distinct dim_c_key) from public.dim_c),
		(select count(*) from (select id from public.dim_c where is_current group by id having count(*) > 1) c)`).Scan(&bad, &dupKeys, &twoCurrent)
	if err != nil {
		t.Fatal(err)
	}
	if bad+dupKeys+twoCurrent > 0 {
		t.Fatalf("unsound history (%d bad versions, %d repeated surrogate keys, %d keys with two current versions):\n%s",
			bad, dupKeys, twoCurrent, strings.Join(dimRows(t, url), "\n"))
	}
}

func dimRows(t *testing.T, url string) []string {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(context.Background(), `select concat_ws(' ', id, v, updated_at, valid_from, coalesce(valid_to::text, '-'), is_current, to_jsonb(d)->>'is_deleted')
		from public.dim_c as d order by id, valid_from`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

const scd2Source = "create schema if not exists raw; drop table if exists raw.customers; create table raw.customers (id int, v text, updated_at timestamptz); "

// A key back after a deletion never starts before the deletion ended,
// whatever its updated_at and however close together the builds.
func TestSCD2ReturnAfterDeletion(t *testing.T) {
	const ts = "      materialized: scd2\n      unique_key: id\n      strategy: timestamp\n      updated_at: updated_at\n      hard_deletes: invalidate\n"
	t.Run("updated_at in the future", func(t *testing.T) {
		url := pgtest.DB(t)
		dir := scd2Project(t, url, ts)
		runSCD2Steps(t, url, dir, []scd2Step{
			{sql: scd2Source + "insert into raw.customers values (1, 'a', '2030-01-01')", out: "SCD2 1 new"},
			{sql: "delete from raw.customers", out: "1 deleted"},
			// Before, this version started where the first did: a repeated surrogate key.
			{sql: "insert into raw.customers values (1, 'a', '2030-01-01')", out: "SCD2 1 new"},
			{sql: "delete from raw.customers", out: "1 deleted"},
			// Before, this one started in 2029, inside the deleted version.
			{sql: "insert into raw.customers values (1, 'a', '2029-06-01')", out: "SCD2 1 new"},
		})
		if got := len(dimRows(t, url)); got != 3 {
			t.Errorf("%d versions, want 3:\n%s", got, strings.Join(dimRows(t, url), "\n"))
		}
	})
	t.Run("check strategy within one second", func(t *testing.T) {
		url := pgtest.DB(t)
		dir := scd2Project(t, url, "      materialized: scd2\n      unique_key: id\n      strategy: check\n      hard_deletes: invalidate\n")
		// The run's start time has whole seconds, so builds within one
		// second share it: the four builds here start at one instant.
		ctx := cli.WithStartTime(context.Background(), time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
		runSCD2StepsCtx(ctx, t, url, dir, []scd2Step{
			{sql: scd2Source + "insert into raw.customers values (1, 'a', null), (2, 'b', null)", out: "SCD2 2 new"},
			{sql: "delete from raw.customers where id = 2", out: "1 deleted"},
			{sql: "insert into raw.customers values (2, 'b', null)", out: "SCD2 1 new"},
			{sql: "update raw.customers set v = 'c' where id = 2", out: "1 changed"},
		})
	})
}

// Switching hard_deletes between builds keeps the history sound: a
// deletion marker stays a deletion in every mode, rows written in any mode
// carry the flag once the dimension has it, and a key deleted under
// invalidate comes back after its deletion in every mode.
func TestSCD2SwitchHardDeletes(t *testing.T) {
	mode := func(m string) string {
		return "      materialized: scd2\n      unique_key: id\n      strategy: timestamp\n      updated_at: updated_at\n      hard_deletes: " + m + "\n"
	}
	url := pgtest.DB(t)
	dir := scd2Project(t, url, mode("new_record"))
	runSCD2Steps(t, url, dir, []scd2Step{
		{sql: scd2Source + "insert into raw.customers values (1, 'a', '2024-01-01'), (2, 'b', '2024-01-01')", out: "SCD2 2 new"},
		{sql: "delete from raw.customers where id = 2", out: "1 deleted"},
		// Back under ignore: the marker is closed and a live version starts.
		{config: mode("ignore"), sql: "insert into raw.customers values (2, 'b', '2024-01-01'), (3, 'c', '2024-01-01')", out: "SCD2 1 new, 1 changed"},
		// Key 3 came in under ignore; under new_record its deletion is seen.
		{config: mode("new_record"), sql: "delete from raw.customers where id = 3", out: "1 deleted"},
		// Under invalidate, key 1 is closed without a marker ...
		{config: mode("invalidate"), sql: "delete from raw.customers where id = 1", out: "1 deleted"},
		// ... and comes back, under new_record, after its deletion although
		// its updated_at is older.
		{config: mode("new_record"), sql: "insert into raw.customers values (1, 'a', '2024-02-01')", out: "SCD2 1 new"},
	})
	var current string
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if err := conn.QueryRow(context.Background(), `select string_agg(id || ':' || is_deleted, ' ' order by id) from public.dim_c where is_current`).Scan(&current); err != nil {
		t.Fatal(err)
	}
	if want := "1:false 2:false 3:true"; current != want {
		t.Errorf("current versions %s, want %s:\n%s", current, want, strings.Join(dimRows(t, url), "\n"))
	}
}

// A source column whose type changed, and a unique_key other than the one
// the dimension was built with, are refused before the dimension changes.
func TestSCD2RefusesChangedShape(t *testing.T) {
	const cfg = "      materialized: scd2\n      unique_key: id\n      strategy: check\n"
	url := pgtest.DB(t)
	dir := scd2Project(t, url, cfg)
	runSCD2Steps(t, url, dir, []scd2Step{
		{sql: scd2Source + "alter table raw.customers add column amt numeric(10,2); insert into raw.customers values (1, 'a', null, 1.23)", out: "SCD2 1 new"},
	})
	before := strings.Join(dimRows(t, url), "\n")
	runSCD2Steps(t, url, dir, []scd2Step{
		{sql: "alter table raw.customers alter amt type numeric(10,4), alter v type varchar(5); update raw.customers set amt = 1.2345", code: 1,
			out: `column types changed since public.dim_c was built: "v" is text in the dimension but character varying(5) in the model's query; "amt" is numeric(10,2) in the dimension but numeric(10,4) in the model's query. Cast them in the model`},
		{config: strings.Replace(cfg, "unique_key: id", "unique_key: [v, id]", 1),
			sql: "alter table raw.customers alter amt type numeric(10,2), alter v type text", code: 1,
			out: "public.dim_c was built with unique_key (id) but the config now says (v, id); with another key every entity would get a second current version"},
	})
	if after := strings.Join(dimRows(t, url), "\n"); after != before {
		t.Errorf("the dimension changed:\n%s\nwas:\n%s", after, before)
	}
}

// A column of the model's own named is_deleted stays the user's under
// hard_deletes ignore and invalidate: later builds work, and a row with
// is_deleted true is a row like any other, not a deletion marker.
func TestSCD2UserColumnIsDeleted(t *testing.T) {
	url := pgtest.DB(t)
	dir := scd2Project(t, url, "      materialized: scd2\n      unique_key: id\n      strategy: check\n      hard_deletes: invalidate\n")
	const src = "create schema if not exists raw; drop table if exists raw.customers; create table raw.customers (id int, v text, updated_at timestamptz, is_deleted boolean); "
	runSCD2Steps(t, url, dir, []scd2Step{
		{sql: src + "insert into raw.customers values (1, 'a', null, false), (2, 'b', null, true)", out: "SCD2 2 new"},
		{sql: "update raw.customers set v = 'c' where id = 2", out: "SCD2 0 new, 1 changed, 0 deleted"},
		{sql: "delete from raw.customers where id = 1", out: "SCD2 0 new, 0 changed, 1 deleted"},
	})
}

// A config key that does not fit the model's query or the dimension is
// placed at the line of YAML that set it: a check_cols, updated_at or
// unique_key column the query does not return, a unique_key other than
// the dimension's, scd2_columns it was not built with. The query's own
// problem (a bookkeeping column) is placed in the model's file.
func TestSCD2ConfigErrorsPlaced(t *testing.T) {
	const cfg = "      materialized: scd2\n      unique_key: id\n      strategy: check\n"
	url := pgtest.DB(t)
	dir := scd2Project(t, url, cfg)
	runSCD2Steps(t, url, dir, []scd2Step{
		{sql: scd2Source + "insert into raw.customers values (1, 'a', null)", out: "SCD2 1 new"},
		{config: cfg + "      check_cols: [v, city, tier]\n", code: 1,
			out: `models/schema.yml:7:19: check_cols: "city", "tier" are not columns of the model's query (the query has: id, v, updated_at)`},
		{config: strings.Replace(cfg, "check", "timestamp", 1) + "      updated_at: changed\n", code: 1,
			out: `models/schema.yml:7:19: updated_at: "changed" is not a column of the model's query (the query has: id, v, updated_at)`},
		{config: strings.Replace(strings.Replace(cfg, "check", "timestamp", 1), "unique_key: id", "unique_key: [id, nosuch]", 1) + "      updated_at: changed\n", code: 1,
			out: "models/schema.yml:5:19: unique_key: \"nosuch\" is not a column of the model's query (the query has: id, v, updated_at)\n" +
				`          models/schema.yml:7:19: updated_at: "changed" is not a column`},
		{config: strings.Replace(cfg, "unique_key: id", "unique_key: [id, v]", 1), code: 1,
			out: "models/schema.yml:5:19: unique_key: public.dim_c was built with unique_key (id) but the config now says (id, v)"},
		{config: cfg + "      scd2_columns: {valid_from: vf}\n", code: 1,
			out: `models/schema.yml:7:21: scd2_columns: public.dim_c has no column "vf", so it is not an scd2 dimension built with this config; rebuild it with --full-refresh --full-refresh-scd2`},
		{config: cfg, sql: "alter table raw.customers rename v to valid_to", code: 1,
			out: `models/dim_c.sql: the model's query has a column "valid_to", which strata maintains`},
	})
}

// A model built as a view or a table and then switched to materialized:
// scd2 without --full-refresh is refused at the materialized: key, which
// is what changed, not in the model's SQL file.
func TestSCD2SwitchedFromAnotherMaterializationPlaced(t *testing.T) {
	const cfg = "      materialized: scd2\n      unique_key: id\n      strategy: check\n"
	for _, from := range []string{"view", "table"} {
		t.Run(from, func(t *testing.T) {
			url := pgtest.DB(t)
			dir := scd2Project(t, url, "      materialized: "+from+"\n")
			want := "models/schema.yml:4:21: materialized: public.dim_c is a view, not an scd2 dimension; drop it, or rebuild it with --full-refresh --full-refresh-scd2"
			if from == "table" {
				want = `models/schema.yml:4:21: materialized: public.dim_c is a table, not an scd2 dimension`
			}
			execSQL(t, url, scd2Source+"insert into raw.customers values (1, 'a', null)")
			if code, out := runStrata(dir, "run"); code != 0 {
				t.Fatalf("run as a %s: exit %d:\n%s", from, code, out)
			}
			if err := os.WriteFile(filepath.Join(dir, "models", "schema.yml"), []byte("models:\n  - name: dim_c\n    config:\n"+cfg), 0o644); err != nil {
				t.Fatal(err)
			}
			if code, out := runStrata(dir, "run"); code != 1 || !strings.Contains(out, want) {
				t.Fatalf("run as scd2: exit %d, want 1 and %q in:\n%s", code, want, out)
			}
		})
	}
}

// strata check, and build --check before it builds anything, refuse what
// a build refuses of the dimension as the database holds it, placed where
// the build places it: another unique_key, other scd2_columns, a retyped
// column, a view or a table built by another materialization.
func TestCheckRefusesWhatSCD2BuildRefuses(t *testing.T) {
	const cfg = "      materialized: scd2\n      unique_key: id\n      strategy: check\n"
	cases := []struct {
		name, from, config, sql, want string
	}{
		{name: "unique_key", config: strings.Replace(cfg, "unique_key: id", "unique_key: [id, v]", 1),
			want: "models/schema.yml:5:19: unique_key: public.dim_c was built with unique_key (id) but the config now says (id, v)"},
		{name: "scd2_columns", config: cfg + "      scd2_columns: {valid_from: vf}\n",
			want: `models/schema.yml:7:21: scd2_columns: public.dim_c has no column "vf", so it is not an scd2 dimension built with this config`},
		// Placed in the model's file (check names its first line).
		{name: "retyped", config: cfg, sql: "alter table raw.customers alter v type varchar(5)",
			want: `column types changed since public.dim_c was built: "v" is text in the dimension but character varying(5) in the model's query`},
		{name: "from view", from: "view", config: cfg,
			want: "models/schema.yml:4:21: materialized: public.dim_c is a view, not an scd2 dimension"},
		{name: "from table", from: "table", config: cfg,
			want: "models/schema.yml:4:21: materialized: public.dim_c is a table, not an scd2 dimension"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			url := pgtest.DB(t)
			first := cfg
			if tc.from != "" {
				first = "      materialized: " + tc.from + "\n"
			}
			dir := scd2Project(t, url, first)
			execSQL(t, url, scd2Source+"insert into raw.customers values (1, 'a', null)")
			if code, out := runStrata(dir, "run"); code != 0 {
				t.Fatalf("first run: exit %d:\n%s", code, out)
			}
			var before string
			if tc.from == "" {
				before = strings.Join(dimRows(t, url), "\n")
			}
			if err := os.WriteFile(filepath.Join(dir, "models", "schema.yml"), []byte("models:\n  - name: dim_c\n    config:\n"+tc.config), 0o644); err != nil {
				t.Fatal(err)
			}
			if tc.sql != "" {
				execSQL(t, url, tc.sql)
			}
			for _, args := range [][]string{{"check"}, {"build", "--check"}, {"run"}} {
				if code, out := runStrata(dir, args...); code != 1 || !strings.Contains(out, tc.want) {
					t.Fatalf("strata %s: exit %d, want 1 and %q in:\n%s", strings.Join(args, " "), code, tc.want, out)
				}
			}
			if tc.from == "" {
				if after := strings.Join(dimRows(t, url), "\n"); after != before {
					t.Errorf("the dimension changed:\n%s\nwas:\n%s", after, before)
				}
			}
		})
	}
}
