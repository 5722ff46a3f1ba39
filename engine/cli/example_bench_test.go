package cli

import (
	"strings"
	"testing"
	"time"

	"strata/engine/internal/pgtest"
)

func BenchmarkPipelineScale1(b *testing.B)  { benchPipeline(b, 1) }
func BenchmarkPipelineScale10(b *testing.B) { benchPipeline(b, 10) }

// benchPipeline times the example pipeline: a full build of day 1, then the
// day-2 incremental build, against a full build of the same day-2 data on an
// empty database (a full refresh). Data generation is not timed.
func benchPipeline(b *testing.B, scale float64) {
	var full, day2, refresh time.Duration
	for range b.N {
		b.StopTimer()
		url := pgtest.DB(b)
		dir := pipelineProject(b, scale, 1)
		b.Setenv("DATABASE_URL", url)
		b.StartTimer()
		full += timedBuild(b, dir)
		b.StopTimer()
		generate(b, dir, scale, 2)
		b.StartTimer()
		day2 += timedBuild(b, dir)
		b.StopTimer()
		freshURL := pgtest.DB(b)
		freshDir := pipelineProject(b, scale, 2)
		b.Setenv("DATABASE_URL", freshURL)
		b.StartTimer()
		refresh += timedBuild(b, freshDir)
	}
	n := float64(b.N)
	b.ReportMetric(full.Seconds()/n, "s/full_build")
	b.ReportMetric(day2.Seconds()/n, "s/day2_incremental")
	b.ReportMetric(refresh.Seconds()/n, "s/day2_full_refresh")
	b.ReportMetric(day2.Seconds()/refresh.Seconds(), "incremental/refresh")
}

func timedBuild(b *testing.B, dir string) time.Duration {
	start := time.Now()
	code, out := strataB(b, dir, "--target", "prod", "build")
	d := time.Since(start)
	if code != 0 {
		b.Fatalf("build exited %d:\n%s", code, out[max(0, len(out)-3000):])
	}
	if !strings.Contains(out, "FAIL=0 ERROR=0 SKIP=0") {
		b.Fatalf("build not clean:\n%s", out[max(0, len(out)-3000):])
	}
	return d
}
