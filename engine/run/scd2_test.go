package run_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"strata/engine/cli"
	"strata/engine/internal/benchdir"
	"strata/engine/internal/pgtest"
)

// A customer of the source on one day: tenant and id are the unique key.
type cust struct {
	tenant     string
	id         int
	name, city string // "" is NULL
	tier       string // "" is NULL; only from day 5, when the column appears
	updated    int    // updated_at: 2024-01-<updated>
}

// The source through seven days: an update, a NULL kept (a2), a new key (a3)
// and a deletion (b1) on day 2; a no-op on day 3; changes to and from NULL and
// b1 back with its old updated_at on day 4; a new column on day 5 (a3 changes
// it); on day 6 a1's name changes without its updated_at (only check sees it)
// and a3 is deleted; a no-op on day 7.
var scd2Days = [][]cust{
	1: {{"a", 1, "Ann", "Oslo", "", 1}, {"a", 2, "Bob", "", "", 1}, {"b", 1, "Cid", "Rome", "", 1}},
	2: {{"a", 1, "Ann", "Bergen", "", 2}, {"a", 2, "Bob", "", "", 1}, {"a", 3, "Dan", "Paris", "", 2}},
	3: {{"a", 1, "Ann", "Bergen", "", 2}, {"a", 2, "Bob", "", "", 1}, {"a", 3, "Dan", "Paris", "", 2}},
	4: {{"a", 1, "Ann", "", "", 4}, {"a", 2, "Bob", "Lima", "", 4}, {"a", 3, "Dan", "Paris", "", 2}, {"b", 1, "Cid", "Rome", "", 1}},
	5: {{"a", 1, "Ann", "", "", 4}, {"a", 2, "Bob", "Lima", "", 4}, {"a", 3, "Dan", "Paris", "vip", 5}, {"b", 1, "Cid", "Rome", "", 1}},
	6: {{"a", 1, "Anna", "", "", 4}, {"a", 2, "Bob", "Lima", "", 4}, {"b", 1, "Cid", "Rome", "", 1}},
	7: {{"a", 1, "Anna", "", "", 4}, {"a", 2, "Bob", "Lima", "", 4}, {"b", 1, "Cid", "Rome", "", 1}},
}

func sqlText(s string) string {
	if s == "" {
		return "null"
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// daySQL replaces the source table with the rows of day d.
func daySQL(d int) string {
	cols := "tenant text, id int, name text, city text, updated_at timestamptz"
	if d >= 5 {
		cols = "tenant text, id int, name text, city text, updated_at timestamptz, tier text"
	}
	var vals []string
	for _, c := range scd2Days[d] {
		v := fmt.Sprintf("(%s, %d, %s, %s, '2024-01-%02d 00:00:00+00'", sqlText(c.tenant), c.id, sqlText(c.name), sqlText(c.city), c.updated)
		if d >= 5 {
			v += ", " + sqlText(c.tier)
		}
		vals = append(vals, v+")")
	}
	return fmt.Sprintf("create schema if not exists raw; drop table if exists raw.customers; create table raw.customers (%s); insert into raw.customers values %s",
		cols, strings.Join(vals, ", "))
}

func execSQL(t *testing.T, url, sql string) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// scd2Project writes a project with one scd2 model, dim_c, over raw.customers.
func scd2Project(t testing.TB, url, config string) string {
	t.Helper()
	dir := benchdir.New(t)
	files := map[string]string{
		"project.yaml":      "name: s2\ntarget: t\ntargets:\n  t: {type: postgres, url: '" + url + "', threads: 2}\n",
		"models/dim_c.sql":  "select * from raw.customers\n",
		"models/schema.yml": "models:\n  - name: dim_c\n    config:\n" + config,
	}
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func runStrata(dir string, args ...string) (int, string) {
	return runStrataCtx(context.Background(), dir, args...)
}

func runStrataCtx(ctx context.Context, dir string, args ...string) (int, string) {
	var out bytes.Buffer
	code := cli.Main(ctx, append([]string{"--project-dir", dir, "--no-color"}, args...), &out, &out)
	return code, out.String()
}

// window is when run k of a test happened, to name the change times it wrote.
type window struct{ from, to time.Time }

// clock names a timestamp: R<k> when it is the start of run k (whose
// run_started_at has whole seconds), else its date (an updated_at).
func (w windows) name(ts *time.Time) string {
	if ts == nil {
		return "-"
	}
	for k, r := range w {
		if !ts.Before(r.from.Truncate(time.Second)) && !ts.After(r.to) {
			return fmt.Sprintf("R%d", k)
		}
	}
	if ts.Year() != 2024 {
		return "R" // a run's start outside the windows given
	}
	return ts.UTC().Format("01-02")
}

type windows map[int]window

// history reads the whole dimension, one line per version in key and time order:
// tenant id name city tier | valid_from valid_to is_current [is_deleted].
func history(t *testing.T, url string, w windows, cols [4]string) []string {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	// tier and is_deleted through jsonb: the dimension has them only from day 5, or with new_record.
	q := fmt.Sprintf(`select tenant, id, name, city, to_jsonb(d)->>'tier', %s, %s, %s, (to_jsonb(d)->>'is_deleted')::boolean
		from public.dim_c as d order by tenant, id, %s`,
		pgx.Identifier{cols[0]}.Sanitize(), pgx.Identifier{cols[1]}.Sanitize(), pgx.Identifier{cols[2]}.Sanitize(), pgx.Identifier{cols[0]}.Sanitize())
	rows, err := conn.Query(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	var out []string
	for rows.Next() {
		var tenant string
		var id int
		var name, city, tier *string
		var from, to *time.Time
		var cur bool
		var isDel *bool
		if err := rows.Scan(&tenant, &id, &name, &city, &tier, &from, &to, &cur, &isDel); err != nil {
			t.Fatal(err)
		}
		s := func(p *string) string {
			if p == nil {
				return "-"
			}
			return *p
		}
		b := func(v bool) string {
			if v {
				return "t"
			}
			return "f"
		}
		line := fmt.Sprintf("%s%d %s %s %s | %s %s %s", tenant, id, s(name), s(city), s(tier), w.name(from), w.name(to), b(cur))
		if isDel != nil {
			line += " " + b(*isDel)
		}
		out = append(out, line)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// surrogates maps each version (key and valid_from) to its surrogate key.
func surrogates(t *testing.T, url, sk, from string) map[string]string {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(context.Background(), fmt.Sprintf("select tenant || id || '@' || %s::text, %s from public.dim_c",
		pgx.Identifier{from}.Sanitize(), pgx.Identifier{sk}.Sanitize()))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for rows.Next() {
		var v string
		var k *string
		if err := rows.Scan(&v, &k); err != nil {
			t.Fatal(err)
		}
		if k == nil || *k == "" {
			t.Fatalf("version %s has no surrogate key", v)
		}
		m[v] = *k
	}
	return m
}

func TestSCD2History(t *testing.T) {
	cases := []struct {
		name, config string
		cols         [4]string // valid_from, valid_to, is_current, surrogate key
		want         []string
	}{
		{
			name:   "check all, ignore",
			config: "      materialized: scd2\n      unique_key: [tenant, id]\n      strategy: check\n      check_cols: all\n      hard_deletes: ignore\n",
			want: []string{
				"a1 Ann Oslo - | R1 R2 f",
				"a1 Ann Bergen - | R2 R4 f",
				"a1 Ann - - | R4 R6 f",
				"a1 Anna - - | R6 - t",
				"a2 Bob - - | R1 R4 f",
				"a2 Bob Lima - | R4 - t",
				"a3 Dan Paris - | R2 R5 f",
				"a3 Dan Paris vip | R5 - t",
				"b1 Cid Rome - | R1 - t",
			},
		},
		{
			name:   "check all, invalidate",
			config: "      materialized: scd2\n      unique_key: [tenant, id]\n      strategy: check\n      hard_deletes: invalidate\n",
			want: []string{
				"a1 Ann Oslo - | R1 R2 f",
				"a1 Ann Bergen - | R2 R4 f",
				"a1 Ann - - | R4 R6 f",
				"a1 Anna - - | R6 - t",
				"a2 Bob - - | R1 R4 f",
				"a2 Bob Lima - | R4 - t",
				"a3 Dan Paris - | R2 R5 f",
				"a3 Dan Paris vip | R5 R6 f",
				"b1 Cid Rome - | R1 R2 f",
				"b1 Cid Rome - | R4 - t",
			},
		},
		{
			name:   "check all, new_record",
			config: "      materialized: scd2\n      unique_key: [tenant, id]\n      strategy: check\n      check_cols: [all]\n      hard_deletes: new_record\n",
			want: []string{
				"a1 Ann Oslo - | R1 R2 f f",
				"a1 Ann Bergen - | R2 R4 f f",
				"a1 Ann - - | R4 R6 f f",
				"a1 Anna - - | R6 - t f",
				"a2 Bob - - | R1 R4 f f",
				"a2 Bob Lima - | R4 - t f",
				"a3 Dan Paris - | R2 R5 f f",
				"a3 Dan Paris vip | R5 R6 f f",
				"a3 Dan Paris vip | R6 - t t",
				"b1 Cid Rome - | R1 R2 f f",
				"b1 Cid Rome - | R2 R4 f t",
				"b1 Cid Rome - | R4 - t f",
			},
		},
		{
			name:   "timestamp, ignore",
			config: "      materialized: scd2\n      unique_key: [tenant, id]\n      strategy: timestamp\n      updated_at: updated_at\n",
			want: []string{
				"a1 Ann Oslo - | 01-01 01-02 f",
				"a1 Ann Bergen - | 01-02 01-04 f",
				"a1 Ann - - | 01-04 - t",
				"a2 Bob - - | 01-01 01-04 f",
				"a2 Bob Lima - | 01-04 - t",
				"a3 Dan Paris - | 01-02 01-05 f",
				"a3 Dan Paris vip | 01-05 - t",
				"b1 Cid Rome - | 01-01 - t",
			},
		},
		{
			name:   "timestamp, invalidate",
			config: "      materialized: scd2\n      unique_key: [tenant, id]\n      strategy: timestamp\n      updated_at: updated_at\n      hard_deletes: invalidate\n",
			want: []string{
				"a1 Ann Oslo - | 01-01 01-02 f",
				"a1 Ann Bergen - | 01-02 01-04 f",
				"a1 Ann - - | 01-04 - t",
				"a2 Bob - - | 01-01 01-04 f",
				"a2 Bob Lima - | 01-04 - t",
				"a3 Dan Paris - | 01-02 01-05 f",
				"a3 Dan Paris vip | 01-05 R6 f",
				"b1 Cid Rome - | 01-01 R2 f",
				"b1 Cid Rome - | R4 - t",
			},
		},
		{
			name:   "timestamp, new_record",
			config: "      materialized: scd2\n      unique_key: [tenant, id]\n      strategy: timestamp\n      updated_at: updated_at\n      hard_deletes: new_record\n",
			want: []string{
				"a1 Ann Oslo - | 01-01 01-02 f f",
				"a1 Ann Bergen - | 01-02 01-04 f f",
				"a1 Ann - - | 01-04 - t f",
				"a2 Bob - - | 01-01 01-04 f f",
				"a2 Bob Lima - | 01-04 - t f",
				"a3 Dan Paris - | 01-02 01-05 f f",
				"a3 Dan Paris vip | 01-05 R6 f f",
				"a3 Dan Paris vip | R6 - t t",
				"b1 Cid Rome - | 01-01 R2 f f",
				"b1 Cid Rome - | R2 R4 f t",
				"b1 Cid Rome - | R4 - t f",
			},
		},
		{
			// Only city is tracked: a1's new name and a3's tier make no version.
			name: "check_cols city, scd2_columns, invalidate",
			config: "      materialized: scd2\n      unique_key: [tenant, id]\n      strategy: check\n      check_cols: [city]\n      hard_deletes: invalidate\n" +
				"      scd2_columns: {valid_from: effective_date, valid_to: expiry_date, is_current: current, surrogate_key: customer_key}\n",
			cols: [4]string{"effective_date", "expiry_date", "current", "customer_key"},
			want: []string{
				"a1 Ann Oslo - | R1 R2 f",
				"a1 Ann Bergen - | R2 R4 f",
				"a1 Ann - - | R4 - t",
				"a2 Bob - - | R1 R4 f",
				"a2 Bob Lima - | R4 - t",
				"a3 Dan Paris - | R2 R6 f",
				"b1 Cid Rome - | R1 R2 f",
				"b1 Cid Rome - | R4 - t",
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.cols == ([4]string{}) {
				tc.cols = [4]string{"valid_from", "valid_to", "is_current", "dim_c_key"}
			}
			url := pgtest.DB(t)
			dir := scd2Project(t, url, tc.config)
			w := windows{}
			var early map[string]string
			for d := 1; d < len(scd2Days); d++ {
				execSQL(t, url, daySQL(d))
				from := time.Now()
				code, out := runStrata(dir, "run")
				to := time.Now()
				if code != 0 {
					t.Fatalf("day %d: exit %d\n%s", d, code, out)
				}
				w[d] = window{from, to}
				if d == 2 {
					early = surrogates(t, url, tc.cols[3], tc.cols[0])
				}
				// The next run starts in a later second, so run_started_at tells runs apart.
				time.Sleep(time.Until(to.Truncate(time.Second).Add(time.Second + 10*time.Millisecond)))
			}
			got := history(t, url, w, [4]string{tc.cols[0], tc.cols[1], tc.cols[2]})
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("history:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			// Surrogate keys: unique across versions, and a version keeps its own.
			late := surrogates(t, url, tc.cols[3], tc.cols[0])
			seen := map[string]string{}
			for v, k := range late {
				if other, ok := seen[k]; ok {
					t.Errorf("versions %s and %s share surrogate key %s", v, other, k)
				}
				seen[k] = v
			}
			for v, k := range early {
				if late[v] != k {
					t.Errorf("version %s had surrogate key %s after day 2, %s at the end", v, k, late[v])
				}
			}
		})
	}
}

func TestSCD2RefusesBadKeys(t *testing.T) {
	url := pgtest.DB(t)
	dir := scd2Project(t, url, "      materialized: scd2\n      unique_key: [tenant, id]\n      strategy: check\n      hard_deletes: invalidate\n")
	execSQL(t, url, daySQL(1))
	if code, out := runStrata(dir, "run"); code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	before := strings.Join(history(t, url, windows{}, [4]string{"valid_from", "valid_to", "is_current"}), "\n")
	for _, tc := range []struct{ sql, want string }{
		{"insert into raw.customers values ('b', 1, 'Cy', 'Nice', now()), ('b', 1, 'Cy', 'Pau', now())",
			"unique_key is not unique in the source: tenant=b, id=1 appears 3 times; the dimension was not changed"},
		{"insert into raw.customers values ('c', null, 'Eve', 'Nice', now())",
			"unique_key (tenant, id) is NULL in 1 row of the source; the dimension was not changed"},
	} {
		execSQL(t, url, daySQL(4)+"; delete from raw.customers where tenant = 'a'; "+tc.sql)
		code, out := runStrata(dir, "run")
		if code != 1 || !strings.Contains(out, tc.want) {
			t.Errorf("exit %d, want 1 and %q in:\n%s", code, tc.want, out)
		}
		if after := strings.Join(history(t, url, windows{}, [4]string{"valid_from", "valid_to", "is_current"}), "\n"); after != before {
			t.Errorf("the dimension changed:\n%s\nwas:\n%s", after, before)
		}
	}
	if code, out := runStrata(dir, "run", "--full-refresh"); code != 2 || !strings.Contains(out, "--full-refresh-scd2") {
		t.Errorf("--full-refresh: exit %d, want 2 and a refusal:\n%s", code, out)
	}
}

// Two runs at once on one dimension: the lock serializes them, so the second
// finds nothing left to do and the history is the same as after one run.
func TestSCD2ConcurrentRuns(t *testing.T) {
	url := pgtest.DB(t)
	dir := scd2Project(t, url, "      materialized: scd2\n      unique_key: [tenant, id]\n      strategy: timestamp\n      updated_at: updated_at\n      hard_deletes: new_record\n")
	execSQL(t, url, daySQL(1))
	if code, out := runStrata(dir, "run"); code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	execSQL(t, url, daySQL(2))
	var wg sync.WaitGroup
	outs := make([]string, 4)
	codes := make([]int, 4)
	for i := range outs {
		wg.Go(func() { codes[i], outs[i] = runStrata(dir, "run") })
	}
	wg.Wait()
	for i := range outs {
		if codes[i] != 0 {
			t.Fatalf("run %d: exit %d\n%s", i, codes[i], outs[i])
		}
	}
	got := history(t, url, windows{}, [4]string{"valid_from", "valid_to", "is_current"})
	sort.Strings(got)
	want := []string{
		"a1 Ann Bergen - | 01-02 - t f",
		"a1 Ann Oslo - | 01-01 01-02 f f",
		"a2 Bob - - | 01-01 - t f",
		"a3 Dan Paris - | 01-02 - t f",
		"b1 Cid Rome - | 01-01 R f f",
		"b1 Cid Rome - | R - t t",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("history:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Grants on a dimension follow the config like any other model's: a later
// build grants what config adds; nothing is revoked, so a grant made by
// hand stays, through later builds and through the full refresh that
// rebuilds the dimension (which carries the old one's privileges over).
func TestSCD2Grants(t *testing.T) {
	url := pgtest.DB(t)
	for _, r := range []string{"scd2_reader_a", "scd2_reader_b", "scd2_reader_c"} {
		execSQL(t, url, "do $$ begin create role "+r+"; exception when duplicate_object then null; end $$")
	}
	config := func(roles string) string {
		return "      materialized: scd2\n      unique_key: [tenant, id]\n      strategy: check\n      grants: {select: [" + roles + "]}\n"
	}
	dir := scd2Project(t, url, config("scd2_reader_a"))
	privileges := func() string {
		conn, err := pgx.Connect(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		var got string
		if err := conn.QueryRow(context.Background(), `select coalesce(string_agg(grantee || ':' || privilege_type, ',' order by grantee, privilege_type), '')
			from information_schema.role_table_grants where table_schema = 'public' and table_name = 'dim_c' and grantee like 'scd2_reader_%'`).Scan(&got); err != nil {
			t.Fatal(err)
		}
		return got
	}
	setConfig := func(roles string) {
		if err := os.WriteFile(filepath.Join(dir, "models", "schema.yml"), []byte("models:\n  - name: dim_c\n    config:\n"+config(roles)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i, step := range []struct {
		day    int
		roles  string
		byHand string
		args   []string
		want   string
	}{
		{day: 1, roles: "scd2_reader_a", args: []string{"run"}, want: "scd2_reader_a:SELECT"},
		{day: 2, roles: "scd2_reader_b", byHand: "grant update on public.dim_c to scd2_reader_c", args: []string{"run"}, want: "scd2_reader_a:SELECT,scd2_reader_b:SELECT,scd2_reader_c:UPDATE"},
		{day: 3, roles: "scd2_reader_b", byHand: "revoke select on public.dim_c from scd2_reader_a", args: []string{"run"}, want: "scd2_reader_b:SELECT,scd2_reader_c:UPDATE"},
		{day: 4, roles: "scd2_reader_c", byHand: "grant insert on public.dim_c to scd2_reader_a", args: []string{"run", "--full-refresh", "--full-refresh-scd2"},
			want: "scd2_reader_a:INSERT,scd2_reader_b:SELECT,scd2_reader_c:SELECT,scd2_reader_c:UPDATE"},
	} {
		setConfig(step.roles)
		execSQL(t, url, daySQL(step.day))
		if step.byHand != "" {
			execSQL(t, url, step.byHand)
		}
		if code, out := runStrata(dir, step.args...); code != 0 {
			t.Fatalf("step %d: exit %d\n%s", i, code, out)
		}
		if got := privileges(); got != step.want {
			t.Errorf("step %d (day %d, grants %s): privileges %q, want %q", i, step.day, step.roles, got, step.want)
		}
	}
}

// The parallel join of hard_deletes ignore changes a planner setting for
// one statement only: what a pre-hook set for the build is in force again
// for the post-hook, which fails the build otherwise.
func TestSCD2KeepsParallelSetting(t *testing.T) {
	url := pgtest.DB(t)
	dir := scd2Project(t, url, `      materialized: scd2
      unique_key: [tenant, id]
      strategy: check
      hard_deletes: ignore
      pre_hook: ["set local parallel_tuple_cost = 0.25"]
      post_hook: ["do $$ begin if current_setting('parallel_tuple_cost') <> '0.25' then raise exception 'parallel_tuple_cost is %', current_setting('parallel_tuple_cost'); end if; end $$"]
`)
	for day := 1; day <= 2; day++ {
		execSQL(t, url, daySQL(day))
		if code, out := runStrata(dir, "run"); code != 0 {
			t.Fatalf("day %d: exit %d\n%s", day, code, out)
		}
	}
	// The build did change the setting around its join, so the post-hook's
	// check was not trivially true.
	run := filepath.Join(dir, "target", "run", "models", "dim_c.sql")
	data, err := os.ReadFile(run)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"set_config('parallel_tuple_cost', '0', true)", "set_config('parallel_tuple_cost', current_setting('strata.parallel_tuple_cost'), true)"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("%s does not have %q:\n%s", run, want, data)
		}
	}
}

// Columns of a type without an equality (json, point) are compared by their
// text: an unchanged value makes no version, a changed one does, and NULL to
// NULL is no change.
func TestSCD2ComparesWithoutEquality(t *testing.T) {
	url := pgtest.DB(t)
	dir := scd2Project(t, url, "      materialized: scd2\n      unique_key: [tenant, id]\n      strategy: check\n")
	days := []string{
		`('a', 1, '{"x": 1}', point(1, 2), 'Ann'), ('a', 2, null, null, 'Bob')`,
		`('a', 1, '{"x": 1}', point(1, 2), 'Ann'), ('a', 2, null, null, 'Bob')`,
		`('a', 1, '{"x": 2}', point(1, 2), 'Ann'), ('a', 2, null, point(0, 0), 'Bob')`,
		`('a', 1, '{"x": 2}', point(1, 2), 'Anna'), ('a', 2, '[]', point(0, 0), 'Bob')`,
	}
	for i, rows := range days {
		execSQL(t, url, "create schema if not exists raw; drop table if exists raw.customers; create table raw.customers (tenant text, id int, doc json, spot point, name text); insert into raw.customers values "+rows)
		if code, out := runStrata(dir, "run"); code != 0 {
			t.Fatalf("day %d: exit %d\n%s", i+1, code, out)
		}
	}
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(context.Background(), `select id || ' ' || coalesce(doc::text, '-') || ' ' || coalesce(spot::text, '-') || ' ' || name || ' ' || is_current::text
		from public.dim_c order by id, valid_from`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`1 {"x": 1} (1,2) Ann false`,
		`1 {"x": 2} (1,2) Ann false`,
		`1 {"x": 2} (1,2) Anna true`,
		`2 - - Bob false`,
		`2 - (0,0) Bob false`,
		`2 [] (0,0) Bob true`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("history:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
