// Package compile turns nodes into their final SQL: models and singular
// tests rendered from their templates (ephemeral models inlined as CTEs),
// generic tests from datatest. It needs no database; whether a model is
// incremental this run is told to it by the caller.
package compile

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"strata/engine/datatest"
	"strata/engine/diag"
	"strata/engine/manifest"
	"strata/engine/materialize"
	"strata/engine/pgname"
	"strata/engine/template"
)

// Compiler renders nodes of one manifest.
type Compiler struct {
	M            *manifest.Manifest
	Vars         map[string]any
	LookupEnv    func(string) (string, bool)
	RunStartedAt string
	// in, when set, renders the node of that id as another relation (Audit).
	in map[string]string
	// Defer are, by node id, the relations in production that refs to a
	// node not built in this environment read instead of its own (strata
	// --env with defer). Set before rendering; nil renders every node as
	// placed.
	Defer map[string]pgname.Rel
	// Macros replaces project macros by literal SQL text (a unit test's
	// overrides).
	Macros map[string]string
}

// Result is a rendered node.
type Result struct {
	SQL   string
	Reads template.Reads
	// pieces say where the parts of SQL came from; Locate reads them.
	pieces []piece
	// at is where what no template wrote is placed: a generic test's
	// declaration in YAML. Zero for models and singular tests.
	at diag.Pos
	// Detect is a built-in test's cheap check (datatest.Detect); zero for
	// other nodes.
	Detect datatest.Detection
}

// Options change a render: whether the model's table exists and is built incrementally.
type Options struct {
	IsIncremental bool
}

// relation is the quoted relation node n renders as wherever a template
// names it: a ref, a source, this, the relation a test checks, a hook's
// this. It is the one place the renderer names a relation, so that what
// changes that name at render time (a ref deferred to the relation built
// in production) changes it here; the relation a node is built as is
// placed by the manifest, from its target.
func (c *Compiler) relation(n *manifest.Node) string {
	if rel, ok := c.in[n.ID]; ok {
		return rel
	}
	if r, ok := c.Defer[n.ID]; ok {
		return r.Quoted()
	}
	return n.Relation.Quoted()
}

// Audit renders test as it audits the node of id before it is published:
// wherever the test's SQL names that node (the relation tested, a ref in a
// singular test, an argument such as relationships' to), it reads rel, the
// node's new version, built under a temporary name; every other node is
// its published relation.
func (c *Compiler) Audit(test *manifest.Node, id string, rel pgname.Rel) (Result, error) {
	in := *c
	in.in = map[string]string{id: rel.Quoted()}
	return in.Node(test, Options{})
}

// Inputs returns a copy of c that renders each node of relations (by id)
// as the SQL text given, wherever a template names it (ref, source, this):
// a unit test's inputs. An ephemeral model named there is not inlined.
func (c *Compiler) Inputs(relations map[string]string) *Compiler {
	in := *c
	in.in = relations
	return &in
}

func (c *Compiler) targetMap() map[string]any {
	t := c.M.Target
	return map[string]any{"name": t.Name, "schema_prefix": t.SchemaPrefix, "type": t.Type, "schema": t.Schema}
}

type ephemerals struct {
	names []string
	sql   map[string]string
	maps  map[string]*template.SourceMap
	busy  map[string]bool
}

func newEphemerals() *ephemerals {
	return &ephemerals{sql: map[string]string{}, maps: map[string]*template.SourceMap{}, busy: map[string]bool{}}
}

// Node renders any node that has SQL: a model, a singular or generic test.
func (c *Compiler) Node(n *manifest.Node, opt Options) (Result, error) {
	switch {
	case n.Kind == manifest.Model || (n.Kind == manifest.Test && n.Template != nil):
		return c.model(n, opt)
	case n.Kind == manifest.Test:
		return c.genericTest(n)
	}
	return Result{}, fmt.Errorf("%s %s has no SQL", n.Kind, n.Name)
}

func (c *Compiler) model(n *manifest.Node, opt Options) (Result, error) {
	eph := newEphemerals()
	reads := template.Reads{}
	body, m, err := c.render(n, opt, eph, &reads)
	if err != nil {
		return Result{}, err
	}
	res := withCTEs(body, m, eph)
	res.Reads = reads
	return res, nil
}

func (c *Compiler) render(n *manifest.Node, opt Options, eph *ephemerals, reads *template.Reads) (string, *template.SourceMap, error) {
	if n.Template == nil {
		return "", nil, fmt.Errorf("%s could not be parsed", n.Path)
	}
	this, noThis := c.relation(n), ""
	if _, given := c.in[n.ID]; !given {
		switch {
		case n.Kind == manifest.Test:
			this, noThis = "", "this is the relation of the model being built, and a singular test builds none: name the relation it reads with ref \"model\""
		case n.Config.Materialized == "ephemeral":
			this, noThis = "", fmt.Sprintf("this is the relation of the model being built, and model %s is ephemeral: it has no relation, only the CTE inlined into each model that refs it; read what it needs with ref or source, or make it a view or table", n.Name)
		}
	}
	env := template.Env{
		Ref: func(name string) (string, error) {
			dep, ok := c.M.Lookup(name)
			if !ok {
				return "", errors.New(c.M.RefProblem(name))
			}
			if _, given := c.in[dep.ID]; !given && dep.Kind == manifest.Model && dep.Config.Materialized == "ephemeral" {
				return c.ephemeral(dep, eph, reads)
			}
			return c.relation(dep), nil
		},
		Source:        c.source,
		This:          this,
		NoThis:        noThis,
		IsIncremental: opt.IsIncremental,
		Vars:          c.Vars,
		LookupEnv:     c.LookupEnv,
		Target:        c.targetMap(),
		RunStartedAt:  c.RunStartedAt,
		Caller:        n.Path,
		Macros:        c.Macros,
	}
	if env.LookupEnv == nil {
		env.LookupEnv = os.LookupEnv
	}
	sql, m, r, err := n.Template.RenderMapped(env, nil)
	merge(reads, r)
	if err == nil && !HasSQL(sql) {
		// Caught here, where every render passes (validate's, a run's
		// incremental one, an ephemeral model inlined), so that validate
		// refuses it rather than the database at run time. A template that
		// writes SQL only under some vars fails here under the others.
		err = diag.Diagnostic{Pos: n.Pos, Msg: emptyMessage(n, r)}
	}
	if err == nil {
		// Also here for every render: a ; or ) that a var's value or
		// one set of vars brings is refused as one written in the file.
		err = oneStatement(n, sql, m, diag.Pos{})
	}
	return sql, m, err
}

// oneStatement refuses sql, node n's template rendered as m, when it is
// not one statement (materialize.OneStatement): strata sends a model's
// statement wrapped in its own, with the lock, swap and state record, so
// a ; or ) that ends the wrapper early would run whatever follows inside
// strata's transaction. The error is placed at the character at fault in
// n's file (at the action that printed it, for a var's value), with the
// macro's place when a macro wrote it; at, when set, is where a generic
// test's include of its macro starts (Result.Locate). Only a statement
// refused is mapped: every render comes here.
func oneStatement(n *manifest.Node, sql string, m *template.SourceMap, at diag.Pos) error {
	p := materialize.OneStatement(sql)
	if p == nil {
		return nil
	}
	var w mapped
	w.add(sql, m, 0)
	r := w.result()
	r.at = at
	trace := r.Locate(p.At)
	pos := n.Pos
	if len(trace) > 0 {
		pos = trace[0]
	}
	what, other := "model "+n.Name, "a pre-hook/post-hook or its own model"
	one := "a model is one select statement"
	switch {
	case n.Kind == manifest.Test && n.Template != nil:
		what, other = "singular test "+n.Name, "an on-run-start hook or a model"
		one = "a singular test is one select statement that returns the failing rows"
	case n.Kind == manifest.Test:
		what, other = "test "+n.Name, "an on-run-start hook or a model"
		one = fmt.Sprintf("the macro test_%s of a generic test renders one select statement that returns the failing rows", n.TestInfo.Kind)
	}
	msg := fmt.Sprintf("%s: %s (rendered: %s)", what, p.What, near(sql, p.At))
	if len(trace) > 1 {
		msg += " (in " + trace[len(trace)-1].String() + ")"
	}
	switch p.Kind {
	case "semicolon":
		msg += fmt.Sprintf("; %s, which strata wraps in its own: move the other statement to %s", one, other)
	case "close":
		msg += fmt.Sprintf("; %s, which strata wraps in parentheses: remove the \")\" or open its \"(\"; if a statement follows, move it to %s", one, other)
	default:
		msg += fmt.Sprintf("; %s, which strata wraps in its own: close it", one)
	}
	return diag.Diagnostic{Pos: pos, Msg: msg}
}

// fragmentsOneStatement refuses sql, the query of built-in test n, when
// the SQL its config or arguments put in it as written (where,
// expression) ends the statement strata wraps it in, placed at that
// setting.
func fragmentsOneStatement(n *manifest.Node, sql string) error {
	type fragment struct {
		name, text string
		pos        diag.Pos
	}
	var frags []fragment
	if w := n.Config.Where; w != "" {
		frags = append(frags, fragment{"the where setting", w, n.ConfigPos["where"]})
	}
	if e, ok := n.TestInfo.Args["expression"].(string); ok {
		frags = append(frags, fragment{"the expression argument", e, n.TestInfo.ArgPos["expression"]})
	}
	for _, f := range frags {
		// Read as it is used: inside parentheses with more SQL after it,
		// on the same line.
		const before, after = "select 1 where (", ") and true"
		p := materialize.OneStatement(before + f.text + after)
		if p == nil {
			continue
		}
		pos := f.pos
		if pos.File == "" {
			pos = n.Pos
		}
		what := p.What
		if p.At < len(before) || p.At >= len(before)+len(f.text) {
			what = `it leaves a parenthesis open, or a "--" comment hides what strata writes after it (write /* */)`
		} else {
			what += " (rendered: " + near(f.text, p.At-len(before)) + ")"
		}
		return diag.Diagnostic{Pos: pos, Msg: fmt.Sprintf("test %s: %s is not a single SQL expression: %s; strata writes it inside the test's query, in parentheses", n.Name, f.name, what)}
	}
	if p := materialize.OneStatement(sql); p != nil {
		return diag.Diagnostic{Pos: n.Pos, Msg: fmt.Sprintf("test %s: its query is not one statement: %s (rendered: %s)", n.Name, p.What, near(sql, p.At))}
	}
	return nil
}

// near quotes sql around byte at: the character at fault and a little
// of what follows it, on one line.
func near(sql string, at int) string {
	end := at
	for n := 0; end < len(sql) && n < 30; n++ {
		_, size := utf8.DecodeRuneInString(sql[end:])
		end += size
	}
	s := strings.Join(strings.Fields(sql[at:end]), " ")
	if end < len(sql) {
		s += "..."
	}
	return strconv.Quote(s)
}

// HasSQL reports whether sql holds anything but whitespace, comments and
// semicolons.
func HasSQL(sql string) bool {
	rest := materialize.TrimStatementEnd(sql)
	return materialize.SkipSpaceAndComments(rest) < len(rest)
}

func emptyMessage(n *manifest.Node, r template.Reads) string {
	what := fmt.Sprintf("model %s renders no SQL (only whitespace or comments)", n.Name)
	if n.Kind == manifest.Test {
		what = fmt.Sprintf("singular test %s renders no SQL (only whitespace or comments)", n.Name)
	}
	if len(r.Vars) > 0 {
		names := slices.Sorted(maps.Keys(r.Vars))
		what += fmt.Sprintf(" with the vars it reads (%s)", strings.Join(names, ", "))
	}
	if n.Kind == manifest.Test {
		return what + ": it must be a select that returns the failing rows"
	}
	return what + ": a model is one select statement"
}

func merge(dst *template.Reads, src template.Reads) {
	for k, v := range src.Vars {
		if dst.Vars == nil {
			dst.Vars = map[string]string{}
		}
		dst.Vars[k] = v
	}
	for k, v := range src.EnvVars {
		if dst.EnvVars == nil {
			dst.EnvVars = map[string]string{}
		}
		dst.EnvVars[k] = v
	}
}

// EphemeralName is the CTE name an ephemeral model is inlined as.
func EphemeralName(name string) string { return pgname.Ident(pgname.Ephemeral(name)) }

func (c *Compiler) ephemeral(dep *manifest.Node, eph *ephemerals, reads *template.Reads) (string, error) {
	name := EphemeralName(dep.Name)
	if _, done := eph.sql[name]; done {
		return name, nil
	}
	if eph.busy[name] {
		return "", fmt.Errorf("ephemeral model %s refers to itself", dep.Name)
	}
	eph.busy[name] = true
	body, m, err := c.render(dep, Options{}, eph, reads)
	if err != nil {
		return "", err
	}
	eph.sql[name], eph.maps[name] = body, m
	eph.names = append(eph.names, name)
	return name, nil
}

// withCTEs puts the ephemeral models in front of body (rendered as m
// maps), merging with a WITH body already has.
func withCTEs(body string, m *template.SourceMap, eph *ephemerals) Result {
	var w mapped
	if len(eph.names) == 0 {
		w.add(body, m, 0)
		return w.result()
	}
	start := materialize.SkipSpaceAndComments(body)
	rest := body[start:]
	w.add(body[:start], m, 0)
	ctes := func() {
		for i, n := range eph.names {
			if i > 0 {
				w.add(",\n", nil, 0)
			}
			sql := eph.sql[n]
			trimmed := strings.TrimSpace(materialize.TrimStatementEnd(sql))
			w.add(n+" as (\n", nil, 0)
			// Trimming removes space in front and a statement's end behind:
			// the characters kept are where they were, after the space.
			w.add(trimmed, eph.maps[n], len(sql)-len(strings.TrimLeftFunc(sql, unicode.IsSpace)))
			w.add("\n)", nil, 0)
		}
	}
	if hasKeyword(rest, "with") {
		after := rest[4:]
		i := materialize.SkipSpaceAndComments(after)
		if hasKeyword(after[i:], "recursive") {
			w.add("with recursive ", nil, 0)
			ctes()
			w.add(",\n", nil, 0)
			from := start + 4 + i + len("recursive")
			w.add(body[from:], m, from)
			return w.result()
		}
		w.add("with ", nil, 0)
		ctes()
		w.add(",\n", nil, 0)
		w.add(after, m, start+4)
		return w.result()
	}
	w.add("with ", nil, 0)
	ctes()
	w.add("\n", nil, 0)
	w.add(rest, m, start)
	return w.result()
}

func hasKeyword(s, kw string) bool {
	if len(s) < len(kw) || !strings.EqualFold(s[:len(kw)], kw) {
		return false
	}
	if len(s) == len(kw) {
		return true
	}
	r := rune(s[len(kw)])
	return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_')
}

func (c *Compiler) genericTest(n *manifest.Node) (Result, error) {
	ti := n.TestInfo
	on := c.M.Nodes[ti.Attached]
	if on == nil {
		return Result{}, fmt.Errorf("test %s: the node it tests is not in the project", n.Name)
	}
	rel := c.relation(on)
	if on.Kind == manifest.Model && on.Config.Materialized == "ephemeral" {
		return Result{}, fmt.Errorf("test %s: ephemeral model %s has no relation to test", n.Name, on.Name)
	}
	// A model named in an argument (relationships' to:, a ref in a custom
	// test) that is ephemeral has no relation: it is inlined as a CTE in
	// front of the test's query, as in a model.
	eph := newEphemerals()
	reads := template.Reads{}
	resolve := func(name string) (string, error) {
		dep, ok := c.M.LookupArg(name)
		if !ok {
			return "", fmt.Errorf("no model or seed is called %q", name)
		}
		if dep.Kind == manifest.Model && dep.Config.Materialized == "ephemeral" {
			return c.ephemeral(dep, eph, &reads)
		}
		return c.relation(dep), nil
	}
	if datatest.Lookup(ti.Kind) != nil {
		spec := datatest.Spec{Kind: ti.Kind, Relation: rel, Column: ti.Column, Args: ti.Args, Where: n.Config.Where, Resolve: resolve}
		sql, err := datatest.SQL(spec)
		if err != nil {
			return Result{}, err
		}
		if err := fragmentsOneStatement(n, sql); err != nil {
			return Result{}, err
		}
		res := withCTEs(sql, nil, eph)
		res.Reads, res.at = reads, n.Pos
		if len(eph.names) == 0 {
			res.Detect = datatest.Detect(spec)
		}
		return res, nil
	}
	// A custom generic test: the macro test_<kind>.
	macro := "test_" + ti.Kind
	rel = datatest.Filtered(rel, n.Config.Where)
	tp, diags := c.M.Macros.Parse(n.Path+"#"+n.Name, fmt.Sprintf("{{ include %q . }}", macro))
	if err := diags.Err(); err != nil {
		return Result{}, err
	}
	env := template.Env{Ref: resolve, Vars: c.Vars, LookupEnv: c.LookupEnv, Target: c.targetMap(), RunStartedAt: c.RunStartedAt, Caller: n.Path, This: rel}
	if env.LookupEnv == nil {
		env.LookupEnv = os.LookupEnv
	}
	sql, m, r, err := tp.RenderMapped(env, datatest.CustomData(rel, ti.Column, ti.Args))
	merge(&reads, r)
	if err != nil {
		return Result{SQL: sql, Reads: reads}, err
	}
	if err := oneStatement(n, sql, m, n.Pos); err != nil {
		return Result{SQL: sql, Reads: reads}, err
	}
	res := withCTEs(sql, m, eph)
	res.Reads, res.at = reads, n.Pos
	return res, nil
}

// source is the template function source of a model or a hook: the
// source table's relation.
func (c *Compiler) source(src, table string) (string, error) {
	s, ok := c.M.SourceNode(src, table)
	if !ok {
		return "", errors.New(c.M.SourceProblem(src, table))
	}
	return c.relation(s), nil
}

// Hook renders an on-run-start/on-run-end or pre/post hook.
func (c *Compiler) Hook(name, sql string, this string) (Result, error) {
	return c.HookAt(name, diag.Origin{}, sql, this)
}

// HookAt renders a hook whose SQL is part of file at, such as an
// on-run-start/on-run-end hook in project.yaml, so that its errors (the
// template's, and through Result.HookError the database's) point into the
// file.
func (c *Compiler) HookAt(name string, at diag.Origin, sql string, this string) (Result, error) {
	return c.hookAt(name, at, sql, this, false)
}

// hookAt renders a hook as HookAt does, with is_incremental as incremental.
func (c *Compiler) hookAt(name string, at diag.Origin, sql string, this string, incremental bool) (Result, error) {
	set := c.M.Macros
	tp, diags := set.ParseAt(name, at, sql)
	if err := diags.Err(); err != nil {
		return Result{}, err
	}
	env := template.Env{
		Ref: func(n string) (string, error) {
			dep, ok := c.M.Lookup(n)
			if !ok {
				return "", errors.New(c.M.RefProblem(n))
			}
			return c.relation(dep), nil
		},
		Source: c.source,
		This:   this, IsIncremental: incremental, Vars: c.Vars, LookupEnv: c.LookupEnv, Target: c.targetMap(), RunStartedAt: c.RunStartedAt, Caller: name,
	}
	if this == "" {
		env.NoThis = "this is the relation of the model being built, and an on-run-start or on-run-end hook builds none: name the relation with ref \"model\" (a model's own pre_hook and post_hook have this)"
	}
	if env.LookupEnv == nil {
		env.LookupEnv = os.LookupEnv
	}
	out, m, _, err := tp.RenderMapped(env, nil)
	if err != nil {
		return Result{}, err
	}
	var w mapped
	w.add(out, m, 0)
	return w.result(), nil
}

// ModelHook renders hook i (from 0) of a model's pre_hook or post_hook
// (which), as a run runs it: is_incremental is incremental, true when the
// build loads the model's existing table, as the model itself renders.
func (c *Compiler) ModelHook(n *manifest.Node, which string, i int, incremental bool) (Result, error) {
	hooks := n.Config.PreHook
	if which == "post_hook" {
		hooks = n.Config.PostHook
	}
	return c.hookAt(n.Path+" "+which, hookOrigin(n, which, i), hooks[i], c.relation(n), incremental)
}

// ModelHookError places an error of hook i (from 0) of a model's or
// seed's pre_hook or post_hook (which) — the template's, or the database's
// in the SQL r rendered — where the hook is configured, in the node's file
// or YAML, with its place inside the hook's text. A database error still
// unwraps to the database's.
func (c *Compiler) ModelHookError(n *manifest.Node, which string, i int, r Result, err error) error {
	pos, ok := n.ConfigPos[which]
	if !ok {
		pos = n.Pos
	}
	if at, ok := n.ConfigPos[which+"."+strconv.Itoa(i)]; ok {
		pos = at // this hook's own item of a list in YAML
	}
	name := n.Path + " " + which
	var d diag.Diagnostic
	if at, msg, ok := r.HookError(err); ok {
		d = diag.Diagnostic{Pos: at, Msg: msg}
	} else if errors.As(err, &d) {
		// a template error, placed in the hook's text already
	} else {
		d = diag.Diagnostic{Pos: pos, Msg: fmt.Sprintf("%s %d of %s %s: %v", which, i+1, n.Kind, n.Name, err)}
	}
	switch {
	case d.Pos.File == name && placed(hookOrigin(n, which, i)) && d.Pos.Line > 0:
		// placed in the file by the hook's origin, line and column
		d = diag.Diagnostic{Pos: diag.Pos{File: pos.File, Line: d.Pos.Line, Col: d.Pos.Col}, Msg: fmt.Sprintf("%s %d of %s %s: %s", which, i+1, n.Kind, n.Name, d.Msg)}
	case d.Pos.File == name:
		d = diag.Diagnostic{Pos: pos, Msg: fmt.Sprintf("%s %d of %s %s: %s (at %s of the hook)", which, i+1, n.Kind, n.Name, d.Msg, strings.TrimPrefix(d.Pos.String(), name+":"))}
	}
	return &Placed{Diag: d, Err: err}
}

// hookOrigin is where the text of hook i (from 0) of a node's pre_hook or
// post_hook (which) is in the file that configures it; the zero Origin
// where it is not known (a hook set by config in SQL, where it is a quoted
// string).
func hookOrigin(n *manifest.Node, which string, i int) diag.Origin {
	if o := n.HookText[which+"."+strconv.Itoa(i)]; placed(o) {
		return o
	}
	return diag.Origin{}
}

// placed says whether o places the positions of its text in the file.
func placed(o diag.Origin) bool {
	return len(o.Pieces) > 0 || o.Line > 0 && !o.Fixed
}

// CheckHooks renders a model's pre_hook and post_hook as a run does (the
// same template names, the same this), so that validate and compile report
// their errors instead of the run. An error in a hook's own text is placed
// where the hook is configured, in the model's file or YAML.
func (c *Compiler) CheckHooks(n *manifest.Node) diag.List {
	var diags diag.List
	for _, h := range []struct {
		key  string
		sqls []string
	}{{"pre_hook", n.Config.PreHook}, {"post_hook", n.Config.PostHook}} {
		for i := range h.sqls {
			if _, err := c.ModelHook(n, h.key, i, false); err != nil {
				var found diag.List
				found.Add(n.Pos, err)
				for _, d := range found {
					diags.Add(n.Pos, c.ModelHookError(n, h.key, i, Result{}, d))
				}
			}
		}
	}
	return diags
}

// Write saves sql under dir (target/compiled or target/run) at the node's path.
func Write(dir string, n *manifest.Node, sql string) (string, error) {
	p, err := Path(dir, n)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return "", err
	}
	return p, os.WriteFile(p, []byte(sql), 0o600)
}
