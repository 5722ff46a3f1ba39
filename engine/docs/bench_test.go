package docs_test

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"strata/engine/cli"
	"strata/engine/internal/benchdir"
	"strata/engine/internal/pgtest"
	"strata/internal/benchproject"
)

// bigProject writes the project of n models of benchproject.Layers (go run
// ./cmd/benchgen docs writes it) with the given target.
func bigProject(tb testing.TB, n int, target string) string {
	tb.Helper()
	dir := benchdir.New(tb)
	if err := benchproject.Layers(dir, n, target); err != nil {
		tb.Fatal(err)
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
			for _, c := range []struct{ name, hash string }{{"all", "#tests=1"}, {"focus", "#select=%2Bm02250%2B"}, {"models", "#select=resource_type%3Amodel"}} {
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
