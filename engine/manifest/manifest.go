// Package manifest assembles a loaded project into nodes — models, seeds,
// tests, sources and exposures — each with a unique id, its resolved config
// (the SQL file's config over YAML's, over project.yaml's folder defaults,
// over the built-in defaults), its relation in the database and its
// dependencies. It parses templates but renders nothing and touches no
// database.
package manifest

import (
	"fmt"
	"path"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"

	"strata/engine/diag"
	"strata/engine/internal/par"
	"strata/engine/pgname"
	"strata/engine/project"
	"strata/engine/template"
)

// Kind is a node's resource type, in the user's words.
type Kind string

const (
	Model    Kind = "model"
	Seed     Kind = "seed"
	Test     Kind = "test"
	Source   Kind = "source"
	Exposure Kind = "exposure"
)

// Node is one resource of the project.
type Node struct {
	ID          string
	Kind        Kind
	Name        string
	Path        string // file that defines it, relative to the project
	Pos         diag.Pos
	Description string
	Config      project.Config
	ConfigPos   map[string]diag.Pos
	// HookText is where the text of each hook of pre_hook and post_hook
	// is in the file that configures it ("post_hook.1"), when known.
	HookText  map[string]diag.Origin
	Relation  pgname.Rel
	DependsOn []string // ids, sorted
	Checksum  string
	Columns   []*project.Column
	Macros    []string // macros used (models, tests)

	Template *template.Template // models, singular tests
	Model    *project.Model
	Seed     *project.Seed
	Source   *project.Source
	Table    *project.SourceTable
	Exposure *project.Exposure
	TestInfo *TestInfo
	// Unit is a unit test's YAML entry (TestInfo.Kind "unit").
	Unit *project.UnitTest
}

// TestInfo describes what a test node checks.
type TestInfo struct {
	Kind     string // generic test name, or "singular"
	Args     map[string]any
	ArgPos   map[string]diag.Pos
	Column   string // "" for model-level tests
	Attached string // id of the node the test belongs to ("" for a singular test that refs nothing)
}

// Target is what the manifest needs to know of the active target.
type Target struct {
	Name         string
	Type         string
	Schema       string
	SchemaPrefix string
	// Env is the environment the run builds in (--env): every schema a
	// model or seed is placed in gets pgname.EnvSchema's suffix. "" is
	// production.
	Env string
}

// Place is the schema the target puts what names schema in: with its
// schema_prefix, and in its environment.
func (t Target) Place(schema string) string {
	return pgname.EnvSchema(t.SchemaPrefix+schema, t.Env)
}

// Manifest is the assembled project.
type Manifest struct {
	Project *project.Project
	Target  Target
	Macros  *template.Set
	Nodes   map[string]*Node
	// Disabled holds the nodes left out by enabled: false, by id: they are
	// not built, but a selector that names one names something.
	Disabled map[string]*Node
	// byName finds models and seeds by name.
	byName map[string]*Node
	// sorted caches Sorted once Build is done: callers ask for it in loops.
	sorted []string
}

// Ephemeral reports whether n is an ephemeral model: it has no relation and
// is inlined, as a CTE, into every node that refs it, so those nodes read
// its parents directly.
func (n *Node) Ephemeral() bool {
	return n.Kind == Model && n.Config.Materialized == "ephemeral"
}

// Lookup returns the model or seed called name.
func (m *Manifest) Lookup(name string) (*Node, bool) {
	n, ok := m.byName[name]
	return n, ok
}

// sourceArg is a test argument naming a source table as dbt's YAML
// does: source('crm', 'accounts').
var sourceArg = regexp.MustCompile(`^\s*source\(\s*` + quotedName + `\s*,\s*` + quotedName + `\s*\)\s*$`)

// dbtSource is the source table that source('src', 'table') names (each
// name in single or double quotes).
func dbtSource(s string) (src, table string, ok bool) {
	m := sourceArg.FindStringSubmatch(s)
	if m == nil {
		return "", "", false
	}
	return m[1] + m[2], m[3] + m[4], true
}

// dbtQuote writes name in the quotes dbt's YAML would: single, unless it
// holds one.
func dbtQuote(name string) string {
	if strings.Contains(name, "'") {
		return `"` + name + `"`
	}
	return "'" + name + "'"
}

// LookupArg returns the node a test argument names: a model or seed by
// name, or a source table written source('src', 'table').
func (m *Manifest) LookupArg(arg string) (*Node, bool) {
	if src, table, ok := dbtSource(arg); ok {
		return m.SourceNode(src, table)
	}
	return m.Lookup(arg)
}

// SourceNode returns the node of a source table.
func (m *Manifest) SourceNode(src, table string) (*Node, bool) {
	n, ok := m.Nodes[m.SourceID(src, table)]
	return n, ok
}

// SourceID is the unique id of a source table.
func (m *Manifest) SourceID(src, table string) string {
	return "source." + m.Project.Name + "." + src + "." + table
}

// Sorted returns the ids of all nodes, sorted.
func (m *Manifest) Sorted() []string {
	if m.sorted != nil && len(m.sorted) == len(m.Nodes) {
		return slices.Clone(m.sorted)
	}
	ids := make([]string, 0, len(m.Nodes))
	for id := range m.Nodes {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Names returns the names of models and seeds, for suggestions.
func (m *Manifest) Names() []string {
	out := make([]string, 0, len(m.byName))
	for n := range m.byName {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// parsedModel is a model's template as parsed, or why it is not.
type parsedModel struct {
	tp    *template.Template
	diags diag.List
}

// parseModels parses the models' templates from a few goroutines (a Set is
// only read while parsing); Build uses the results in the models' order.
func parseModels(set *template.Set, models []*project.Model) []parsedModel {
	out := make([]parsedModel, len(models))
	par.For(len(models), min(runtime.GOMAXPROCS(0), len(models)/64), func(i int) {
		out[i].tp, out[i].diags = set.Parse(models[i].Path, models[i].SQL)
	})
	return out
}

// Build assembles the manifest. All problems are returned; the manifest is usable
// for what had none.
func Build(p *project.Project, t Target) (*Manifest, diag.List) {
	var diags diag.List
	if t.Schema == "" {
		t.Schema = "public"
	}
	var mfiles []template.MacroFile
	for _, f := range p.Macros {
		mfiles = append(mfiles, template.MacroFile{Path: f.Path, Text: f.Text})
	}
	set, d := template.ParseMacros(mfiles)
	diags = append(diags, d...)
	m := &Manifest{Project: p, Target: t, Macros: set, Nodes: map[string]*Node{}, Disabled: map[string]*Node{}, byName: map[string]*Node{}}

	for _, s := range p.Seeds {
		n := &Node{ID: "seed." + p.Name + "." + s.Name, Kind: Seed, Name: s.Name, Path: s.Path, Pos: diag.Pos{File: s.Path}, Seed: s, Checksum: s.Checksum}
		layers := []project.Layer{p.SeedConfig}
		if s.Doc != nil {
			layers = append(layers, s.Doc.Config)
			n.Description, n.Columns = s.Doc.Description, s.Doc.Columns
		}
		n.Config, n.ConfigPos = resolve(layers, &diags)
		n.HookText = hookTexts(layers)
		// A seed is loaded, not built as a view: as in dbt, its materialized
		// is "seed", so config.materialized:view does not select it.
		n.Config.Materialized = "seed"
		n.Relation = m.relation(n)
		m.add(n)
	}
	parsed := parseModels(set, p.Models)
	for i, md := range p.Models {
		n := &Node{ID: "model." + p.Name + "." + md.Name, Kind: Model, Name: md.Name, Path: md.Path, Pos: diag.Pos{File: md.Path, Line: 1, Col: 1}, Model: md, Checksum: md.Checksum}
		tp := parsed[i].tp
		diags = append(diags, parsed[i].diags...)
		n.Template = tp
		layers := folderLayers(p, md.Path)
		own := map[string]bool{}
		if md.Doc != nil {
			layers = append(layers, md.Doc.Config)
			n.Description, n.Columns = md.Doc.Description, md.Doc.Columns
			for k := range md.Doc.Config {
				own[k] = true
			}
		}
		if tp != nil {
			inFile := project.Layer{}
			for _, c := range tp.Config {
				if hint, ok := project.DbtConfigHint(c.Key, project.ModelConfigKeys); ok {
					diags.Errorf(c.Pos, "unknown config key %q: %s", c.Key, hint)
					continue
				}
				if !contains(project.ModelConfigKeys, c.Key) {
					diags.Errorf(c.Pos, "unknown config key %q%s", c.Key, diag.DidYouMean(c.Key, project.ModelConfigKeys))
					continue
				}
				inFile[c.Key] = project.Value{V: c.Value, Pos: c.Pos}
				own[c.Key] = true
			}
			layers = append(layers, inFile)
			n.Macros = tp.Macros
		}
		n.Config, n.ConfigPos = resolve(layers, &diags)
		n.HookText = hookTexts(layers)
		checkModelConfig(n, own, &diags)
		n.Relation = m.relation(n)
		m.add(n)
	}
	for _, src := range p.Sources {
		for _, tb := range src.Tables {
			n := &Node{ID: m.SourceID(src.Name, tb.Name), Kind: Source, Name: src.Name + "." + tb.Name, Pos: tb.Pos, Path: tb.Pos.File,
				Source: src, Table: tb, Description: tb.Description, Columns: tb.Columns,
				Relation: pgname.Rel{Schema: src.Schema, Name: tb.Identifier}}
			n.Config.Enabled = true
			m.Nodes[n.ID] = n
		}
	}

	// Dependencies of models.
	for _, n := range m.modelsSorted() {
		if n.Template == nil {
			continue
		}
		n.DependsOn = m.deps(n.Template, &diags)
		n.Checksum = withMacros(n.Checksum, n.Macros, set)
	}
	m.buildTests(&diags)
	m.buildExposures(&diags)
	// Disabled nodes: drop them and anything that needs them is an error.
	ids := m.Sorted()
	disabled := m.Disabled
	for _, id := range ids {
		n := m.Nodes[id]
		if n.Config.Enabled || n.Kind == Source || n.Kind == Exposure {
			continue
		}
		disabled[id] = n
		delete(m.Nodes, id)
		if n.Kind != Test {
			delete(m.byName, n.Name)
		}
	}
	for _, id := range ids {
		n, ok := m.Nodes[id]
		if !ok {
			continue // disabled
		}
		for _, dep := range n.DependsOn {
			if _, ok := m.Nodes[dep]; !ok && n.Kind != Test {
				diags = append(diags, disabledDep(n, dep, disabled[dep]))
			} else if !ok {
				delete(m.Nodes, id)
				disabled[id] = n // the test of a disabled node is left out with it
				break
			}
		}
	}
	m.buildUnitTests(&diags)
	m.sorted = nil
	m.sorted = m.Sorted()
	m.checkRelations(&diags)
	m.checkDistribution(&diags)
	diags.Sort()
	return m, diags
}

// withMacros folds the definitions of the macros a node uses into its checksum.
func withMacros(sum string, macros []string, set *template.Set) string {
	if len(macros) == 0 {
		return sum
	}
	var b strings.Builder
	b.WriteString(sum)
	for _, name := range macros {
		b.WriteString("|" + name + "=" + project.Checksum([]byte(set.Source(name))))
	}
	return project.Checksum([]byte(b.String()))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (m *Manifest) add(n *Node) {
	m.Nodes[n.ID] = n
	if n.Kind == Model || n.Kind == Seed {
		m.byName[n.Name] = n
	}
}

func (m *Manifest) modelsSorted() []*Node {
	var out []*Node
	for _, id := range m.Sorted() {
		if n := m.Nodes[id]; n.Kind == Model {
			out = append(out, n)
		}
	}
	return out
}

// FailuresTable is where a test with store_failures keeps its failing
// rows: schema audit of the target (in its environment), hashed when the
// test's name is too long, so two tests whose names share their first 63
// bytes keep separate tables.
func (m *Manifest) FailuresTable(n *Node) pgname.Rel {
	return pgname.Rel{Schema: m.Target.Place("audit"), Name: pgname.Fit(n.Name)}
}

// relation places a model or seed: schema_prefix + (config schema or the target's), alias or name.
func (m *Manifest) relation(n *Node) pgname.Rel {
	schema := n.Config.Schema
	if schema == "" {
		schema = m.Target.Schema
	}
	name := n.Name
	if n.Config.Alias != "" {
		name = n.Config.Alias
	}
	return pgname.Rel{Schema: m.Target.Place(schema), Name: name}
}

// RefProblem is the error of ref name, which names no model or seed, with
// what to write instead: the same in a model, a macro or a hook.
func (m *Manifest) RefProblem(name string) string {
	return fmt.Sprintf("ref %q: no model or seed is called %q%s", name, name, m.refHint(name))
}

// SourceProblem is the error of source src table, which is not defined,
// with the nearest source table: the same in a model, a macro or a hook.
func (m *Manifest) SourceProblem(src, table string) string {
	var known []string
	for _, s := range m.Project.Sources {
		for _, t := range s.Tables {
			known = append(known, s.Name+"."+t.Name)
		}
	}
	return fmt.Sprintf("source %q %q is not defined (expected it under sources: in a models/**/*.yml file)%s", src, table, diag.DidYouMean(src+"."+table, known))
}

// refHint says what to write for a ref to a name that is no model or seed:
// a source table's (dbt users ref a table that is a source), or that a
// singular test or an exposure cannot be read; else the nearest model or
// seed's name.
func (m *Manifest) refHint(name string) string {
	for _, src := range m.Project.Sources {
		for _, t := range src.Tables {
			if t.Name == name {
				return fmt.Sprintf(" (%s.%s is a source table: read it with source %q %q)", src.Name, t.Name, src.Name, t.Name)
			}
		}
	}
	for _, t := range m.Project.Singular {
		if t.Name == name {
			return fmt.Sprintf(" (%s is a singular test, which ref cannot read)", t.Path)
		}
	}
	for _, e := range m.Project.Exposures {
		if e.Name == name {
			return fmt.Sprintf(" (%q is an exposure, which ref cannot read)", name)
		}
	}
	return diag.DidYouMean(name, m.Names())
}

// calledFrom names, for a ref or source in a macro, the macro and the file
// that includes it, as a render error inside a macro does.
func calledFrom(c template.Call, tp *template.Template) string {
	if c.Macro == "" {
		return ""
	}
	return fmt.Sprintf(" (in macro %q, called from %s)", c.Macro, tp.Path)
}

// deps resolves a template's refs and sources to node ids, reporting unknown ones.
func (m *Manifest) deps(tp *template.Template, diags *diag.List) []string {
	set := map[string]bool{}
	for _, r := range tp.Refs {
		name := r.Args[0]
		dep, ok := m.byName[name]
		if !ok {
			diags.Errorf(r.Pos, "%s%s", m.RefProblem(name), calledFrom(r, tp))
			continue
		}
		set[dep.ID] = true
	}
	for _, s := range tp.Sources {
		id := m.SourceID(s.Args[0], s.Args[1])
		if _, ok := m.Nodes[id]; !ok {
			diags.Errorf(s.Pos, "%s%s", m.SourceProblem(s.Args[0], s.Args[1]), calledFrom(s, tp))
			continue
		}
		set[id] = true
	}
	out := make([]string, 0, len(set))
	for id := range set {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// folderLayers returns the folder defaults that apply to a model file, shallowest first.
func folderLayers(p *project.Project, file string) []project.Layer {
	dir := strings.TrimPrefix(path.Dir(file), "models")
	dir = strings.TrimPrefix(dir, "/")
	type fl struct {
		depth int
		layer project.Layer
	}
	var hits []fl
	for folder, layer := range p.Folders {
		if folder == "." {
			hits = append(hits, fl{0, layer})
			continue
		}
		if dir == folder || strings.HasPrefix(dir, folder+"/") {
			hits = append(hits, fl{strings.Count(folder, "/") + 1, layer})
		}
	}
	sort.Slice(hits, func(i, j int) bool { return hits[i].depth < hits[j].depth })
	out := make([]project.Layer, 0, len(hits))
	for _, h := range hits {
		out = append(out, h.layer)
	}
	return out
}

// EntryPos is where n's config set entry sub of the mapping key
// (column_types.amount), else where it set key (the whole mapping came
// from one place, or sub is not in it).
func (n *Node) EntryPos(key, sub string) diag.Pos {
	if pos, ok := n.ConfigPos[key+"."+sub]; ok {
		return pos
	}
	return n.ConfigPos[key]
}

// resolve applies layers in order (lowest precedence first) over the built-in
// defaults. The positions are of each key, and "key.sub" of each key of a
// mapping value (column_types.amount) as the layers wrote them.
func resolve(layers []project.Layer, diags *diag.List) (project.Config, map[string]diag.Pos) {
	c := project.Config{Materialized: "view", Enabled: true}
	pos := map[string]diag.Pos{}
	for _, l := range layers {
		keys := make([]string, 0, len(l))
		for k := range l {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v := l[k]
			if err := c.Apply(k, v.V); err != nil {
				diags.Errorf(v.Pos, "%s: %v", k, err)
				continue
			}
			// A layer sets a key whole: the items of the one before
			// (a folder's two hooks under the model's one) are gone.
			for sub := range pos {
				if strings.HasPrefix(sub, k+".") {
					delete(pos, sub)
				}
			}
			pos[k] = v.Pos
			for sub, p := range v.Keys {
				pos[k+"."+sub] = p
			}
		}
	}
	return c, pos
}

// hookTexts is where each hook of pre_hook and post_hook is in its file, from
// the last of layers that sets each (Node.HookText).
func hookTexts(layers []project.Layer) map[string]diag.Origin {
	out := map[string]diag.Origin{}
	for _, k := range []string{"pre_hook", "post_hook"} {
		for _, l := range slices.Backward(layers) {
			v, ok := l[k]
			if !ok {
				continue
			}
			for sub, o := range v.Texts {
				out[k+"."+sub] = o
			}
			break
		}
	}
	return out
}

// ResolveConfig exposes the precedence rule for tests of it.
func ResolveConfig(layers ...project.Layer) (project.Config, diag.List) {
	var d diag.List
	c, _ := resolve(layers, &d)
	return c, d
}

func (m *Manifest) String() string { return fmt.Sprintf("manifest of %d nodes", len(m.Nodes)) }
