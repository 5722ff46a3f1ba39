package run_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"strata/engine/internal/pgtest"
)

// BenchmarkSCD2Update: a 1,000,000-row dimension (check strategy on all
// columns, hard_deletes invalidate, so deletions are looked for too) whose
// source changed 1% of its rows, against a plain create table as select of the
// same 1,000,000 rows. Reports both times and their ratio (target: under 5).
//
//	go test -run '^$' -bench SCD2 -benchtime 1x ./engine/run
func BenchmarkSCD2Update(b *testing.B) {
	const rows = 1_000_000
	url := pgtest.DB(b)
	ctx := context.Background()
	conn := connect(b, url)
	defer conn.Close(ctx)
	mustExec(b, conn, `create schema raw;
		create table raw.customers as
		select g as id, 'customer ' || g as name, 'city ' || (g % 1000) as city,
		       (array['consumer', 'corporate', 'home office'])[1 + g % 3] as segment,
		       'c' || g || '@example.com' as email, timestamptz '2024-01-01' + g * interval '1 second' as updated_at
		from generate_series(1, `+itoa(rows)+`) as g;
		analyze raw.customers`)
	dir := scd2Project(b, url, "      materialized: scd2\n      unique_key: id\n      strategy: check\n      hard_deletes: invalidate\n")
	if code, out := runStrata(dir, "run"); code != 0 {
		b.Fatalf("first build: exit %d\n%s", code, out)
	}
	var scd2, ctas time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		// 1% of the rows change (a different 1% each time).
		mustExec(b, conn, "update raw.customers set city = city || '+', updated_at = updated_at + interval '1 day' where id % 100 = "+itoa(i%100))
		for _, q := range []string{"drop table if exists public.ctas", "vacuum analyze raw.customers", "checkpoint"} {
			mustExec(b, conn, q)
		}
		start := time.Now()
		mustExec(b, conn, "create table public.ctas as select * from raw.customers")
		ctas += time.Since(start)
		mustExec(b, conn, "checkpoint")
		b.StartTimer()
		start = time.Now()
		code, out := runStrata(dir, "run")
		scd2 += time.Since(start)
		b.StopTimer()
		if code != 0 {
			b.Fatalf("exit %d\n%s", code, out)
		}
	}
	var total, current int64
	if err := conn.QueryRow(ctx, "select count(*), count(*) filter (where is_current) from public.dim_c").Scan(&total, &current); err != nil {
		b.Fatal(err)
	}
	if want := int64(rows + rows/100*b.N); total != want || current != rows {
		b.Fatalf("the dimension has %d versions, %d current; want %d and %d", total, current, want, rows)
	}
	b.ReportMetric(float64(scd2.Milliseconds())/float64(b.N), "scd2-ms/op")
	b.ReportMetric(float64(ctas.Milliseconds())/float64(b.N), "ctas-ms/op")
	b.ReportMetric(float64(scd2)/float64(ctas), "ratio")
}

func itoa(n int) string { return strconv.Itoa(n) }

func connect(tb testing.TB, url string) *pgx.Conn {
	tb.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		tb.Fatal(err)
	}
	return conn
}

func mustExec(tb testing.TB, conn *pgx.Conn, sql string) {
	tb.Helper()
	if _, err := conn.Exec(context.Background(), sql); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
}
