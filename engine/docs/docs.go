// Package docs turns a compiled project, its last run and (when the target is
// reachable) the database's catalog and current data into a self-contained
// static site: a lineage graph, a page per model, seed and source, and the
// dashboards declared as exposures, drawn as SVG. Everything the site needs is
// embedded in the binary, so it works offline and from file://. It never
// prints; the CLI reports what it returns.
package docs

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"strata/engine/artifacts"
	"strata/engine/pgname"
)

//go:embed assets templates
var embedded embed.FS

// Input is everything a site is made of.
type Input struct {
	Manifest    *artifacts.Manifest
	Results     *artifacts.RunResults  // the last command's run; nil when there was none
	History     *artifacts.NodeResults // each node's latest result across commands; nil when none was kept
	Catalog     map[string][]Column    // node id -> columns as the database has them; nil when offline
	Dashboards  []*Dashboard
	GeneratedAt string // shown in the footer; the caller passes it so generation stays deterministic
	Offline     string // why the database was not read, "" when it was
	Stamp       string // the project's Stamp, taken before it was read; kept with the site for Server
}

// Column is a column of a relation in the database catalog.
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Dashboard is an exposure drawn as a page of charts.
type Dashboard struct {
	ID          string
	Name        string
	Label       string
	Type        string
	Description string
	OwnerName   string
	OwnerEmail  string
	Maturity    string // high, medium, low or ""
	URL         string
	DependsOn   []string // node ids
	Charts      []*Chart
}

// Chart is one chart of a dashboard and, after Fetch, its data.
type Chart struct {
	Title    string
	Type     string // kpi | line | bar | table
	Model    string
	Relation string // quoted relation of Model, resolved by the caller
	Query    string
	X        string
	Y        []string
	Value    string
	Fields   []string
	Sort     []string // column names, "-" first for descending order
	Limit    int
	Data     *Table
	Err      string // why there is no data
}

// Table is the result of a chart's query: column names and each value as
// the database prints it (nil for NULL).
type Table struct {
	Columns []string
	Rows    [][]*string
}

// Querier runs a query and returns the column names and every value in its
// text form (nil for NULL). Fetch calls it from several goroutines at once.
// The CLI implements it over the target's pool.
type Querier interface {
	QueryText(ctx context.Context, sql string, args ...any) (cols []string, rows [][]*string, err error)
}

// FetchConns is how many queries Fetch runs at once; the caller's pool should allow as many.
const FetchConns = 4

// Fetch reads the database catalog for every model, seed and source relation and
// each chart's data. A chart whose query fails keeps the error in Chart.Err; only a
// failure of the catalog query itself is returned. The catalog query and the
// charts' queries run concurrently, at most FetchConns at a time.
func Fetch(ctx context.Context, q Querier, in *Input) error {
	var (
		wg     sync.WaitGroup
		sem    = make(chan struct{}, FetchConns)
		cat    map[string][]Column
		catErr error
	)
	run := func(f func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			f()
		}()
	}
	run(func() { cat, catErr = fetchCatalog(ctx, q, in.Manifest) })
	before := map[*Chart]string{}
	for _, d := range in.Dashboards {
		for _, c := range d.Charts {
			before[c] = c.Err
			sql, err := ChartSQL(c)
			if err != nil {
				c.Err = err.Error()
				continue
			}
			run(func() {
				cols, rows, err := q.QueryText(ctx, sql)
				if err != nil {
					c.Err = err.Error()
					return
				}
				c.Data = &Table{Columns: cols, Rows: rows}
			})
		}
	}
	wg.Wait()
	if catErr != nil {
		// Without the catalog the site is offline: charts show no data either.
		for c, e := range before {
			c.Data, c.Err = nil, e
		}
		return catErr
	}
	in.Catalog = cat
	return nil
}

// fetchCatalog reads the columns of every relation in the project's schemas in one query
// and returns them by node id.
func fetchCatalog(ctx context.Context, q Querier, m *artifacts.Manifest) (map[string][]Column, error) {
	schemas := map[string]bool{}
	byRel := map[[2]string][]string{}
	for _, n := range allNodes(m) {
		if n.Relation == "" || n.Schema == "" {
			continue
		}
		schema, name, ok := splitQuoted(n.Relation)
		if !ok {
			continue
		}
		schemas[schema] = true
		byRel[[2]string{schema, name}] = append(byRel[[2]string{schema, name}], n.ID)
	}
	list := make([]string, 0, len(schemas))
	for s := range schemas {
		list = append(list, s)
	}
	sort.Strings(list)
	cat := map[string][]Column{}
	if len(list) == 0 {
		return cat, nil
	}
	_, rows, err := q.QueryText(ctx, `select n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
		from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
		where n.nspname = any($1) and c.relkind in ('r', 'v', 'm', 'p', 'f') and a.attnum > 0 and not a.attisdropped
		order by n.nspname, c.relname, a.attnum`, list)
	if err != nil {
		return nil, fmt.Errorf("reading the catalog: %w", err)
	}
	for _, r := range rows {
		if len(r) < 4 || r[0] == nil || r[1] == nil || r[2] == nil || r[3] == nil {
			continue
		}
		for _, id := range byRel[[2]string{*r[0], *r[1]}] {
			cat[id] = append(cat[id], Column{Name: *r[2], Type: *r[3]})
		}
	}
	return cat, nil
}

// maxChartRows bounds what a chart reads, so a chart over a big table stays a chart.
const maxChartRows = 5000

// ChartSQL is the query that reads a chart's data: its query as written, or the
// fields it plots from its model's relation.
func ChartSQL(c *Chart) (string, error) {
	limit := maxChartRows
	if c.Limit > 0 && c.Limit < limit {
		limit = c.Limit
	}
	if c.Query != "" {
		return fmt.Sprintf("select * from (\n%s\n) as chart%s limit %d", strings.TrimRight(strings.TrimSpace(c.Query), ";"), orderBy(c.Sort), limit), nil
	}
	if c.Relation == "" {
		return "", fmt.Errorf("chart %q has neither a model nor a query", c.Title)
	}
	var cols []string
	switch c.Type {
	case "kpi":
		cols = []string{c.Value}
		limit = 1
	case "table":
		cols = c.Fields
	default:
		cols = append([]string{c.X}, c.Y...)
	}
	var sel []string
	for _, col := range cols {
		if col != "" {
			sel = append(sel, pgname.Ident(col))
		}
	}
	if len(sel) == 0 {
		sel = []string{"*"}
	}
	order := orderBy(c.Sort)
	if order == "" && (c.Type == "line" || c.Type == "bar") && c.X != "" {
		order = " order by " + pgname.Ident(c.X)
	}
	return fmt.Sprintf("select %s from %s%s limit %d", strings.Join(sel, ", "), c.Relation, order, limit), nil
}

// orderBy is the order by clause of a chart's sort keys, or "". Rows whose key
// is NULL come last either way, so a "top 10" is ten rows with a value.
func orderBy(keys []string) string {
	var parts []string
	for _, k := range keys {
		if col, desc := strings.CutPrefix(k, "-"); desc {
			parts = append(parts, pgname.Ident(col)+" desc nulls last")
		} else if k != "" {
			parts = append(parts, pgname.Ident(k)+" asc nulls last")
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " order by " + strings.Join(parts, ", ")
}

// splitQuoted splits "schema"."name" into its unquoted parts.
func splitQuoted(rel string) (schema, name string, ok bool) {
	var parts []string
	for len(rel) > 0 {
		if rel[0] != '"' {
			i := strings.IndexByte(rel, '.')
			if i < 0 {
				parts = append(parts, rel)
				break
			}
			parts = append(parts, rel[:i])
			rel = rel[i+1:]
			continue
		}
		var b strings.Builder
		i := 1
		for ; i < len(rel); i++ {
			if rel[i] == '"' {
				if i+1 < len(rel) && rel[i+1] == '"' {
					b.WriteByte('"')
					i++
					continue
				}
				break
			}
			b.WriteByte(rel[i])
		}
		parts = append(parts, b.String())
		rel = rel[min(i+1, len(rel)):]
		rel = strings.TrimPrefix(rel, ".")
	}
	if len(parts) != 2 {
		return "", "", false
	}
	return parts[0], parts[1], true
}

func allNodes(m *artifacts.Manifest) []*artifacts.Node {
	out := make([]*artifacts.Node, 0, len(m.Nodes)+len(m.Sources)+len(m.Exposure))
	for _, set := range []map[string]*artifacts.Node{m.Nodes, m.Sources, m.Exposure} {
		for _, n := range set {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Summary says what Generate wrote.
type Summary struct {
	Pages      int
	Nodes      int
	Dashboards int
	Index      string
}

// Generate writes the site into dir, replacing an earlier one.
func Generate(dir string, in *Input) (*Summary, error) {
	s, err := newSite(in)
	if err != nil {
		return nil, err
	}
	// Files are overwritten in place and only stale ones removed afterwards: on a
	// real disk, unlinking and recreating thousands of pages costs more than writing them.
	stale := map[string]bool{}
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			stale[p] = true
		}
		return nil
	})
	for _, sub := range []string{"assets", "nodes", "dashboards"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return nil, err
		}
	}
	// Static assets, as embedded.
	assets, _ := fs.Sub(embedded, "assets")
	if err := fs.WalkDir(assets, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(assets, p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, "assets", p), b, 0o600)
	}); err != nil {
		return nil, err
	}
	// The graph data for the lineage page, as a script so it loads from file:// too.
	gd, err := json.Marshal(s.graphData())
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "assets", "graph.js"), append(append([]byte("window.STRATA_GRAPH = "), gd...), []byte(";\n")...), 0o600); err != nil {
		return nil, err
	}

	type job struct {
		path string
		tmpl string
		data any
	}
	jobs := []job{
		{"index.html", "index", s.pageData("Lineage", "", nil)},
		{"catalog.html", "catalog", s.pageData("Catalog", "", s.catalogRows())},
		{"dashboards.html", "dashboards", s.pageData("Dashboards", "", struct{ Dashboards, Others []*Dashboard }{s.in.Dashboards, s.others})},
	}
	for _, n := range s.pages {
		jobs = append(jobs, job{filepath.Join("nodes", n.ID+".html"), "node", s.pageData(n.Name, "../", s.nodePage(n))})
	}
	for _, d := range append(slices.Clip(s.in.Dashboards), s.others...) {
		jobs = append(jobs, job{filepath.Join("dashboards", d.Name+".html"), "dashboard", s.pageData(d.label(), "../", s.dashboardPage(d))})
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  = make(chan job)
	)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf bytes.Buffer
			for j := range next {
				buf.Reset()
				err := s.tmpl.ExecuteTemplate(&buf, j.tmpl, j.data)
				if err == nil {
					// In place and only when changed: fewer system calls than os.WriteFile.
					_, err = artifacts.WriteIfChanged(filepath.Join(dir, j.path), buf.String())
				}
				if err != nil {
					mu.Lock()
					if first == nil {
						first = fmt.Errorf("%s: %w", j.path, err)
					}
					mu.Unlock()
				}
			}
		}()
	}
	for _, j := range jobs {
		next <- j
	}
	close(next)
	wg.Wait()
	if first != nil {
		return nil, first
	}
	// The stamp last: a site whose pages failed to be written keeps its old stamp, and is regenerated.
	if in.Stamp != "" {
		if _, err := artifacts.WriteIfChanged(filepath.Join(dir, stampFile), in.Stamp+"\n"); err != nil {
			return nil, err
		}
		delete(stale, filepath.Join(dir, stampFile))
	}
	delete(stale, filepath.Join(dir, "assets", "graph.js"))
	for _, j := range jobs {
		delete(stale, filepath.Join(dir, j.path))
	}
	_ = fs.WalkDir(assets, ".", func(p string, d fs.DirEntry, err error) error {
		delete(stale, filepath.Join(dir, "assets", p))
		return nil
	})
	for p := range stale {
		if err := os.Remove(p); err != nil {
			return nil, err
		}
	}
	return &Summary{Pages: len(jobs), Nodes: len(s.nodes), Dashboards: len(s.in.Dashboards), Index: filepath.Join(dir, "index.html")}, nil
}

func (d *Dashboard) label() string {
	if d.Label != "" {
		return d.Label
	}
	return d.Name
}

// parseTemplates parses the embedded page templates.
func parseTemplates() (*template.Template, error) {
	return template.New("").Funcs(template.FuncMap{
		"chart":  renderChart,
		"lower":  strings.ToLower,
		"join":   strings.Join,
		"status": statusClass,
		// A page's file name is the raw id or name; in an href it must be
		// escaped, which html/template does not do for "#", "?" and "%".
		"pathEscape": url.PathEscape,
		// A value in the lineage page's address (#node=...): every character
		// that would end it or be read as a separator is escaped. It is a
		// template.URL, escaped once: as a string, html/template escapes it
		// again in an href's fragment ("%20" became "%2520"), and the
		// lineage, decoding once, found no node of that id.
		"hashEscape": func(s string) template.URL {
			return template.URL(strings.ReplaceAll(url.QueryEscape(s), "+", "%20"))
		},
		// An exposure's url is a link when it is a web address; anything else
		// (javascript:..., a path) is shown as text, where html/template
		// would have made it a link to #ZgotmplZ.
		"webURL": func(s string) bool {
			u, err := url.Parse(s)
			return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
		},
	}).ParseFS(embedded, "templates/*.html")
}
