package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"strata/engine/internal/bare"
	"strata/engine/internal/pgtest"
)

// The bare-SQL baselines of issue 22: strata against the minimal statements
// a careful person would type, sent over pgx with the same parallelism
// (engine/internal/bare), on the same data, alternating run by run. Each
// benchmark reports the median time of each side and the median of the
// pair ratios (strata/bare-*), with its spread (min-*, max-*).
// STRATA_BENCH_PAIRS sets the number of pairs (default 5).

// benchPairs is the number of alternating pairs a bare benchmark runs.
func benchPairs() int {
	if n, err := strconv.Atoi(os.Getenv("STRATA_BENCH_PAIRS")); err == nil && n > 0 {
		return n
	}
	return 5
}

// tableTree is the workload of BenchmarkBareTables200: n table models of
// 2,000 rows each in a tree (model i reads model (i-1)/2): a chain eight
// deep that fans out at every level. It returns the project's files and the
// same models as bare statements (drop, then create table as) in schema.
func tableTree(n int, schema string) (map[string]string, []bare.Model) {
	files := map[string]string{"project.yaml": "name: bench\nmodels:\n  '.': {materialized: table}\n"}
	var models []bare.Model
	for i := range n {
		name := fmt.Sprintf("m%03d", i)
		body, bareBody := "select g as id, g % 100 as grp, md5(g::text) as txt from generate_series(1, 2000) as g", ""
		var after []int
		if i == 0 {
			bareBody = body
		} else {
			p := (i - 1) / 2
			body = fmt.Sprintf(`select id, grp + 1 as grp, txt from {{ ref "m%03d" }}`, p)
			bareBody = fmt.Sprintf(`select id, grp + 1 as grp, txt from %s.m%03d`, schema, p)
			after = []int{p}
		}
		files["models/"+name+".sql"] = body
		models = append(models, bare.Model{Name: name, After: after, Stmts: []string{
			fmt.Sprintf("drop table if exists %s.%s", schema, name),
			fmt.Sprintf("create table %s.%s as %s", schema, name, bareBody),
		}})
	}
	return files, models
}

// BenchmarkBareTables200: `strata run` of 200 small table models (tableTree)
// rebuilding tables that exist, against drop + create table as of each in
// graph order, with one worker and with four.
func BenchmarkBareTables200(b *testing.B) {
	for _, threads := range []int{1, 4} {
		b.Run(fmt.Sprintf("threads%d", threads), func(b *testing.B) {
			for range b.N {
				url, bareURL := pgtest.DB(b), pgtest.DB(b)
				files, models := tableTree(200, "public")
				dir := runnerBenchProject(b, url, files)
				runBare := func() time.Duration {
					d, err := bare.Run(b.Context(), bareURL, models, threads)
					if err != nil {
						b.Fatal(err)
					}
					return d
				}
				// The first build of each side creates the tables; what is
				// measured is the everyday case, building them again.
				timeRun(b, dir, threads)
				runBare()
				p := bare.Compare(benchPairs(), func() time.Duration { return timeRun(b, dir, threads) }, runBare)
				p.Report(b, fmt.Sprintf("threads%d", threads))
			}
		})
	}
}

// BenchmarkBare1M: a table of 1,000,000 rows, a view on it and a table of
// the view, whose id is tested not_null and unique. `strata build` (which
// audits the tests inside the build) against the statements by hand (drop
// and create the tables and the view, then the two aggregates that check
// the tests); and `strata test --threads 1` of the two tests against the
// two aggregates alone.
func BenchmarkBare1M(b *testing.B) {
	for range b.N {
		url, bareURL := pgtest.DB(b), pgtest.DB(b)
		base := "select g as id, g % 1000 as grp, md5(g::text) as txt from generate_series(1, 1000000) as g"
		files := map[string]string{
			"project.yaml":      "name: bench\n",
			"models/base.sql":   "{{ config \"materialized\" \"table\" }}\n" + base,
			"models/mid.sql":    "select id, grp * 2 as grp2, txt from {{ ref \"base\" }}",
			"models/final.sql":  "{{ config \"materialized\" \"table\" }}\nselect * from {{ ref \"mid\" }}",
			"models/schema.yml": "models:\n  - name: final\n    columns:\n      - {name: id, tests: [not_null, unique]}\n",
		}
		dir := runnerBenchProject(b, url, files)
		checks := []string{
			"select count(*) filter (where id is null) from public.final",
			"select count(id) - count(distinct id) from public.final",
		}
		build := []bare.Model{
			{Name: "drop", Stmts: []string{"drop table if exists public.final", "drop view if exists public.mid", "drop table if exists public.base"}},
			{Name: "base", Stmts: []string{"create table public.base as " + base}, After: []int{0}},
			{Name: "mid", Stmts: []string{"create view public.mid as select id, grp * 2 as grp2, txt from public.base"}, After: []int{1}},
			{Name: "final", Stmts: []string{"create table public.final as select * from public.mid"}, After: []int{2}},
			{Name: "tests", Stmts: checks, After: []int{3}},
		}
		strata := func(args ...string) time.Duration {
			start := time.Now()
			code, out := strataB(b, dir, args...)
			if code != 0 {
				b.Fatalf("strata %s: %d\n%s", strings.Join(args, " "), code, out)
			}
			return time.Since(start)
		}
		runBare := func(models []bare.Model, workers int) time.Duration {
			d, err := bare.Run(b.Context(), bareURL, models, workers)
			if err != nil {
				b.Fatal(err)
			}
			return d
		}
		strata("build")
		runBare(build, 4)
		p := bare.Compare(benchPairs(), func() time.Duration { return strata("build") }, func() time.Duration { return runBare(build, 4) })
		p.Report(b, "build")
		tests := []bare.Model{{Name: "tests", Stmts: checks}}
		// The whole command (loading the project, connecting, the
		// artifacts) and the tests' own time in it (their execution_time).
		var own bare.Pairs
		p = bare.Compare(benchPairs(), func() time.Duration {
			d := strata("test", "--threads", "1")
			var sum time.Duration
			for _, r := range runResultsOf(b, dir) {
				sum += time.Duration(r.ExecutionTime * float64(time.Second))
			}
			own.Strata = append(own.Strata, sum)
			return d
		}, func() time.Duration { return runBare(tests, 1) })
		own.Bare = p.Bare
		p.Report(b, "test")
		own.Report(b, "test-own")
	}
}

// BenchmarkBareTables200Steps splits the gap of BenchmarkBareTables200 with
// one thread into steps, four runs in turn (strata, bare, bare with the
// analyze strata does, strata's own statements replayed): bare+analyze/bare
// is what analyze costs; replay/bare+analyze what strata's other statements
// cost on the server (the lock, the new name and the rename, the record in
// strata_meta, one transaction); strata/replay what strata costs besides its
// statements (loading the project, connecting, the run's bookkeeping, its
// files). The replay sends each model's statements, as target/run/ has
// them, in one round trip, as strata does. In the metrics of a step,
// "strata" is its first side and "bare" its second (strata/bare-analyze is
// bare+analyze over bare).
func BenchmarkBareTables200Steps(b *testing.B) {
	for range b.N {
		url, bareURL := pgtest.DB(b), pgtest.DB(b)
		files, models := tableTree(200, "public")
		dir := runnerBenchProject(b, url, files)
		analyzed := make([]bare.Model, len(models))
		read := map[int]bool{}
		for _, m := range models {
			for _, p := range m.After {
				read[p] = true
			}
		}
		for i, m := range models {
			analyzed[i] = m
			if read[i] {
				analyzed[i].Stmts = append(append([]string{}, m.Stmts...), "analyze public."+m.Name)
			}
		}
		run := func(url string, models []bare.Model) time.Duration {
			d, err := bare.Run(b.Context(), url, models, 1)
			if err != nil {
				b.Fatal(err)
			}
			return d
		}
		// The statements of a rebuild (the first build has no old table).
		timeRun(b, dir, 1)
		timeRun(b, dir, 1)
		replayed := make([]bare.Model, len(models))
		for i, m := range models {
			sql, err := os.ReadFile(filepath.Join(dir, "target", "run", "models", m.Name+".sql"))
			if err != nil {
				b.Fatal(err)
			}
			replayed[i] = bare.Model{Name: m.Name, After: m.After, Stmts: []string{string(sql)}}
		}
		run(bareURL, models)
		var s, p, a, r []time.Duration
		for range benchPairs() {
			s = append(s, timeRun(b, dir, 1))
			p = append(p, run(bareURL, models))
			a = append(a, run(bareURL, analyzed))
			r = append(r, run(url, replayed))
		}
		ratio := func(x, y []time.Duration, name string) {
			bare.Pairs{Strata: x, Bare: y}.Report(b, name)
		}
		ratio(a, p, "analyze")
		ratio(r, a, "statements")
		ratio(s, r, "client")
		ratio(s, p, "all")
	}
}
