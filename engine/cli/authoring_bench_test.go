package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strata/engine/internal/benchdir"
	"strings"
	"testing"
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

func benchCommand(b *testing.B, cmd string) {
	dir := benchdir.New(b)
	genProject(b, dir, 10000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var out, errb bytes.Buffer
		if code := Main(context.Background(), []string{"--project-dir", dir, cmd}, &out, &errb); code != 0 {
			b.Fatalf("strata %s: exit %d\n%s", cmd, code, errb.String())
		}
	}
	b.StopTimer()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.Sys)/(1<<20), "sys-MB")
}

// BenchmarkCompile10k is `strata compile` of a generated 10,000-model project.
func BenchmarkCompile10k(b *testing.B) { benchCommand(b, "compile") }

// BenchmarkValidate10k is `strata validate` of a generated 10,000-model project.
func BenchmarkValidate10k(b *testing.B) { benchCommand(b, "validate") }

// TestGenerateBenchProject writes the benchmark project to $STRATA_BENCH_DIR, for
// timing the binary by hand (/usr/bin/time -v strata --project-dir DIR compile).
func TestGenerateBenchProject(t *testing.T) {
	dir := os.Getenv("STRATA_BENCH_DIR")
	if dir == "" {
		t.Skip("set STRATA_BENCH_DIR to write the 10,000-model benchmark project there")
	}
	genProject(t, dir, 10000)
}
