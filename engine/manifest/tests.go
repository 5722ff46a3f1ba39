package manifest

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"

	"strata/engine/datatest"
	"strata/engine/diag"
	"strata/engine/internal/par"
	"strata/engine/project"
)

// buildTests turns YAML tests (on models, seeds, sources and their columns) and
// tests/**/*.sql into test nodes.
func (m *Manifest) buildTests(diags *diag.List) {
	type owner struct {
		node *Node
		doc  []*project.TestSpec
		cols []*project.Column
	}
	var owners []owner
	// A generic test's checksum hashes its arguments and config as fmt
	// prints them, which costs more than building the node: done for all
	// of them at the end, on every core.
	var added []addedTest
	macrosOf := map[string][]string{} // custom test kind -> the macros it uses
	// custom test kind -> the arguments its macro reads
	readsOf := map[string]macroReads{}
	add := func(on *Node, column string, spec *project.TestSpec) {
		if !m.customArgsRead(spec, readsOf, diags) {
			return
		}
		if n := m.addTest(on, column, spec, diags); n != nil {
			n.Macros = m.customTestMacros(spec.Kind, macrosOf)
			added = append(added, addedTest{n, spec, column})
		}
	}
	for _, id := range m.Sorted() {
		n := m.Nodes[id]
		switch n.Kind {
		case Model:
			if n.Model.Doc != nil {
				owners = append(owners, owner{n, n.Model.Doc.Tests, n.Model.Doc.Columns})
			}
		case Seed:
			if n.Seed.Doc != nil {
				owners = append(owners, owner{n, n.Seed.Doc.Tests, n.Seed.Doc.Columns})
			}
		case Source:
			owners = append(owners, owner{n, n.Table.Tests, n.Table.Columns})
			if f := n.Table.Freshness; f != nil {
				spec := &project.TestSpec{Kind: "freshness", Pos: f.Pos, Config: project.Layer{},
					Args: map[string]any{"field": n.Table.LoadedAtField, "warn_after": f.WarnAfter, "error_after": f.ErrorAfter}}
				add(n, "", spec)
			}
		}
	}
	for _, o := range owners {
		for _, t := range o.doc {
			add(o.node, "", t)
		}
		for _, c := range o.cols {
			for _, t := range c.Tests {
				add(o.node, c.Name, t)
			}
		}
	}
	par.For(len(added), min(runtime.GOMAXPROCS(0), len(added)/256), func(i int) {
		a := added[i]
		// The config as JSON, whose empty fields are left out: a config key
		// added to strata does not make every test look modified.
		cfg, _ := json.Marshal(a.node.Config)
		sum := project.Checksum([]byte(fmt.Sprintf("%s|%s|%v|%s", a.spec.Kind, a.column, a.spec.Args, cfg)))
		a.node.Checksum = withMacros(sum, a.node.Macros, m.Macros)
	})
	for _, st := range m.Project.Singular {
		n := &Node{ID: "test." + m.Project.Name + "." + st.Name, Kind: Test, Name: st.Name, Path: st.Path, Pos: diag.Pos{File: st.Path, Line: 1, Col: 1}, Checksum: st.Checksum}
		if prev, dup := m.Nodes[n.ID]; dup {
			diags.Errorf(n.Pos, "test name %q is used twice: %s and %s", st.Name, prev.Pos, st.Path)
			continue
		}
		tp, d := m.Macros.Parse(st.Path, st.SQL)
		*diags = append(*diags, d...)
		if tp == nil {
			continue
		}
		n.Template = tp
		n.Macros = tp.Macros
		// A macro the test includes changes its SQL: state:modified must see it.
		n.Checksum = withMacros(n.Checksum, n.Macros, m.Macros)
		for _, c := range tp.Config {
			if !contains(project.TestConfigKeys, c.Key) {
				diags.Errorf(c.Pos, "unknown config key %q for a test%s", c.Key, diag.DidYouMean(c.Key, project.TestConfigKeys))
			}
		}
		layer := project.Layer{}
		for _, c := range tp.Config {
			if contains(project.TestConfigKeys, c.Key) {
				layer[c.Key] = project.Value{V: c.Value, Pos: c.Pos}
			}
		}
		n.Config, n.ConfigPos = resolve([]project.Layer{layer}, diags)
		n.Config.Materialized = ""
		if n.Config.Severity == "" {
			n.Config.Severity = datatest.DefaultSeverity
		}
		unreachableThresholds(n, diags)
		n.DependsOn = m.deps(tp, diags)
		n.TestInfo = &TestInfo{Kind: "singular"}
		if len(n.DependsOn) == 1 {
			n.TestInfo.Attached = n.DependsOn[0]
		}
		m.Nodes[n.ID] = n
	}
}

// customTestMacros returns the macros a custom generic test uses: its
// test_<kind> macro and those it includes, so that a change to any of them
// counts in the test's checksum. Built-in tests use none. cache keeps the
// answer per kind: a project may have thousands of tests of one kind.
func (m *Manifest) customTestMacros(kind string, cache map[string][]string) []string {
	if datatest.Lookup(kind) != nil {
		return nil
	}
	if macros, ok := cache[kind]; ok {
		return macros
	}
	// Parsed as compile renders it (under a name no macro has); a problem in
	// the macro is reported when the test is compiled.
	tp, _ := m.Macros.Parse("generic test "+kind, fmt.Sprintf("{{ include %q . }}", "test_"+kind))
	var macros []string
	if tp != nil {
		macros = tp.Macros
	}
	cache[kind] = macros
	return macros
}

// macroReads is what a custom generic test's macro reads from its data.
type macroReads struct {
	fields map[string]bool
	known  bool
}

// customArgsRead reports an argument of a custom generic test that its
// macro test_<kind> never reads: the macro would silently ignore it, and it
// is almost surely a typo of a config key (serverity: warn) or of an
// argument. It returns false when it reported one. A macro that uses its
// data whole (range over it, pass it on) might read anything: no check.
func (m *Manifest) customArgsRead(spec *project.TestSpec, cache map[string]macroReads, diags *diag.List) bool {
	if datatest.Lookup(spec.Kind) != nil {
		return true
	}
	reads, ok := cache[spec.Kind]
	if !ok {
		reads.fields, reads.known = m.Macros.DataFields("test_" + spec.Kind)
		cache[spec.Kind] = reads
	}
	if !reads.known {
		return true
	}
	var read []string // the arguments it reads, not the data strata gives every test
	for f := range reads.fields {
		if !contains(datatest.CustomFields, f) {
			read = append(read, f)
		}
	}
	sort.Strings(read)
	candidates := append(append([]string{}, project.TestConfigKeys...), read...)
	ok = true
	for _, k := range slices.Sorted(maps.Keys(spec.Args)) {
		if reads.fields[k] {
			continue
		}
		expected := "a test config key (" + strings.Join(project.TestConfigKeys, ", ") + ")"
		if len(read) > 0 {
			expected += " or an argument it reads (" + strings.Join(read, ", ") + ")"
		}
		diags.Errorf(spec.ArgPos[k], "test %s: argument %q is not read by macro test_%s (expected %s)%s", spec.Kind, k, spec.Kind, expected, diag.DidYouMean(k, candidates))
		ok = false
	}
	return ok
}

// dbtRefArg is a test argument naming a model the way dbt's YAML does,
// ref('name') or ref("name").
var dbtRefArg = regexp.MustCompile(`^\s*ref\(\s*` + quotedName + `\s*\)\s*$`)

// quotedName is a name in single or double quotes, as dbt's YAML writes a
// ref's or source's: one quote may be inside the other (ref("it's")).
const quotedName = `(?:'([^']+)'|"([^"]+)")`

// dbtRef is the name that ref('name') or ref("name") names.
func dbtRef(s string) (string, bool) {
	m := dbtRefArg.FindStringSubmatch(s)
	if m == nil {
		return "", false
	}
	return m[1] + m[2], true
}

// dbtVersionedRef is dbt's ref of a model's version, ref('name', v=2) or
// ref('name', version=2): strata has no model versions.
var dbtVersionedRef = regexp.MustCompile(`^\s*ref\(\s*` + quotedName + `\s*,\s*(?:v|version)\s*=\s*[^)]*\)\s*$`)

// noVersions says that strata has no model versions, for ref, dbt's ref of
// a model's version; "" for anything else.
func noVersions(ref string) string {
	m := dbtVersionedRef.FindStringSubmatch(ref)
	if m == nil {
		return ""
	}
	name := m[1] + m[2]
	return fmt.Sprintf("%s, a version of model %s: strata has no model versions (write ref(%s), or %s)", strings.TrimSpace(ref), name, dbtQuote(name), name)
}

// addedTest is a generic test node waiting for its checksum.
type addedTest struct {
	node   *Node
	spec   *project.TestSpec
	column string
}

// addTest adds the node of a generic test (without its checksum: see
// buildTests) and returns it; nil when the test has a problem, reported in diags.
func (m *Manifest) addTest(on *Node, column string, spec *project.TestSpec, diags *diag.List) *Node {
	kind := datatest.Lookup(spec.Kind)
	if kind == nil {
		macro := "test_" + spec.Kind
		if m.Macros.File(macro) == "" {
			known := datatest.Names()
			for _, name := range m.Macros.Names() {
				if strings.HasPrefix(name, "test_") {
					known = append(known, strings.TrimPrefix(name, "test_"))
				}
			}
			sort.Strings(known)
			if hint, ok := datatest.DbtTest(spec.Kind); ok {
				diags.Errorf(spec.Pos, "unknown test %q: %s", spec.Kind, hint)
				return nil
			}
			diags.Errorf(spec.Pos, "unknown test %q (expected a built-in test or a macro named %q)%s", spec.Kind, macro, diag.DidYouMean(spec.Kind, known))
			return nil
		}
	}
	// dbt's spelling, to: ref('customers'), names the model as ours does,
	// before anything (the test's id) is made of the arguments.
	for _, arg := range datatest.RefArgs(spec.Kind) {
		if name, ok := spec.Args[arg].(string); ok {
			if msg := noVersions(name); msg != "" {
				diags.Errorf(spec.ArgPos[arg], "test %s: %s: %s", spec.Kind, arg, msg)
				return nil
			}
			if ref, ok := dbtRef(name); ok {
				spec.Args[arg] = ref
			}
		}
	}
	base := spec.Kind + "_" + on.Name
	if column != "" {
		base += "_" + column
	}
	base = safeTestName(base)
	if len(base) > maxTestName {
		// Long model and column names: cut, and keep them apart by a hash.
		base = base[:maxTestName-9] + "_" + project.Checksum([]byte(base))[:8]
	}
	if v, ok := spec.Config["name"]; ok {
		base, _ = v.V.(string)
		if err := checkTestName(base); err != nil {
			diags.Errorf(v.Pos, "%v", err)
			return nil
		}
	}
	id := "test." + m.Project.Name + "." + base
	if _, dup := m.Nodes[id]; dup {
		sum := project.Checksum([]byte(fmt.Sprintf("%v|%v|%v", spec.Args, spec.Pos, column)))[:8]
		base += "_" + sum
		id = "test." + m.Project.Name + "." + base
	}
	n := &Node{ID: id, Kind: Test, Name: base, Path: spec.Pos.File, Pos: spec.Pos,
		TestInfo: &TestInfo{Kind: spec.Kind, Args: spec.Args, ArgPos: spec.ArgPos, Column: column, Attached: on.ID}}
	n.Config, n.ConfigPos = resolve([]project.Layer{spec.Config}, diags)
	n.Config.Materialized = ""
	if n.Config.Severity == "" {
		n.Config.Severity = datatest.DefaultSeverity
	}
	unreachableThresholds(n, diags)
	deps := map[string]bool{on.ID: true}
	for _, arg := range datatest.RefArgs(spec.Kind) {
		v, ok := spec.Args[arg]
		if !ok {
			continue
		}
		name, _ := v.(string)
		target, ok := m.LookupArg(name)
		if !ok {
			pos := spec.ArgPos[arg]
			if src, table, ok := dbtSource(name); ok {
				diags.Errorf(pos, "test %s: %s: no source table %s.%s is declared (expected a table under sources: in YAML)", spec.Kind, arg, src, table)
				return nil
			}
			diags.Errorf(pos, "test %s: %s: no model or seed is called %q%s", spec.Kind, arg, name, diag.DidYouMean(name, m.Names()))
			return nil
		}
		deps[target.ID] = true
	}
	if kind != nil {
		if err := kind.CheckArgs(spec.Args); err != nil {
			diags.Errorf(spec.Pos, "test %s: %v", spec.Kind, err)
			return nil
		}
	}
	for d := range deps {
		n.DependsOn = append(n.DependsOn, d)
	}
	sort.Strings(n.DependsOn)
	m.Nodes[id] = n
	return n
}

// safeTestName makes a test name derived from model and column names a safe
// file name (compile writes the test to <name>.sql): as dbt does, every
// character but ASCII letters, digits and _ becomes _.
func safeTestName(name string) string {
	return strings.Map(func(r rune) rune {
		if r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, name)
}

// maxTestName is the longest test name in bytes: its file, <name>.sql with
// perhaps a suffix that keeps two tests of one name apart, must fit the 255
// bytes file systems allow.
const maxTestName = 200

// checkTestName refuses a test name: that is not a file of its own
// under target/compiled (compile writes the test to <name>.sql).
func checkTestName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("test name is empty (expected a name for the test's file)")
	case name == "." || name == ".." || strings.ContainsAny(name, "/\\\x00"):
		return fmt.Errorf("test name %q is not a file name (expected no /, \\, NUL, and not . or ..)", name)
	case len(name) > maxTestName:
		return fmt.Errorf("test name is %d bytes long (expected at most %d, so that its file name fits)", len(name), maxTestName)
	}
	return nil
}

func (m *Manifest) buildExposures(diags *diag.List) {
	for _, e := range m.Project.Exposures {
		n := &Node{ID: "exposure." + m.Project.Name + "." + e.Name, Kind: Exposure, Name: e.Name, Pos: e.Pos, Path: e.Pos.File, Exposure: e, Description: e.Description}
		n.Config.Enabled = true
		deps := map[string]bool{}
		for i, name := range e.DependsOn {
			pos := e.Pos
			if i < len(e.DependsOnPos) {
				pos = e.DependsOnPos[i]
			}
			if msg := noVersions(name); msg != "" {
				diags.Errorf(pos, "exposure %s depends on %s", e.Name, msg)
				continue
			}
			// dbt's spelling, ref('orders') or source('crm', 'accounts'),
			// names the node as ours does.
			if ref, ok := dbtRef(name); ok {
				name = ref
			}
			t, ok := m.LookupArg(name)
			if !ok {
				diags.Errorf(pos, "exposure %s depends on %q, which is not a model, seed or source table (expected a model's or seed's name, or source('source', 'table'))%s", e.Name, name, diag.DidYouMean(name, m.Names()))
				continue
			}
			deps[t.ID] = true
		}
		for _, c := range e.Charts {
			if c.Model == "" {
				continue
			}
			t, ok := m.byName[c.Model]
			if !ok {
				diags.Errorf(c.Pos, "chart %q uses model %q, which does not exist%s", c.Title, c.Model, diag.DidYouMean(c.Model, m.Names()))
				continue
			}
			checkChartSort(diags, c, t)
			deps[t.ID] = true
		}
		for d := range deps {
			n.DependsOn = append(n.DependsOn, d)
		}
		sort.Strings(n.DependsOn)
		m.Nodes[n.ID] = n
	}
}

// thresholdParts splits a threshold (">10", "==3", as project checked it)
// into its operator and number.
var thresholdParts = regexp.MustCompile(`^(=|==|!=|<>|>=|<=|>|<)(\d+)$`)

// unreachableThresholds refuses an error_if or warn_if that test n's limit
// keeps from ever holding: the test counts at most limit failures, so with
// limit: 2, error_if ">5" could never fail it (nor warn_if ">5" warn), and
// the test would pass whatever the data holds.
func unreachableThresholds(n *Node, diags *diag.List) {
	limit := int64(n.Config.Limit)
	if limit <= 0 {
		return
	}
	for _, t := range []struct{ key, cond, never string }{
		{"error_if", n.Config.ErrorIf, "fail"},
		{"warn_if", n.Config.WarnIf, "warn"},
	} {
		if t.key == "error_if" && n.Config.Severity == "warn" {
			// Never read: a warn-severity test does not fail.
			continue
		}
		m := thresholdParts.FindStringSubmatch(t.cond)
		if m == nil {
			continue
		}
		v, err := strconv.ParseInt(m[2], 10, 64)
		if err != nil {
			continue
		}
		least := v // the fewest failures for which the threshold holds
		switch m[1] {
		case ">":
			least = v + 1
		case "=", "==", ">=":
		default:
			continue // != and the lower bounds hold at 0
		}
		if least <= limit {
			continue
		}
		pos, ok := n.ConfigPos[t.key]
		if !ok {
			pos = n.Pos
		}
		diags.Errorf(pos, "%s: %q holds from %d failures, but limit: %d counts at most %d, so the test could never %s (expected limit: %d or more, or no limit)", t.key, t.cond, least, limit, limit, t.never, least)
	}
}
