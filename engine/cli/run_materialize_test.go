package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"strata/engine/artifacts"
	"strata/engine/internal/pgtest"
)

// must runs strata and fails the test unless it exits with want.
func must(t *testing.T, want int, dir string, args ...string) string {
	t.Helper()
	code, out := strata(t, dir, args...)
	if code != want {
		t.Fatalf("strata %s: exit %d, want %d\n%s", strings.Join(args, " "), code, want, out)
	}
	return out
}

func queryText(t *testing.T, url, sql string) string {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var s *string
	if err := conn.QueryRow(context.Background(), sql).Scan(&s); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	if s == nil {
		return "<null>"
	}
	return *s
}

func execSQL(t *testing.T, url string, sqls ...string) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, s := range sqls {
		if _, err := conn.Exec(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func writeFile(t *testing.T, dir, name, body string) {
	t.Helper()
	// A project.yaml without the test database's target makes the next
	// command start a local cluster of its own, which outlives the test
	// (a server left running in /var/tmp by every make test).
	if name == "project.yaml" && !strings.Contains(body, "targets:") {
		t.Fatalf("writeFile: project.yaml without targets: would build on a new local cluster left running after the test; add target(url, \"\")")
	}
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestRunnerIncrementalStrategies(t *testing.T) {
	url := pgtest.DB(t)
	model := `select g as k1, g % 2 as k2, 'v{{ var "ver" }}' as v from generate_series(1, {{ var "n" }}) g
{{ if is_incremental }}where g > (select max(k1) - 2 from {{ this }}){{ end }}`
	for _, tc := range []struct {
		strategy string
		rows     int64 // after the second run
		v2       int64 // rows of the second version
	}{
		{"append", 10, 5},
		{"merge", 8, 5},
		{"delete+insert", 8, 5},
	} {
		name := strings.ReplaceAll(tc.strategy, "+", "_")
		dir := writeProject(t, url, map[string]string{
			"project.yaml":              "name: inc\nvars: {n: 5, ver: 1}\n",
			"models/m_" + name + ".sql": model,
			"models/schema.yml": `models:
  - name: m_` + name + `
    config: {materialized: incremental, incremental_strategy: ` + tc.strategy + `, unique_key: [k1, k2]}
`,
		})
		must(t, 0, dir, "run")
		rel := "public.m_" + name
		if got := queryInt(t, url, "select count(*) from "+rel); got != 5 {
			t.Fatalf("%s: first run: %d rows, want 5", tc.strategy, got)
		}
		must(t, 0, dir, "run", "--vars", "{n: 8, ver: 2}")
		if got := queryInt(t, url, "select count(*) from "+rel); got != tc.rows {
			t.Errorf("%s: second run: %d rows, want %d", tc.strategy, got, tc.rows)
		}
		if got := queryInt(t, url, "select count(*) from "+rel+" where v = 'v2'"); got != tc.v2 {
			t.Errorf("%s: second run: %d rows of version 2, want %d", tc.strategy, got, tc.v2)
		}
		run, err := os.ReadFile(filepath.Join(dir, "target", "run", "models", "m_"+name+".sql"))
		if err != nil {
			t.Fatal(err)
		}
		// merge and append read the query in the statement that writes
		// the rows; delete+insert reads the rows twice, so it stages them
		// in an indexed, analyzed table first (materialize.Direct).
		staged := []string{"create temporary table", "analyze \"m_" + name + "__strata_stage\"", `create index on "m_` + name + `__strata_stage" ("k1", "k2")`}
		direct := []string{`create temporary view "m_` + name + `__strata_stage"`, `drop view "m_` + name + `__strata_stage"`}
		want, not := direct, staged
		if tc.strategy == "delete+insert" {
			want, not = staged, direct
		}
		for _, w := range want {
			if !strings.Contains(string(run), w) {
				t.Errorf("%s: executed SQL lacks %q:\n%s", tc.strategy, w, run)
			}
		}
		for _, w := range not {
			if strings.Contains(string(run), w) {
				t.Errorf("%s: executed SQL has %q:\n%s", tc.strategy, w, run)
			}
		}
		if tc.strategy == "merge" && !strings.Contains(string(run), "merge into") {
			t.Errorf("merge does not use MERGE:\n%s", run)
		}
		must(t, 0, dir, "run", "--full-refresh", "--vars", "{n: 8, ver: 3}")
		if got := queryInt(t, url, "select count(*) from "+rel+" where v = 'v3'"); got != 8 {
			t.Errorf("%s: --full-refresh: %d rows of version 3, want 8", tc.strategy, got)
		}
	}
}

// Two new rows for one key of the table fail a merge, clearly and with
// nothing written, whether the rows are read in the merge (the default) or
// staged first (on_schema_change: append_new_columns); two rows for a key
// that is not in the table are both inserted, as MERGE does. A query a view
// cannot hold (a data-modifying WITH) is staged instead.
func TestRunnerIncrementalDuplicateKeys(t *testing.T) {
	url := pgtest.DB(t)
	model := `select k, 'v{{ var "ver" }}' as v from (values {{ var "rows" }}) as r(k)`
	for _, mode := range []string{"ignore", "append_new_columns"} {
		dir := writeProject(t, url, map[string]string{
			"project.yaml":              "name: dup\nvars: {ver: 1, rows: '(1), (2)'}\n",
			"models/m_" + mode + ".sql": model,
			"models/schema.yml":         "models:\n  - name: m_" + mode + "\n    config: {materialized: incremental, unique_key: k, on_schema_change: " + mode + "}\n",
		})
		must(t, 0, dir, "run")
		out := must(t, 1, dir, "run", "--vars", "{ver: 2, rows: '(2), (2), (3)'}")
		if !strings.Contains(out, "models/m_"+mode+".sql") || !strings.Contains(out, "unique_key (k): the model's new rows have two rows for one key of the table") ||
			!strings.Contains(out, "MERGE command cannot affect row a second time") {
			t.Errorf("%s: no clear message:\n%s", mode, out)
		}
		if got := queryText(t, url, "select string_agg(k || v, ',' order by k) from public.m_"+mode); got != "1v1,2v1" {
			t.Errorf("%s: after the failed merge the table holds %s, want 1v1,2v1", mode, got)
		}
		must(t, 0, dir, "run", "--vars", "{ver: 3, rows: '(2), (4), (4)'}")
		if got := queryText(t, url, "select string_agg(k || v, ',' order by k, v) from public.m_"+mode); got != "1v1,2v3,4v3,4v3" {
			t.Errorf("%s: the table holds %s, want 1v1,2v3,4v3,4v3", mode, got)
		}
	}
	dir := writeProject(t, url, map[string]string{
		"project.yaml":      "name: dup\n",
		"models/m_with.sql": "with w as (insert into public.log values (1) returning 1) select 5 as k, 'x' as v from w",
		"models/schema.yml": "models:\n  - name: m_with\n    config: {materialized: incremental, unique_key: k}\n",
	})
	execSQL(t, url, "create table public.log (n int)")
	must(t, 0, dir, "run")
	must(t, 0, dir, "run")
	if got := queryInt(t, url, "select count(*) from public.log"); got != 2 {
		t.Errorf("the data-modifying WITH ran %d times in two builds, want 2", got)
	}
	run, err := os.ReadFile(filepath.Join(dir, "target", "run", "models", "m_with.sql"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(run), "create temporary table") || !strings.Contains(string(run), "-- rolled back") {
		t.Errorf("the query was not staged after the view gave way:\n%s", run)
	}
}

// A merge without a unique key is refused before anything runs (it used to
// pass the first build and fail the second).
func TestRunnerIncrementalNeedsUniqueKey(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":      "name: inc\n",
		"models/m.sql":      `select 1 as id`,
		"models/schema.yml": "models:\n  - name: m\n    config: {materialized: incremental, incremental_strategy: merge}\n",
	})
	out := must(t, 2, dir, "run")
	if !strings.Contains(out, "models/schema.yml:3:63: incremental_strategy: merge needs a unique_key") || !strings.Contains(out, "nothing was run") {
		t.Errorf("no clear message:\n%s", out)
	}
}

// TestRunnerIncrementalKeyNotReturned: an incremental model whose
// unique_key names a column its query does not return fails its first
// build, placed at unique_key, and creates no table; check says so
// beforehand. The first build created the table, and every later load
// failed on it.
func TestRunnerIncrementalKeyNotReturned(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml":      "name: inc\n",
		"models/m.sql":      "select 1 as id, 'a' as v",
		"models/schema.yml": "models:\n  - name: m\n    config: {materialized: incremental, unique_key: [id, order_id]}\n",
	})
	want := `models/schema.yml:3:53: unique_key: the model's query returns no column "order_id" (it has: id, v)`
	mustContain(t, must(t, 1, dir, "check"), want)
	mustContain(t, must(t, 1, dir, "run"), want)
	if got := queryInt(t, url, "select count(*) from pg_class where relname = 'm'"); got != 0 {
		t.Errorf("the first build left a table m behind")
	}
}

// A unique_key renamed in the query (the table has the old name) is
// refused, placed at unique_key, with the table unchanged: with
// append_new_columns or sync_all_columns the new key column was added, NULL
// in every old row, so the merge matched none and wrote every row again.
func TestRunnerIncrementalKeyRenamed(t *testing.T) {
	url := pgtest.DB(t)
	for _, tc := range []struct{ mode, strategy string }{{"append_new_columns", "merge"}, {"sync_all_columns", "delete+insert"}, {"ignore", "merge"}} {
		name := "m_" + tc.mode
		yml := "models:\n  - name: " + name + "\n    config: {materialized: incremental, incremental_strategy: " + tc.strategy + ", on_schema_change: " + tc.mode + ", unique_key: {{KEY}}}\n"
		dir := writeProject(t, url, map[string]string{
			"project.yaml":            "name: inc\n",
			"models/" + name + ".sql": "select g as id, 'a' as v from generate_series(1, 3) g",
			"models/schema.yml":       strings.ReplaceAll(yml, "{{KEY}}", "id"),
		})
		must(t, 0, dir, "run")
		writeFile(t, dir, "models/"+name+".sql", "select g as order_id, 'b' as v from generate_series(1, 3) g")
		writeFile(t, dir, "models/schema.yml", strings.ReplaceAll(yml, "{{KEY}}", "order_id"))
		out := must(t, 1, dir, "run")
		if !strings.Contains(out, "models/schema.yml:3:") || !strings.Contains(out, `unique_key: public.`+name+` has no column "order_id"`) || !strings.Contains(out, "--full-refresh") {
			t.Errorf("%s: no clear message:\n%s", tc.mode, out)
		}
		if got := queryText(t, url, "select string_agg(id || v, ',' order by id) from public."+name); got != "1a,2a,3a" {
			t.Errorf("%s: the table holds %s, want 1a,2a,3a", tc.mode, got)
		}
	}
}

// An incremental model whose partition_by changed (column, granularity,
// added or removed) is refused, placed at partition_by, the table as it
// was; --full-refresh rebuilds it. A changed column used to create the
// partitions of its periods while rows went by the table's own column.
func TestRunnerIncrementalPartitioningChanged(t *testing.T) {
	url := pgtest.DB(t)
	yml := "models:\n  - name: p\n    config:\n      materialized: incremental\n      unique_key: id\n%s"
	dir := writeProject(t, url, map[string]string{
		"project.yaml":      "name: inc\n",
		"models/p.sql":      "select g as id, date '2024-01-15' + g * 40 as d, date '2024-01-15' + g as d2 from generate_series(1, 3) g",
		"models/schema.yml": fmt.Sprintf(yml, "      partition_by: {column: d, granularity: month}\n"),
	})
	must(t, 0, dir, "run")
	for _, tc := range []struct{ by, want string }{
		{"      partition_by: {column: d2, granularity: month}\n", `models/schema.yml:6:21: partition_by: public.p is partitioned on column "d", but partition_by says column "d2"`},
		{"      partition_by: {column: d, granularity: day}\n", "models/schema.yml:6:21: partition_by: public.p is partitioned by month (partition p_p202402), but partition_by says granularity: day"},
		{"", "partition_by: public.p is partitioned, but the model's config has no partition_by"},
	} {
		writeFile(t, dir, "models/schema.yml", fmt.Sprintf(yml, tc.by))
		out := must(t, 1, dir, "run")
		if !strings.Contains(out, tc.want) || !strings.Contains(out, "rebuild it with --full-refresh") {
			t.Errorf("%q: no clear message:\n%s", tc.by, out)
		}
		if got := queryText(t, url, "select string_agg(tableoid::regclass::text, ',' order by id) from public.p"); got != "p_p202402,p_p202404,p_p202405" {
			t.Errorf("%q: rows are in %s", tc.by, got)
		}
	}
	must(t, 0, dir, "run", "--full-refresh")
	writeFile(t, dir, "models/schema.yml", fmt.Sprintf(yml, "      partition_by: {column: d}\n"))
	if out := must(t, 1, dir, "run"); !strings.Contains(out, "partition_by: public.p is not partitioned (it was built without partition_by)") {
		t.Errorf("partition_by added: no clear message:\n%s", out)
	}
}

// A partition_by column the query does not return, or one that is not a
// date or timestamp, failed with PostgreSQL's words about strata's own
// statements ("column \"nope\" named in partition key does not exist",
// "function date_trunc(unknown, bigint) does not exist"), placed at no
// line. It is refused at partition_by, saying what is wrong: for a new
// table, and for an incremental load whose column changed type in the
// query, the table as it was.
func TestRunnerPartitionColumnChecked(t *testing.T) {
	url := pgtest.DB(t)
	yml := "models:\n  - name: %s\n    config:\n      materialized: incremental\n      partition_by: {column: %s}\n"
	model := "select g as id, {{ if var \"text\" false }}'2024-01-0' || g{{ else }}date '2024-01-15' + g * 40{{ end }} as d from generate_series(1, 3) g"
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: pcol\n",
		"models/p.sql": model,
		"models/p.yml": fmt.Sprintf(yml, "p", "d"),
		"models/q.sql": model,
		"models/q.yml": fmt.Sprintf(yml, "q", "nope"),
		"models/r.sql": model,
		"models/r.yml": fmt.Sprintf(yml, "r", "id"),
	})
	out := must(t, 1, dir, "run")
	mustContain(t, out,
		`models/q.yml:5:21: partition_by: column "nope" is not among the model's columns (id, d)`,
		`models/r.yml:5:21: partition_by: column "id" is integer, but a table is partitioned by the day, month or year of a date or timestamp column`)
	out = must(t, 1, dir, "run", "-s", "p", "--vars", "text: true")
	mustContain(t, out, `models/p.yml:5:21: partition_by: column "d" is text, but a table is partitioned by the day, month or year of a date or timestamp column`)
	if got := queryText(t, url, "select string_agg(tableoid::regclass::text, ',' order by id) from public.p"); got != "p_p202402,p_p202404,p_p202405" {
		t.Errorf("rows are in %s", got)
	}
}

// A column whose type changed in the query, into one PostgreSQL does not
// convert to the table's (text into a date), failed an incremental load
// under on_schema_change ignore or append_new_columns with PostgreSQL's
// words only ("column \"d\" is of type date but expression is of type
// text"), which did not say that the table keeps its types or what to do.
// The error says so, placed at on_schema_change when it is set, and the
// table is as it was.
func TestRunnerOnSchemaChangeKeptType(t *testing.T) {
	url := pgtest.DB(t)
	model := `{{ config "materialized" "incremental" "unique_key" "id"%s }}select g as id, {{ if var "text" false }}g::bigint{{ else }}g::int{{ end }} as n, {{ if var "text" false }}'2024-01-0' || g{{ else }}date '2024-01-01' + g{{ end }} as d from generate_series(1, 2) g`
	for _, tc := range []struct{ config, want string }{
		{"", `models/m.sql: on_schema_change: ignore keeps the table's column types, and PostgreSQL does not convert the query's to them: d is date in the table, text in the query (column "d" is of type date but expression is of type text`},
		{` "on_schema_change" "append_new_columns"`, `models/m.sql:1:4: on_schema_change: append_new_columns keeps the table's column types, and PostgreSQL does not convert the query's to them: d is date in the table, text in the query (`},
	} {
		dir := writeProject(t, url, map[string]string{
			"project.yaml": "name: kt\n",
			"models/m.sql": fmt.Sprintf(model, tc.config),
		})
		execSQL(t, url, "drop table if exists public.m")
		must(t, 0, dir, "run")
		out := must(t, 1, dir, "run", "--vars", "text: true")
		mustContain(t, out, tc.want, "cast in the query, set on_schema_change: sync_all_columns to change the table's types, or rebuild the table with --full-refresh")
		// n, integer from bigint, converts: it is not said not to.
		if strings.Contains(out, "n is integer") {
			t.Errorf("%q: the message names a column PostgreSQL converts:\n%s", tc.config, out)
		}
		if got := queryText(t, url, "select string_agg(id || ':' || d, ',' order by id) from public.m"); got != "1:2024-01-02,2:2024-01-03" {
			t.Errorf("%q: the table holds %s", tc.config, got)
		}
	}
}

// An index whose type changed in config (btree to hash) on a relation the
// build keeps (an incremental table, a refreshed materialized view) was
// silently left as it was: the build creates only missing indexes, and the
// name does not hold the type. It is refused at indexes, saying how to
// rebuild it, with nothing changed; --full-refresh builds it as configured.
func TestRunnerIndexTypeChanged(t *testing.T) {
	url := pgtest.DB(t)
	yml := "models:\n  - name: inc\n    config:\n      materialized: incremental\n      unique_key: id\n      indexes:\n        - {columns: [v]%[1]s}\n" +
		"  - name: mv\n    config:\n      materialized: materialized_view\n      indexes:\n        - {columns: [v]%[1]s}\n"
	dir := writeProject(t, url, map[string]string{
		"project.yaml":      "name: ixt\n",
		"models/inc.sql":    "select g as id, g * {{ var \"k\" 1 }} as v from generate_series(1, 3) g",
		"models/mv.sql":     "select id, v from {{ ref \"inc\" }}",
		"models/schema.yml": fmt.Sprintf(yml, ""),
	})
	must(t, 0, dir, "run")
	writeFile(t, dir, "models/schema.yml", fmt.Sprintf(yml, ", type: hash"))
	out := must(t, 1, dir, "run", "--vars", "k: 2")
	mustContain(t, out,
		`models/schema.yml:7:9: indexes: public.inc has the index inc__v_idx of type btree, but indexes says type: hash; a build that keeps public.inc creates only the indexes it lacks: rebuild it with --full-refresh, or drop that index (drop index "public"."inc__v_idx") and the next build creates it as configured`)
	if got := queryText(t, url, "select string_agg(v::text, ',' order by id) from public.inc"); got != "1,2,3" {
		t.Errorf("after the refusal inc holds %s", got)
	}
	must(t, 0, dir, "run", "--full-refresh", "-s", "inc")
	out = must(t, 1, dir, "run", "-s", "mv")
	mustContain(t, out, `models/schema.yml:12:9: indexes: public.mv has the index mv__v_idx of type btree, but indexes says type: hash`)
	must(t, 0, dir, "run", "--full-refresh", "-s", "mv")
	must(t, 0, dir, "run")
	if got := queryText(t, url, "select string_agg(c.relname || ':' || am.amname, ',' order by c.relname) from pg_index i join pg_class c on c.oid = i.indexrelid join pg_am am on am.oid = c.relam where i.indrelid in ('public.inc'::regclass, 'public.mv'::regclass) and not i.indisunique"); got != "inc__v_idx:hash,mv__v_idx:hash" {
		t.Errorf("indexes: %s", got)
	}
}

func TestRunnerOnSchemaChange(t *testing.T) {
	url := pgtest.DB(t)
	model := `{{ if eq (var "v") 1 }}select 1 as id, 'a'::text as a, 1 as n{{ else }}select 2 as id, 'b'::text as b, 2::bigint as n{{ end }}`
	for _, tc := range []struct {
		mode string
		code int
		cols string
		rows int64
	}{
		{"ignore", 0, "id,a,n", 2},
		{"fail", 1, "id,a,n", 1},
		{"append_new_columns", 0, "id,a,n,b", 2},
		{"sync_all_columns", 0, "id,n,b", 2},
	} {
		dir := writeProject(t, url, map[string]string{
			"project.yaml":               "name: osc\nvars: {v: 1}\n",
			"models/" + tc.mode + ".sql": model,
			"models/schema.yml":          "models:\n  - name: " + tc.mode + "\n    config: {materialized: incremental, on_schema_change: " + tc.mode + "}\n",
		})
		must(t, 0, dir, "run")
		out := must(t, tc.code, dir, "run", "--vars", "v: 2")
		if tc.mode == "fail" && !(strings.Contains(out, "new column b text") && strings.Contains(out, "column a is gone") && strings.Contains(out, "column n changed from integer to bigint")) {
			t.Errorf("fail: message does not name the changes:\n%s", out)
		}
		cols := queryText(t, url, "select string_agg(attname, ',' order by attnum) from pg_attribute where attrelid = 'public."+tc.mode+"'::regclass and attnum > 0 and not attisdropped")
		if cols != tc.cols {
			t.Errorf("%s: columns %s, want %s", tc.mode, cols, tc.cols)
		}
		if got := queryInt(t, url, "select count(*) from public."+tc.mode); got != tc.rows {
			t.Errorf("%s: %d rows, want %d", tc.mode, got, tc.rows)
		}
	}
	if got := queryText(t, url, "select format_type(atttypid, atttypmod) from pg_attribute where attrelid = 'public.sync_all_columns'::regclass and attname = 'n'"); got != "bigint" {
		t.Errorf("sync_all_columns: n is %s, want bigint", got)
	}
}

func TestRunnerPartitionBy(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: part\nvars: {until: '2024-03-10'}\n",
		"models/events.sql": `select d::date as day, 1 as x from generate_series('2024-01-15'::date, '{{ var "until" }}'::date, interval '1 day') d
{{ if is_incremental }}where d > (select max(day) from {{ this }}){{ end }}`,
		"models/yearly.sql": `select d::timestamp as at from generate_series('2023-06-01'::date, '2024-02-01'::date, interval '1 month') d union all select null`,
		"models/schema.yml": `models:
  - name: events
    config: {materialized: incremental, partition_by: {column: day, granularity: month}, indexes: [{columns: [day]}]}
  - name: yearly
    config: {materialized: table, partition_by: {column: at, granularity: year}, indexes: [{columns: [at]}]}
`,
	})
	parts := func(rel string) string {
		return queryText(t, url, "select string_agg(c.relname, ',' order by c.relname) from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = '"+rel+"'::regclass")
	}
	must(t, 0, dir, "run")
	if got := parts("public.events"); got != "events_p202401,events_p202402,events_p202403" {
		t.Errorf("events partitions: %s", got)
	}
	if got := parts("public.yearly"); got != "yearly_p2023,yearly_p2024,yearly_pdefault" {
		t.Errorf("yearly partitions: %s", got)
	}
	if k := queryText(t, url, "select relkind::text from pg_class where oid = 'public.events'::regclass"); k != "p" {
		t.Errorf("events is relkind %s, want p (partitioned)", k)
	}
	must(t, 0, dir, "run", "--vars", "until: '2024-05-02'")
	if got := parts("public.events"); got != "events_p202401,events_p202402,events_p202403,events_p202404,events_p202405" {
		t.Errorf("events partitions after an incremental load: %s", got)
	}
	if got := queryInt(t, url, "select count(*) from public.events"); got != 109 {
		t.Errorf("events: %d rows, want 109", got)
	}
	// A rebuild keeps the partition names.
	must(t, 0, dir, "run", "--full-refresh")
	if got := parts("public.yearly"); got != "yearly_p2023,yearly_p2024,yearly_pdefault" {
		t.Errorf("yearly partitions after a rebuild: %s", got)
	}
	// Issue 21 item 10: the partitions' indexes are renamed with them,
	// keeping no scratch name.
	indexes := queryText(t, url, "select string_agg(indexname, ',' order by indexname) from pg_indexes where schemaname = 'public'")
	if strings.Contains(indexes, "__strata") || !strings.Contains(indexes, "yearly_p2023") || !strings.Contains(indexes, "events_p202403__day_idx") {
		t.Errorf("indexes after a rebuild: %s", indexes)
	}
}

func TestRunnerMaterializedView(t *testing.T) {
	url := pgtest.DB(t)
	execSQL(t, url, "create table public.src as select g as id from generate_series(1, 3) g")
	dir := writeProject(t, url, map[string]string{
		"project.yaml":        "name: mv\nvars: {k: 1}\n",
		"models/mv_u.sql":     `select id, id * {{ var "k" }} as twice from public.src`,
		"models/mv_plain.sql": `select id from public.src`,
		"models/schema.yml": `models:
  - name: mv_u
    config: {materialized: materialized_view, indexes: [{columns: [id], unique: true}]}
  - name: mv_plain
    config: {materialized: materialized_view}
`,
	})
	must(t, 0, dir, "run")
	execSQL(t, url, "insert into public.src values (4)")
	must(t, 0, dir, "run")
	res := runResults(t, dir)
	if got := res["model.mv.mv_u"].AdapterResp; got != "REFRESH MATERIALIZED VIEW CONCURRENTLY" {
		t.Errorf("mv_u: %q, want a concurrent refresh", got)
	}
	if got := res["model.mv.mv_plain"].AdapterResp; got != "REFRESH MATERIALIZED VIEW" {
		t.Errorf("mv_plain: %q, want a refresh", got)
	}
	if got := queryInt(t, url, "select count(*) from public.mv_u"); got != 4 {
		t.Errorf("mv_u: %d rows after the refresh, want 4", got)
	}
	must(t, 0, dir, "run", "--vars", "k: 2")
	if got := runResults(t, dir)["model.mv.mv_u"].AdapterResp; got != "SELECT 4" {
		t.Errorf("mv_u with a new definition: %q, want a rebuild", got)
	}
	if got := queryInt(t, url, "select sum(twice) from public.mv_u"); got != 20 {
		t.Errorf("mv_u: sum %d, want 20", got)
	}
}

func createRoles(t *testing.T, url string, roles ...string) {
	for _, r := range roles {
		execSQL(t, url, "do $$ begin create role "+r+"; exception when duplicate_object then null; end $$")
	}
}

// TestRunnerHandMadeGrantsSurviveARebuild (issue 21, item 4): what a user
// sets by hand on a model's relation survives its rebuild, whatever the
// materialization: privileges (with grant option), the owner, comments on
// the relation and its columns, row-level security and its policies. Config
// grants add their own, and a role config no longer lists keeps what it
// has (strata never revokes).
func TestRunnerHandMadeGrantsSurviveARebuild(t *testing.T) {
	url := pgtest.DB(t)
	createRoles(t, url, "runner_reader_a", "runner_reader_b", "runner_bob", "runner_carol", "runner_owner")
	yml := func(roles string) string {
		return `models:
  - name: inc
    config: {materialized: incremental, grants: {select: [` + roles + `]}}
  - name: tbl
    config: {materialized: table, grants: {select: [` + roles + `]}}
  - name: plain
    config: {materialized: table, grants: {select: [` + roles + `]}}
  - name: v
    config: {materialized: view, grants: {select: [` + roles + `]}}
  - name: mv
    config: {materialized: materialized_view, grants: {select: [` + roles + `]}}
seeds:
  - name: s
    config: {grants: {select: [` + roles + `]}}
`
	}
	dir := writeProject(t, url, map[string]string{
		"project.yaml":      "name: gr\nvars: {k: 1}\n",
		"models/inc.sql":    `select {{ var "k" }} as id`,
		"models/tbl.sql":    `select {{ var "k" }} as id, 'x' as name`,
		"models/plain.sql":  `select {{ var "k" }} as id`,
		"models/v.sql":      `select {{ var "k" }} as id`,
		"models/mv.sql":     `select {{ var "k" }} as id, {{ var "k" }} as k`,
		"seeds/s.csv":       "id\n1\n",
		"models/schema.yml": yml("runner_reader_a, runner_reader_b"),
	})
	must(t, 0, dir, "build")
	rels := []string{"public.inc", "public.tbl", "public.plain", "public.v", "public.mv", "public.s"}
	for _, rel := range rels {
		execSQL(t, url, "grant select on "+rel+" to runner_bob")
	}
	execSQL(t, url,
		"grant update on public.tbl to runner_carol with grant option",
		"alter table public.tbl owner to runner_owner",
		"comment on table public.tbl is 'by hand'",
		"comment on column public.tbl.name is 'the name'",
		"alter table public.tbl enable row level security",
		"create policy bob_reads on public.tbl for select to runner_bob using (id > 0)",
		"comment on materialized view public.mv is 'mv by hand'",
	)
	// New data, and config that no longer lists runner_reader_b.
	writeFile(t, dir, "models/schema.yml", yml("runner_reader_a"))
	writeFile(t, dir, "seeds/s.csv", "id\n1\n2\n")
	must(t, 0, dir, "build", "--vars", "k: 2", "--full-refresh")
	for _, rel := range rels {
		for _, role := range []string{"runner_bob", "runner_reader_a", "runner_reader_b"} {
			if got := queryText(t, url, "select has_table_privilege('"+role+"', '"+rel+"', 'select')::text"); got != "true" {
				t.Errorf("%s: %s lost select", rel, role)
			}
		}
	}
	for q, want := range map[string]string{
		"select max(id)::text from public.tbl":                                                                                            "2",
		"select max(id)::text from public.s":                                                                                              "2",
		"select max(k)::text from public.mv":                                                                                              "2",
		"select pg_get_userbyid(relowner)::text from pg_class where oid = 'public.tbl'::regclass":                                         "runner_owner",
		"select has_table_privilege('runner_carol', 'public.tbl', 'update with grant option')::text":                                      "true",
		"select obj_description('public.tbl'::regclass, 'pg_class')":                                                                      "by hand",
		"select col_description('public.tbl'::regclass, 2)":                                                                               "the name",
		"select relrowsecurity::text from pg_class where oid = 'public.tbl'::regclass":                                                    "true",
		"select string_agg(polname || ':' || pg_get_expr(polqual, polrelid), ',') from pg_policy where polrelid = 'public.tbl'::regclass": "bob_reads:(id > 0)",
		"select obj_description('public.mv'::regclass, 'pg_class')":                                                                       "mv by hand",
	} {
		if got := queryText(t, url, q); got != want {
			t.Errorf("%s: %q, want %q", q, got, want)
		}
	}
	// A policy on a column the new version lacks: nothing is replaced, and
	// the error says what could not be kept.
	writeFile(t, dir, "models/tbl.sql", `select 'x' as name`)
	out := must(t, 1, dir, "run", "-s", "tbl")
	if !strings.Contains(out, "refusing to replace public.tbl") || !strings.Contains(out, "bob_reads") {
		t.Errorf("the refusal does not name the policy:\n%s", out)
	}
	if got := queryText(t, url, "select max(id)::text from public.tbl"); got != "2" {
		t.Errorf("the old table changed: %s", got)
	}
}

func TestRunnerHooks(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": `name: hk
on-run-start: ['create table if not exists public.log (what text)', "insert into public.log values ('start')"]
on-run-end: ["insert into public.log values ('end')"]
`,
		"models/m.sql": "select 1 as id",
		"models/schema.yml": `models:
  - name: m
    config:
      materialized: table
      pre_hook: ["insert into public.log values ('pre')"]
      post_hook: ["insert into public.log select 'post ' || count(*) from {{ this }}"]
`,
	})
	must(t, 0, dir, "run")
	if got := queryText(t, url, "select string_agg(what, ',' order by ctid) from public.log"); got != "start,pre,post 1,end" {
		t.Errorf("hooks ran as %s", got)
	}
}

// TestIsIncrementalInHooks: a model's hooks see is_incremental as the
// model does: true when the build loads its existing table, false on its
// first build and with --full-refresh (it was false in hooks always).
func TestIsIncrementalInHooks(t *testing.T) {
	url := pgtest.DB(t)
	hook := `'insert into public.log values (''{{ if is_incremental }}incremental{{ else }}full{{ end }}'')'`
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: hi\non-run-start: ['create table if not exists public.log (what text)']\n",
		"models/m.sql": "select 1 as id",
		"models/schema.yml": "models:\n  - name: m\n    config:\n      materialized: incremental\n" +
			"      pre_hook: [" + hook + "]\n      post_hook: [" + hook + "]\n",
	})
	must(t, 0, dir, "run")
	must(t, 0, dir, "run")
	must(t, 0, dir, "run", "--full-refresh")
	want := "full,full,incremental,incremental,full,full"
	if got := queryText(t, url, "select string_agg(what, ',' order by ctid) from public.log"); got != want {
		t.Errorf("the hooks saw is_incremental as %s, want %s", got, want)
	}
}

func TestRunnerContract(t *testing.T) {
	url := pgtest.DB(t)
	yml := func(idType string) string {
		return `models:
  - name: c
    config: {materialized: table, contract: true}
    columns:
      - {name: id, data_type: ` + idType + `}
      - {name: name, data_type: varchar(20)}
`
	}
	dir := writeProject(t, url, map[string]string{
		"project.yaml":      "name: ct\nvars: {n: 1}\n",
		"models/c.sql":      `select {{ var "n" }}::int as id, 'x'::varchar(20) as name`,
		"models/schema.yml": yml("int"),
	})
	must(t, 0, dir, "run")
	writeFile(t, dir, "models/schema.yml", yml("bigint"))
	out := must(t, 1, dir, "run", "--vars", "n: 2")
	// Each mismatch is placed at its column in YAML, as check places it.
	mustContain(t, out, "models/schema.yml:5:16: contract violated, nothing was built: column id is integer, declared bigint")
	if got := queryInt(t, url, "select id from public.c"); got != 1 {
		t.Errorf("the old table changed: id %d", got)
	}
	writeFile(t, dir, "models/schema.yml", yml("integer"))
	must(t, 0, dir, "run", "--vars", "n: 2")
	// A type PostgreSQL does not know is named at its column in YAML.
	writeFile(t, dir, "models/schema.yml", yml("integr"))
	out = must(t, 1, dir, "run")
	mustContain(t, out, `models/schema.yml:5:16: column id of model c: data_type "integr" is not a type PostgreSQL knows (contract: true)`)

	// A declared column the query does not return, at its column; one it
	// returns undeclared, at the model's entry.
	writeFile(t, dir, "models/schema.yml", yml("int")+"      - {name: gone, data_type: text}\n")
	writeFile(t, dir, "models/c.sql", `select 1::int as id, 'x'::varchar(20) as name, 2 as extra`)
	out = must(t, 1, dir, "run")
	mustContain(t, out,
		"models/schema.yml:7:16: contract violated, nothing was built: column gone is declared (text) but the query does not return it\n",
		"models/schema.yml:2:11: contract violated, nothing was built: column extra (integer) is returned but not declared")

	// A column under columns: without its data_type, at that column: it
	// was said to be returned but not declared.
	writeFile(t, dir, "models/schema.yml", yml("int")+"      - {name: extra}\n")
	out = must(t, 1, dir, "run")
	mustContain(t, out, "models/schema.yml:7:16: contract violated, nothing was built: column extra (integer) has no data_type, and contract: true needs the type of every column")
}

func TestRunnerRetriesTransientErrors(t *testing.T) {
	url := pgtest.DB(t)
	execSQL(t, url, "create sequence public.attempts")
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: rt\n",
		"models/m.sql": "select 1 as id",
		"models/schema.yml": `models:
  - name: m
    config:
      materialized: table
      retries: 2
      pre_hook: ["do $$ begin if nextval('public.attempts') < 2 then raise exception 'simulated' using errcode = '40001'; end if; end $$"]
`,
	})
	must(t, 0, dir, "run")
	if got := runResults(t, dir)["model.rt.m"].Attempts; got != 2 {
		t.Errorf("attempts %d, want 2", got)
	}
}

// TestRunnerRetriesADeadlockWithoutRetries: a deadlock canceled the
// model's transaction (on Citus, two threads creating or dropping
// distributed tables at once can be), so the model is built again even
// without retries; a serialization failure is not.
func TestRunnerRetriesADeadlockWithoutRetries(t *testing.T) {
	url := pgtest.DB(t)
	execSQL(t, url, "create sequence public.attempts", "create sequence public.serial_attempts")
	raise := func(seq, code string) string {
		return fmt.Sprintf("do $$ begin if nextval('public.%s') < 2 then raise exception 'simulated' using errcode = '%s'; end if; end $$", seq, code)
	}
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: rd\nmodels: {'.': {materialized: table}}\n",
		"models/m.sql": "select 1 as id",
		"models/s.sql": "select 1 as id",
		"models/schema.yml": fmt.Sprintf(`models:
  - name: m
    config: {pre_hook: [%q]}
  - name: s
    config: {pre_hook: [%q]}
`, raise("attempts", "40P01"), raise("serial_attempts", "40001")),
	})
	out := must(t, 1, dir, "run")
	res := runResults(t, dir)
	if m := res["model.rd.m"]; m.Status != "success" || m.Attempts != 2 {
		t.Errorf("m after a deadlock: %s in %d attempts, want success in 2\n%s", m.Status, m.Attempts, out)
	}
	if s := res["model.rd.s"]; s.Status != "error" || s.Attempts != 1 {
		t.Errorf("s after a serialization failure: %s in %d attempts, want error in 1 (no retries)\n%s", s.Status, s.Attempts, out)
	}
	if got := queryInt(t, url, "select count(*) from public.m"); got != 1 {
		t.Errorf("m holds %d rows, want 1", got)
	}
}

// TestSeedRetriedAfterADeadlock: a seed's post_hook runs in its load's
// transaction, after the swap; a deadlock there rolls the whole load back,
// and the seed is loaded again, as a model is built again.
func TestSeedRetriedAfterADeadlock(t *testing.T) {
	url := pgtest.DB(t)
	execSQL(t, url, "create sequence public.attempts")
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: sd\n",
		"seeds/s.csv":  "id\n1\n2\n",
		"seeds/s.yml": fmt.Sprintf("seeds:\n  - name: s\n    config: {post_hook: [%q]}\n",
			"do $$ begin if nextval('public.attempts') < 2 then raise exception 'simulated' using errcode = '40P01'; end if; end $$"),
	})
	out := must(t, 0, dir, "seed")
	if s := runResults(t, dir)["seed.sd.s"]; s.Status != "success" || s.Attempts != 2 {
		t.Errorf("s after a deadlock: %s in %d attempts, want success in 2\n%s", s.Status, s.Attempts, out)
	}
	if got := queryInt(t, url, "select count(*) from public.s"); got != 2 {
		t.Errorf("s holds %d rows, want 2", got)
	}
}

func TestRunnerRetryAndArtifacts(t *testing.T) {
	url := pgtest.DB(t)
	dir := writeProject(t, url, map[string]string{
		"project.yaml": "name: rr\nvars: {bad: true}\nmodels: {'.': {materialized: table}}\n",
		"models/a.sql": `select {{ if var "bad" }}1/0{{ else }}1{{ end }} as id`,
		"models/b.sql": `select * from {{ ref "a" }}`,
		"models/c.sql": `select 1 as id`,
	})
	must(t, 1, dir, "run")
	res := runResults(t, dir)
	if res["model.rr.a"].Status != "error" || res["model.rr.b"].Status != "skipped" || res["model.rr.c"].Status != "success" {
		t.Fatalf("statuses: %+v", res)
	}
	if !strings.Contains(res["model.rr.a"].Message, "division by zero") {
		t.Errorf("message: %s", res["model.rr.a"].Message)
	}
	for _, f := range []string{"target/run/models/a.sql", "target/run/models/c.sql", "target/compiled/models/c.sql", "target/run_results.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("missing %s", f)
		}
	}
	out := must(t, 0, dir, "retry", "--vars", "bad: false")
	res = runResults(t, dir)
	if len(res) != 2 || res["model.rr.a"].Status != "success" || res["model.rr.b"].Status != "success" {
		t.Errorf("retry reran %+v\n%s", res, out)
	}
	out = must(t, 0, dir, "retry")
	if !strings.Contains(out, "Nothing to retry") {
		t.Errorf("second retry:\n%s", out)
	}
}

// runResults reads target/run_results.json, keyed by node id.
func runResults(t *testing.T, dir string) map[string]artifacts.Result {
	t.Helper()
	out := map[string]artifacts.Result{}
	for _, r := range runResultsOf(t, dir) {
		out[r.ID] = r
	}
	return out
}

func runResultsOf(t testing.TB, dir string) []artifacts.Result {
	t.Helper()
	rr, err := artifacts.ReadRunResults(filepath.Join(dir, "target", "run_results.json"))
	if err != nil {
		t.Fatal(err)
	}
	return rr.Results
}

// TestRunOutputSaysWhatTheBuildDid: each model's OK line says what its
// build did to the relation. A later load of an incremental model merged
// or appended rows into its table, which the line said it "created";
// --full-refresh, a first build and a table's rebuild create it anew.
func TestRunOutputSaysWhatTheBuildDid(t *testing.T) {
	url := pgtest.DB(t)
	rows := `select g as id, {{ var "v" }} as v from generate_series(1, 3) g`
	dir := writeProject(t, url, map[string]string{
		"project.yaml":  "name: did\nvars: {v: 1}\n",
		"models/im.sql": `{{ config "materialized" "incremental" "unique_key" "id" }}` + rows,
		"models/ia.sql": `{{ config "materialized" "incremental" }}` + rows,
		"models/id.sql": `{{ config "materialized" "incremental" "unique_key" "id" "incremental_strategy" "delete+insert" }}` + rows,
		"models/tb.sql": `{{ config "materialized" "table" }}` + rows,
		"models/ti.sql": `{{ config "materialized" "table" "swap" "truncate_insert" }}` + rows,
		"models/vw.sql": rows,
		"models/mv.sql": `{{ config "materialized" "materialized_view" }}select 1 as id`, // refreshed while its SQL stays
		"models/dm.sql": `{{ config "materialized" "scd2" "unique_key" "id" "strategy" "check" }}` + rows,
	})
	first := map[string]string{
		"im": "created incremental", "ia": "created incremental", "id": "created incremental", "tb": "created table",
		"ti": "created table", "vw": "created view", "mv": "created materialized_view", "dm": "created scd2",
	}
	later := map[string]string{
		"im": "merged into incremental", "ia": "appended to incremental", "id": "loaded into incremental", "tb": "created table",
		"ti": "replaced the rows of table", "vw": "created view", "mv": "refreshed materialized_view", "dm": "updated scd2",
	}
	refresh := map[string]string{}
	for m, w := range later {
		refresh[m] = w
	}
	for _, m := range []string{"im", "ia", "id"} {
		refresh[m] = "created incremental"
	}
	for _, step := range []struct {
		args []string
		want map[string]string
	}{
		{[]string{"run"}, first},
		{[]string{"run", "--vars", "v: 2"}, later},
		{[]string{"run", "--vars", "v: 3", "--full-refresh", "-s", "im ia id"}, refresh},
	} {
		out := must(t, 0, dir, step.args...)
		for m, w := range step.want {
			if slices.Contains(step.args, "-s") && !strings.HasPrefix(m, "i") {
				continue
			}
			mustContain(t, out, " OK "+w+" model public."+m+" ")
		}
	}
}
