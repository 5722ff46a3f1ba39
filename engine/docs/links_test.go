package docs_test

import (
	"encoding/json"
	"html"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"strata/engine/artifacts"
	"strata/engine/docs"
)

// Every link between pages must lead to a page that was written, whatever
// characters the ids and names hold: "#", "?" and "%" end or garble a path
// unless escaped.
func TestLinksReachPagesOfOddNames(t *testing.T) {
	ids := []string{"model.p.a#b", "model.p.q?x", "model.p.pct%41", "model.p.sp ace", "model.p.c:d", "model.p.plain"}
	nodes := map[string]*artifacts.Node{}
	for _, id := range ids {
		nodes[id] = &artifacts.Node{ID: id, ResourceType: "model", Name: strings.TrimPrefix(id, "model.p.")}
	}
	nodes["test.p.t"] = &artifacts.Node{ID: "test.p.t", ResourceType: "test", Name: "t", Test: &artifacts.TestMeta{Attached: "model.p.q?x"}}
	in := &docs.Input{
		Manifest: &artifacts.Manifest{
			Nodes: nodes,
			Exposure: map[string]*artifacts.Node{
				"exposure.p.d#1": {ID: "exposure.p.d#1", ResourceType: "exposure", Name: "d#1"},
				"exposure.p.web": {ID: "exposure.p.web", ResourceType: "exposure", Name: "web"},
			},
			Parents:  map[string][]string{"model.p.plain": ids[:5], "test.p.t": {"model.p.q?x"}},
			Children: map[string][]string{"model.p.a#b": {"model.p.plain"}, "model.p.q?x": {"model.p.plain", "test.p.t"}, "model.p.pct%41": {"model.p.plain"}, "model.p.sp ace": {"model.p.plain"}, "model.p.c:d": {"model.p.plain"}},
		},
		// An exposure's url that is no web address is shown as text, not as a
		// link html/template turns into #ZgotmplZ.
		Dashboards: []*docs.Dashboard{{ID: "exposure.p.d#1", Name: "d#1", DependsOn: []string{"model.p.a#b", "test.p.t"}, URL: "javascript:alert(1)"},
			{ID: "exposure.p.web", Name: "web", URL: "https://bi.example.com/d/42"}},
		Offline: "test",
	}
	dir := t.TempDir()
	if _, err := docs.Generate(dir, in); err != nil {
		t.Fatal(err)
	}
	checked := checkLinks(t, dir)
	if b, err := os.ReadFile(filepath.Join(dir, "dashboards", "web.html")); err != nil || !strings.Contains(string(b), `<a href="https://bi.example.com/d/42">`) {
		t.Errorf("dashboards/web.html does not link to its url (%v)", err)
	}
	// The links of interest were there to check.
	for _, want := range []string{"/nodes/model.p.a#b.html", "/nodes/model.p.q?x.html", "/nodes/model.p.pct%41.html", "/nodes/model.p.sp ace.html", "/nodes/model.p.c:d.html", "/dashboards/d#1.html"} {
		if !checked[want] {
			t.Errorf("no link to %s was found", want)
		}
	}
}

// checkLinks follows every href and src of every page of the site in dir:
// a link must lead to a file that was written, an #anchor (not the lineage
// page's #key=value address) to an element of that id on its page, and no
// link may be html/template's #ZgotmplZ. It returns the pages linked to,
// relative to dir.
func checkLinks(t *testing.T, dir string) map[string]bool {
	t.Helper()
	link := regexp.MustCompile(`(?:href|src)="([^"]*)"`)
	checked := map[string]bool{}
	ids := map[string]map[string]bool{} // page -> the ids it has
	idsOf := func(page string) map[string]bool {
		if m, ok := ids[page]; ok {
			return m
		}
		m := map[string]bool{}
		if b, err := os.ReadFile(page); err == nil {
			for _, id := range regexp.MustCompile(`\bid="([^"]*)"`).FindAllStringSubmatch(string(b), -1) {
				m[html.UnescapeString(id[1])] = true
			}
		}
		ids[page] = m
		return m
	}
	err := filepath.WalkDir(dir, func(page string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(page, ".html") {
			return err
		}
		b, err := os.ReadFile(page)
		if err != nil {
			return err
		}
		for _, m := range link.FindAllStringSubmatch(string(b), -1) {
			raw := html.UnescapeString(m[1])
			if raw == "#ZgotmplZ" { // html/template's mark for a URL it found unsafe
				t.Errorf("%s: a link was replaced by #ZgotmplZ", strings.TrimPrefix(page, dir))
				continue
			}
			u, err := url.Parse(raw)
			if err != nil {
				t.Errorf("%s: href %q: %v", page, raw, err)
				continue
			}
			switch u.Scheme {
			case "data", "mailto", "http", "https":
				continue
			case "":
			default: // a link that reads as a scheme ("model.p.c:d.html") leads nowhere
				t.Errorf("%s: href %q reads as a URL of scheme %q", strings.TrimPrefix(page, dir), raw, u.Scheme)
				continue
			}
			// A browser reads the path unescaped, relative to the page.
			target := page
			if u.Path != "" {
				target = filepath.Join(filepath.Dir(page), filepath.FromSlash(u.Path))
				checked[strings.TrimPrefix(target, dir)] = true
				if _, err := os.Stat(target); err != nil {
					t.Errorf("%s: %q leads to no file: %v", strings.TrimPrefix(page, dir), raw, err)
					continue
				}
			}
			if f := u.Fragment; f != "" && !strings.Contains(f, "=") && strings.HasSuffix(target, ".html") && !idsOf(target)[f] {
				t.Errorf("%s: %q: %s has no element of id %q", strings.TrimPrefix(page, dir), raw, strings.TrimPrefix(target, dir), f)
			}
			// The lineage's address (#select=...&node=<id>), read as
			// lineage.js's readHash reads location.hash: split at "&" and
			// "=", each value decoded once, "+" kept. A node asked for
			// must be one of the graph's.
			if strings.Contains(u.Fragment, "=") {
				for _, kv := range strings.Split(u.EscapedFragment(), "&") {
					k, v, _ := strings.Cut(kv, "=")
					if k != "node" {
						continue
					}
					id, err := url.PathUnescape(v)
					if err != nil || !graphIDs(t, dir)[id] {
						t.Errorf("%s: %q asks the lineage for node %q (%v), which it does not have", strings.TrimPrefix(page, dir), raw, id, err)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return checked
}

// graphIDs are the ids of the nodes the lineage page draws (assets/graph.js).
func graphIDs(t *testing.T, dir string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "assets", "graph.js"))
	if err != nil {
		t.Fatal(err)
	}
	var g struct{ Nodes [][]any }
	js := strings.TrimSuffix(strings.TrimSpace(strings.TrimPrefix(string(b), "window.STRATA_GRAPH = ")), ";")
	if err := json.Unmarshal([]byte(js), &g); err != nil {
		t.Fatalf("graph.js: %v", err)
	}
	ids := map[string]bool{}
	for _, n := range g.Nodes {
		if id, ok := n[0].(string); ok {
			ids[id] = true
		}
	}
	return ids
}

// An exposure that is not drawn (a notebook, an application without
// charts) has a page too: the links to it from its models' pages (and
// the lineage's, to the same dashboards/<name>.html) lead somewhere, and its page says
// what its YAML does; dashboards.html lists it apart from the dashboards.
func TestExposuresNotDrawnHavePages(t *testing.T) {
	in := &docs.Input{
		Manifest: &artifacts.Manifest{
			Nodes: map[string]*artifacts.Node{"model.p.m": {ID: "model.p.m", ResourceType: "model", Name: "m"}},
			Exposure: map[string]*artifacts.Node{
				"exposure.p.nb": {ID: "exposure.p.nb", ResourceType: "exposure", Name: "nb", Type: "notebook", Description: "Churn analysis.",
					Owner: &artifacts.Owner{Name: "Data Science", Email: "ds@example.com"}, Maturity: "low", URL: "https://nb.example.com/1",
					DependsOn: artifacts.DependsOn{Nodes: []string{"model.p.m"}}},
				"exposure.p.d": {ID: "exposure.p.d", ResourceType: "exposure", Name: "d", Type: "dashboard", DependsOn: artifacts.DependsOn{Nodes: []string{"model.p.m"}}},
			},
			Parents:  map[string][]string{"exposure.p.nb": {"model.p.m"}, "exposure.p.d": {"model.p.m"}},
			Children: map[string][]string{"model.p.m": {"exposure.p.d", "exposure.p.nb"}},
		},
		Dashboards: []*docs.Dashboard{{ID: "exposure.p.d", Name: "d", Label: "D", Type: "dashboard", DependsOn: []string{"model.p.m"}}},
		Offline:    "test",
	}
	dir := t.TempDir()
	if _, err := docs.Generate(dir, in); err != nil {
		t.Fatal(err)
	}
	checked := checkLinks(t, dir)
	for _, want := range []string{"/dashboards/nb.html", "/nodes/model.p.m.html"} {
		if !checked[want] {
			t.Errorf("no link to %s was found", want)
		}
	}
	page, err := os.ReadFile(filepath.Join(dir, "dashboards", "nb.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<h1>nb</h1>", "Churn analysis.", "notebook · owner Data Science", "maturity low", `<a href="https://nb.example.com/1">`, `model.p.m.html">m</a>`} {
		if !strings.Contains(string(page), want) {
			t.Errorf("dashboards/nb.html lacks %q:\n%s", want, page)
		}
	}
	list, err := os.ReadFile(filepath.Join(dir, "dashboards.html"))
	if err != nil {
		t.Fatal(err)
	}
	if others := strings.Index(string(list), "Other exposures"); others < 0 || strings.Index(string(list), `href="dashboards/nb.html"`) < others ||
		strings.Index(string(list), `href="dashboards/d.html"`) > others {
		t.Errorf("dashboards.html does not list d among the dashboards and nb under Other exposures:\n%s", list)
	}
}
