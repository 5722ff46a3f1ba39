package seed

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"strata/engine/internal/benchdir"
	"strata/engine/internal/pgtest"
	"strata/engine/local"
)

// writeBenchCSV writes rows of 8 columns of mixed types: bigint, text with
// leading zeros, numeric, boolean, date, timestamp, text (some quoted, some
// with the delimiter inside) and a bigint with NULLs.
func writeBenchCSV(tb testing.TB, rows int) string {
	tb.Helper()
	path := filepath.Join(benchdir.New(tb), "bench.csv")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "id,code,amount,active,day,created_at,name,qty")
	writeBenchRows(w, rand.New(rand.NewPCG(1, 2)), 0, rows)
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return path
}

// writeBenchRows writes rows with ids from+1 to from+n for writeBenchCSV.
func writeBenchRows(w io.Writer, rng *rand.Rand, from, n int) {
	names := []string{"alice", "bob", "carol", `"dave, jr."`, "erin", `"frank ""the tank"""`, "grace", "heidi"}
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := from; i < from+n; i++ {
		t := base.Add(time.Duration(rng.Int64N(int64(4 * 365 * 24 * time.Hour))))
		qty := ""
		if rng.IntN(10) != 0 {
			qty = fmt.Sprint(rng.IntN(1000))
		}
		fmt.Fprintf(w, "%d,%06d,%d.%02d,%t,%s,%s,%s,%s\n",
			i+1, rng.IntN(1000000), rng.IntN(100000), rng.IntN(100), rng.IntN(2) == 0,
			t.Format("2006-01-02"), t.Format("2006-01-02 15:04:05"), names[rng.IntN(len(names))], qty)
	}
}

func BenchmarkInfer1M(b *testing.B) {
	path := writeBenchCSV(b, 1_000_000)
	st, _ := os.Stat(path)
	b.SetBytes(st.Size())
	b.ResetTimer()
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Infer(f, Options{}); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}

// BenchmarkLoad1M compares Load with psql's \copy of the same file into the
// same table on the same server, and reports the ratio (issue 22's target:
// 1/1.3 = 0.77 or less); load-1-s is Load over one connection (Parts 1),
// as before loads went parallel. Each iteration runs several rounds,
// alternating the loaders, and keeps each one's fastest time.
func BenchmarkLoad1M(b *testing.B) {
	ctx := context.Background()
	path := writeBenchCSV(b, 1_000_000)
	url := pgtest.DB(b)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	bin, err := local.FindBinDir()
	if err != nil {
		b.Fatal(err)
	}
	psql := func(cmds ...string) time.Duration {
		args := []string{"-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url}
		for _, c := range cmds {
			args = append(args, "-c", c)
		}
		start := time.Now()
		if out, err := exec.Command(filepath.Join(bin, "psql"), args...).CombinedOutput(); err != nil {
			b.Fatalf("psql: %v\n%s", err, out)
		}
		return time.Since(start)
	}
	opts := Options{Path: "seeds/bench.csv", FullRefresh: true}
	if _, err := Load(ctx, conn, "public", "bench", path, opts); err != nil {
		b.Fatal(err)
	}
	copyCmd := fmt.Sprintf(`\copy bench from '%s' csv header`, path)
	one := opts
	one.Parts = 1
	b.ResetTimer()
	for b.Loop() {
		var ours, serial, plain, inTx []time.Duration
		for range 3 {
			start := time.Now()
			res, err := Load(ctx, conn, "public", "bench", path, opts)
			if err != nil {
				b.Fatal(err)
			}
			if res.Parts != Parts() && Parts() > 1 {
				b.Fatalf("loaded over %d connections, want %d", res.Parts, Parts())
			}
			ours = append(ours, time.Since(start))

			// Over one connection, as before the parallel load.
			start = time.Now()
			if _, err := Load(ctx, conn, "public", "bench", path, one); err != nil {
				b.Fatal(err)
			}
			serial = append(serial, time.Since(start))

			// psql -c "\copy ..." into the existing, emptied table.
			psql("truncate bench")
			plain = append(plain, psql(copyCmd))

			// The same in one transaction with the truncate, which also
			// skips WAL: the fairest comparison.
			inTx = append(inTx, psql("begin", "truncate bench", copyCmd, "commit"))
		}
		o, p, t := slices.Min(ours), slices.Min(plain), slices.Min(inTx)
		b.ReportMetric(o.Seconds(), "load-s")
		b.ReportMetric(slices.Min(serial).Seconds(), "load-1-s")
		b.ReportMetric(p.Seconds(), "psql-copy-s")
		b.ReportMetric(t.Seconds(), "psql-truncate-copy-s")
		b.ReportMetric(o.Seconds()/p.Seconds(), "ratio")
		b.ReportMetric(o.Seconds()/t.Seconds(), "ratio-vs-truncate")
	}
}

// BenchmarkAppend1M appends 2,000 rows to a seed of 1,000,000 rows, the
// daily growth of a history file, and compares that with a full reload of
// the same file. Each iteration appends several times and keeps the fastest.
func BenchmarkAppend1M(b *testing.B) {
	ctx := context.Background()
	path := writeBenchCSV(b, 1_000_000)
	conn, err := pgx.Connect(ctx, pgtest.DB(b))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	opts := Options{Path: "seeds/bench.csv"}
	if _, err := Load(ctx, conn, "public", "bench", path, opts); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	rows := 1_000_000
	grow := func(n int) {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			b.Fatal(err)
		}
		w := bufio.NewWriter(f)
		writeBenchRows(w, rng, rows, n)
		rows += n
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		var appends, fulls []time.Duration
		for range 3 {
			grow(2000)
			start := time.Now()
			res, err := Load(ctx, conn, "public", "bench", path, opts)
			if err != nil {
				b.Fatal(err)
			}
			appends = append(appends, time.Since(start))
			if !res.Appended || res.AppendedRows != 2000 || res.Rows != int64(rows) {
				b.Fatalf("not an append of 2000 rows: %+v", res)
			}
		}
		for range 2 {
			start := time.Now()
			if _, err := Load(ctx, conn, "public", "bench", path, Options{Path: opts.Path, FullRefresh: true}); err != nil {
				b.Fatal(err)
			}
			fulls = append(fulls, time.Since(start))
		}
		a, f := slices.Min(appends), slices.Min(fulls)
		b.ReportMetric(float64(a.Microseconds())/1000, "append-ms")
		b.ReportMetric(float64(f.Microseconds())/1000, "full-ms")
		b.ReportMetric(f.Seconds()/a.Seconds(), "speedup")
	}
}
