package docs_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"strata/engine/artifacts"
	"strata/engine/cli"
	"strata/engine/docs"
)

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	// A later time than any write before it, whatever the file system's clock granularity.
	later := time.Now().Add(time.Duration(len(text)+1) * time.Second)
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	return string(b)
}

// docs serve regenerates the site when a page is asked for and the project or
// its results changed since the site was generated; assets, and pages of an
// unchanged project, are served as they are.
func TestServerRegeneratesWhatChanged(t *testing.T) {
	project := t.TempDir()
	writeFile(t, filepath.Join(project, "project.yaml"), "name: p\n")
	writeFile(t, filepath.Join(project, "models", "a.sql"), "select 1 as x")
	site := filepath.Join(project, "target", "docs")
	generated := 0
	var fail error
	generate := func(context.Context) error {
		if fail != nil {
			return fail
		}
		stamp, err := docs.Stamp(project)
		if err != nil {
			return err
		}
		generated++
		man := &artifacts.Manifest{Project: "p", Nodes: map[string]*artifacts.Node{"model.p.a": {ID: "model.p.a", ResourceType: "model", Name: "a"}}}
		_, err = docs.Generate(site, &docs.Input{Manifest: man, Offline: "test", Stamp: stamp})
		return err
	}
	var failures []error
	srv := &docs.Server{Site: site, Project: project, Generate: generate, Failed: func(err error) { failures = append(failures, err) }}
	if err := generate(context.Background()); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()

	steps := []struct {
		name   string
		change func()
		path   string
		want   int // regenerations so far
	}{
		{"unchanged", nil, "/index.html", 1},
		{"a model changed, an asset asked for", func() { writeFile(t, filepath.Join(project, "models", "a.sql"), "select 2 as x") }, "/assets/style.css", 1},
		{"then a page", nil, "/index.html", 2},
		{"the folder, again", nil, "/", 2},
		{"a new YAML file", func() { writeFile(t, filepath.Join(project, "models", "m.yml"), "models: []\n") }, "/catalog.html", 3},
		{"the last run's results", func() { writeFile(t, filepath.Join(project, "target", "run_results.json"), "{}") }, "/nodes/model.p.a.html", 4},
		{"the site itself and hidden folders do not count", func() {
			writeFile(t, filepath.Join(site, "extra.txt"), "x")
			writeFile(t, filepath.Join(project, ".strata", "postgres", "x"), "x")
		}, "/index.html", 4},
		{"files strata does not read do not count (docs serve's output, a README)", func() {
			writeFile(t, filepath.Join(project, "nohup.out"), "Wrote target/docs/index.html\n")
			writeFile(t, filepath.Join(project, "models", "README.md"), "# models\n")
		}, "/index.html", 4},
		{"a unit test's fixture outside tests/ does", func() { writeFile(t, filepath.Join(project, "fixtures", "rows.csv"), "x\n1\n") }, "/index.html", 5},
		{"a seed gzipped", func() { writeFile(t, filepath.Join(project, "seeds", "s.csv.gz"), "x") }, "/index.html", 6},
	}
	for _, s := range steps {
		if s.change != nil {
			s.change()
		}
		get(t, hs.URL+s.path)
		if generated != s.want {
			t.Fatalf("%s: GET %s: %d regenerations, want %d", s.name, s.path, generated, s.want)
		}
	}

	// A regeneration that fails is reported once and not retried until the project changes again.
	fail = errors.New("models/a.sql:1:1: broken")
	writeFile(t, filepath.Join(project, "models", "a.sql"), "select broken")
	get(t, hs.URL+"/index.html")
	get(t, hs.URL+"/index.html")
	if len(failures) != 1 || !strings.Contains(failures[0].Error(), "broken") {
		t.Fatalf("failures reported: %v, want the one", failures)
	}
	fail = nil
	writeFile(t, filepath.Join(project, "models", "a.sql"), "select 3 as x")
	get(t, hs.URL+"/index.html")
	if generated != 7 || len(failures) != 1 {
		t.Fatalf("after the fix: %d regenerations (want 7), %d failures (want 1)", generated, len(failures))
	}
}

// `strata docs serve > serve.log` (or nohup's nohup.out) in the project's
// folder: each regeneration printed its "Wrote target/docs/index.html"
// line to a file of the project, which changed the project's stamp, so the
// next page asked for regenerated the site again, and so did every page
// after it, each one waiting seconds for a site that had not changed. A
// change to the project regenerates it once.
func TestDocsServeOutputInTheProject(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "project.yaml"), "name: p\n")
	writeFile(t, filepath.Join(dir, "models", "a.sql"), "select 1 as x")
	out, err := os.Create(filepath.Join(dir, "serve.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		done <- cli.Main(ctx, []string{"--project-dir", dir, "docs", "serve", "--offline", "--port", "0"}, out, out)
	}()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("docs serve: exit %d", code)
		}
	}()
	log := func() string {
		b, _ := os.ReadFile(out.Name())
		return string(b)
	}
	var base string
	for i := 0; i < 200 && base == ""; i++ {
		base = regexp.MustCompile(`http://127\.0\.0\.1:\d+/`).FindString(log())
		time.Sleep(25 * time.Millisecond)
	}
	if base == "" {
		t.Fatalf("docs serve printed no address: %s", log())
	}
	writeFile(t, filepath.Join(dir, "models", "b.sql"), `select x from {{ ref "a" }}`)
	for range 3 {
		get(t, base+"index.html")
	}
	if n := strings.Count(log(), "Wrote target/docs/index.html"); n != 2 {
		t.Errorf("the site was generated %d times, want 2 (at the start and once for models/b.sql):\n%s", n, log())
	}
}

// The same through `strata docs serve`: a model added while it serves is on
// the site at the next page load.
func TestDocsServeShowsANewModel(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "project.yaml"), "name: p\n")
	writeFile(t, filepath.Join(dir, "models", "a.sql"), "select 1 as x")
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr lockedBuffer
	done := make(chan int)
	go func() {
		done <- cli.Main(ctx, []string{"--project-dir", dir, "docs", "serve", "--offline", "--port", "0"}, &stdout, &stderr)
	}()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("docs serve: exit %d: %s", code, stderr.String())
		}
	}()
	var base string
	for i := 0; i < 200 && base == ""; i++ {
		base = regexp.MustCompile(`http://127\.0\.0\.1:\d+/`).FindString(stdout.String())
		time.Sleep(25 * time.Millisecond)
	}
	if base == "" {
		t.Fatalf("docs serve printed no address: %s%s", stdout.String(), stderr.String())
	}
	get(t, base+"index.html")
	if g := get(t, base+"assets/graph.js"); !strings.Contains(g, `"model.p.a"`) || strings.Contains(g, `"model.p.b"`) {
		t.Fatalf("graph.js before: %s", g)
	}
	writeFile(t, filepath.Join(dir, "models", "b.sql"), `select x from {{ ref "a" }}`)
	get(t, base+"index.html")
	if g := get(t, base+"assets/graph.js"); !strings.Contains(g, `"model.p.b"`) {
		t.Errorf("graph.js after models/b.sql was added: %s\nstderr: %s", g, stderr.String())
	}
	get(t, base+"nodes/model.p.b.html")
}

// docs serve serves the site's pages and assets and nothing else: no
// folder is listed (a folder without index.html is not found), hidden
// files (the stamp) are not found, and what is not found is a 404 page,
// HTML, that names the path and links to the site's pages.
func TestServerServesOnlyTheSite(t *testing.T) {
	project := t.TempDir()
	writeFile(t, filepath.Join(project, "project.yaml"), "name: p\n")
	site := filepath.Join(project, "target", "docs")
	stamp, err := docs.Stamp(project)
	if err != nil {
		t.Fatal(err)
	}
	man := &artifacts.Manifest{Project: "p", Nodes: map[string]*artifacts.Node{"model.p.a": {ID: "model.p.a", ResourceType: "model", Name: "a"}}}
	if _, err := docs.Generate(site, &docs.Input{Manifest: man, Offline: "test", Stamp: stamp}); err != nil {
		t.Fatal(err)
	}
	srv := &docs.Server{Site: site, Project: project, Generate: func(context.Context) error { return errors.New("regenerated") },
		Failed: func(err error) { t.Errorf("regeneration: %v", err) }}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	cases := []struct {
		path string
		want int
		has  string // in the body
	}{
		{"/", 200, `id="graph"`},
		{"/index.html", 200, `id="graph"`}, // FileServer redirects it to /
		{"/catalog.html", 200, "Catalog"},
		{"/nodes/model.p.a.html", 200, "model.p.a"},
		{"/assets/graph.js", 200, "STRATA_GRAPH"},
		{"/nodes/", 404, "no page at <code>/nodes/</code>"},
		{"/nodes", 404, "no page at <code>/nodes</code>"},
		{"/assets/", 404, "Not found"},
		{"/dashboards/", 404, "Not found"},
		{"/.stamp", 404, "Not found"},
		{"/nodes/model.p.b.html", 404, `<a href="/index.html">lineage</a>`},
		{"/nodes/%3Cb%3E.html", 404, "no page at <code>/nodes/&lt;b&gt;.html</code>"},
		{"/../project.yaml", 404, "Not found"},
	}
	for _, c := range cases {
		resp, err := http.Get(hs.URL + c.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.want || !strings.Contains(string(b), c.has) {
			t.Errorf("GET %s: %s, want %d and a body with %q:\n%.300s", c.path, resp.Status, c.want, c.has, b)
		}
		if c.want == 404 {
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("GET %s: Content-Type %q, want an HTML page", c.path, ct)
			}
			if strings.Contains(string(b), "model.p.a.html") || strings.Contains(string(b), "graph.js") {
				t.Errorf("GET %s lists the site's files:\n%s", c.path, b)
			}
		}
	}
}

// TestServerRefusesSymlinksOutOfTheSite: a symbolic link a user puts in
// target/docs was followed wherever it led, so docs serve served files of
// the project (project.yaml, with a target's settings) or of the machine.
// A link that leads out of the site, or is absolute, is not found; one
// that stays inside is served.
func TestServerRefusesSymlinksOutOfTheSite(t *testing.T) {
	project := t.TempDir()
	writeFile(t, filepath.Join(project, "project.yaml"), "name: p\n")
	writeFile(t, filepath.Join(project, "secret.html"), "SECRET")
	site := filepath.Join(project, "target", "docs")
	stamp, err := docs.Stamp(project)
	if err != nil {
		t.Fatal(err)
	}
	man := &artifacts.Manifest{Project: "p", Nodes: map[string]*artifacts.Node{"model.p.a": {ID: "model.p.a", ResourceType: "model", Name: "a"}}}
	if _, err := docs.Generate(site, &docs.Input{Manifest: man, Offline: "test", Stamp: stamp}); err != nil {
		t.Fatal(err)
	}
	for link, to := range map[string]string{
		"up.html":             "../../secret.html",
		"abs.html":            filepath.Join(project, "secret.html"),
		"abs_inside.html":     filepath.Join(site, "catalog.html"),
		"project.yaml":        "../../project.yaml",
		"out":                 "../..",
		"nodes/up.html":       "../../../secret.html",
		"inside.html":         "catalog.html",
		"nodes/inside.html":   "../catalog.html",
		"assets/through.html": "../out/secret.html",
	} {
		if err := os.Symlink(to, filepath.Join(site, filepath.FromSlash(link))); err != nil {
			t.Fatal(err)
		}
	}
	srv := &docs.Server{Site: site, Project: project, Generate: func(context.Context) error { return errors.New("regenerated") },
		Failed: func(err error) { t.Errorf("regeneration: %v", err) }}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	for _, c := range []struct {
		path string
		want int
	}{
		{"/up.html", 404},
		{"/abs.html", 404},
		{"/abs_inside.html", 404},
		{"/project.yaml", 404},
		{"/out/secret.html", 404},
		{"/out/", 404},
		{"/out/project.yaml", 404},
		{"/nodes/up.html", 404},
		{"/assets/through.html", 404},
		{"/inside.html", 200},
		{"/nodes/inside.html", 200},
		{"/catalog.html", 200},
	} {
		resp, err := http.Get(hs.URL + c.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.want || strings.Contains(string(b), "SECRET") || strings.Contains(string(b), "name: p") {
			t.Errorf("GET %s: %s, want %d:\n%.200s", c.path, resp.Status, c.want, b)
		}
	}
}

// A client that went away while the site was regenerated for it (a reload,
// a tab closed, curl --max-time) cancelled the regeneration, which was
// taken for a failure of the project: "strata docs generate failed" was
// printed and the site served as it was, out of date, until the project
// changed again. The regeneration now goes on, for the pages asked for
// after it.
func TestServerRegeneratesForAClientThatLeft(t *testing.T) {
	project := t.TempDir()
	writeFile(t, filepath.Join(project, "project.yaml"), "name: p\n")
	writeFile(t, filepath.Join(project, "models", "a.sql"), "select 1 as x")
	site := filepath.Join(project, "target", "docs")
	started, release := make(chan struct{}, 1), make(chan struct{})
	generated := 0
	generate := func(ctx context.Context) error {
		stamp, err := docs.Stamp(project)
		if err != nil {
			return err
		}
		if generated > 0 {
			started <- struct{}{}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-release:
			}
		}
		generated++
		man := &artifacts.Manifest{Project: "p", Nodes: map[string]*artifacts.Node{"model.p.a": {ID: "model.p.a", ResourceType: "model", Name: "a"}}}
		_, err = docs.Generate(site, &docs.Input{Manifest: man, Offline: "test", Stamp: stamp})
		return err
	}
	failed := make(chan error, 10)
	srv := &docs.Server{Site: site, Project: project, Generate: generate, Failed: func(err error) { failed <- err }}
	if err := generate(context.Background()); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()

	writeFile(t, filepath.Join(project, "models", "a.sql"), "select 2 as x")
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", hs.URL+"/catalog.html", nil)
	asked := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		asked <- err
	}()
	<-started
	cancel() // the client gives up while the site is regenerated
	if err := <-asked; err == nil {
		t.Fatal("the request was not cancelled")
	}
	time.Sleep(50 * time.Millisecond) // the server sees the client gone
	close(release)
	get(t, hs.URL+"/catalog.html")
	select {
	case err := <-failed:
		t.Fatalf("a client that went away was reported as a failed regeneration: %v", err)
	default:
	}
	if generated != 2 {
		t.Fatalf("%d generations, want 2: the site was not regenerated for the change", generated)
	}
}

// The loader follows symbolic links (docs/project.md): a model in a
// folder linked into models/, or a model file that is a link, is read
// where the link leads. docs serve's stamp did not follow them: it saw the
// link's own size and time, so a change made where it leads never
// regenerated the site. A link that leads to a folder it is in is not
// followed, as the loader refuses it.
func TestServerFollowsLinks(t *testing.T) {
	root := t.TempDir()
	project := filepath.Join(root, "p")
	writeFile(t, filepath.Join(project, "project.yaml"), "name: p\n")
	writeFile(t, filepath.Join(root, "shared", "s.sql"), "select 1 as x")
	writeFile(t, filepath.Join(root, "one.sql"), "select 1 as x")
	for link, to := range map[string]string{
		"models/shared":    filepath.Join(root, "shared"),
		"models/one.sql":   filepath.Join(root, "one.sql"),
		"models/loop":      "..",
		"models/.hidden":   filepath.Join(root, "shared"),
		"models/dangling":  filepath.Join(root, "nothing"),
		"models/up/around": filepath.Join(project, "models"),
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(project, link)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(to, filepath.Join(project, filepath.FromSlash(link))); err != nil {
			t.Fatal(err)
		}
	}
	stamp := func() string {
		t.Helper()
		s, err := docs.Stamp(project)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := stamp()
	if again := stamp(); again != before {
		t.Fatal("the stamp of an unchanged project changed")
	}
	for _, c := range []struct {
		name, file string
	}{
		{"a model in a linked folder", filepath.Join(root, "shared", "s.sql")},
		{"a model file that is a link", filepath.Join(root, "one.sql")},
		{"a new model in a linked folder", filepath.Join(root, "shared", "t.sql")},
	} {
		writeFile(t, c.file, "select 22 as x")
		now := stamp()
		if now == before {
			t.Errorf("%s changed: the stamp did not", c.name)
		}
		before = now
	}
}
