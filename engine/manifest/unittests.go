package manifest

import (
	"maps"
	"slices"
	"sort"
	"strings"

	"strata/engine/datatest"
	"strata/engine/diag"
	"strata/engine/materialize"
	"strata/engine/project"
)

// UnitKind is the TestInfo.Kind of a unit test (docs/unit-tests.md).
const UnitKind = "unit"

// UnitID is the unique id of model's unit test name, as dbt writes it.
func (m *Manifest) UnitID(model, name string) string {
	return "unit_test." + m.Project.Name + "." + model + "." + name
}

// IsUnit says whether n is a unit test.
func (n *Node) IsUnit() bool { return n.Kind == Test && n.Unit != nil }

// UnitInput is a given input of a unit test resolved: the node it stands
// for (the model itself for this).
type UnitInput struct {
	Given *project.UnitGiven
	ID    string
}

// buildUnitTests turns the unit_tests: entries into test nodes, checking
// what can be known without a database: the model exists and is enabled,
// each given input is one the model reads, and once; names are unique;
// the columns given or expected are declared when the YAML declares the
// node's columns. A unit test has no parents in the graph: it runs before
// its model is built (pipeline.Schedule) and reads none of its inputs.
func (m *Manifest) buildUnitTests(diags *diag.List) {
	seen := map[string]diag.Pos{}
	for _, t := range m.Project.UnitTests {
		if prev, dup := seen[t.Name]; dup {
			diags.Errorf(t.Pos, "unit test name %q is used twice: here and at %s (names must be unique)", t.Name, prev)
			continue
		}
		seen[t.Name] = t.Pos
		if t.Model == "" {
			continue // reported by project
		}
		model, ok := m.byName[t.Model]
		if !ok || model.Kind != Model {
			if d := m.disabledModel(t.Model); d != nil {
				if t.Enabled {
					diags.Errorf(t.ModelPos, "unit test %s is for model %s, which is disabled (enabled: false at %s); disable the unit test too (config: {enabled: false})", t.Name, t.Model, configPos(d, "enabled"))
				}
				continue
			}
			if ok {
				diags.Errorf(t.ModelPos, "unit test %s: %q is a seed, not a model (a unit test tests a model's SQL)", t.Name, t.Model)
				continue
			}
			diags.Errorf(t.ModelPos, "unit test %s: no model is called %q%s", t.Name, t.Model, diag.DidYouMean(t.Model, m.modelNames()))
			continue
		}
		n := &Node{ID: m.UnitID(model.Name, t.Name), Kind: Test, Name: t.Name, Path: t.Pos.File, Pos: t.Pos, Description: t.Description,
			Unit: t, Checksum: t.Checksum, TestInfo: &TestInfo{Kind: UnitKind, Attached: model.ID}}
		n.Config.Enabled = t.Enabled
		n.Config.Tags = append([]string(nil), t.Tags...)
		n.Config.Severity = datatest.DefaultSeverity
		if !m.checkUnitTest(n, model, diags) {
			continue
		}
		if !t.Enabled {
			m.Disabled[n.ID] = n
			continue
		}
		m.Nodes[n.ID] = n
	}
}

// disabledModel is the disabled model called name, or nil.
func (m *Manifest) disabledModel(name string) *Node {
	for _, n := range m.Disabled {
		if n.Kind == Model && n.Name == name {
			return n
		}
	}
	return nil
}

func configPos(n *Node, key string) diag.Pos {
	if p, ok := n.ConfigPos[key]; ok {
		return p
	}
	return n.Pos
}

func (m *Manifest) modelNames() []string {
	var out []string
	for name, n := range m.byName {
		if n.Kind == Model {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// UnitInputs are the inputs of unit test n: each given one resolved to the
// node it stands for, in the order given.
func (m *Manifest) UnitInputs(n *Node) []UnitInput {
	var out []UnitInput
	model := m.Nodes[n.TestInfo.Attached]
	for _, g := range n.Unit.Given {
		id := ""
		switch g.Kind {
		case "ref":
			if dep, ok := m.byName[g.Name]; ok {
				id = dep.ID
			}
		case "source":
			id = m.SourceID(g.Name, g.Table)
		case "this":
			if model != nil {
				id = model.ID
			}
		}
		out = append(out, UnitInput{Given: g, ID: id})
	}
	return out
}

// UnitReads are the nodes model reads: its parents and, through each
// ephemeral one (inlined into it), that one's, sorted. A unit test may give
// any of them.
func (m *Manifest) UnitReads(model *Node) []string {
	seen := map[string]bool{}
	var visit func(n *Node)
	visit = func(n *Node) {
		for _, d := range n.DependsOn {
			dn := m.Nodes[d]
			if dn == nil || seen[d] {
				continue
			}
			seen[d] = true
			if dn.Ephemeral() {
				visit(dn)
			}
		}
	}
	visit(model)
	out := make([]string, 0, len(seen))
	for id := range seen {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// unitMacros are the macros of macros/ a unit test of model can replace
// (overrides.macros), sorted: those model includes, directly or through
// other macros, and those of the ephemeral models it inlines, but the
// ones the test gives as inputs (given: their ids), which it does not.
func (m *Manifest) unitMacros(model *Node, given map[string]diag.Pos) []string {
	set := map[string]bool{}
	seen := map[string]bool{}
	var visit func(n *Node)
	visit = func(n *Node) {
		if seen[n.ID] {
			return
		}
		seen[n.ID] = true
		for _, name := range n.Macros {
			set[name] = true
		}
		for _, d := range n.DependsOn {
			if _, isGiven := given[d]; !isGiven {
				if dn := m.Nodes[d]; dn != nil && dn.Ephemeral() {
					visit(dn)
				}
			}
		}
	}
	visit(model)
	return slices.Sorted(maps.Keys(set))
}

// readsUnresolved says whether model (or an ephemeral model it inlines)
// refs or reads as a source what g gives, by a name that resolves to no
// node: its ref or source is then an error of its own, at its place.
func (m *Manifest) readsUnresolved(model *Node, g *project.UnitGiven) bool {
	seen := map[string]bool{}
	var reads func(n *Node) bool
	reads = func(n *Node) bool {
		if n == nil || seen[n.ID] {
			return false
		}
		seen[n.ID] = true
		if tp := n.Template; tp != nil {
			for _, c := range tp.Refs {
				if g.Kind == "ref" && len(c.Args) > 0 && c.Args[0] == g.Name {
					return true
				}
			}
			for _, c := range tp.Sources {
				if g.Kind == "source" && len(c.Args) > 1 && c.Args[0] == g.Name && c.Args[1] == g.Table {
					return true
				}
			}
		}
		for _, d := range n.DependsOn {
			if dn := m.Nodes[d]; dn != nil && dn.Ephemeral() && reads(dn) {
				return true
			}
		}
		return false
	}
	return reads(model)
}

// checkUnitTest reports what is wrong with unit test n of model; false
// when it cannot run.
func (m *Manifest) checkUnitTest(n *Node, model *Node, diags *diag.List) bool {
	t := n.Unit
	before := len(*diags)
	reads := map[string]bool{}
	var readNames []string
	for _, d := range m.UnitReads(model) {
		reads[d] = true
		readNames = append(readNames, m.inputName(m.Nodes[d]))
	}
	incremental := model.Config.Materialized == "incremental" || model.Config.Materialized == "scd2"
	if incremental {
		readNames = append(readNames, "this")
	}
	sort.Strings(readNames)
	given := map[string]diag.Pos{}
	for _, in := range m.UnitInputs(n) {
		g := in.Given
		if prev, dup := given[in.ID]; dup && in.ID != "" {
			diags.Errorf(g.Pos, "unit test %s gives %s twice: here and at %s", t.Name, g.Input, prev)
			continue
		}
		given[in.ID] = g.Pos
		switch {
		case g.Kind == "this" && !incremental:
			diags.Errorf(g.Pos, "unit test %s gives this, but model %s is materialized as %s and never reads its own table (this is for incremental and scd2 models)", t.Name, model.Name, model.Config.Materialized)
			continue
		case g.Kind != "this" && !reads[in.ID] && m.Nodes[in.ID] == nil && m.readsUnresolved(model, g):
			// The model reads it, but the name resolves to nothing (no such
			// model or seed, a disabled one, an undefined source): the
			// model's own error says so at its ref, once.
			continue
		case g.Kind != "this" && !reads[in.ID]:
			diags.Errorf(g.Pos, "unit test %s gives %s, which model %s does not read (it reads %s)%s", t.Name, g.Input, model.Name, orNothing(readNames), diag.DidYouMean(m.inputNameOf(g), readNames))
			continue
		}
		owner := m.Nodes[in.ID]
		if g.Kind == "this" {
			owner = model
		}
		checkDeclared(diags, &g.UnitRows, owner, "input "+g.Input)
	}
	if ov := t.Overrides.IsIncremental; ov != nil && *ov && model.Config.Materialized != "incremental" {
		diags.Errorf(t.Overrides.IsIncrementalPos, "unit test %s: is_incremental: true, but model %s is materialized as %s, which build never renders with is_incremental true", t.Name, model.Name, model.Config.Materialized)
	}
	calls := m.unitMacros(model, given)
	for name, pos := range t.Overrides.MacroPos {
		switch {
		case m.Macros.File(name) == "":
			diags.Errorf(pos, "unit test %s overrides macro %q, which the project does not define%s", t.Name, name, diag.DidYouMean(name, m.Macros.Names()))
		case !slices.Contains(calls, name):
			// As an override of a var the model does not read: a
			// misspelt name leaves the test testing the macro's own SQL.
			what := "it includes no macro"
			if len(calls) > 0 {
				what = "it includes " + strings.Join(calls, ", ")
			}
			diags.Errorf(pos, "unit test %s overrides macro %q, which model %s never includes (%s): the override changes nothing%s", t.Name, name, model.Name, what, diag.DidYouMean(name, calls))
		}
	}
	checkDeclared(diags, &t.Expect, model, "expect of model "+model.Name)
	for _, g := range t.Given {
		checkQuery(diags, &g.UnitRows, t.Name, "given "+g.Input)
	}
	checkQuery(diags, &t.Expect, t.Name, "expect")
	return len(*diags) == before
}

// checkQuery refuses the query of rows of format sql when it is not one
// statement (materialize.OneStatement): the test sends it wrapped in its
// own (an insert, a create table as), and a ; or ) that ends the wrapper
// early would run whatever follows.
func checkQuery(diags *diag.List, rows *project.UnitRows, test, what string) {
	if rows.Format != "sql" {
		return
	}
	p := materialize.OneStatement(rows.SQL)
	if p == nil {
		return
	}
	advice := "close it"
	switch p.Kind {
	case "semicolon":
		advice = "move the other statement to an on-run-start hook"
	case "close":
		advice = `remove the ")" or open its "("`
	}
	diags.Errorf(rows.QueryPos(p.At), "unit test %s: %s (format sql): %s; the query is one select statement, which strata wraps in its own: %s", test, what, p.What, advice)
}

// checkDeclared reports a column of rows that the YAML's declared columns
// of node n do not have; nothing when none are declared.
func checkDeclared(diags *diag.List, rows *project.UnitRows, n *Node, what string) {
	declared := n.Columns
	if len(declared) == 0 {
		return
	}
	var names []string
	has := map[string]bool{}
	for _, c := range declared {
		names = append(names, c.Name)
		has[c.Name] = true
	}
	for _, c := range rows.Columns {
		if !has[c] {
			hint := diag.DidYouMean(c, names)
			if hint == "" {
				// Not a typo: a column the YAML does not document yet.
				hint = " (if it has such a column, declare it there)"
			}
			diags.Errorf(rows.ColPos[c], "%s: column %q is not among the columns its YAML declares (%s)%s", what, c, strings.Join(names, ", "), hint)
		}
	}
}

// inputName is how a given input names node n.
func (m *Manifest) inputName(n *Node) string {
	if n == nil {
		return ""
	}
	if n.Kind == Source {
		return "source(" + dbtQuote(n.Source.Name) + ", " + dbtQuote(n.Table.Name) + ")"
	}
	return "ref(" + dbtQuote(n.Name) + ")"
}

func (m *Manifest) inputNameOf(g *project.UnitGiven) string {
	if g.Kind == "source" {
		return "source(" + dbtQuote(g.Name) + ", " + dbtQuote(g.Table) + ")"
	}
	return "ref(" + dbtQuote(g.Name) + ")"
}

func orNothing(names []string) string {
	if len(names) == 0 {
		return "nothing"
	}
	return strings.Join(names, ", ")
}
