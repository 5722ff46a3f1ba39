package cli

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"strata/engine/internal/benchdir"
	"strata/engine/internal/pgtest"
	"strata/engine/pgname"
)

func BenchmarkPipelineCitusScale1(b *testing.B)  { benchPipelineCitus(b, 1) }
func BenchmarkPipelineCitusScale10(b *testing.B) { benchPipelineCitus(b, 10) }

// benchPipelineCitus times the example pipeline on one server and on the
// test harness's Citus cluster (a coordinator and two workers on this
// machine): the full build of day 1, then the day-2 incremental build, on
// an empty database each time. The two sides take turns (one server
// first in odd runs, Citus first in even ones), so that the load of a
// shared machine falls on both alike, and their ratios are taken run by
// run. On Citus, the coordinator logs the duration of every statement
// strata sends (log_min_duration_statement = 0 for strata's sessions, on
// both sides alike): the time in create_distributed_table and
// create_reference_table is the distribution DDL, reported as a share of
// the build's wall time. Data generation is not timed.
func benchPipelineCitus(b *testing.B, scale float64) {
	b.StopTimer()
	citus := pgtest.CitusDB(b)
	logFile := filepath.Join(pgtest.Citus(b).Coordinator.Root(), "server.log")
	day1 := pipelineProject(b, scale, 1)
	day2 := pipelineProject(b, scale, 2)
	kept := citusRelations(b, citus)
	b.Setenv("PGOPTIONS", "-c log_min_duration_statement=0")

	var single, onCitus [2][]time.Duration // full, day 2
	var ddl, statements [2]time.Duration
	var ddlCalls [2]int
	build := func(url string, citusSide bool) [2]time.Duration {
		dir := benchdir.New(b)
		if err := copyTree(day1, dir); err != nil {
			b.Fatal(err)
		}
		b.Setenv("DATABASE_URL", url)
		var out [2]time.Duration
		for day := range 2 {
			if day == 1 {
				if err := copyTree(filepath.Join(day2, "seeds"), filepath.Join(dir, "seeds")); err != nil {
					b.Fatal(err)
				}
			}
			off := fileSize(b, logFile)
			b.StartTimer()
			out[day] = timedBuild(b, dir)
			b.StopTimer()
			if citusSide {
				l := serverLog(b, logFile, off)
				ddl[day] += l.ddl
				ddlCalls[day] += l.calls
				statements[day] += l.statements
				for _, st := range l.slowest {
					b.Logf("day %d on Citus, a slowest statement: %v %s", day+1, st.d.Round(time.Millisecond), st.sql)
				}
			}
		}
		return out
	}
	for i := range b.N {
		sides := []bool{false, true}
		if i%2 == 1 {
			sides = []bool{true, false}
		}
		for _, c := range sides {
			if !c {
				d := build(pgtest.DB(b), false)
				single[0], single[1] = append(single[0], d[0]), append(single[1], d[1])
				continue
			}
			d := build(citus, true)
			onCitus[0], onCitus[1] = append(onCitus[0], d[0]), append(onCitus[1], d[1])
			dropCitusRelations(b, citus, kept)
		}
	}
	for day, name := range []string{"full", "day2"} {
		var ratios []float64
		var total time.Duration
		for i := range single[day] {
			ratios = append(ratios, onCitus[day][i].Seconds()/single[day][i].Seconds())
			total += onCitus[day][i]
		}
		b.ReportMetric(mean(single[day]), "s/single_"+name)
		b.ReportMetric(mean(onCitus[day]), "s/citus_"+name)
		b.ReportMetric(median(ratios), "citus/single_"+name)
		b.ReportMetric(ddl[day].Seconds()/total.Seconds(), "ddl_share_"+name)
		b.ReportMetric(float64(ddlCalls[day])/float64(b.N), "ddl_calls_"+name)
		b.ReportMetric(statements[day].Seconds()/float64(b.N), "s/citus_statements_"+name)
		b.Logf("%s: one server %v, Citus %v, Citus/one server run by run %.2f, distribution DDL %v in %d calls, all statements on the coordinator %v (summed over threads)",
			name, single[day], onCitus[day], ratios, ddl[day]/time.Duration(b.N), ddlCalls[day]/b.N, statements[day]/time.Duration(b.N))
	}
}

func mean(ds []time.Duration) float64 {
	var t time.Duration
	for _, d := range ds {
		t += d
	}
	return t.Seconds() / float64(len(ds))
}

func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func fileSize(b *testing.B, path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return st.Size()
}

// statementRe is a statement of the server log and its duration; ddlRe
// one that distributes a table.
var (
	statementRe = regexp.MustCompile(`duration: ([0-9.]+) ms +statement: (.*)`)
	ddlRe       = regexp.MustCompile(`^select create_(?:distributed|reference)_table\(`)
)

// logged is what the server logged of a build: the distribution calls
// (their time and number), the time of all statements, and the slowest.
type logged struct {
	ddl        time.Duration
	calls      int
	statements time.Duration
	slowest    []slowStatement
}

type slowStatement struct {
	d   time.Duration
	sql string
}

// serverLog reads what the server logged in path after offset off.
func serverLog(b *testing.B, path string, off int64) logged {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		b.Fatal(err)
	}
	var out logged
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		m := statementRe.FindSubmatch(sc.Bytes())
		if m == nil {
			continue
		}
		ms, err := strconv.ParseFloat(string(m[1]), 64)
		if err != nil {
			b.Fatal(err)
		}
		d := time.Duration(ms * float64(time.Millisecond))
		out.statements += d
		if ddlRe.Match(m[2]) {
			out.ddl += d
			out.calls++
		}
		out.slowest = append(out.slowest, slowStatement{d, string(m[2][:min(len(m[2]), 100)])})
		slices.SortFunc(out.slowest, func(x, y slowStatement) int { return int(y.d - x.d) })
		out.slowest = out.slowest[:min(len(out.slowest), 8)]
	}
	if err := sc.Err(); err != nil {
		b.Fatal(err)
	}
	if out.calls == 0 {
		b.Fatalf("the coordinator's log %s has no distribution DDL of the build: was log_min_duration_statement set?", path)
	}
	return out
}

// citusRelations are the schemas of the database at url, and the
// relations of its public schema, before a build.
func citusRelations(b *testing.B, url string) map[string]bool {
	kept := map[string]bool{}
	for _, r := range benchRows(b, url, `select 'schema', nspname from pg_namespace
		union all select 'public', relname from pg_class where relnamespace = 'public'::regnamespace`) {
		kept[r[0]+" "+r[1]] = true
	}
	return kept
}

// dropCitusRelations drops what a build made in the Citus database: its
// schemas, and its views and tables in public.
func dropCitusRelations(b *testing.B, url string, kept map[string]bool) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, r := range benchRows(b, url, `select 'schema', nspname, '' from pg_namespace
		union all select 'public', relname, case relkind when 'v' then 'view' when 'm' then 'materialized view' else 'table' end
		from pg_class where relnamespace = 'public'::regnamespace and relkind in ('r', 'p', 'v', 'm') and not relispartition`) {
		if kept[r[0]+" "+r[1]] {
			continue
		}
		sql := "drop schema if exists " + pgname.Ident(r[1]) + " cascade"
		if r[0] == "public" {
			sql = "drop " + r[2] + " if exists " + pgname.Rel{Schema: "public", Name: r[1]}.Quoted() + " cascade"
		}
		if _, err := conn.Exec(ctx, sql); err != nil {
			b.Fatal(err)
		}
	}
}

func benchRows(b *testing.B, url, sql string) [][]string {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, sql)
	if err != nil {
		b.Fatal(err)
	}
	var out [][]string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			b.Fatal(err)
		}
		r := make([]string, len(vals))
		for i, v := range vals {
			r[i], _ = v.(string)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	return out
}
