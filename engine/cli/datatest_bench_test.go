package cli

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"strata/engine/internal/pgtest"
)

// BenchmarkDataTestThreads runs 2,000 not_null/unique tests over 200 tables
// with --threads 1 and --threads 4 and reports the speed-up (issue 5 asks >= 1.6x).
func BenchmarkDataTestThreads(b *testing.B) {
	url := pgtest.DB(b)
	files := map[string]string{"project.yaml": "name: bench\nmodels:\n  '.': {materialized: table}\n"}
	var yml strings.Builder
	yml.WriteString("models:\n")
	for i := range 200 {
		name := fmt.Sprintf("t%03d", i)
		files["models/"+name+".sql"] = "select g as c1, g + 1 as c2, g + 2 as c3, g * 2 as c4, -g as c5 from generate_series(1, 2000) as g"
		fmt.Fprintf(&yml, "  - name: %s\n    columns:\n", name)
		for c := 1; c <= 5; c++ {
			fmt.Fprintf(&yml, "      - {name: c%d, tests: [not_null, unique]}\n", c)
		}
	}
	files["models/schema.yml"] = yml.String()
	dir := writeProjectB(b, url, files)
	if code, out := strataB(b, dir, "run"); code != 0 {
		b.Fatalf("run: %d\n%s", code, out)
	}
	timeIt := func(threads string) time.Duration {
		start := time.Now()
		code, out := strataB(b, dir, "test", "--threads", threads)
		if code != 0 || !strings.Contains(out, "PASS=2000 ") {
			b.Fatalf("test --threads %s: %d\n%s", threads, code, out[max(0, len(out)-500):])
		}
		return time.Since(start)
	}
	b.ResetTimer()
	var one, four time.Duration
	for range b.N {
		one += timeIt("1")
		four += timeIt("4")
	}
	b.ReportMetric(one.Seconds()/float64(b.N), "s/threads1")
	b.ReportMetric(four.Seconds()/float64(b.N), "s/threads4")
	b.ReportMetric(one.Seconds()/four.Seconds(), "speedup")
}
