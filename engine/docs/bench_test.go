package docs_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"strata/engine/cli"
	"strata/engine/internal/benchdir"
	"strata/engine/internal/pgtest"
)

// bigProject writes a project of n models in layers of 500, each model reading
// one to three models of the layer before it, each with two column tests.
func bigProject(tb testing.TB, n int, target string) string {
	tb.Helper()
	dir := benchdir.New(tb)
	const per = 500
	files := map[string]string{
		"project.yaml": "name: big\ntarget: t\ntargets:\n  t: " + target + "\nmodels:\n  '.': {materialized: view, schema: big}\n",
	}
	yml := map[int]*strings.Builder{}
	for i := range n {
		layer := i / per
		var sql strings.Builder
		fmt.Fprintf(&sql, "-- model %d of layer %d\n", i, layer)
		if layer == 0 {
			fmt.Fprintf(&sql, "select %d as id, 'm%d' as name\n", i, i)
		} else {
			fmt.Fprintf(&sql, "select a.id, a.name from {{ ref \"m%05d\" }} as a\n", (layer-1)*per+i%per)
			for k := 1; k <= i%3; k++ {
				fmt.Fprintf(&sql, "union all select id, name from {{ ref \"m%05d\" }}\n", (layer-1)*per+(i*7+k*131)%per)
			}
		}
		files[fmt.Sprintf("models/l%02d/m%05d.sql", layer, i)] = sql.String()
		if yml[layer] == nil {
			yml[layer] = &strings.Builder{}
			yml[layer].WriteString("models:\n")
		}
		fmt.Fprintf(yml[layer], "  - name: m%05d\n    description: Model %d of layer %d.\n    columns:\n      - {name: id, tests: [not_null, unique]}\n      - {name: name, description: a name}\n", i, i, layer)
	}
	for layer, b := range yml {
		files[fmt.Sprintf("models/l%02d/schema.yml", layer)] = b.String()
	}
	for p, s := range files {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte(s), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

func generate(b *testing.B, dir string, extra ...string) {
	b.Helper()
	var stdout, stderr bytes.Buffer
	args := append([]string{"--project-dir", dir, "docs", "generate"}, extra...)
	if code := cli.Main(context.Background(), args, &stdout, &stderr); code != 0 {
		b.Fatalf("docs generate: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
}

// BenchmarkDocsGenerate5000 times `strata docs generate` on a 5,000-model project
// (15,000 nodes with the tests), offline and with the catalog read from a database,
// then loads the lineage page in headless Chromium and reports how long it takes
// to draw the whole graph and a filtered one.
func BenchmarkDocsGenerate5000(b *testing.B) {
	for _, mode := range []string{"offline", "database"} {
		b.Run(mode, func(b *testing.B) {
			target := "{type: postgres, url: 'postgres://nobody@127.0.0.1:1/none'}"
			var extra []string
			if mode == "offline" {
				extra = []string{"--offline"}
			} else {
				target = "{type: postgres, url: '" + pgtest.DB(b) + "'}"
			}
			dir := bigProject(b, 5000, target)
			b.ResetTimer()
			for range b.N {
				generate(b, dir, extra...)
			}
			b.StopTimer()
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/generate")
			if mode != "offline" {
				return
			}
			br := &browser{t: b, bin: chromium(b)}
			site := "file://" + filepath.ToSlash(filepath.Join(dir, "target", "docs")) + "/index.html"
			for _, c := range []struct{ name, hash string }{{"all", ""}, {"focus", "#select=%2Bm02250%2B"}, {"models", "#select=resource_type%3Amodel"}} {
				start := time.Now()
				dom := br.page(site + c.hash)
				wall := time.Since(start)
				m := regexp.MustCompile(`id="graph"[^>]*data-nodes="(\d+)"[^>]*data-render-ms="([\d.]+)"`).FindStringSubmatch(dom)
				if m == nil {
					b.Fatalf("%s: the lineage was not drawn", c.name)
				}
				ms, _ := strconv.ParseFloat(m[2], 64)
				b.ReportMetric(ms, "ms/draw-"+c.name)
				b.Logf("lineage %-6s %6s nodes drawn in %7.1f ms (chromium start to DOM dump: %v)", c.name, m[1], ms, wall.Round(time.Millisecond))
			}
		})
	}
}

// TestGenerateDocsBenchProject writes the 5,000-model benchmark project to
// $STRATA_DOCS_BENCH_DIR, for timing the binary by hand
// (strata --project-dir DIR docs generate --offline).
func TestGenerateDocsBenchProject(t *testing.T) {
	out := os.Getenv("STRATA_DOCS_BENCH_DIR")
	if out == "" {
		t.Skip("set STRATA_DOCS_BENCH_DIR to write the 5,000-model docs benchmark project there")
	}
	dir := bigProject(t, 5000, "{type: postgres, url: 'postgres://nobody@127.0.0.1:1/none'}")
	if err := os.CopyFS(out, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
}
