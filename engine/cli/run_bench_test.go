package cli

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"strata/engine/internal/benchdir"
	"strata/engine/internal/pgtest"
	"strata/engine/local"
)

// viewProject writes 1,000 trivial view models: a chain (each reads the
// previous one) or a wide fan (all read one root).
func viewProject(b *testing.B, url, shape string) string {
	files := map[string]string{"project.yaml": "name: bench\n", "models/m0000.sql": "select 1 as x"}
	for i := 1; i < 1000; i++ {
		parent := 0
		if shape == "chain" {
			parent = i - 1
		}
		files[fmt.Sprintf("models/m%04d.sql", i)] = fmt.Sprintf(`select x from {{ ref "m%04d" }}`, parent)
	}
	return runnerBenchProject(b, url, files)
}

func runnerBenchProject(b *testing.B, url string, files map[string]string) string {
	dir := benchdir.New(b)
	for name, body := range files {
		if name == "project.yaml" {
			body += "\ntarget: t\ntargets:\n  t: {type: postgres, url: '" + url + "', threads: 4}\n"
		}
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}

func timeRun(b *testing.B, dir string, threads int) time.Duration {
	start := time.Now()
	if code := Main(b.Context(), []string{"--project-dir", dir, "--log-format", "json", "run", "--threads", fmt.Sprint(threads)}, runnerDiscard{}, runnerDiscard{}); code != 0 {
		b.Fatalf("strata run exited %d", code)
	}
	return time.Since(start)
}

type runnerDiscard struct{}

func (runnerDiscard) Write(p []byte) (int, error) { return len(p), nil }

// replay runs, with psql in one session, the statements strata executed
// (target/run/), in the order it ran them.
func replay(b *testing.B, dir, url string) time.Duration {
	rr := runnerStarted(b, dir)
	sort.Slice(rr, func(i, j int) bool { return rr[i][0] < rr[j][0] })
	var all strings.Builder
	for _, r := range rr {
		sql, err := os.ReadFile(filepath.Join(dir, r[1]))
		if err != nil {
			b.Fatal(err)
		}
		all.Write(sql)
		all.WriteString("\n")
	}
	file := filepath.Join(benchdir.New(b), "all.sql")
	if err := os.WriteFile(file, []byte(all.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	bin, err := local.FindBinDir()
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	out, err := exec.Command(filepath.Join(bin, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-f", file).CombinedOutput()
	if err != nil {
		b.Fatalf("psql: %v\n%s", err, out)
	}
	return time.Since(start)
}

func runnerStarted(b *testing.B, dir string) [][2]string {
	var out [][2]string
	for _, r := range runResultsOf(b, dir) {
		out = append(out, [2]string{r.StartedAt, r.Executed})
	}
	return out
}

// BenchmarkRunnerViews1000 compares strata run on 1,000 view models with psql
// replaying the same statements, and --threads 4 with --threads 1 on the fan.
func BenchmarkRunnerViews1000(b *testing.B) {
	for _, shape := range []string{"chain", "fan"} {
		b.Run(shape, func(b *testing.B) {
			for range b.N {
				url := pgtest.DB(b)
				dir := viewProject(b, url, shape)
				one := timeRun(b, dir, 1)
				psqlURL := pgtest.DB(b)
				psql := replay(b, dir, psqlURL)
				b.ReportMetric(one.Seconds(), "s-threads1")
				b.ReportMetric(psql.Seconds(), "s-psql")
				b.ReportMetric(one.Seconds()/psql.Seconds(), "strata/psql")
				// The everyday case: running the project again. strata redefines
				// every view in place; psql replays those statements on a
				// database where the views exist too.
				again := timeRun(b, dir, 1)
				psqlAgain := replay(b, dir, psqlURL)
				b.ReportMetric(again.Seconds()/psqlAgain.Seconds(), "rerun-strata/psql")
				if shape == "fan" {
					url4 := pgtest.DB(b)
					dir4 := viewProject(b, url4, shape)
					four := timeRun(b, dir4, 4)
					b.ReportMetric(four.Seconds(), "s-threads4")
					b.ReportMetric(one.Seconds()/four.Seconds(), "threads1/threads4")
				}
			}
		})
	}
}
