package docs

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net/url"
	"sort"
	"strings"
	"time"

	"strata/engine/artifacts"
)

// site is the input indexed for the pages.
type site struct {
	in      *Input
	tmpl    *template.Template
	nodes   []*node // every node, sorted by id
	byID    map[string]*node
	pages   []*node // models, seeds and sources: the nodes with a page of their own
	tests   map[string][]*node
	exposed map[string][]*Dashboard // node id -> dashboards that use it
	// others are the exposures that are not drawn (a notebook, an
	// application without charts): each has a page all the same, at the
	// address every link to an exposure leads to.
	others []*Dashboard
	counts map[string]int     // nodes by resource type
	chrome map[string]*chrome // root -> the parts of a page that only depend on the folder
}

// chrome is the header and footer shared by the pages of one folder.
type chrome struct{ Top, Bottom template.HTML }

type node struct {
	*artifacts.Node
	Mat    string
	Result *artifacts.Result
	From   string // the command whose result Result is, and when it started: "build at 2025-01-02 03:04:05 UTC"
	cfg    map[string]any
}

func newSite(in *Input) (*site, error) {
	if in.Manifest == nil {
		return nil, fmt.Errorf("no manifest")
	}
	t, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	s := &site{in: in, tmpl: t, byID: map[string]*node{}, tests: map[string][]*node{}, exposed: map[string][]*Dashboard{}}
	// Each node's latest result: the kept history, and over it the last
	// command's (the same, unless the history was lost or is older).
	results := map[string]*artifacts.Result{}
	from := map[string]string{}
	if in.History != nil {
		for id, r := range in.History.Results {
			results[id], from[id] = &r.Result, r.Command+" at "+shortTime(r.RunStartedAt)
		}
	}
	if in.Results != nil {
		for i := range in.Results.Results {
			r := &in.Results.Results[i]
			results[r.ID], from[r.ID] = r, in.Results.Command+" at "+shortTime(in.Results.StartedAt)
		}
	}
	for _, an := range allNodes(in.Manifest) {
		n := &node{Node: an, Result: results[an.ID], From: from[an.ID]}
		if len(an.Config) > 0 {
			_ = json.Unmarshal(an.Config, &n.cfg)
		}
		switch an.ResourceType {
		case "model":
			n.Mat, _ = n.cfg["materialized"].(string)
			if n.Mat == "" {
				n.Mat = "view"
			}
		default:
			n.Mat = an.ResourceType
		}
		s.nodes = append(s.nodes, n)
		s.byID[an.ID] = n
		switch an.ResourceType {
		case "model", "seed", "source":
			s.pages = append(s.pages, n)
		}
	}
	for _, n := range s.nodes {
		if n.ResourceType != "test" {
			continue
		}
		if n.Test != nil && n.Test.Attached != "" {
			s.tests[n.Test.Attached] = append(s.tests[n.Test.Attached], n)
			continue
		}
		for _, p := range n.DependsOn.Nodes {
			s.tests[p] = append(s.tests[p], n)
		}
	}
	drawn := map[string]bool{}
	for _, d := range in.Dashboards {
		drawn[d.ID] = true
		for _, id := range d.DependsOn {
			s.exposed[id] = append(s.exposed[id], d)
		}
	}
	for _, n := range s.nodes {
		if n.ResourceType != "exposure" || drawn[n.ID] {
			continue
		}
		d := &Dashboard{ID: n.ID, Name: n.Name, Label: n.Label, Type: n.Type, Description: n.Description, Maturity: n.Maturity, URL: n.URL, DependsOn: n.DependsOn.Nodes}
		if d.Label == "" {
			d.Label = n.Name
		}
		if n.Owner != nil {
			d.OwnerName, d.OwnerEmail = n.Owner.Name, n.Owner.Email
		}
		s.others = append(s.others, d)
	}
	return s, nil
}

// graphData is the lineage page's data, compact because a project may have thousands of nodes:
// nodes are arrays [id, kind, name, materialization, status, path, tags, attached] and
// parents[i] lists the indexes of node i's parents.
func (s *site) graphData() map[string]any {
	index := make(map[string]int, len(s.nodes))
	for i, n := range s.nodes {
		index[n.ID] = i
	}
	nodes := make([][]any, len(s.nodes))
	parents := make([][]int, len(s.nodes))
	for i, n := range s.nodes {
		status := ""
		if n.Result != nil {
			status = n.Result.Status
		}
		attached := -1
		if n.Test != nil && n.Test.Attached != "" {
			if j, ok := index[n.Test.Attached]; ok {
				attached = j
			}
		}
		tags := n.Tags
		if tags == nil {
			tags = []string{}
		}
		schema, _ := n.cfg["schema"].(string)
		testType := "" // what test_type: calls it: unit, singular or generic
		if n.Test != nil {
			switch n.Test.Kind {
			case "unit", "singular":
				testType = n.Test.Kind
			default:
				testType = "generic"
			}
		}
		nodes[i] = []any{n.ID, n.ResourceType, n.Name, n.Mat, status, n.Path, tags, attached, schema, testType}
		ps := s.in.Manifest.Parents[n.ID]
		if ps == nil {
			ps = n.DependsOn.Nodes
		}
		parents[i] = []int{}
		for _, p := range ps {
			if j, ok := index[p]; ok {
				parents[i] = append(parents[i], j)
			}
		}
	}
	dash := map[string]string{}
	for _, d := range s.in.Dashboards {
		dash[d.ID] = d.Name
	}
	return map[string]any{"project": s.in.Manifest.Project, "target": s.in.Manifest.Target, "nodes": nodes, "parents": parents, "dashboards": dash}
}

type pageData struct {
	Title, Root        string
	Project, Target    string
	Generated, Offline string
	Dashboards         []*Dashboard
	Counts             map[string]int
	LastRun            string
	Body               any
	Chrome             *chrome
}

func (s *site) pageData(title, root string, body any) *pageData {
	if s.counts == nil {
		s.counts = map[string]int{}
		for _, n := range s.nodes {
			s.counts[n.ResourceType]++
		}
	}
	counts := s.counts
	last := ""
	if r := s.in.Results; r != nil {
		last = fmt.Sprintf("%s at %s: %d pass, %d warn, %d fail, %d error, %d skipped", r.Command, shortTime(r.StartedAt), r.Summary.Pass, r.Summary.Warn, r.Summary.Fail, r.Summary.Error, r.Summary.Skip)
	}
	p := &pageData{Title: title, Root: root, Project: s.in.Manifest.Project, Target: s.in.Manifest.Target,
		Generated: s.in.GeneratedAt, Offline: s.in.Offline, Dashboards: s.in.Dashboards, Counts: counts, LastRun: last, Body: body}
	if s.chrome == nil {
		s.chrome = map[string]*chrome{}
	}
	if c, ok := s.chrome[root]; ok {
		p.Chrome = c
		return p
	}
	c := &chrome{}
	var b strings.Builder
	if err := s.tmpl.ExecuteTemplate(&b, "top", p); err == nil {
		c.Top = template.HTML(b.String())
	}
	b.Reset()
	if err := s.tmpl.ExecuteTemplate(&b, "bottom", p); err == nil {
		c.Bottom = template.HTML(b.String())
	}
	s.chrome[root], p.Chrome = c, c
	return p
}

func shortTime(t string) string {
	if tt, err := time.Parse(time.RFC3339Nano, t); err == nil {
		return tt.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	return t
}

type catalogRow struct {
	ID, Name, Kind, Mat, Relation, Status, Description string
	Columns                                            int
}

func (s *site) catalogRows() []catalogRow {
	rows := make([]catalogRow, 0, len(s.pages))
	for _, n := range s.pages {
		r := catalogRow{ID: n.ID, Name: n.Name, Kind: n.ResourceType, Mat: n.Mat, Relation: n.Relation, Description: firstLine(n.Description)}
		if n.Result != nil {
			r.Status = n.Result.Status
		}
		r.Columns = len(s.in.Catalog[n.ID])
		if r.Columns == 0 {
			r.Columns = len(n.Columns)
		}
		rows = append(rows, r)
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].Kind != rows[j].Kind {
			return kindRank(rows[i].Kind) < kindRank(rows[j].Kind)
		}
		return rows[i].Name < rows[j].Name
	})
	return rows
}

func kindRank(k string) int {
	return map[string]int{"source": 0, "seed": 1, "model": 2}[k]
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

type link struct{ Href, Name, Kind, Status string }

type testRow struct {
	ID, Name, Kind, Column, Status, Message, Args string
	Failures                                      *int64
}

// readRow is a node whose columns a model reads.
type readRow struct {
	ID      string
	Node    link
	Columns []string
}

type columnRow struct {
	Name, Type, TypeFrom, Description string
	Tests                             []testRow
	Missing                           bool // documented in YAML but not in the database
}

type nodePage struct {
	*node
	Columns     []columnRow
	FromCatalog bool
	// FromCheck: the columns are what strata check found (at CheckedAt).
	FromCheck bool
	CheckedAt string
	// Reads are the columns of other nodes the model reads, by node, as
	// strata check found them.
	Reads             []readRow
	Tests             []testRow
	Parents, Children []link
	Dashboards        []link
	Config            string
	LastRun           *artifacts.Result
	LastRunAt         string
	// Kept says that the last run kept the previous version because the
	// new one failed its audit.
	Kept string
}

// link is the link to the page of node id from a node page. Pages are named
// by the raw id; the href escapes it, as a "#", "?" or "%" in an id would
// otherwise end or garble the path.
func (s *site) link(id string) link {
	n, ok := s.byID[id]
	if !ok {
		return link{Name: id}
	}
	l := link{Name: n.Name, Kind: n.ResourceType}
	if n.Result != nil {
		l.Status = n.Result.Status
	}
	switch n.ResourceType {
	case "model", "seed", "source":
		// "./" first: an id holding ":" would otherwise read as a URL scheme.
		l.Href = "./" + url.PathEscape(n.ID) + ".html"
	case "exposure":
		l.Href = "../dashboards/" + url.PathEscape(n.Name) + ".html"
	case "test":
		if n.Test != nil && n.Test.Attached != "" {
			l.Href = "./" + url.PathEscape(n.Test.Attached) + ".html#tests"
		}
	}
	return l
}

func (s *site) testRow(t *node) testRow {
	r := testRow{ID: t.ID, Name: t.Name, Kind: "singular"}
	if t.Test != nil {
		r.Kind, r.Column = t.Test.Kind, t.Test.Column
		if len(t.Test.Args) > 0 {
			b, _ := json.Marshal(t.Test.Args)
			r.Args = string(b)
		}
	}
	if t.Result != nil {
		r.Status, r.Message, r.Failures = t.Result.Status, t.Result.Message, t.Result.Failures
	} else {
		r.Status = "not run"
	}
	return r
}

func (s *site) nodePage(n *node) *nodePage {
	p := &nodePage{node: n, LastRun: n.Result}
	if n.Result != nil {
		p.LastRunAt = shortTime(n.Result.StartedAt)
		switch {
		case notCreated(n.Result):
			p.Kept = "not created: audit failed at " + p.LastRunAt + ", and there was no previous version to keep"
		case n.Result.AdapterResp == artifacts.AuditFailed:
			p.Kept = "kept previous version: audit failed at " + p.LastRunAt
		}
	}
	for _, t := range s.tests[n.ID] {
		p.Tests = append(p.Tests, s.testRow(t))
	}
	byCol := map[string][]testRow{}
	for _, t := range p.Tests {
		if t.Column != "" {
			byCol[t.Column] = append(byCol[t.Column], t)
		}
	}
	yaml := map[string]artifacts.Column{}
	for _, c := range n.Columns {
		yaml[c.Name] = c
	}
	if cat, ok := s.in.Catalog[n.ID]; ok && len(cat) > 0 {
		p.FromCatalog = true
		seen := map[string]bool{}
		for _, c := range cat {
			seen[c.Name] = true
			p.Columns = append(p.Columns, columnRow{Name: c.Name, Type: c.Type, TypeFrom: "database", Description: yaml[c.Name].Description, Tests: byCol[c.Name]})
		}
		for _, c := range n.Columns {
			if !seen[c.Name] {
				p.Columns = append(p.Columns, columnRow{Name: c.Name, Type: c.DataType, TypeFrom: "yaml", Description: c.Description, Tests: byCol[c.Name], Missing: true})
			}
		}
	} else if n.ColumnsCheckedAt != "" {
		p.FromCheck, p.CheckedAt = true, shortTime(n.ColumnsCheckedAt)
		for _, c := range n.Columns {
			missing := c.Produced != nil && !*c.Produced
			typ, from := c.DataType, "check"
			if missing {
				typ, from = c.DeclaredType, "yaml"
			}
			p.Columns = append(p.Columns, columnRow{Name: c.Name, Type: typ, TypeFrom: from, Description: c.Description, Tests: byCol[c.Name], Missing: missing})
		}
	} else {
		for _, c := range n.Columns {
			p.Columns = append(p.Columns, columnRow{Name: c.Name, Type: c.DataType, TypeFrom: "yaml", Description: c.Description, Tests: byCol[c.Name]})
		}
	}
	for _, r := range n.ColumnsUsed {
		if k := len(p.Reads); k > 0 && p.Reads[k-1].ID == r.Node {
			p.Reads[k-1].Columns = append(p.Reads[k-1].Columns, r.Column)
			continue
		}
		p.Reads = append(p.Reads, readRow{ID: r.Node, Node: s.link(r.Node), Columns: []string{r.Column}})
	}
	for _, id := range s.in.Manifest.Parents[n.ID] {
		p.Parents = append(p.Parents, s.link(id))
	}
	for _, id := range s.in.Manifest.Children[n.ID] {
		if c, ok := s.byID[id]; ok && c.ResourceType == "test" {
			continue
		}
		p.Children = append(p.Children, s.link(id))
	}
	for _, d := range s.exposed[n.ID] {
		p.Dashboards = append(p.Dashboards, link{Href: "../dashboards/" + url.PathEscape(d.Name) + ".html", Name: d.label(), Kind: "exposure"})
	}
	if len(n.Config) > 0 {
		var v any
		if json.Unmarshal(n.Config, &v) == nil {
			b, _ := json.MarshalIndent(v, "", "  ")
			p.Config = string(b)
		}
	}
	return p
}

type dashboardPage struct {
	*Dashboard
	Uses  []link
	Notes []string // per chart: why its data may not be the last run's
}

func (s *site) dashboardPage(d *Dashboard) *dashboardPage {
	p := &dashboardPage{Dashboard: d, Notes: make([]string, len(d.Charts))}
	byName := map[string]*node{}
	for _, id := range d.DependsOn {
		l := s.link(id)
		if l.Href != "" && !strings.HasPrefix(l.Href, "../") {
			l.Href = "../nodes/" + l.Href
		}
		p.Uses = append(p.Uses, l)
		if n := s.byID[id]; n != nil {
			byName[n.Name] = n
		}
	}
	for i, c := range d.Charts {
		if n := byName[c.Model]; n != nil {
			p.Notes[i] = staleNote(n)
		}
	}
	return p
}

// staleNote says why a chart of n may show older data than its last run
// meant to build: the run failed n, or failed its audit, or skipped it, and
// the relation a chart reads is the version before (or none, the first
// time). Empty when n's last result built it.
func staleNote(n *node) string {
	r := n.Result
	if r == nil {
		return ""
	}
	at := shortTime(r.StartedAt)
	if at != "" {
		at = " at " + at
	}
	switch {
	case notCreated(r):
		return fmt.Sprintf("%s failed its audit%s and was not created: there was no version before it", n.Name, at)
	case r.AdapterResp == artifacts.AuditFailed:
		return fmt.Sprintf("%s failed its audit%s: this chart shows the version before it", n.Name, at)
	case r.Status == "error":
		return fmt.Sprintf("the last build of %s failed%s: this chart shows the version before it, if there is one", n.Name, at)
	case r.Status == "skipped":
		return fmt.Sprintf("%s was skipped by its last run%s: this chart shows the version before it, if there is one", n.Name, at)
	}
	return ""
}

// notCreated reports whether r is a failed audit of a model or seed that
// did not exist before: nothing was kept, and there is no relation.
func notCreated(r *artifacts.Result) bool {
	return r.AdapterResp == artifacts.AuditFailed && strings.Contains(r.Message, artifacts.AuditNotCreated)
}

// statusClass maps a run status to a CSS class.
func statusClass(st string) string {
	switch st {
	case "success", "pass":
		return "ok"
	case "warn":
		return "warn"
	case "error", "fail":
		return "bad"
	case "skipped":
		return "skip"
	}
	return "none"
}
