package docs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"gopkg.in/yaml.v3"

	"strata/engine/artifacts"
	"strata/engine/cli"
	"strata/engine/internal/pgtest"
	"strata/internal/exampledata"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// repoRoot is the folder holding go.mod: the example project.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		up := filepath.Dir(dir)
		if up == dir {
			t.Fatal("go.mod not found above the test's folder")
		}
		dir = up
	}
}

// exampleProject copies the example project into a temporary folder with small
// generated data and a postgres target at url.
func exampleProject(t *testing.T, url string) string {
	t.Helper()
	root := repoRoot(t)
	dir := t.TempDir()
	for _, sub := range []string{"models", "macros", "tests"} {
		if err := os.CopyFS(filepath.Join(dir, sub), os.DirFS(filepath.Join(root, sub))); err != nil && !os.IsNotExist(err) {
			t.Fatalf("copy %s: %v", sub, err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "seeds"), 0o755); err != nil {
		t.Fatal(err)
	}
	ymls, _ := filepath.Glob(filepath.Join(root, "seeds", "*.yml"))
	for _, y := range ymls {
		b, err := os.ReadFile(y)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "seeds", filepath.Base(y)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := exampledata.Generate(context.Background(), filepath.Join(dir, "seeds"), exampledata.Config{Seed: 42, Scale: 0.05, Day: 1}); err != nil {
		t.Fatalf("gendata: %v", err)
	}
	// project.yaml with the example's settings and one postgres target.
	b, err := os.ReadFile(filepath.Join(root, "project.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	m := doc.Content[0]
	var tgt yaml.Node
	if err := yaml.Unmarshal([]byte(fmt.Sprintf("{test: {type: postgres, url: %q, threads: 4}}", url)), &tgt); err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		switch m.Content[i].Value {
		case "target":
			m.Content[i+1].Value = "test"
		case "targets":
			m.Content[i+1] = tgt.Content[0]
		}
	}
	out, err := yaml.Marshal(&doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "project.yaml"), out, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func strata(t *testing.T, args ...string) (string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := cli.Main(context.Background(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("strata %s: exit %d\n%s%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
	}
	return stdout.String(), stderr.String()
}

// chromium returns Debian's chromium, installing it when missing. When it
// cannot be had, the test is skipped saying why, except in CI (CI set),
// where the browser tests must run and the test fails. Under -short it is
// skipped.
func chromium(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("needs Chromium; skipped under -short")
	}
	path, why := findChromium(func() (string, error) { return exec.LookPath("chromium") }, func() (string, error) {
		out, err := exec.Command("bash", filepath.Join(repoRoot(t), "scripts", "install-chromium.sh")).CombinedOutput()
		return string(out), err
	})
	if path != "" {
		return path
	}
	if inCI() {
		t.Fatalf("Chromium is needed: %s (CI is set, so the browser tests fail rather than skip)", why)
	}
	t.Skipf("skipped: %s", why)
	return ""
}

// inCI says whether the tests run in CI, where nothing that CI can install may be skipped.
func inCI() bool {
	switch os.Getenv("CI") {
	case "", "false", "0":
		return false
	}
	return true
}

// findChromium returns the path of chromium, installing it first when lookup
// does not find it; or, when it cannot, why (what the installer said).
func findChromium(lookup func() (string, error), install func() (string, error)) (path, why string) {
	if p, err := lookup(); err == nil {
		return p, ""
	}
	out, err := install()
	out = strings.TrimSpace(out)
	if err != nil {
		if out == "" {
			out = err.Error()
		}
		return "", "Chromium is not installed and could not be installed: " + out
	}
	p, err := lookup()
	if err != nil {
		return "", "Chromium is still missing after scripts/install-chromium.sh succeeded: " + err.Error()
	}
	return p, ""
}

// browser runs headless chromium, one process per page, the way the machine notes prescribe.
type browser struct {
	t   testing.TB
	bin string
}

var consoleRe = regexp.MustCompile(`:CONSOLE[^\]]*\] (.*)`)

func (b *browser) run(url string, extra ...string) (stdout string, console []string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + b.t.TempDir(), "--enable-logging=stderr", "--v=0", "--virtual-time-budget=15000"}, extra...)
	args = append(args, url)
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, b.bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		b.t.Fatalf("chromium %s: %v\n%s", url, err, errb.String())
	}
	for _, m := range consoleRe.FindAllStringSubmatch(errb.String(), -1) {
		console = append(console, m[1])
	}
	return out.String(), console
}

// page loads url, checks that nothing went wrong on it, and returns its DOM after the scripts ran.
func (b *browser) page(url string) string {
	b.t.Helper()
	dom, console := b.run(url, "--dump-dom")
	if len(console) > 0 {
		b.t.Errorf("%s: console messages:\n  %s", url, strings.Join(console, "\n  "))
	}
	if m := regexp.MustCompile(`<html[^>]*data-errors="([^"]*)"`).FindStringSubmatch(dom); m == nil {
		b.t.Errorf("%s: the page's error harness did not run (assets/harness.js not loaded?)", url)
	} else if e := html.UnescapeString(m[1]); e != "[]" {
		b.t.Errorf("%s: errors on the page: %s", url, e)
	}
	if !strings.Contains(dom, `data-loaded="1"`) {
		b.t.Errorf("%s: the page did not finish loading", url)
	}
	return dom
}

func (b *browser) screenshot(url, file string, w, h int) {
	b.t.Helper()
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		b.t.Fatal(err)
	}
	b.run(url, fmt.Sprintf("--window-size=%d,%d", w, h), "--screenshot="+file, "--hide-scrollbars")
	if st, err := os.Stat(file); err != nil || st.Size() < 1000 {
		b.t.Errorf("screenshot %s was not written: %v", file, err)
	}
}

// probe loads the page in file with script added at its end, in a window of
// w by h pixels, and returns what the script left in <html data-probe>:
// measurements only a browser can make (where text lands, how wide a chart
// is drawn). The probed copy sits beside the page, so its links still work.
func (b *browser) probe(file, hash, script string, w, h int) string {
	b.t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		b.t.Fatal(err)
	}
	copyPath := strings.TrimSuffix(file, ".html") + ".probe.html"
	page := strings.Replace(string(src), "</body>", "<script>"+script+"</script>\n</body>", 1)
	if err := os.WriteFile(copyPath, []byte(page), 0o644); err != nil {
		b.t.Fatal(err)
	}
	defer os.Remove(copyPath)
	dom, console := b.run("file://"+filepath.ToSlash(copyPath)+hash, "--dump-dom", fmt.Sprintf("--window-size=%d,%d", w, h))
	if len(console) > 0 {
		b.t.Errorf("%s: console messages:\n  %s", copyPath, strings.Join(console, "\n  "))
	}
	m := regexp.MustCompile(`<html[^>]*data-probe="([^"]*)"`).FindStringSubmatch(dom)
	if m == nil {
		b.t.Fatalf("%s%s: the probe left no data-probe (did it run?)", copyPath, hash)
	}
	return html.UnescapeString(m[1])
}

// chartProbe measures every line and bar chart of a dashboard as drawn: the
// plot's share of its card, x labels and bar values that overlap, leave the
// chart or are cut short, and a y-axis that leaves out zero unmarked. It
// leaves the list of problems, as JSON.
const chartProbe = `window.addEventListener('load', function () {
  var out = [];
  document.querySelectorAll('figure.chart-line, figure.chart-bar').forEach(function (fig) {
    var title = fig.dataset.title, svg = fig.querySelector('svg'), plot = fig.querySelector('rect.plot-area');
    if (!svg || !plot) { out.push(title + ': no chart drawn'); return; }
    var cs = getComputedStyle(fig);
    var inner = fig.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
    var share = plot.getBoundingClientRect().width / inner;
    if (share < 0.85) out.push(title + ': the plot is ' + Math.round(share * 100) + '% of the card width');
    var sr = svg.getBoundingClientRect();
    function check(sel, what) {
      var els = Array.prototype.filter.call(fig.querySelectorAll(sel), function (e) { return !e.getAttribute('transform'); });
      var boxes = els.map(function (e) { return [e.textContent, e.getBoundingClientRect()]; });
      for (var i = 0; i < boxes.length; i++) {
        var a = boxes[i][1];
        if (a.left < sr.left - 0.5 || a.right > sr.right + 0.5) out.push(title + ': ' + what + ' "' + boxes[i][0] + '" leaves the chart');
        if (/…$/.test(boxes[i][0])) out.push(title + ': ' + what + ' "' + boxes[i][0] + '" is cut short');
        for (var j = i + 1; j < boxes.length; j++) {
          var c = boxes[j][1];
          if (a.left < c.right && c.left < a.right && a.top < c.bottom && c.top < a.bottom) out.push(title + ': ' + what + ' "' + boxes[i][0] + '" overlaps "' + boxes[j][0] + '"');
        }
      }
      return boxes.length;
    }
    // Slanted labels (a bar chart's names that do not fit side by side) are left out of the overlap
    // check, whose boxes are upright, but count as labels.
    check('text.tick.x', 'x label');
    if (fig.querySelectorAll('text.tick.x').length < 2) out.push(title + ': fewer than two x labels');
    check('text.barval', 'value');
    var ys = Array.prototype.map.call(fig.querySelectorAll('text.tick.y'), function (e) { return parseFloat(e.textContent); });
    var zero = Math.min.apply(null, ys) <= 0 && Math.max.apply(null, ys) >= 0;
    if (!zero && !(fig.querySelector('.axis-break') && fig.querySelector('.axis-note'))) out.push(title + ': the y-axis leaves out zero and does not say so');
  });
  document.documentElement.setAttribute('data-probe', JSON.stringify(out));
});`

func attrs(dom, re string) []string {
	var out []string
	for _, m := range regexp.MustCompile(re).FindAllStringSubmatch(dom, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

// lockedBuffer is a bytes.Buffer safe to read while strata docs serve writes to it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func textRows(t *testing.T, conn *pgx.Conn, sql string) [][]string {
	t.Helper()
	rows, err := conn.Query(context.Background(), sql, pgx.QueryResultFormats{pgx.TextFormatCode})
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	defer rows.Close()
	var out [][]string
	for rows.Next() {
		var row []string
		for _, v := range rows.RawValues() {
			row = append(row, string(v))
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSiteInChromium builds the example project on a real PostgreSQL, generates
// the docs site and drives it in headless Chromium.
func TestSiteInChromium(t *testing.T) {
	bin := chromium(t)
	url := pgtest.DB(t)
	dir := exampleProject(t, url)
	strata(t, "--project-dir", dir, "build")
	out, errOut := strata(t, "--project-dir", dir, "docs", "generate")
	if !strings.Contains(out, "target/docs/index.html") || errOut != "" {
		t.Errorf("docs generate said:\n%s%s", out, errOut)
	}
	site := filepath.Join(dir, "target", "docs")
	shots := filepath.Join(repoRoot(t), "target", "docs-screenshots")
	_ = bin
	man, err := artifacts.ReadManifest(filepath.Join(dir, "target", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	// The lineage opens on every node but the tests; tests=1 shows them too.
	var want, wantAll []string
	for _, set := range []map[string]*artifacts.Node{man.Nodes, man.Sources, man.Exposure} {
		for id, n := range set {
			wantAll = append(wantAll, id)
			if n.ResourceType != "test" {
				want = append(want, id)
			}
		}
	}
	sort.Strings(want)
	sort.Strings(wantAll)
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())

	t.Run("every link of the example site leads somewhere", func(t *testing.T) {
		if checked := checkLinks(t, site); len(checked) < 40 {
			t.Errorf("only %d pages linked to", len(checked))
		}
	})

	t.Run("index over strata docs serve", func(t *testing.T) {
		b := &browser{t: t, bin: bin}
		ctx, cancel := context.WithCancel(context.Background())
		var stdout, stderr lockedBuffer
		done := make(chan int)
		go func() {
			done <- cli.Main(ctx, []string{"--project-dir", dir, "docs", "serve", "--port", "0"}, &stdout, &stderr)
		}()
		defer func() {
			cancel()
			if code := <-done; code != 0 {
				t.Errorf("docs serve: exit %d: %s", code, stderr.String())
			}
		}()
		var base string
		for i := 0; i < 100 && base == ""; i++ {
			if m := regexp.MustCompile(`http://127\.0\.0\.1:\d+/`).FindString(stdout.String()); m != "" {
				base = m
			}
			time.Sleep(50 * time.Millisecond)
		}
		if base == "" {
			t.Fatalf("docs serve printed no address: %s%s", stdout.String(), stderr.String())
		}
		resp, err := http.Get(base + "assets/lineage.js")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("GET assets/lineage.js: %s", resp.Status)
		}
		for hash, want := range map[string][]string{"": want, "#tests=1": wantAll} {
			dom := b.page(base + "index.html" + hash)
			got := attrs(dom, `<g class="n[^"]*" data-i="\d+" data-id="([^"]+)"`)
			sort.Strings(got)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("index.html%s: lineage shows %d nodes, want %d:\nshown: %v\nwant:  %v", hash, len(got), len(want), got, want)
			}
		}
		b.screenshot(base+"index.html", filepath.Join(shots, "lineage.png"), 1600, 1000)
	})

	t.Run("lineage filter agrees with strata ls", func(t *testing.T) {
		b := &browser{t: t, bin: bin}
		for _, sel := range []string{"+exposure:executive_summary", "stg_orders+1", "tag:analytics,resource_type:model", "@dim_products",
			"test_type:unit", "test_type:data", "test_type:singular", "test_type:generic"} {
			// --resource-type all: every node the selection picks, the tests
			// of the selected nodes too, as build (and the lineage) selects.
			lsOut, _ := strata(t, "--project-dir", dir, "ls", "-s", sel, "--resource-type", "all")
			want := strings.Fields(lsOut)
			// The tests are compared when ls lists them.
			lsTests := false
			for _, w := range want {
				lsTests = lsTests || isTest(man, w)
			}
			sort.Strings(want)
			u := "file://" + filepath.ToSlash(site) + "/index.html#tests=1&select=" + strings.NewReplacer("+", "%2B", ",", "%2C", ":", "%3A", "@", "%40").Replace(sel)
			dom := b.page(u)
			ids := attrs(dom, `<g class="n[^"]*" data-i="\d+" data-id="([^"]+)"`)
			var got []string
			for _, id := range ids {
				if n := name(man, id); lsTests || !isTest(man, n) {
					got = append(got, n)
				}
			}
			sort.Strings(got)
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("select %s: lineage shows %v\nstrata ls gives %v", sel, got, want)
			}
		}
		b.screenshot("file://"+filepath.ToSlash(site)+"/index.html#select=%2Bfact_orders%2B", filepath.Join(shots, "lineage-focus-fact_orders.png"), 1600, 1000)
	})

	t.Run("lineage opens fitted and readable", func(t *testing.T) {
		b := &browser{t: t, bin: bin}
		for _, size := range [][2]int{{1600, 1000}, {1280, 800}} {
			var p lineageProbe
			if err := json.Unmarshal([]byte(b.probe(filepath.Join(site, "index.html"), "", lineageProbeJS, size[0], size[1])), &p); err != nil {
				t.Fatal(err)
			}
			sort.Strings(p.Shown)
			if strings.Join(p.Shown, "\n") != strings.Join(want, "\n") {
				t.Errorf("%dx%d: the lineage opens on %d nodes, want the %d that are not tests:\nshown: %v", size[0], size[1], len(p.Shown), len(want), p.Shown)
			}
			for what, list := range map[string][]string{"outside the view": p.Outside, "drawn too small to read": p.Small, "with a name wider than its box": p.Overflow, "overlapping": p.Overlap} {
				if len(list) > 0 {
					t.Errorf("%dx%d: %d nodes %s: %v", size[0], size[1], len(list), what, list)
				}
			}
		}
	})

	t.Run("show in lineage centres the node", func(t *testing.T) {
		b := &browser{t: t, bin: bin}
		for _, c := range []struct{ page, id string }{
			{"nodes/model.shop.fact_orders.html", "model.shop.fact_orders"},
			{"nodes/seed.shop.raw_inventory.html", "seed.shop.raw_inventory"},
			{"dashboards/customer_analytics.html", "exposure.shop.customer_analytics"},
		} {
			dom := b.page("file://" + filepath.ToSlash(filepath.Join(site, c.page)))
			hrefs := attrs(dom, `<a class="show-in-lineage" href="([^"]+)"`)
			if len(hrefs) != 1 || !strings.HasPrefix(hrefs[0], "../index.html#") {
				t.Fatalf("%s: show-in-lineage links %v", c.page, hrefs)
			}
			hash := strings.TrimPrefix(hrefs[0], "../index.html")
			var p lineageProbe
			if err := json.Unmarshal([]byte(b.probe(filepath.Join(site, "index.html"), hash, lineageProbeJS, 1280, 800)), &p); err != nil {
				t.Fatal(err)
			}
			if p.Picked != c.id || p.Details != name(man, c.id) && "exposure:"+p.Details != name(man, c.id) {
				t.Errorf("%s: the lineage (%s) picks %q and details %q, want %s", c.page, hash, p.Picked, p.Details, c.id)
			}
			if len(p.Centre) != 2 || math.Abs(p.Centre[0]) > 2 || math.Abs(p.Centre[1]) > 2 {
				t.Errorf("%s: %s is %v px from the middle of the lineage, want it centred", c.page, c.id, p.Centre)
			}
			for _, id := range p.Small {
				if id == c.id {
					t.Errorf("%s: %s is drawn too small to read", c.page, c.id)
				}
			}
		}
	})

	t.Run("model page", func(t *testing.T) {
		b := &browser{t: t, bin: bin}
		u := "file://" + filepath.ToSlash(site) + "/nodes/model.shop.fact_orders.html"
		dom := b.page(u)
		wantCols := textRows(t, conn, `select a.attname, format_type(a.atttypid, a.atttypmod) from pg_attribute a
			where a.attrelid = 'warehouse.fact_orders'::regclass and a.attnum > 0 and not a.attisdropped order by a.attnum`)
		gotCols := regexp.MustCompile(`<tr data-column="([^"]+)"[^>]*><td><code>[^<]*</code></td><td class="type" data-from="database">([^<]*)</td>`).FindAllStringSubmatch(dom, -1)
		if len(gotCols) != len(wantCols) {
			t.Fatalf("fact_orders page shows %d columns from the database, the table has %d", len(gotCols), len(wantCols))
		}
		for i, c := range wantCols {
			if gotCols[i][1] != c[0] || html.UnescapeString(gotCols[i][2]) != c[1] {
				t.Errorf("column %d: page shows %s %s, database has %s %s", i, gotCols[i][1], gotCols[i][2], c[0], c[1])
			}
		}
		rr, err := artifacts.ReadRunResults(filepath.Join(dir, "target", "run_results.json"))
		if err != nil {
			t.Fatal(err)
		}
		tests := 0
		for _, r := range rr.Results {
			if n := man.Nodes[r.ID]; n != nil && n.Test != nil && n.Test.Attached == "model.shop.fact_orders" {
				tests++
				m := regexp.MustCompile(`<tr data-test="` + regexp.QuoteMeta(r.ID) + `">.*?<span class="status [a-z]+">([a-z ]+)</span>`).FindStringSubmatch(dom)
				if m == nil || m[1] != r.Status {
					t.Errorf("test %s: page shows %v, last run says %s", r.ID, m, r.Status)
				}
			}
		}
		if tests == 0 {
			t.Error("fact_orders has no tests in the last run")
		}
		var rows string
		for _, r := range rr.Results {
			if r.ID == "model.shop.fact_orders" {
				rows = fmt.Sprint(r.Rows)
			}
		}
		if !strings.Contains(dom, `<td class="rows">`+rows+`</td>`) {
			t.Errorf("page does not show the last run's rows (%s)", rows)
		}
		var cfg struct{ Materialized string }
		if err := json.Unmarshal(man.Nodes["model.shop.fact_orders"].Config, &cfg); err != nil || cfg.Materialized == "" {
			t.Fatalf("fact_orders has no materialization in the manifest: %v", err)
		}
		for _, s := range []string{`id="compiled"`, `id="template"`, `id="config"`, `"materialized": "` + cfg.Materialized + `"`, `mat-` + cfg.Materialized} {
			if !strings.Contains(dom, s) {
				t.Errorf("page lacks %s", s)
			}
		}
		b.screenshot(u, filepath.Join(shots, "model-fact_orders.png"), 1400, 1800)
	})

	t.Run("dashboards", func(t *testing.T) {
		b := &browser{t: t, bin: bin}
		page := func(name string) string {
			u := "file://" + filepath.ToSlash(site) + "/dashboards/" + name + ".html"
			dom := b.page(u)
			b.screenshot(u, filepath.Join(shots, "dashboard-"+name+".png"), 1400, 1600)
			if strings.Contains(dom, "chart-error") {
				t.Errorf("%s: a chart has no data:\n%s", name, regexp.MustCompile(`<p class="chart-error">[^<]*`).FindAllString(dom, -1))
			}
			return dom
		}
		// chart returns the part of the page that draws the chart titled title.
		chart := func(dom, title string) string {
			i := strings.Index(dom, `data-title="`+title+`"`)
			if i < 0 {
				t.Fatalf("no chart %q on the page", title)
			}
			j := strings.Index(dom[i:], "</figure>")
			return dom[i : i+j]
		}
		series := func(sql string) []string {
			var out []string
			for _, r := range textRows(t, conn, sql) {
				out = append(out, strings.Join(r, "="))
			}
			return out
		}
		points := func(fig, mark string) []string {
			var out []string
			for _, m := range regexp.MustCompile(`<`+mark+` [^>]*data-x="([^"]*)" data-y="([^"]*)"`).FindAllStringSubmatch(fig, -1) {
				out = append(out, html.UnescapeString(m[1])+"="+html.UnescapeString(m[2]))
			}
			return out
		}
		same := func(what string, got, want []string) {
			if len(want) == 0 {
				t.Errorf("%s: the database has no rows to compare with", what)
			}
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("%s:\npage:     %v\ndatabase: %v", what, got, want)
			}
		}

		// As drawn, at a wide and a narrow window.
		for _, name := range []string{"executive_summary", "product_performance", "customer_analytics"} {
			for _, w := range []int{1400, 900} {
				if got := b.probe(filepath.Join(site, "dashboards", name+".html"), "", chartProbe, w, 1600); got != "[]" {
					t.Errorf("%s at %dpx: %s", name, w, got)
				}
			}
		}

		dom := page("executive_summary")
		kpis := textRows(t, conn, `select total_revenue, total_orders from analytics.executive_kpis`)
		for i, title := range []string{"Revenue", "Orders"} {
			got := attrs(chart(dom, title), `class="kpi-value" data-value="([^"]*)"`)
			if len(got) != 1 || got[0] != kpis[0][i] {
				t.Errorf("KPI %s: page shows %v, analytics.executive_kpis has %s", title, got, kpis[0][i])
			}
		}
		same("Revenue by day", points(chart(dom, "Revenue by day"), "circle"), series(`select order_day, revenue from analytics.daily_sales order by order_day`))
		same("Revenue by month", points(chart(dom, "Revenue by month"), "rect"), series(`select month, revenue from analytics.monthly_sales order by month`))
		same("Attributed revenue by campaign", points(chart(dom, "Attributed revenue by campaign"), "rect"), series(`select campaign_name, attributed_revenue from analytics.campaign_attribution order by attributed_revenue desc, campaign_name`))

		dom = page("product_performance")
		var got []string
		for _, row := range regexp.MustCompile(`(?s)<g class="tr" data-row="\d+">(.*?)</g>`).FindAllStringSubmatch(chart(dom, "Top products by revenue"), -1) {
			got = append(got, strings.Join(attrs(row[1], `data-value="([^"]*)"`), "="))
		}
		same("Top products by revenue", got, series(`select product_name, category, revenue, profit_margin from public.product_performance order by revenue desc nulls last, product_name limit 10`))
		// The analyses of the design's product dashboard besides the top list: revenue, profit and margin
		// per category, and the stock that turns over slowest.
		same("Revenue and profit by category", points(chart(dom, "Revenue and profit by category"), "rect"), series(`with c as (select category, sum(revenue) as revenue, sum(profit) as profit from analytics.product_performance group by 1)
			select category, v from (select category, revenue as v, 1 as s, revenue from c union all select category, profit, 2, revenue from c) as x order by s, revenue desc, category`))
		same("Profit margin by category", points(chart(dom, "Profit margin by category"), "rect"), series(`select category, round(sum(profit) / sum(revenue), 4) from analytics.product_performance group by 1 order by 2 desc, 1`))
		got = nil
		for _, row := range regexp.MustCompile(`(?s)<g class="tr" data-row="\d+">(.*?)</g>`).FindAllStringSubmatch(chart(dom, "Slowest-moving stock"), -1) {
			got = append(got, strings.Join(attrs(row[1], `data-value="([^"]*)"`), "="))
		}
		same("Slowest-moving stock", got, series(`select product_name, category, units_sold, avg_on_hand, inventory_turnover from analytics.product_performance where avg_on_hand > 0 order by inventory_turnover, product_name limit 10`))

		dom = page("customer_analytics")
		same("Customers by churn risk", points(chart(dom, "Customers by churn risk"), "rect"), series(`select churn_risk, count(*) from analytics.customer_metrics group by 1 order by 1`))
	})
}

func isTest(m *artifacts.Manifest, name string) bool {
	for _, n := range m.Nodes {
		if n.Name == name {
			return n.ResourceType == "test"
		}
	}
	return false
}

// lineageProbe is what lineageProbeJS measures of the lineage as drawn.
type lineageProbe struct {
	Shown    []string    `json:"shown"`    // ids of the nodes drawn
	Outside  []string    `json:"outside"`  // ... that lie (partly) outside the graph's box
	Small    []string    `json:"small"`    // ... whose name is drawn less than 10px high
	Overflow []string    `json:"overflow"` // ... whose name is wider than its box
	Overlap  []string    `json:"overlap"`  // pairs of nodes whose boxes overlap
	Picked   string      `json:"picked"`   // the id of the picked node
	Details  string      `json:"details"`  // the name the details panel shows
	Centre   []float64   `json:"centre"`   // the picked node's centre, from the graph's centre, in px
	View     interface{} `json:"view"`
}

const lineageProbeJS = `window.addEventListener('load', function () {
  var g = document.getElementById('graph'), gr = g.getBoundingClientRect();
  var out = {shown: [], outside: [], small: [], overflow: [], overlap: [], picked: '', details: '', centre: [], view: window.strataLineage.view ? window.strataLineage.view() : null};
  var boxes = [];
  g.querySelectorAll('g.n').forEach(function (n) {
    var id = n.dataset.id, r = n.querySelector('rect.box').getBoundingClientRect(), t = n.querySelector('text').getBoundingClientRect();
    out.shown.push(id);
    if (r.left < gr.left - 1 || r.right > gr.right + 1 || r.top < gr.top - 1 || r.bottom > gr.bottom + 1) out.outside.push(id);
    if (t.height < 10) out.small.push(id);
    if (t.right > r.right + 0.5) out.overflow.push(id);
    boxes.push([id, r]);
    if (n.classList.contains('picked')) {
      out.picked = id;
      out.centre = [(r.left + r.right) / 2 - (gr.left + gr.right) / 2, (r.top + r.bottom) / 2 - (gr.top + gr.bottom) / 2];
    }
  });
  for (var i = 0; i < boxes.length; i++) for (var j = i + 1; j < boxes.length; j++) {
    var a = boxes[i][1], b = boxes[j][1];
    if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) out.overlap.push(boxes[i][0] + ' ' + boxes[j][0]);
  }
  var h3 = document.querySelector('#details h3');
  out.details = h3 ? h3.textContent : '';
  document.documentElement.setAttribute('data-probe', JSON.stringify(out));
});`

// name is how `strata ls` prints the node id: exposures as exposure:<name>.
func name(m *artifacts.Manifest, id string) string {
	if n, ok := m.Exposure[id]; ok {
		return "exposure:" + n.Name
	}
	for _, set := range []map[string]*artifacts.Node{m.Nodes, m.Sources} {
		if n, ok := set[id]; ok {
			return n.Name
		}
	}
	return id
}
