package seed

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"strata/engine/adapter/postgres"
	"strata/engine/diag"
	"strata/engine/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func connect(t testing.TB) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgtest.DB(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func writeFile(t testing.TB, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// dump renders a query's rows as "a|b" lines, NULL as "<null>".
func dump(t *testing.T, conn *pgx.Conn, sql string) string {
	t.Helper()
	rows, err := conn.Query(context.Background(), sql)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			if v == nil {
				parts[i] = "<null>"
			} else {
				parts[i] = fmt.Sprint(v)
			}
		}
		lines = append(lines, strings.Join(parts, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

func columnsOf(t *testing.T, conn *pgx.Conn, schema, table string) string {
	t.Helper()
	return dump(t, conn, fmt.Sprintf(`select attname, format_type(atttypid, atttypmod) from pg_attribute
		where attrelid = '%s'::regclass and attnum > 0 and not attisdropped order by attnum`,
		pgx.Identifier{schema, table}.Sanitize()))
}

func TestLoad(t *testing.T) {
	ctx := context.Background()
	conn := connect(t)
	file := writeFile(t, "orders.csv", "id,\"Order Code\",amount,paid,day,at,note\r\n"+
		"1,01234,1.50,true,2024-01-02,2024-01-02 03:04:05,\"multi\r\nline\"\r\n"+
		"2,,2,F,,2024-01-02T03:04:05.5,\"\"\r\n"+
		"3,9,,,2024-02-29,,plain\r\n")
	opts := Options{Path: "seeds/orders.csv"}
	res, err := Load(ctx, conn, "raw", "orders", file, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Skipped || res.Rows != 3 {
		t.Fatalf("result = %+v", res)
	}
	if got, want := columnsOf(t, conn, "raw", "orders"), "id|bigint\nOrder Code|text\namount|numeric\npaid|boolean\nday|date\nat|timestamp without time zone\nnote|text"; got != want {
		t.Errorf("columns:\n%s\nwant:\n%s", got, want)
	}
	got := dump(t, conn, `select id, "Order Code", amount::text, paid, day::text, at::text, note, note = '' from raw.orders order by id`)
	want := "1|01234|1.50|true|2024-01-02|2024-01-02 03:04:05|multi\r\nline|false\n" +
		"2|<null>|2|false|<null>|2024-01-02 03:04:05.5|<empty>|true\n" +
		"3|9|<null>|<null>|2024-02-29|<null>|plain|false"
	if got != strings.Replace(want, "<empty>", "", 1) {
		t.Errorf("rows:\n%q\nwant:\n%q", got, want)
	}
	if c := dump(t, conn, `select obj_description('raw.orders'::regtype, 'pg_type')`); c != encodeComment(mustInfer(t, file, opts)) {
		t.Errorf("comment = %q", c)
	}

	// Unchanged: skipped, unless full refresh.
	res, err = Load(ctx, conn, "raw", "orders", file, opts)
	if err != nil || !res.Skipped || res.Rows != 3 {
		t.Fatalf("second load: %+v, %v", res, err)
	}
	opts.FullRefresh = true
	res, err = Load(ctx, conn, "raw", "orders", file, opts)
	if err != nil || res.Skipped {
		t.Fatalf("full refresh: %+v, %v", res, err)
	}

	// Changed config: reloaded with the new type.
	opts = Options{Path: "seeds/orders.csv", ColumnTypes: map[string]string{"amount": "numeric(10,3)", "id": "int"}}
	res, err = Load(ctx, conn, "raw", "orders", file, opts)
	if err != nil || res.Skipped {
		t.Fatalf("new column_types: %+v, %v", res, err)
	}
	if got := dump(t, conn, `select id, amount::text from raw.orders where id = 1`); got != "1|1.500" {
		t.Errorf("after column_types: %q", got)
	}
	if got := columnsOf(t, conn, "raw", "orders"); !strings.HasPrefix(got, "id|integer\nOrder Code|text\namount|numeric(10,3)") {
		t.Errorf("columns after column_types:\n%s", got)
	}
}

func mustInfer(t *testing.T, file string, opts Options) Schema {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := Infer(f, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLoadBadRowKeepsTable(t *testing.T) {
	ctx := context.Background()
	conn := connect(t)
	good := writeFile(t, "x.csv", "id,name\n1,a\n2,b\n")
	if _, err := Load(ctx, conn, "public", "x", good, Options{Path: "seeds/x.csv"}); err != nil {
		t.Fatal(err)
	}
	const before = "1|a\n2|b"

	// A CSV error, found before the database is touched.
	bad := writeFile(t, "x.csv", "id,name\n1,\"a\nb\"\n2,b,c\n")
	_, err := Load(ctx, conn, "public", "x", bad, Options{Path: "seeds/x.csv"})
	if err == nil || err.Error() != "seeds/x.csv:4:5: row has 3 fields, the header has 2 (a value that holds the delimiter \",\" must be quoted, as in \"1,5\"; or set the seed's delimiter, if the file uses another)" {
		t.Errorf("err = %v", err)
	}
	if got := dump(t, conn, "select * from x order by id"); got != before {
		t.Errorf("table changed: %q", got)
	}

	// A database error during COPY, placed on the physical line of its row.
	bad = writeFile(t, "x.csv", "id,name\n1,\"a\nb\"\n99999,b\n")
	_, err = Load(ctx, conn, "public", "x", bad, Options{Path: "seeds/x.csv", ColumnTypes: map[string]string{"id": "smallint"}})
	want := `seeds/x.csv:4:1: column "id": value "99999" is out of range for type smallint`
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
	var d diag.Diagnostic
	if !errors.As(err, &d) || d.Pos.Line != 4 {
		t.Errorf("not a diagnostic at line 4: %#v", err)
	}
	if got := dump(t, conn, "select * from x order by id"); got != before {
		t.Errorf("table changed: %q", got)
	}
	// The value's own line and column, in a record spanning lines.
	bad = writeFile(t, "x.csv", "name,id\n\"a\nb\",1\n\"x\ny\",99999\n")
	_, err = Load(ctx, conn, "public", "x", bad, Options{Path: "seeds/x.csv", ColumnTypes: map[string]string{"id": "smallint"}})
	want = `seeds/x.csv:5:4: column "id": value "99999" is out of range for type smallint`
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
	if got := dump(t, conn, "select count(*) from pg_class where relname like 'x\\_\\_%'"); got != "0" {
		t.Errorf("temporary table left behind: %s", got)
	}
}

func TestLoadGzipDelimiterAndNames(t *testing.T) {
	ctx := context.Background()
	conn := connect(t)
	path := filepath.Join(t.TempDir(), "people.csv.gz")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	fmt.Fprint(zw, "\"Weird \"\"Name\"\"\";größe;select\n1;2,5;x\n2;3;\"a;b\"\n")
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()

	var calls []int64
	var size int64
	opts := Options{Path: "seeds/people.csv.gz", Delimiter: ';', Progress: func(done, total int64) { calls = append(calls, done); size = total }}
	res, err := Load(ctx, conn, "My Schema", "people", path, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 2 || len(res.Columns) != 3 || res.Columns[0].Name != `Weird "Name"` {
		t.Errorf("result = %+v", res)
	}
	if got := dump(t, conn, `select "Weird ""Name""", "größe", "select" from "My Schema".people order by 1`); got != "1|2,5|x\n2|3|a;b" {
		t.Errorf("rows = %q", got)
	}
	st, _ := os.Stat(path)
	if len(calls) == 0 || calls[len(calls)-1] != st.Size() || size != st.Size() {
		t.Errorf("progress calls %v of %d, want the last to be the file size %d", calls, size, st.Size())
	}
}

func TestLoadDependentView(t *testing.T) {
	ctx := context.Background()
	conn := connect(t)
	swaps := 0
	opts := Options{Path: "seeds/c.csv", BeforeSwap: func(context.Context, pgx.Tx) error { swaps++; return nil }}
	if _, err := Load(ctx, conn, "raw", "c", writeFile(t, "c.csv", "id,name\n1,a\n"), opts); err != nil {
		t.Fatal(err)
	}
	if swaps != 0 {
		t.Errorf("BeforeSwap called %d times without dependent views", swaps)
	}
	if _, err := conn.Exec(ctx, "create view public.v as select * from raw.c; comment on view public.v is 'kept'"); err != nil {
		t.Fatal(err)
	}

	// Same columns: the table is truncated and refilled, the view stays.
	if _, err := Load(ctx, conn, "raw", "c", writeFile(t, "c.csv", "id,name\n2,b\n3,c\n"), opts); err != nil {
		t.Fatal(err)
	}
	if got := dump(t, conn, "select * from public.v order by id"); got != "2|b\n3|c" {
		t.Errorf("view reads %q", got)
	}
	if swaps != 0 {
		t.Errorf("BeforeSwap called %d times for a refill in place", swaps)
	}

	// A column added: the table is replaced and the view recreated on it.
	if _, err := Load(ctx, conn, "raw", "c", writeFile(t, "c.csv", "id,name,extra\n4,d,x\n"), opts); err != nil {
		t.Fatal(err)
	}
	if got := dump(t, conn, "select * from public.v order by id"); got != "4|d" {
		t.Errorf("view reads %q", got)
	}
	if got := dump(t, conn, "select obj_description('public.v'::regclass, 'pg_class')"); got != "kept" {
		t.Errorf("view comment %q", got)
	}
	if swaps != 1 {
		t.Errorf("BeforeSwap called %d times, want 1", swaps)
	}

	// A type changed by inference: the view now reads text.
	if _, err := Load(ctx, conn, "raw", "c", writeFile(t, "c.csv", "id,name,extra\nx5,e,y\n"), opts); err != nil {
		t.Fatal(err)
	}
	if got := dump(t, conn, "select id, pg_typeof(id)::text from public.v"); got != "x5|text" {
		t.Errorf("view reads %q", got)
	}

	// A column the view selects is gone: refused, table and view as they were.
	_, err := Load(ctx, conn, "raw", "c", writeFile(t, "c.csv", "id,extra\n6,z\n"), opts)
	var de *postgres.DependentError
	if !errors.As(err, &de) || de.View.String() != "public.v" || !strings.HasPrefix(err.Error(), `seed "c": refusing to replace raw.c: view public.v depends on it and cannot be recreated on the new version (`) ||
		!strings.HasSuffix(err.Error(), `The file's columns changed since the last load: id is bigint, was text ("6" at seeds/c.csv:2:1 made it bigint); column name is gone (fix the file, or pin a column's type with column_types)`) {
		t.Fatalf("err = %v", err)
	}
	if got := dump(t, conn, "select * from public.v"); got != "x5|e" {
		t.Errorf("view reads %q", got)
	}
	if got := dump(t, conn, "select * from raw.c"); got != "x5|e|y" {
		t.Errorf("table holds %q", got)
	}
	if got := dump(t, conn, "select count(*) from pg_class where relname = 'c__strata_new'"); got != "0" {
		t.Errorf("%s temporary tables left", got)
	}
}

func TestLoadNotATable(t *testing.T) {
	ctx := context.Background()
	conn := connect(t)
	if _, err := conn.Exec(ctx, "create view s as select 1 as id"); err != nil {
		t.Fatal(err)
	}
	_, err := Load(ctx, conn, "public", "s", writeFile(t, "s.csv", "id\n1\n"), Options{Path: "seeds/s.csv"})
	if err == nil || err.Error() != `seed "s": public.s exists and is not a table (drop it or give the seed another name)` {
		t.Errorf("err = %v", err)
	}
}

// TestLoadSkipsWAL checks that COPY into the table created in its own
// transaction writes (almost) no WAL on a wal_level=minimal server.
func TestLoadSkipsWAL(t *testing.T) {
	ctx := context.Background()
	conn := connect(t)
	var b strings.Builder
	b.WriteString("id,payload\n")
	for i := range 50000 {
		fmt.Fprintf(&b, "%d,%s\n", i, strings.Repeat("x", 100))
	}
	file := writeFile(t, "w.csv", b.String())
	lsn := func() (n int64) {
		if err := conn.QueryRow(ctx, "select pg_current_wal_insert_lsn() - '0/0'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	start := lsn()
	if _, err := Load(ctx, conn, "public", "w", file, Options{}); err != nil {
		t.Fatal(err)
	}
	wal := lsn() - start
	var size int64
	if err := conn.QueryRow(ctx, "select pg_relation_size('w')").Scan(&size); err != nil {
		t.Fatal(err)
	}
	if wal > size/10 {
		t.Errorf("loading a %d-byte table wrote %d bytes of WAL", size, wal)
	}
}

// TestBeforeLoad: BeforeLoad (a seed's pre_hook) runs in the transaction of
// a full load and of an append, before the table changes, and not when the
// seed is skipped; when it fails, the table is as it was.
func TestBeforeLoad(t *testing.T) {
	conn := connect(t)
	s := newSeedTable(t, conn, "hooked", ".csv")
	var calls []string
	opts := Options{BeforeLoad: func(ctx context.Context, tx pgx.Tx) error {
		var rows int64
		err := tx.QueryRow(ctx, "select count(*) from pg_class where oid = to_regclass('public.hooked')").Scan(&rows)
		if err == nil && rows == 1 {
			err = tx.QueryRow(ctx, "select count(*) from public.hooked").Scan(&rows)
		}
		calls = append(calls, fmt.Sprint(rows))
		return err
	}}
	s.mustLoad("id\n1\n2\n", opts)    // full load: no table yet
	s.mustLoad("id\n1\n2\n", opts)    // skipped
	s.mustLoad("id\n1\n2\n3\n", opts) // append: the old 2 rows
	s.mustLoad("id,x\n1,a\n", opts)   // full load over 3 rows
	if got, want := strings.Join(calls, " "), "0 2 3"; got != want {
		t.Errorf("BeforeLoad saw rows %q, want %q (one call per load, none when skipped)", got, want)
	}
	opts.BeforeLoad = func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "delete from public.hooked"); err != nil {
			return err
		}
		return errors.New("hook failed")
	}
	if _, err := s.load("id,x\n1,a\n2,b\n", opts); err == nil || err.Error() != "hook failed" { // returned as it is: the runner names the seed
		t.Fatalf("load with a failing BeforeLoad: got %v", err)
	}
	if got := dump(t, conn, "select count(*) from public.hooked"); got != "1" {
		t.Errorf("after a failed BeforeLoad the table has %s rows, want the old 1", got)
	}
}

// TestLoadTypeChangedUnderAView: a new value that makes a column text (a
// bad row of the day's export) cannot be read by a view that compares the
// column with a number. The error said only that the view could not be
// recreated (operator does not exist: text >= numeric); it says which
// column of the file changed type, and which value made it so, where: the
// file's columns changed, but not which of its rows to fix.
func TestLoadTypeChangedUnderAView(t *testing.T) {
	ctx := context.Background()
	conn := connect(t)
	tests := []struct {
		name, csv string
		types     map[string]string
		want      string
	}{
		{"a word among numbers", "id,cost\n1,2.50\n2,n/a\n", nil, `cost is text, was numeric ("n/a" at seeds/o.csv:3:3 made it text)`},
		{"a quoted empty string", "id,cost\n1,2.50\n2,\"\"\n", nil, `cost is text, was numeric ("" at seeds/o.csv:3:3 made it text)`},
		{"on a later line of a quoted field", "id,note,cost\n1,\"a\nb\",3\n2,x,\"4\n\"\n", nil, "cost is text, was numeric (\"4\\n\" at seeds/o.csv:4:5 made it text)"},
		{"a long value", "id,cost\n1,2\n2," + strings.Repeat("é", 50) + "\n", nil, `cost is text, was numeric ("` + strings.Repeat("é", 40) + `…" at seeds/o.csv:3:3 made it text)`},
		{"no value left", "id,cost\n1,\n2,\n", nil, "cost is text, was numeric (no row has a value in it)"},
		{"set by column_types", "id,cost\n1,2.50\n", map[string]string{"cost": "text"}, "cost is text, was numeric"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			table := fmt.Sprintf("o%d", i)
			opts := Options{Path: "seeds/o.csv"}
			if _, err := Load(ctx, conn, "raw", table, writeFile(t, "o.csv", "id,note,cost\n1,x,2.50\n"), opts); err != nil {
				t.Fatal(err)
			}
			if _, err := conn.Exec(ctx, "create view public.v"+table+" as select id from raw."+table+" where cost >= 0"); err != nil {
				t.Fatal(err)
			}
			opts.ColumnTypes = tc.types
			_, err := Load(ctx, conn, "raw", table, writeFile(t, "o.csv", tc.csv), opts)
			var de *postgres.DependentError
			gone := ""
			if !strings.Contains(tc.csv, "note") {
				gone = "; column note is gone"
			}
			want := "— nothing was changed. The file's columns changed since the last load: " + tc.want + gone + " (fix the file, or pin a column's type with column_types)"
			if !errors.As(err, &de) || !strings.HasSuffix(err.Error(), want) {
				t.Fatalf("err = %v\nwant it to end %s", err, want)
			}
			if got := dump(t, conn, "select id, cost::text from raw."+table); got != "1|2.50" {
				t.Errorf("table holds %q", got)
			}
		})
	}
}

// statements records the SQL of every statement sent on a connection and
// on those opened with its config (a pgx tracer on real connections to
// the test server).
type statements struct {
	mu  sync.Mutex
	sql []string
}

func (s *statements) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sql = append(s.sql, d.SQL)
	return ctx
}

func (s *statements) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// count is how many of the statements hold part.
func (s *statements) count(part string) int {
	n := 0
	for _, q := range s.sql {
		if strings.Contains(q, part) {
			n++
		}
	}
	return n
}

// TestLoadIntoAReadySchemaAsksNothingOfIt: a seed loaded by a run, which
// made sure of its schema once for the run (SchemaReady), sends nothing
// about the schema: each of the example's eight seeds asked again whether
// raw exists, a round trip each on every build. Without SchemaReady the
// load still makes the schema it needs; both ways the rows are loaded,
// over one connection and over several.
func TestLoadIntoAReadySchemaAsksNothingOfIt(t *testing.T) {
	ctx := context.Background()
	cfg, err := pgx.ParseConfig(pgtest.DB(t))
	if err != nil {
		t.Fatal(err)
	}
	trace := &statements{}
	cfg.Tracer = trace
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	defer func(m int64, p, s int) { parallelMin, pieceSize, sampleSize = m, p, s }(parallelMin, pieceSize, sampleSize)
	parallelMin, pieceSize, sampleSize = 0, 16, 300
	var b strings.Builder
	b.WriteString("id,name\n")
	for i := range 200 {
		fmt.Fprintf(&b, "%d,n%d\n", i, i)
	}
	file := writeFile(t, "people.csv", b.String())
	const asked = "from pg_namespace where nspname"
	for _, tc := range []struct {
		name   string
		schema string
		ready  bool
		parts  int
		asks   bool // the schema is asked for
	}{
		{"new schema, one connection", "fresh_one", false, 1, true},
		{"new schema, several connections", "fresh_many", false, 3, true},
		{"ready schema, one connection", "fresh_one", true, 1, false},
		{"ready schema, several connections", "fresh_many", true, 3, false},
	} {
		trace.sql = nil
		res, err := Load(ctx, conn, tc.schema, "people", file, Options{Path: "seeds/people.csv", FullRefresh: true, Parts: tc.parts, SchemaReady: tc.ready})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if res.Rows != 200 || (res.Parts > 1) != (tc.parts > 1) {
			t.Errorf("%s: %d rows over %d connections", tc.name, res.Rows, res.Parts)
		}
		if got := dump(t, conn, "select count(*) from "+tc.schema+".people"); got != "200" {
			t.Errorf("%s: %s rows in the table", tc.name, got)
		}
		if got := trace.count(asked) > 0; got != tc.asks {
			t.Errorf("%s: asked for the schema %d times, want asked %v:\n%s", tc.name, trace.count(asked), tc.asks, strings.Join(trace.sql, "\n---\n"))
		}
	}
}
