package cli

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"strata/engine/internal/benchdir"
	"strata/internal/benchproject"
)

// benchCommand times the strata binary (built once, as make build does) on a
// generated 10,000-model project (benchproject.TwoRefs; go run ./cmd/benchgen
// compile DIR writes it for timing by hand): the first run of cmd (for
// compile: into an empty target/), then the same command again on the
// unchanged project (the everyday case: compile finds every file of
// target/compiled/ up to date).
// Each is a separate process, so s/op and s-again include its start and
// max-rss-MB is its peak resident memory.
func benchCommand(b *testing.B, cmd string) {
	dir := benchdir.New(b)
	bin := filepath.Join(benchdir.New(b), "strata")
	if out, err := exec.Command("go", "build", "-o", bin, "strata/cmd/strata").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	if err := benchproject.TwoRefs(dir, 10000); err != nil {
		b.Fatal(err)
	}
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
