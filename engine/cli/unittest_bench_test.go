package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"strata/engine/internal/benchdir"
	"strata/engine/internal/pgtest"
	"strata/internal/benchproject"
)

// BenchmarkUnitTests200 times strata test -s test_type:unit --threads 4 of
// 200 generated unit tests (50 models, 4 each; benchproject.UnitTests) on
// the local cluster, on a database where nothing was built: the whole
// command, wall time, including loading the project, the one check that
// types the inputs, and the 200 rolled-back transactions.
func BenchmarkUnitTests200(b *testing.B) {
	url := pgtest.DB(b)
	dir := benchdir.New(b)
	if err := benchproject.UnitTests(dir, 50, 4, "{type: postgres, url: '"+url+"', threads: 4}"); err != nil {
		b.Fatal(err)
	}
	var wall time.Duration
	for range b.N {
		var out, errOut bytes.Buffer
		start := time.Now()
		code := Main(b.Context(), []string{"--project-dir", dir, "test", "-s", "test_type:unit", "--threads", "4"}, &out, &errOut)
		wall += time.Since(start)
		if code != 0 || !strings.Contains(out.String(), "PASS=200 WARN=0 FAIL=0 ERROR=0 SKIP=0") {
			b.Fatalf("exit %d:\n%s%s", code, tail(out.String()), errOut.String())
		}
	}
	b.ReportMetric(wall.Seconds()/float64(b.N), "s/200_unit_tests")
}

func tail(s string) string {
	if len(s) > 4000 {
		return s[len(s)-4000:]
	}
	return s
}
