package graph

import (
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"strata/engine/diag"
	"strata/engine/manifest"
	"strata/engine/project"
)

// State answers state: and result: selectors from an earlier run's artifacts.
type State interface {
	Modified(n *manifest.Node) bool
	New(n *manifest.Node) bool
	Result(id string) (status string, ok bool)
	// RunResults is nil when the state holds an earlier run's results
	// for result: to read, else why it holds none: result: then picks
	// nothing, which a scheduled job would take for a run with no
	// failures.
	RunResults() error
}

// dbtModifiedSubs are dbt's sub-selectors of state:modified, which strata
// refuses by name: its state:modified is all of them at once.
var dbtModifiedSubs = []string{"body", "configs", "relation", "persisted_descriptions", "macros", "contract"}

// Methods are the selector methods (docs/selectors.md).
var Methods = []string{"tag", "path", "config", "resource_type", "exposure", "state", "result", "source", "test_type", "column"}

// selRe splits a selector into @, a leading depth+, the body and a trailing
// +depth. A + inside a method's value belongs to the value
// (config.incremental_strategy:delete+insert); a + at the start or end of
// the selector, with or without a depth, is always a graph operator, so a
// value cannot end in + or +digits.
var selRe = regexp.MustCompile(`^(@)?((\d*)\+)?([^+@]+?(?::[^@]*?[^+@])?)(\+(\d*))?$`)

// Select returns the ids chosen by the select and exclude expressions. Empty
// select means everything. Tests follow the nodes they test. Bad selectors,
// and selectors that name nothing in the project, are errors (exit 2); a
// selection that names things but matches nothing (two tags no node has
// both of) is fine.
func (gr *Graph) Select(selects, excludes []string, st State) (map[string]bool, error) {
	return gr.selectNodes(selects, excludes, st, false)
}

// SelectDirect is Select without the tests that follow the nodes they
// test: only what the selectors pick by themselves, a test among them when
// its name, tag, path or test_type: picks it. Without select it picks every
// node but the tests. It is what ls lists, where tests brought along by
// their models would bury the nodes asked for.
func (gr *Graph) SelectDirect(selects, excludes []string, st State) (map[string]bool, error) {
	return gr.selectNodes(selects, excludes, st, true)
}

func (gr *Graph) selectNodes(selects, excludes []string, st State, direct bool) (map[string]bool, error) {
	var errs diag.List
	selFields, err := gr.fields("--select", selects)
	errs.Add(diag.Pos{}, err)
	excFields, err := gr.fields("--exclude", excludes)
	errs.Add(diag.Pos{}, err)
	chosen := map[string]bool{}
	if len(selFields) == 0 {
		for id, n := range gr.M.Nodes {
			if !direct || n.Kind != manifest.Test {
				chosen[id] = true
			}
		}
	} else {
		for _, f := range selFields {
			set, err := gr.intersection(f, st)
			if err != nil {
				errs.Errorf(diag.Pos{}, "--select %s: %v", f, err)
				continue
			}
			for id := range set {
				chosen[id] = true
			}
		}
		if !direct {
			gr.AddTests(chosen)
		}
	}
	excluded := map[string]bool{}
	for _, f := range excFields {
		set, err := gr.intersection(f, st)
		if err != nil {
			errs.Errorf(diag.Pos{}, "--exclude %s: %v", f, err)
			continue
		}
		for id := range set {
			excluded[id] = true
		}
	}
	gr.AddTests(excluded)
	for id := range excluded {
		delete(chosen, id)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return chosen, nil
}

// AddTests adds the tests whose tested node is in set.
func (gr *Graph) AddTests(set map[string]bool) {
	for id, n := range gr.M.Nodes {
		if n.Kind != manifest.Test || set[id] || n.TestInfo == nil {
			continue
		}
		if n.TestInfo.Attached != "" {
			if set[n.TestInfo.Attached] {
				set[id] = true
			}
			continue
		}
		all := len(n.DependsOn) > 0
		for _, p := range n.DependsOn {
			all = all && set[p]
		}
		if all {
			set[id] = true
		}
	}
}

// fields splits selector arguments on spaces (a union). Names may hold
// spaces (a model file "with space.sql", a test on a CSV column "Na me"), so
// an argument that is exactly a node's name selects that node, and a part in
// double or single quotes is one selector: -s "with space" and
// -s '"with space"+' both work.
func (gr *Graph) fields(flag string, args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		if name := strings.TrimSpace(a); strings.ContainsAny(name, " \t") && gr.hasName(name) {
			out = append(out, name)
			continue
		}
		parts, err := splitQuoted(a)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %v", flag, a, err)
		}
		out = append(out, parts...)
	}
	return out, nil
}

func (gr *Graph) hasName(name string) bool {
	for _, n := range gr.M.Nodes {
		if n.Name == name && n.Kind != manifest.Source {
			return true
		}
	}
	return false
}

// splitQuoted splits s on white space outside quotes and drops the quotes.
func splitQuoted(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	var quote rune
	inField := false
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			quote, inField = r, true
		case unicode.IsSpace(r):
			if inField {
				out = append(out, cur.String())
				cur.Reset()
				inField = false
			}
		default:
			cur.WriteRune(r)
			inField = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("the quote %c is not closed (expected a closing %c)", quote, quote)
	}
	if inField {
		out = append(out, cur.String())
	}
	return out, nil
}

func (gr *Graph) intersection(expr string, st State) (map[string]bool, error) {
	var result map[string]bool
	parts := strings.Split(expr, ",")
	for i, part := range parts {
		if part == "" && len(parts) > 1 {
			where := "between two commas"
			switch {
			case i == 0:
				where = "before the comma"
			case i == len(parts)-1:
				where = "after the comma"
			}
			return nil, fmt.Errorf("%q: nothing %s (an intersection is written a,b, without spaces around the comma)", expr, where)
		}
		set, err := gr.one(part, st)
		if err != nil {
			return nil, err
		}
		if result == nil {
			result = set
			continue
		}
		for id := range result {
			if !set[id] {
				delete(result, id)
			}
		}
	}
	return result, nil
}

func (gr *Graph) one(sel string, st State) (map[string]bool, error) {
	m := selRe.FindStringSubmatch(sel)
	if m == nil || sel == "" {
		return nil, fmt.Errorf("%q is not a selector (expected name, +name, name+, 2+name, @name, or method:value)", sel)
	}
	at, hasUp, up, body, hasDown, down := m[1] == "@", m[2] != "", m[3], m[4], m[5] != "", m[6]
	if at && (hasUp || hasDown) {
		return nil, fmt.Errorf("%q: @ cannot be combined with +", sel)
	}
	if hasUp != hasDown && isDigits(body) && !gr.hasName(body) {
		// "2+" parses as a node named 2 and its descendants; without such a
		// node it is a depth that lost its name.
		return nil, fmt.Errorf("%q has a depth but no name (expected 2+name or name+2)", sel)
	}
	base, err := gr.match(body, st)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for id := range base {
		out[id] = true
	}
	depth := func(s string) int {
		if s == "" {
			return -1
		}
		n, _ := strconv.Atoi(s)
		return n
	}
	for id := range base {
		if hasUp {
			for _, a := range gr.Ancestors(id, depth(up)) {
				out[a] = true
			}
		}
		if hasDown || at {
			for _, d := range gr.Descendants(id, depth(down)) {
				out[d] = true
				if at {
					for _, a := range gr.Ancestors(d, -1) {
						out[a] = true
					}
				}
			}
		}
	}
	return out, nil
}

// match returns the nodes that one selector's body (without graph
// operators) picks. A value that names nothing in the project (no node has
// that name, tag or path; no exposure or source is so called; no such
// config key or value) is an error with the nearest name that exists, so
// that a typo fails a job instead of selecting nothing; a value that names
// something that picks no node here (a tag on disabled models only) is an
// empty selection.
func (gr *Graph) match(body string, st State) (map[string]bool, error) {
	out := map[string]bool{}
	method, value, hasMethod := strings.Cut(body, ":")
	if pattern := value; !hasMethod || method == "tag" || method == "exposure" {
		if !hasMethod {
			pattern = body
		}
		if _, err := path.Match(pattern, ""); err != nil {
			return nil, fmt.Errorf("%q is not a valid pattern: each [ needs its ] (stg_[ab]*), and \\ a character after it", pattern)
		}
	}
	if !hasMethod {
		for id, n := range gr.M.Nodes {
			if n.Kind == manifest.Source {
				continue
			}
			if ok, _ := path.Match(body, n.Name); ok {
				out[id] = true
			}
		}
		if len(out) == 0 {
			return nil, gr.unknownName(body)
		}
		return out, nil
	}
	if value == "" {
		return nil, fmt.Errorf("%q has no value after the colon", body)
	}
	cfgKey := ""
	if strings.HasPrefix(method, "config.") {
		cfgKey = strings.TrimPrefix(method, "config.")
		method = "config"
	}
	switch method {
	case "tag":
		for id, n := range gr.M.Nodes {
			for _, t := range n.Config.Tags {
				if ok, _ := path.Match(value, t); ok {
					out[id] = true
				}
			}
		}
		if len(out) == 0 {
			return nil, gr.unknownTag(value)
		}
	case "path":
		p := strings.TrimSuffix(path.Clean(value), "/")
		for id, n := range gr.M.Nodes {
			if under(n.Path, p) {
				out[id] = true
			}
		}
		if len(out) == 0 {
			return nil, gr.unknownPath(p)
		}
	case "config":
		if cfgKey == "" {
			return nil, fmt.Errorf("%q: write config.<key>:<value>, such as config.materialized:incremental", body)
		}
		if err := checkConfigValue(cfgKey, value); err != nil {
			return nil, err
		}
		for id, n := range gr.M.Nodes {
			if n.Kind == manifest.Source || n.Kind == manifest.Exposure {
				continue
			}
			if configMatches(n, cfgKey, value) {
				out[id] = true
			}
		}
	case "resource_type":
		kinds := []string{"model", "seed", "test", "source", "exposure"}
		if !contains(kinds, value) {
			return nil, fmt.Errorf("resource_type %q is not known (expected model, seed, test, source or exposure)%s", value, diag.DidYouMean(value, kinds))
		}
		for id, n := range gr.M.Nodes {
			if string(n.Kind) == value {
				out[id] = true
			}
		}
	case "exposure":
		for id, n := range gr.M.Nodes {
			if ok, _ := path.Match(value, n.Name); ok && n.Kind == manifest.Exposure {
				out[id] = true
			}
		}
		if len(out) == 0 {
			names := gr.known(func(n *manifest.Node) []string {
				if n.Kind == manifest.Exposure {
					return []string{n.Name}
				}
				return nil
			})
			return nil, fmt.Errorf("no exposure is called %q%s", value, diag.DidYouMean(value, names))
		}
	case "source":
		for id, n := range gr.M.Nodes {
			if n.Kind != manifest.Source {
				continue
			}
			if n.Source.Name == value || n.Name == value {
				out[id] = true
			}
		}
		if len(out) == 0 {
			names := gr.known(func(n *manifest.Node) []string {
				if n.Kind == manifest.Source {
					return []string{n.Source.Name, n.Name}
				}
				return nil
			})
			return nil, fmt.Errorf("no source or source table is called %q%s", value, diag.DidYouMean(value, names))
		}
	case "test_type":
		// unit: unit tests; data: every data test (generic and singular), as
		// in dbt since unit tests came; singular and generic one kind each
		// (schema is dbt's old name for generic).
		types := []string{"unit", "data", "singular", "generic", "schema"}
		if !slices.Contains(types, value) {
			return nil, fmt.Errorf("test_type %q is not known (expected unit, data, singular or generic)%s", value, diag.DidYouMean(value, types))
		}
		for id, n := range gr.M.Nodes {
			if n.Kind != manifest.Test || n.TestInfo == nil {
				continue
			}
			var match bool
			switch kind := n.TestInfo.Kind; value {
			case "unit":
				match = n.IsUnit()
			case "data":
				match = !n.IsUnit()
			case "singular":
				match = kind == "singular"
			default:
				match = kind != "singular" && !n.IsUnit()
			}
			if match {
				out[id] = true
			}
		}
	case "state":
		if sub, ok := strings.CutPrefix(value, "modified."); ok && contains(dbtModifiedSubs, sub) {
			return nil, fmt.Errorf("state:%s is one of dbt's sub-selectors of state:modified (.body, .configs, .macros, ...), which strata does not have: state:modified picks a node whose SQL, config, macros used, seed CSV, or vars and env vars read changed (use state:modified, alone or intersected with another selector: state:modified,tag:nightly)", value)
		}
		if value != "modified" && value != "new" {
			return nil, fmt.Errorf("state:%s is not known (expected state:modified or state:new)", value)
		}
		if st == nil {
			return nil, fmt.Errorf("state:%s needs --state DIR (a folder holding an earlier manifest.json)", value)
		}
		for id, n := range gr.M.Nodes {
			if (value == "modified" && st.Modified(n)) || (value == "new" && st.New(n)) {
				out[id] = true
			}
		}
	case "result":
		if st == nil {
			return nil, fmt.Errorf("result:%s needs --state DIR (a folder holding an earlier run_results.json)", value)
		}
		if err := st.RunResults(); err != nil {
			return nil, fmt.Errorf("result:%s %v", value, err)
		}
		statuses := []string{"success", "error", "fail", "warn", "skipped", "pass"}
		if !contains(statuses, value) {
			return nil, fmt.Errorf("result:%s is not known (expected one of %s)%s", value, strings.Join(statuses, ", "), diag.DidYouMean(value, statuses))
		}
		for id := range gr.M.Nodes {
			if s, ok := st.Result(id); ok && s == value {
				out[id] = true
			}
		}
	case "column":
		return gr.columnReaders(value)
	default:
		return nil, fmt.Errorf("selector method %q is not known (expected one of %s)%s", method, strings.Join(Methods, ", "), diag.DidYouMean(method, Methods))
	}
	return out, nil
}

// under reports whether file is p or inside the folder p.
func under(file, p string) bool {
	return file == p || strings.HasPrefix(file, p+"/") || p == "."
}

// known returns what of(n) gives for every node of the project, the
// disabled ones too, sorted and without repeats: the names a selector may
// use.
func (gr *Graph) known(of func(n *manifest.Node) []string) []string {
	var out []string
	for _, nodes := range []map[string]*manifest.Node{gr.M.Nodes, gr.M.Disabled} {
		for _, n := range nodes {
			out = append(out, of(n)...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// anyMatch reports whether pattern matches one of names.
func anyMatch(pattern string, names []string) bool {
	for _, name := range names {
		if ok, _ := path.Match(pattern, name); ok {
			return true
		}
	}
	return false
}

// isPattern reports whether s holds a wildcard of path.Match.
func isPattern(s string) bool { return strings.ContainsAny(s, "*?[") }

// unknownName is the error for a name selector that picks nothing: nil
// when it names a disabled node.
func (gr *Graph) unknownName(name string) error {
	names := gr.known(func(n *manifest.Node) []string {
		if n.Kind == manifest.Source {
			return nil
		}
		return []string{n.Name}
	})
	switch {
	case anyMatch(name, names):
		return nil
	case isPattern(name):
		return fmt.Errorf("no model, seed, test or exposure has a name matching %q", name)
	case strings.Contains(name, "/"):
		// A file's or folder's path, as dbt reads a selector with a /.
		return fmt.Errorf("no model, seed, test or exposure is called %q (a name holds no /: for the nodes defined in a file or under a folder, write path:%s)", name, name)
	}
	// A source or source table named as a node (crm.accounts, as ls
	// used to print it) is picked by the source: method.
	for _, n := range gr.M.Nodes {
		if n.Kind == manifest.Source && (n.Name == name || n.Source.Name == name) {
			what := "a source table"
			if n.Name != name {
				what = "a source"
			}
			return fmt.Errorf("no model, seed, test or exposure is called %q: that is %s, which source:%s selects", name, what, name)
		}
	}
	return fmt.Errorf("no model, seed, test or exposure is called %q%s", name, diag.DidYouMean(name, names))
}

// unknownTag is the error for a tag selector that picks nothing: nil when
// the tag is on disabled nodes only.
func (gr *Graph) unknownTag(tag string) error {
	tags := gr.known(func(n *manifest.Node) []string { return n.Config.Tags })
	switch {
	case anyMatch(tag, tags):
		return nil
	case isPattern(tag):
		return fmt.Errorf("no node has a tag matching %q", tag)
	}
	return fmt.Errorf("no node has the tag %q%s", tag, diag.DidYouMean(tag, tags))
}

// unknownPath is the error for a path selector that picks nothing: nil
// when the path holds disabled nodes only. The suggestion is the nearest
// file or folder that holds nodes.
func (gr *Graph) unknownPath(p string) error {
	var holds []string
	for _, file := range gr.known(func(n *manifest.Node) []string { return []string{n.Path} }) {
		if under(file, p) {
			return nil
		}
		for f := file; f != "." && f != "/" && f != ""; f = path.Dir(f) {
			holds = append(holds, f)
		}
	}
	slices.Sort(holds)
	return fmt.Errorf("no node is defined in %q or under it%s", p, diag.DidYouMean(p, slices.Compact(holds)))
}

// configValues are the values of the config keys that take one of a few,
// as selectors may name them; a seed's materialized is "seed".
var configValues = map[string][]string{
	"materialized":         append(slices.Clone(project.Materializations), "seed"),
	"incremental_strategy": {"append", "merge", "delete+insert"},
	"on_schema_change":     {"ignore", "fail", "append_new_columns", "sync_all_columns"},
	"strategy":             {"check", "timestamp"},
	"hard_deletes":         {"ignore", "invalidate", "new_record"},
	"severity":             {"error", "warn"},
}

// checkConfigValue refuses a config key that no model, seed or test has,
// and a value that such a key never takes.
func checkConfigValue(key, value string) error {
	var keys []string
	for _, list := range [][]string{project.ModelConfigKeys, project.SeedConfigKeys, project.TestConfigKeys} {
		keys = append(keys, list...)
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	if !slices.Contains(keys, key) {
		return fmt.Errorf("config key %q is not known (expected a config key of models, seeds or tests, such as materialized, schema or severity)%s", key, diag.DidYouMean(key, keys))
	}
	if values, ok := configValues[key]; ok && !slices.Contains(values, value) {
		return fmt.Errorf("%s %q is not known (expected one of %s)%s", key, value, strings.Join(values, ", "), diag.DidYouMean(value, values))
	}
	return nil
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

func configMatches(n *manifest.Node, key, value string) bool {
	b, err := json.Marshal(n.Config)
	if err != nil {
		return false
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return false
	}
	switch v := m[key].(type) {
	case string:
		return v == value
	case bool:
		return strconv.FormatBool(v) == value
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64) == value
	case []any:
		for _, x := range v {
			if fmt.Sprint(x) == value {
				return true
			}
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// columnReaders answers column:node.column: the models that read the
// column, as strata check found them. node is a model's or seed's name,
// or a source's (src.table); the column is after the last dot.
func (gr *Graph) columnReaders(value string) (map[string]bool, error) {
	dot := strings.LastIndex(value, ".")
	if dot <= 0 || dot == len(value)-1 {
		return nil, errors.New("write column:<model>.<column>, such as column:stg_orders.discount_amount")
	}
	name, col := value[:dot], value[dot+1:]
	var id string
	if n, ok := gr.M.Lookup(name); ok {
		id = n.ID
	} else if src, table, ok := strings.Cut(name, "."); ok {
		if n, ok := gr.M.SourceNode(src, table); ok {
			id = n.ID
		}
	}
	if id == "" {
		return nil, fmt.Errorf("no model, seed or source is called %q%s", name, diag.DidYouMean(name, gr.M.Names()))
	}
	if gr.Columns == nil {
		return nil, errors.New("column: selects by what strata check found: run strata check first")
	}
	u, err := gr.Columns()
	if err != nil {
		return nil, err
	}
	if cols, ok := u.Columns(id); ok && !contains(cols, col) {
		return nil, fmt.Errorf("%s has no column %q (check found %s)%s", name, col, strings.Join(cols, ", "), diag.DidYouMean(col, cols))
	}
	out := map[string]bool{}
	for _, r := range u.Readers(id, col) {
		if _, ok := gr.M.Nodes[r]; ok {
			out[r] = true
		}
	}
	return out, nil
}
