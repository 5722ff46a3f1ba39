package cli

import (
	"bytes"
	"os"
	"path/filepath"
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
func BenchmarkUnitTests200(b *testing.B) { benchUnitTests(b, false) }

// BenchmarkUnitTests200Built is the same on a database where the seeds and
// models were built: the inputs are typed from the catalog and each
// tested model described by a temporary view, as in a build.
func BenchmarkUnitTests200Built(b *testing.B) { benchUnitTests(b, true) }

func benchUnitTests(b *testing.B, built bool) {
	url := pgtest.DB(b)
	dir := benchdir.New(b)
	if err := benchproject.UnitTests(dir, 50, 4, "{type: postgres, url: '"+url+"', threads: 4}"); err != nil {
		b.Fatal(err)
	}
	if built {
		if err := os.WriteFile(filepath.Join(dir, "seeds", "raw.csv"), []byte("id,amount,day\n1,2.50,2024-01-01\n2,3.00,2024-02-01\n"), 0o644); err != nil {
			b.Fatal(err)
		}
		var out, errOut bytes.Buffer
		if code := Main(b.Context(), []string{"--project-dir", dir, "build", "--exclude", "test_type:unit"}, &out, &errOut); code != 0 {
			b.Fatalf("build exit %d:\n%s%s", code, tail(out.String()), errOut.String())
		}
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
