package cli

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"strata/engine/internal/benchdir"
)

// genProject writes a project of n models: each refs two earlier models (the
// first two ref a seed), calls one macro, and has a YAML entry with two column
// tests. Models are spread over folders of 100.
func genProject(tb testing.TB, dir string, n int) {
	tb.Helper()
	write := func(rel, text string) {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	write("project.yaml", "name: bench\nmodels:\n  .: {materialized: view}\n")
	write("seeds/raw.csv", "id,amount\n1,2\n")
	write("macros/money.sql", `{{ define "cents" }}round({{ . }} * 100)::bigint{{ end }}`+"\n")
	name := func(i int) string { return fmt.Sprintf("m%05d", i) }
	folder := func(i int) string { return fmt.Sprintf("models/f%03d", i/100) }
	ymls := map[string]*strings.Builder{}
	for i := 0; i < n; i++ {
		a, b := "raw", "raw"
		if i >= 1 {
			a = name(i - 1)
		}
		if i >= 2 {
			b = name(i / 2)
			if b == a {
				b = name(i - 2)
			}
		}
		sql := fmt.Sprintf("select x.id, {{ include \"cents\" \"x.amount\" }} as amount\nfrom {{ ref %q }} as x\njoin {{ ref %q }} as y using (id)\n", a, b)
		write(folder(i)+"/"+name(i)+".sql", sql)
		y := ymls[folder(i)]
		if y == nil {
			y = &strings.Builder{}
			y.WriteString("models:\n")
			ymls[folder(i)] = y
		}
		fmt.Fprintf(y, "  - name: %s\n    description: model %d\n    columns:\n      - name: id\n        tests: [not_null]\n      - name: amount\n        tests: [unique]\n", name(i), i)
	}
	for f, y := range ymls {
		write(f+"/schema.yml", y.String())
	}
}

// benchCommand times the strata binary (built once, as make build does) on a
// generated 10,000-model project: the first run of cmd (for compile: into an
// empty target/), then the same command again on the unchanged project (the
// everyday case: compile finds every file of target/compiled/ up to date).
// Each is a separate process, so s/op and s-again include its start and
// max-rss-MB is its peak resident memory.
func benchCommand(b *testing.B, cmd string) {
	dir := benchdir.New(b)
	bin := filepath.Join(benchdir.New(b), "strata")
	if out, err := exec.Command("go", "build", "-o", bin, "strata/cmd/strata").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	genProject(b, dir, 10000)
	run := func(what string) (time.Duration, float64) {
		c := exec.Command(bin, "--project-dir", dir, cmd)
		var out bytes.Buffer
		c.Stdout, c.Stderr = &out, &out
		start := time.Now()
		err := c.Run()
		wall := time.Since(start)
		if err != nil {
			b.Fatalf("strata %s (%s): %v\n%s", cmd, what, err, out.String())
		}
		return wall, float64(c.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) / 1024
	}
	var first time.Duration
	var rss float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if i > 0 {
			// Set aside, not removed: see benchdir.
			if err := os.Rename(filepath.Join(dir, "target"), filepath.Join(dir, fmt.Sprintf("target.%d", i))); err != nil {
				b.Fatal(err)
			}
		}
		// What the generator (or the previous run) wrote is flushed first:
		// the kernel writing it back during the timed run measures the disk,
		// not strata, and nobody compiles a project written a second ago.
		syscall.Sync()
		b.StartTimer()
		wall, mb := run("first")
		first += wall
		rss = max(rss, mb)
	}
	b.StopTimer()
	syscall.Sync()
	again, mb := run("again")
	b.ReportMetric(first.Seconds()/float64(b.N), "s/op")
	b.ReportMetric(again.Seconds(), "s-again")
	b.ReportMetric(max(rss, mb), "max-rss-MB")
}

// BenchmarkCompile10k is `strata compile` of a generated 10,000-model project.
func BenchmarkCompile10k(b *testing.B) { benchCommand(b, "compile") }

// BenchmarkValidate10k is `strata validate` of a generated 10,000-model project.
func BenchmarkValidate10k(b *testing.B) { benchCommand(b, "validate") }

// TestGenerateBenchProject writes the benchmark project to $STRATA_COMPILE_BENCH_DIR,
// for timing the binary by hand (/usr/bin/time -v strata --project-dir DIR compile).
func TestGenerateBenchProject(t *testing.T) {
	dir := os.Getenv("STRATA_COMPILE_BENCH_DIR")
	if dir == "" {
		t.Skip("set STRATA_COMPILE_BENCH_DIR to write the 10,000-model benchmark project there")
	}
	genProject(t, dir, 10000)
}
