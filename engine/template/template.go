// Package template renders strata's SQL templates: Go text/template with
// sprig's hermetic functions, strata's own functions and the project's
// macros. It finds a template's dependencies statically from the parse tree.
// It knows nothing of the database and never reads the environment except
// through the Env given to it.
package template

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"text/template/parse"

	"github.com/Masterminds/sprig/v3"

	"strata/engine/diag"
	"strata/engine/pgname"
)

// Names of strata's own template functions.
var strataFuncs = []string{"ref", "source", "this", "is_incremental", "config", "var", "env_var", "target", "include", "ident", "literal", "run_started_at"}

// impureSprigFuncs are the sprig functions that sprig.HermeticTxtFuncMap still
// has although they read the clock, randomness or the environment (the time
// zone): without them the same project always compiles to the same SQL.
// With them go those that take a Go time, as sprig's date does, which no
// template can make without now.
var impureSprigFuncs = []string{
	// clock
	"ago", "durationRound",
	// the local time zone, i.e. the environment
	"toDate", "mustToDate",
	// a Go time, which only now (left out) could give them
	"unixEpoch", "mustDateModify",
	// randomness
	"randInt", "shuffle", "bcrypt", "htpasswd", "encryptAES", "genPrivateKey",
	"genCA", "genCAWithKey", "genSelfSignedCert", "genSelfSignedCertWithKey",
	"genSignedCert", "genSignedCertWithKey",
}

// leftOutWhy says why a function of sprig's full map is not in strata's, and
// what to write instead, for the error of a template that calls one.
func leftOutWhy(name string) string {
	if _, ok := hermeticSprig()[name]; ok {
		return ""
	}
	if _, ok := sprig.TxtFuncMap()[name]; !ok {
		return ""
	}
	var why, instead string
	switch {
	case name == "env" || name == "expandenv":
		return fmt.Sprintf(` (sprig's %s is left out of strata's templates: they read the environment only through env_var, which records what each node read; use env_var "NAME", or env_var "NAME" "default"; docs/templates.md#functions-strata-adds)`, name)
	case strings.HasPrefix(name, "date") || strings.HasPrefix(name, "htmlDate") || name == "unixEpoch" || name == "mustDateModify":
		// They format or shift a Go time.Time given to them, and a template
		// has none but now's, which reads the clock: run_started_at is text.
		return fmt.Sprintf(` (sprig's %s is left out of strata's templates: it takes a Go time, and the only one a template could give it is now's, which reads the clock, while the same project must always compile to the same SQL; run_started_at is text, 2025-01-02T03:04:05Z, so cut it (substr 0 10 run_started_at is its date), or let PostgreSQL do it: to_char(now(), 'YYYY-MM-DD'), now() - interval '1 hour'; docs/templates.md#functions-strata-adds)`, name)
	case name == "getHostByName":
		why, instead = "asks the network", "write the address, or pass it as a var"
	case strings.HasPrefix(name, "rand") || name == "uuidv4" || name == "shuffle" || name == "bcrypt" || name == "htpasswd" || name == "encryptAES" || strings.HasPrefix(name, "gen"):
		why, instead = "is random", "let PostgreSQL draw it when the model runs: random(), gen_random_uuid()"
	case name == "toDate" || name == "mustToDate":
		why, instead = "reads the machine's time zone", "cast in SQL: '2024-01-31'::date, or to_date(...)"
	default:
		why, instead = "reads the clock", "use run_started_at (when the command started, in UTC), or PostgreSQL's now() and current_date"
	}
	return fmt.Sprintf(" (sprig's %s is left out of strata's templates because it %s, and the same project must always compile to the same SQL: %s; docs/templates.md#functions-strata-adds)", name, why, instead)
}

// hermeticSprig is sprig's hermetic function map without impureSprigFuncs,
// with its functions (and Go's print, printf, println, html, js and
// urlquery) bounded: they fail rather than make a text or a list too large
// (limits.go). A new map at each call.
func hermeticSprig() template.FuncMap { return maps.Clone(boundedSprig()) }

var boundedSprig = sync.OnceValue(func() template.FuncMap {
	fm := sprig.HermeticTxtFuncMap()
	for _, name := range impureSprigFuncs {
		delete(fm, name)
	}
	fm["dig"] = digFunc
	for name, fn := range fm {
		fm[name] = bounded(name, fn)
	}
	boundedFuncs(fm)
	fm["index"] = indexFunc
	return fm
})

func placeholderFuncs() template.FuncMap {
	fm := hermeticSprig()
	for _, name := range strataFuncs {
		fm[name] = func(args ...any) (any, error) { return "", errors.New("not available here") }
	}
	fm["ident"] = identFunc
	fm["literal"] = literalFunc
	return fm
}

// Set is the parsed macros of a project: every {{ define }} block of macros/**/*.sql.
// A Set may be used by several goroutines at once.
type Set struct {
	base *template.Template
	// file of each macro, for messages and checksums.
	files map[string]string
	// texts holds each macro file's text, to turn text/template's byte
	// offsets into columns in characters.
	texts map[string]string
	// parseFuncs holds the names a template may call, for parse.Parse.
	parseFuncs map[string]any
	// renderers are namespaces holding the macros and strata's functions, reused
	// across renders: cloning a namespace (and its ~200 sprig functions) per
	// model is what made large projects slow.
	renderers sync.Pool
	// the macros' text nodes, for source maps (built on first use)
	indexState
	// unparsed are the macros of files with a syntax error that could not
	// be kept, by name, with their file.
	unparsed map[string]string
	// jinjaMacros are the places of the dbt macros ({% macro name(...) %})
	// of macro files, which strata does not read, by name.
	jinjaMacros map[string]diag.Pos
	// args caches what each macro's tree reads of its arguments
	// (*parse.Tree to macroArgs).
	args sync.Map
}

// MacroFile is the input of ParseMacros.
type MacroFile struct {
	Path string
	Text string
}

var builtinNames = []string{"and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf", "println", "urlquery", "eq", "ge", "gt", "le", "lt", "ne"}

// ParseMacros parses the macro files. A name defined twice is an error naming both files.
func ParseMacros(files []MacroFile) (*Set, diag.List) {
	var diags diag.List
	s := &Set{base: template.New("").Funcs(placeholderFuncs()).Option("missingkey=error"), files: map[string]string{}, texts: map[string]string{}, parseFuncs: map[string]any{}}
	for name := range placeholderFuncs() {
		s.parseFuncs[name] = true
	}
	for _, name := range builtinNames {
		s.parseFuncs[name] = true
	}
	for _, f := range files {
		s.texts[f.Path] = f.Text
		trees, err := parse.Parse(f.Path, f.Text, "", "", s.parseFuncs)
		if m := multipleDefRe.FindStringSubmatch(fmt.Sprint(err)); m != nil {
			// Two {{ define }} of one name in one file: text/template
			// says so without a place.
			lines := defineLines(f.Text, m[1])
			pos := diag.Pos{File: f.Path}
			where := f.Path
			if len(lines) > 1 {
				pos.Line, pos.Col = lines[1], 1
				where = fmt.Sprintf("%s:%d and %s:%d", f.Path, lines[0], f.Path, lines[1])
			}
			diags.Errorf(pos, "macro %q is defined twice: %s (macro names are unique across the project: rename one, or remove it; the first is used)", m[1], where)
			trees = s.salvage(f)
		} else if err != nil {
			diags.Add(diag.Pos{File: f.Path}, templateError(err, "", s.source))
			// One mistake (a define left open, an if without its
			// condition) should not drop the file's other macros, and
			// make every model that uses one of them fail too.
			trees = s.salvage(f)
		}
		s.jinja(f, trees, &diags)
		names := make([]string, 0, len(trees))
		for name := range trees {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			if name == f.Path {
				continue
			}
			if prev, dup := s.files[name]; dup {
				line := defineLine(f.Text, name)
				diags.Errorf(diag.Pos{File: f.Path, Line: line, Col: 1}, "macro %q is defined twice: %s:%d and %s:%d (macro names are unique across the project: rename one, or remove it; the first is used)", name, prev, defineLine(s.texts[prev], name), f.Path, line)
				continue
			}
			if builtin := builtinMacroName(name); builtin != "" {
				diags.Warnf(diag.Pos{File: f.Path, Line: defineLine(f.Text, name), Col: 1}, "macro %q has the name of %s, which it does not replace: {{ %s ... }} still calls the function, and only {{ include %q }} renders the macro: rename it", name, builtin, name, name)
			}
			s.files[name] = f.Path
			if _, err := s.base.AddParseTree(name, trees[name]); err != nil {
				diags.Errorf(diag.Pos{File: f.Path}, "%v", err)
			}
		}
	}
	return s, diags
}

// jinjaMacroRe finds the name of a dbt macro, {% macro name(...) %}.
var jinjaMacroRe = regexp.MustCompile(`^\{%[-+]?\s*macro\s+(\w+)`)

// jinja reports the Jinja of macro file f (a dbt macro file copied as it
// is), parsed into trees: its statements inside {{ define }} blocks (a {%
// if %} there would reach PostgreSQL as it is) and its comments there, and
// outside them the dbt macros ({% macro %} ... {% endmacro %}, {% test %},
// {% materialization %}, {% snapshot %}) with the statements inside them,
// which define nothing, since strata reads only its {{ define }} blocks.
// The rest of the text outside {{ define }} blocks is ignored, by strata as
// by dbt, whose macro files are read for their macros: prose about Jinja
// there ("use {% raw %} in dbt") is no mistake, and neither is Jinja in an
// SQL comment (-- ..., /* ... */) there, which would define nothing in a
// dbt macro file copied as it is either.
func (s *Set) jinja(f MacroFile, trees map[string]*parse.Tree, diags *diag.List) {
	inside := map[int]bool{}
	// Only the text of the file is Jinja's, not its actions: a comment
	// {{/* like dbt's {% macro %} */}} is no mistake. outside is that text
	// without the text of the {{ define }} blocks either, to find the SQL
	// comments of the text outside them.
	text := actionRe.ReplaceAllStringFunc(f.Text, blankKeepingLines)
	outside := []byte(text)
	for name, tr := range trees {
		if name == f.Path {
			continue
		}
		eachText(tr.Root, func(n *parse.TextNode) {
			if p := int(n.Pos); p >= 0 && p+len(n.Text) <= len(outside) {
				copy(outside[p:], blankKeepingLines(string(n.Text)))
			}
			jinjaTags(string(n.Text), int(n.Pos), func(off int, msg string) {
				inside[off] = true
				if strings.HasPrefix(f.Text[off:], "{#") {
					diags.Errorf(placeOffset(f.Path, diag.Origin{}, f.Text, off), "%s", msg)
				}
			})
		})
	}
	comments := sqlComments(string(outside))
	depth := 0 // of dbt definitions ({% macro %} ... {% endmacro %}) around
	for _, m := range jinjaTagRe.FindAllStringSubmatchIndex(text, -1) {
		if m[2] < 0 {
			continue
		}
		kw := f.Text[m[2]:m[3]]
		pos := placeOffset(f.Path, diag.Origin{}, f.Text, m[0])
		if inside[m[0]] {
			jinjaTags(f.Text[m[0]:m[1]], m[0], func(off int, msg string) { diags.Errorf(pos, "%s", msg) })
			continue
		}
		if inRanges(comments, m[0]) {
			continue
		}
		// A definition names what it defines ({% macro cents(col) %}):
		// prose that names the statement ("each {% macro %} became a
		// define") opens none.
		opens := jinjaDefinitions[kw] && jinjaNamed.MatchString(f.Text[m[3]:m[1]])
		closes := jinjaDefinitions[strings.TrimPrefix(kw, "end")] && strings.HasPrefix(kw, "end")
		if depth == 0 && !opens && !closes {
			continue // prose outside a dbt macro, ignored by dbt too
		}
		switch {
		case opens:
			depth++
		case closes && depth > 0:
			depth--
		}
		instead := jinjaInstead[kw]
		if kw == "macro" {
			instead = `{{ define "name" }} ... {{ end }}, reading one argument as {{ . }} and several as {{ index . 0 }}, {{ index . 1 }}, called as {{ include "name" "a" "b" }}`
			if n := jinjaMacroRe.FindStringSubmatch(f.Text[m[0]:m[1]]); n != nil {
				if s.jinjaMacros == nil {
					s.jinjaMacros = map[string]diag.Pos{}
				}
				s.jinjaMacros[n[1]] = pos
			}
		}
		if instead == "" {
			instead = "the Go template spelling in docs/templates.md#from-jinja-to-go-templates"
		}
		diags.Errorf(pos, "Jinja's {%% %s %%} is not strata's template syntax, and strata ignores it: a macro file is read only for its {{ define }} blocks (expected %s; docs/templates.md#macros)", kw, instead)
	}
}

// jinjaDefinitions are the Jinja statements that open a dbt definition in a
// macro file; "end" and the name closes it.
var jinjaDefinitions = map[string]bool{"macro": true, "test": true, "materialization": true, "snapshot": true}

// jinjaNamed matches the rest of a statement of jinjaDefinitions after its
// keyword when it names what it defines.
var jinjaNamed = regexp.MustCompile(`^\s+\w`)

// sqlComments returns the SQL comments of text as [start, end) byte
// ranges: -- to the end of its line, and /* to its */, nested as
// PostgreSQL nests them. A /* that is never closed is no comment: what
// follows it is read as it is. Quotes are not followed: the text is prose
// or Jinja, where an apostrophe starts no string.
func sqlComments(text string) [][2]int {
	var out [][2]int
	for i := 0; i+1 < len(text); i++ {
		switch text[i : i+2] {
		case "--":
			end := strings.IndexByte(text[i:], '\n')
			if end < 0 {
				end = len(text) - i
			}
			out = append(out, [2]int{i, i + end})
			i += end
		case "/*":
			depth, j := 1, i+2
			for ; j+1 < len(text) && depth > 0; j++ {
				switch text[j : j+2] {
				case "/*":
					depth++
					j++
				case "*/":
					depth--
					j++
				}
			}
			if depth > 0 {
				return out
			}
			out = append(out, [2]int{i, j})
			i = j - 1
		}
	}
	return out
}

// inRanges says whether off is in one of ranges, sorted by start.
func inRanges(ranges [][2]int, off int) bool {
	i := sort.Search(len(ranges), func(i int) bool { return ranges[i][1] > off })
	return i < len(ranges) && ranges[i][0] <= off
}

// actionRe finds the actions of a template, {{ ... }}, as text/template
// reads them: a comment {{/* ... */}} ends at its */}}, and a string or a
// character in an action may hold }} ({{/* a }} {% if %} */}} is one
// action, a comment).
var actionRe = regexp.MustCompile(`\{\{(?:- )?/\*[\s\S]*?\*/(?: -)?\}\}|\{\{(?:"(?:[^"\\\n]|\\.)*"|` + "`[^`]*`" + `|'(?:[^'\\\n]|\\.)*'|[^"'` + "`" + `])*?\}\}`)

// eachText calls fn with every text node under n.
func eachText(n parse.Node, fn func(*parse.TextNode)) {
	switch n := n.(type) {
	case *parse.TextNode:
		fn(n)
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			eachText(c, fn)
		}
	case *parse.IfNode:
		eachText(n.List, fn)
		eachText(n.ElseList, fn)
	case *parse.RangeNode:
		eachText(n.List, fn)
		eachText(n.ElseList, fn)
	case *parse.WithNode:
		eachText(n.List, fn)
		eachText(n.ElseList, fn)
	}
}

var defineStartRe = regexp.MustCompile(`\{\{-?\s*define\s`)
var endTagRe = regexp.MustCompile(`\{\{-?\s*end\s*-?\}\}`)
var defineNameRe = regexp.MustCompile(`\{\{-?\s*define\s+"([^"]*)"`)

// salvage parses each {{ define }} block of f, a macro file that does not
// parse as a whole, on its own (up to the next one), and returns the trees
// of those that parse. The names of those that do not are kept in
// s.unparsed, so that a template including one is told where the macro's
// problem is. Each block is parsed at its place in the file (what comes
// before it blanked, line ends kept), so positions in it stay the file's.
func (s *Set) salvage(f MacroFile) map[string]*parse.Tree {
	out := map[string]*parse.Tree{}
	starts := defineStartRe.FindAllStringIndex(f.Text, -1)
	for i, st := range starts {
		end := len(f.Text)
		if i+1 < len(starts) {
			end = starts[i+1][0]
		}
		block := f.Text[st[0]:end]
		before := blankKeepingLines(f.Text[:st[0]])
		trees, err := parse.Parse(f.Path, before+block, "", "", s.parseFuncs)
		// What follows the define's own {{ end }} (a stray {{ end }}, text
		// with a mistake) is the file's error, reported already: the
		// define is kept when it parses up to one of its {{ end }}s.
		for _, e := range endTagRe.FindAllStringIndex(block, -1) {
			if err == nil {
				break
			}
			trees, err = parse.Parse(f.Path, before+block[:e[1]], "", "", s.parseFuncs)
		}
		if err != nil {
			if m := defineNameRe.FindStringSubmatch(block); m != nil {
				if s.unparsed == nil {
					s.unparsed = map[string]string{}
				}
				s.unparsed[m[1]] = f.Path
			}
			continue
		}
		for name, tr := range trees {
			if _, dup := out[name]; name != f.Path && !dup {
				out[name] = tr // the first of two of one name, as across files
			}
		}
	}
	return out
}

// blankKeepingLines is text with every byte but its line ends made a space.
func blankKeepingLines(text string) string {
	b := []byte(text)
	for i, c := range b {
		if c != '\n' && c != '\r' {
			b[i] = ' '
		}
	}
	return string(b)
}

// multipleDefRe is text/template's error for two {{ define }} of one name
// in one text.
var multipleDefRe = regexp.MustCompile(`multiple definition of template "([^"]*)"`)

// defineLines are the lines of the {{ define "name" }} blocks of text.
func defineLines(text, name string) []int {
	re := regexp.MustCompile(`\{\{-?\s*define\s+"` + regexp.QuoteMeta(name) + `"`)
	var out []int
	for _, loc := range re.FindAllStringIndex(text, -1) {
		out = append(out, 1+strings.Count(text[:loc[0]], "\n"))
	}
	return out
}

// builtinMacroName names the function a macro's name is, of strata's or
// Go's built-ins; "" when it is none.
func builtinMacroName(name string) string {
	switch {
	case slices.Contains(strataFuncs, name):
		// dbt lets a project's macro named ref or source replace dbt's.
		return "strata's function " + name + " (a dbt macro of that name replaces dbt's; a strata macro cannot)"
	case slices.Contains(builtinNames, name):
		return "Go's built-in function " + name
	}
	return ""
}

func defineLine(text, name string) int {
	re := regexp.MustCompile(`\{\{-?\s*define\s+"` + regexp.QuoteMeta(name) + `"`)
	loc := re.FindStringIndex(text)
	if loc == nil {
		return 0
	}
	return 1 + strings.Count(text[:loc[0]], "\n")
}

// Source returns macro name's definition in canonical form, so that a
// checksum of it changes when the macro does and not when a neighbour in the
// same file does.
func (s *Set) Source(name string) string {
	m := s.base.Lookup(name)
	if m == nil || m.Tree == nil || m.Tree.Root == nil {
		return ""
	}
	return m.Tree.Root.String()
}

// File returns the file that defines macro name, or "".
func (s *Set) File(name string) string { return s.files[name] }

// Names returns the defined macro names, sorted.
func (s *Set) Names() []string {
	out := make([]string, 0, len(s.files))
	for n := range s.files {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Call is a constant-argument call of ref or source found in a template.
type Call struct {
	Args []string
	Pos  diag.Pos
	// Macro is the macro of macros/ the call is in ("" in the template's own file).
	Macro string
}

// ConfigCall is one key/value set by {{ config ... }}.
type ConfigCall struct {
	Key   string
	Value any
	Pos   diag.Pos
}

// Template is one parsed model, test or hook, with what it statically uses.
type Template struct {
	Path    string
	text    string
	at      diag.Origin            // where text is in the file at Path
	trees   map[string]*parse.Tree // the file's own tree (at Path) and its {{ define }} blocks
	set     *Set
	Refs    []Call
	Sources []Call
	Config  []ConfigCall
	Macros  []string // macros it includes, directly or through other macros, sorted
	// Invalid is set when Parse reported a problem, in the template's file
	// or in a macro it includes: rendering it would only repeat it.
	Invalid bool
	// its own text nodes, for source maps (built on first use)
	indexState
}

// lookup finds a template the file may call: its own {{ define }} blocks first, then the macros.
func (t *Template) lookup(name string) *parse.Tree {
	if tr, ok := t.trees[name]; ok {
		return tr
	}
	if m := t.set.base.Lookup(name); m != nil {
		return m.Tree
	}
	return nil
}

// Parse parses text (the file at path) against the macro set and extracts its
// refs, sources, config and macros. Every problem is returned, with positions.
func (s *Set) Parse(path, text string) (*Template, diag.List) {
	return s.ParseAt(path, diag.Origin{}, text)
}

// ParseAt is Parse for a text that is part of the file at path, such as a
// hook in project.yaml: positions in errors are placed by at.
func (s *Set) ParseAt(path string, at diag.Origin, text string) (*Template, diag.List) {
	var diags diag.List
	trees, err := parse.Parse(path, text, "", "", s.parseFuncs)
	if err != nil {
		// A dbt file copied as it is fails to parse at its first {{ }}
		// that is Jinja (config(...), a {{ model }} in a {% test %}),
		// which says nothing of the {% %} statements around it: name
		// those too, with what to write instead.
		jinjaTags(text, 0, func(off int, msg string) { diags.Errorf(placeOffset(path, at, text, off), "%s", msg) })
		calls := dbtConfigCalls(text, func(off int, msg string) { diags.Errorf(placeOffset(path, at, text, off), "%s", msg) })
		if calls > 0 && strings.Contains(err.Error(), `unexpected "(" in operand`) {
			return nil, diags // that is the error of the config(...) said above
		}
		own := func(string) (string, diag.Origin) { return text, at }
		diags.Add(diag.Pos{File: path}, s.macroCalled(templateError(err, "", own)))
		return nil, diags
	}
	if trees[path] == nil {
		// A file of nothing but {{ define }} blocks renders as "".
		tr := parse.New(path)
		tr.Root = &parse.ListNode{NodeType: parse.NodeList}
		trees[path] = tr
	}
	tp := &Template{Path: path, text: text, at: at, trees: trees, set: s}
	w := &walker{t: tp, text: text, diags: &diags, seen: map[string]bool{}}
	w.walk(trees[path].Root, trees[path], path)
	sort.Strings(tp.Macros)
	tp.Invalid = diags.HasErrors()
	return tp, diags
}

type walker struct {
	t     *Template
	text  string
	diags *diag.List
	seen  map[string]bool // macros already walked
}

func (w *walker) pos(tree *parse.Tree, n parse.Node, file string) diag.Pos {
	if tree == nil {
		return diag.Pos{File: file}
	}
	line, byteCol := lineCol(tree, n)
	text, at := w.t.source(file)
	return at.Place(file, text, line, byteCol)
}

// lineCol returns the line (1-based) of n and its byte offset in that line (from 0).
func lineCol(tree *parse.Tree, n parse.Node) (int, int) {
	loc, _ := tree.ErrorContext(n)
	// loc is "name:line:col"
	parts := strings.Split(loc, ":")
	if len(parts) < 3 {
		return 0, -1
	}
	line, _ := strconv.Atoi(parts[len(parts)-2])
	byteCol, _ := strconv.Atoi(parts[len(parts)-1])
	return line, byteCol
}

// sourceOf returns the text of a template file and where that text is in
// the user's file, to place the positions text/template reports (a line and
// a byte offset in it).
type sourceOf func(file string) (string, diag.Origin)

// source is the sourceOf of a render: the template's own text, or a macro file.
func (t *Template) source(file string) (string, diag.Origin) {
	if file == t.Path {
		return t.text, t.at
	}
	return t.set.source(file)
}

func (s *Set) source(file string) (string, diag.Origin) { return s.texts[file], diag.Origin{} }

func (w *walker) walk(n parse.Node, tree *parse.Tree, file string) {
	switch n := n.(type) {
	case nil:
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			w.walk(c, tree, file)
		}
	case *parse.ActionNode:
		w.walk(n.Pipe, tree, file)
	case *parse.TextNode:
		if file == w.t.Path {
			w.jinja(n)
		}
	case *parse.IfNode:
		w.walkBranch(&n.BranchNode, tree, file)
	case *parse.RangeNode:
		w.walkBranch(&n.BranchNode, tree, file)
	case *parse.WithNode:
		w.walkBranch(&n.BranchNode, tree, file)
	case *parse.TemplateNode:
		w.walk(n.Pipe, tree, file)
		w.macro(n.Name, tree, n, file)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for i, c := range n.Cmds {
			var piped *parse.CommandNode
			if i > 0 {
				piped = n.Cmds[i-1]
			}
			w.command(c, piped, tree, file)
		}
	}
}

// jinjaTagRe finds a Jinja statement ({% if ... %}, {%- for ... %}) or
// comment ({# ... #}) in the text of a template: strata would send it to
// PostgreSQL as it is, and the model would fail there with a syntax error.
var jinjaTagRe = regexp.MustCompile(`\{%[-+]?\s*(if|elif|else|endif|for|endfor|set|endset|macro|endmacro|call|endcall|filter|endfilter|raw|endraw|block|endblock|include|import|from|extends|do|with|endwith|snapshot|endsnapshot|test|endtest|materialization|endmaterialization)\b[^%]*%\}|\{#[\s\S]*?#\}`)

// jinjaInstead says what strata writes for a Jinja statement.
var jinjaInstead = map[string]string{
	"if": "{{ if cond }} ... {{ else if other }} ... {{ else }} ... {{ end }}", "elif": "{{ else if cond }}", "else": "{{ else }}", "endif": "{{ end }}",
	"for": "{{ range $x := list ... }} ... {{ end }}", "endfor": "{{ end }}",
	"set": "{{ $name := value }}", "macro": `{{ define "name" }} ... {{ end }} in macros/`, "endmacro": "{{ end }}",
	"include": `{{ include "macro" }}`,
	"test":    `{{ define "test_<name>" }} ... {{ end }} in macros/, the test's relation as {{ .model }} and its column as {{ .column_name }} (docs/tests.md#custom-generic-tests)`, "endtest": "{{ end }}",
	"snapshot": "a model with materialized: scd2 (docs/scd2.md)", "endsnapshot": "nothing",
}

// jinja reports each Jinja statement or comment in text n of the template's
// own file (a dbt model copied as it is) at its place, with what to write.
func (w *walker) jinja(n *parse.TextNode) {
	jinjaTags(string(n.Text), int(n.Pos), func(off int, msg string) {
		if off <= len(w.text) {
			w.diags.Errorf(placeOffset(w.t.Path, w.t.at, w.text, off), "%s", msg)
		}
	})
}

// jinjaTags calls report with the offset (in the file: base + the offset in
// text) and the message of each Jinja statement or comment in text.
func jinjaTags(text string, base int, report func(off int, msg string)) {
	for _, m := range jinjaTagRe.FindAllStringSubmatchIndex(text, -1) {
		off := base + m[0]
		if m[2] < 0 {
			report(off, "Jinja's {# ... #} comment is not strata's template syntax (expected {{/* comment */}}; docs/templates.md#from-jinja-to-go-templates)")
			continue
		}
		kw := text[m[2]:m[3]]
		instead := jinjaInstead[kw]
		if instead == "" {
			instead = "the Go template spelling in docs/templates.md#from-jinja-to-go-templates"
		}
		report(off, fmt.Sprintf("Jinja's {%% %s %%} is not strata's template syntax, and would be sent to PostgreSQL as it is (expected %s; strata's templates are Go templates: docs/templates.md#from-jinja-to-go-templates)", kw, instead))
	}
}

// dbtConfigRe finds dbt's {{ config(key='value', ...) }}, its arguments
// in group 1.
var dbtConfigRe = regexp.MustCompile(`\{\{-?\s*config\s*\(((?:[^()'"]|'[^']*'|"[^"]*"|\([^()]*\))*)\)\s*-?\}\}`)

// dbtConfigCalls reports each dbt {{ config(...) }} in text at its offset,
// with strata's spelling of it, and returns how many there are.
func dbtConfigCalls(text string, report func(off int, msg string)) int {
	ms := dbtConfigRe.FindAllStringSubmatchIndex(text, -1)
	for _, m := range ms {
		const msg = "dbt's {{ config(...) }} is not strata's template syntax: strata configures a model under config: in its YAML entry"
		if y, t, ok := dbtConfigArgs(text[m[2]:m[3]]); ok {
			report(m[0], fmt.Sprintf("%s (config: {%s}), or with %s in its SQL (docs/models.md#config)", msg, y, t))
			continue
		}
		report(m[0], msg+`, or with {{ config "key" value ... }} in its SQL, values constants such as {{ config "materialized" "table" "tags" (list "a" "b") }} (docs/models.md#config)`)
	}
	return len(ms)
}

// dbtConfigArgs writes the arguments of dbt's config(...) (materialized=
// 'table', tags=['a', 'b']) as YAML and as strata's config call; ok=false
// when one is not a constant it can write so.
func dbtConfigArgs(args string) (yaml, tmpl string, ok bool) {
	var ys, ts []string
	for _, arg := range splitTop(args) {
		k, v, found := strings.Cut(arg, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !found || !identRe.MatchString(k) {
			return "", "", false
		}
		var y, t string
		if strings.HasPrefix(v, "[") && strings.HasSuffix(v, "]") {
			var yl, tl []string
			for _, item := range splitTop(v[1 : len(v)-1]) {
				iy, it, ok := dbtConfigScalar(strings.TrimSpace(item))
				if !ok {
					return "", "", false
				}
				yl, tl = append(yl, iy), append(tl, it)
			}
			y, t = "["+strings.Join(yl, ", ")+"]", "(list "+strings.Join(tl, " ")+")"
		} else if y, t, ok = dbtConfigScalar(v); !ok {
			return "", "", false
		}
		ys, ts = append(ys, k+": "+y), append(ts, strconv.Quote(k)+" "+t)
	}
	if len(ys) == 0 {
		return "", "", false
	}
	return strings.Join(ys, ", "), "{{ config " + strings.Join(ts, " ") + " }}", true
}

var (
	identRe     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	plainYAMLRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)
	numberRe    = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)
)

// dbtConfigScalar writes one Jinja constant ('table', 3, True) as YAML and
// as a template constant.
func dbtConfigScalar(v string) (yaml, tmpl string, ok bool) {
	switch {
	case len(v) >= 2 && (v[0] == '\'' || v[0] == '"') && v[len(v)-1] == v[0]:
		s := v[1 : len(v)-1]
		if strings.ContainsAny(s, `\'"`) {
			return "", "", false
		}
		y := s
		if !plainYAMLRe.MatchString(s) || s == "true" || s == "false" || s == "null" {
			y = "'" + s + "'"
		}
		return y, strconv.Quote(s), true
	case v == "True" || v == "true":
		return "true", "true", true
	case v == "False" || v == "false":
		return "false", "false", true
	case numberRe.MatchString(v):
		return v, v, true
	}
	return "", "", false
}

// splitTop splits s at its commas outside quotes and brackets.
func splitTop(s string) []string {
	var out []string
	depth, start := 0, 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '[' || c == '(' || c == '{':
			depth++
		case c == ']' || c == ')' || c == '}':
			depth--
		case c == ',' && depth == 0:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	if last := strings.TrimSpace(s[start:]); last != "" {
		out = append(out, s[start:])
	}
	return out
}

// placeOffset is the position of byte offset off of text, the file at path
// placed by at.
func placeOffset(path string, at diag.Origin, text string, off int) diag.Pos {
	line := 1 + strings.Count(text[:off], "\n")
	byteCol := off - (strings.LastIndex(text[:off], "\n") + 1)
	return at.Place(path, text, line, byteCol)
}

func (w *walker) walkBranch(b *parse.BranchNode, tree *parse.Tree, file string) {
	w.walk(b.Pipe, tree, file)
	w.walk(b.List, tree, file)
	w.walk(b.ElseList, tree, file)
}

func (w *walker) macro(name string, tree *parse.Tree, at parse.Node, file string) {
	mt := w.t.lookup(name)
	if mfile, broken := w.t.set.unparsed[name]; mt == nil && broken {
		w.diags.Errorf(w.pos(tree, at, file), "macro %q could not be read: %s has a syntax error in it (reported there)", name, mfile)
		return
	}
	if jp, dbt := w.t.set.jinjaMacros[name]; mt == nil && dbt {
		w.diags.Errorf(w.pos(tree, at, file), "macro %q is not defined: %s has Jinja's {%% macro %s(...) %%}, which strata does not read (reported there; write it as {{ define %q }} ... {{ end }})", name, jp, name, name)
		return
	}
	if mt == nil {
		w.diags.Errorf(w.pos(tree, at, file), "macro %q is not defined (expected a {{ define %q }} block in macros/)%s", name, name, diag.DidYouMean(name, w.t.set.Names()))
		return
	}
	if w.seen[name] {
		return
	}
	w.seen[name] = true
	mfile := w.t.set.File(name)
	if _, own := w.t.trees[name]; own {
		mfile = w.t.Path
	} else {
		w.t.Macros = append(w.t.Macros, name)
	}
	w.walk(mt.Root, mt, mfile)
}

// macroOf is the name of the macro of macros/ that tree is, "" when tree is
// in the template's own file.
func (w *walker) macroOf(tree *parse.Tree, file string) string {
	if file == w.t.Path {
		return ""
	}
	return tree.Name
}

// calledFrom is, for a problem in a macro of macros/, which macro and which
// template including it, as a render error inside a macro says it; "" in
// the template's own file. A macro's problem is reported once per template
// that includes it, each naming its own.
func (w *walker) calledFrom(tree *parse.Tree, file string) string {
	if m := w.macroOf(tree, file); m != "" {
		return fmt.Sprintf(" (in macro %q, called from %s)", m, w.t.Path)
	}
	return ""
}

// constArgs returns the string arguments of a call, or ok=false if one is not a constant string.
func constArgs(args []parse.Node, piped *parse.CommandNode) ([]string, bool) {
	var out []string
	for _, a := range args {
		s, ok := a.(*parse.StringNode)
		if !ok {
			return nil, false
		}
		out = append(out, s.Text)
	}
	if piped != nil {
		if len(piped.Args) != 1 {
			return nil, false
		}
		s, ok := piped.Args[0].(*parse.StringNode)
		if !ok {
			return nil, false
		}
		out = append(out, s.Text)
	}
	return out, true
}

func (w *walker) command(c *parse.CommandNode, piped *parse.CommandNode, tree *parse.Tree, file string) {
	for _, a := range c.Args {
		if p, ok := a.(*parse.PipeNode); ok {
			w.walk(p, tree, file)
		}
	}
	if len(c.Args) == 0 {
		return
	}
	id, ok := c.Args[0].(*parse.IdentifierNode)
	if !ok {
		return
	}
	pos := w.pos(tree, c, file)
	switch id.Ident {
	case "ref":
		args, ok := constArgs(c.Args[1:], piped)
		if !ok {
			w.diags.Errorf(pos, "the argument of ref must be a constant string such as ref \"stg_orders\" (strata finds dependencies without running the template)%s", w.calledFrom(tree, file))
			return
		}
		if len(args) != 1 {
			w.diags.Errorf(pos, "ref takes one model or seed name, got %d arguments%s", len(args), w.calledFrom(tree, file))
			return
		}
		w.t.Refs = append(w.t.Refs, Call{Args: args, Pos: pos, Macro: w.macroOf(tree, file)})
	case "source":
		args, ok := constArgs(c.Args[1:], piped)
		if !ok {
			w.diags.Errorf(pos, "the arguments of source must be constant strings such as source \"crm\" \"accounts\"%s", w.calledFrom(tree, file))
			return
		}
		if len(args) != 2 {
			got := fmt.Sprintf("%d arguments", len(args))
			if len(args) == 1 {
				got = fmt.Sprintf("only %q: write source %q \"<table>\"", args[0], args[0])
			}
			w.diags.Errorf(pos, "source takes a source name and a table name, got %s%s", got, w.calledFrom(tree, file))
			return
		}
		w.t.Sources = append(w.t.Sources, Call{Args: args, Pos: pos, Macro: w.macroOf(tree, file)})
	case "include":
		if len(c.Args) < 2 {
			if piped == nil {
				w.diags.Errorf(pos, "include needs the name of a macro")
			}
			return
		}
		s, ok := c.Args[1].(*parse.StringNode)
		if !ok {
			w.diags.Errorf(pos, "the macro name given to include must be a constant string")
			return
		}
		w.macro(s.Text, tree, c, file)
	case "config":
		if file != w.t.Path {
			w.diags.Errorf(pos, "config can only be called in the model's own file, not in a macro%s", w.calledFrom(tree, file))
			return
		}
		args := c.Args[1:]
		if len(args)%2 != 0 || piped != nil {
			w.diags.Errorf(pos, "config takes key/value pairs, such as config \"materialized\" \"table\"")
			return
		}
		for i := 0; i < len(args); i += 2 {
			k, ok := args[i].(*parse.StringNode)
			if !ok {
				w.diags.Errorf(pos, "config keys must be constant strings")
				continue
			}
			v, err := constValue(args[i+1])
			if err != nil {
				w.diags.Errorf(pos, "config %q: %v", k.Text, err)
				continue
			}
			w.t.Config = append(w.t.Config, ConfigCall{Key: k.Text, Value: v, Pos: pos})
		}
	}
}

// constValue evaluates a constant config value: strings, numbers, bools, and list/dict of those.
func constValue(n parse.Node) (any, error) {
	switch n := n.(type) {
	case *parse.StringNode:
		return n.Text, nil
	case *parse.BoolNode:
		return n.True, nil
	case *parse.NumberNode:
		if n.IsInt {
			return int(n.Int64), nil
		}
		return n.Float64, nil
	case *parse.PipeNode:
		if len(n.Cmds) == 1 && len(n.Decl) == 0 {
			c := n.Cmds[0]
			if id, ok := c.Args[0].(*parse.IdentifierNode); ok && (id.Ident == "list" || id.Ident == "dict") {
				var vals []any
				for _, a := range c.Args[1:] {
					v, err := constValue(a)
					if err != nil {
						return nil, err
					}
					vals = append(vals, v)
				}
				if id.Ident == "list" {
					if vals == nil {
						vals = []any{}
					}
					return vals, nil
				}
				if len(vals)%2 != 0 {
					return nil, errors.New("dict needs key/value pairs")
				}
				m := map[string]any{}
				for i := 0; i < len(vals); i += 2 {
					k, ok := vals[i].(string)
					if !ok {
						return nil, errors.New("dict keys must be strings")
					}
					m[k] = vals[i+1]
				}
				return m, nil
			}
		}
	}
	return nil, fmt.Errorf("values must be constants (strings, numbers, true/false, list ..., dict ...), got %s", n)
}

// Env is what a render may see: callbacks for the functions that depend on the project and the run.
type Env struct {
	Ref    func(name string) (string, error)
	Source func(src, table string) (string, error)
	This   string
	// NoThis says why this names no relation where This is empty (a run
	// hook, a singular test, an ephemeral model): this is then an error
	// that says so, rather than empty text in the SQL.
	NoThis        string
	IsIncremental bool
	Vars          map[string]any
	LookupEnv     func(string) (string, bool)
	Target        map[string]any
	RunStartedAt  string
	// Caller names the model (or test) being rendered, for errors inside macros.
	Caller string
	// Macros replaces macros by literal text: include or {{ template }} of
	// a macro named here renders its text and runs nothing (a unit test's
	// overrides).
	Macros map[string]string
}

// Reads records the vars and environment variables a render read, with their values.
type Reads struct {
	Vars    map[string]string
	EnvVars map[string]string
}

// renderer is a namespace with the macros and strata's functions bound to
// whatever env is set on it; one goroutine uses it at a time.
type renderer struct {
	t     *template.Template
	env   Env
	reads *Reads
	// includes is the chain of macros being included, innermost last. include
	// runs a macro with its own Execute, so text/template's depth limit never
	// sees a macro that includes itself: this chain bounds it instead.
	includes []string
	// mapped is the template of a mapped render (RenderMapped), nil otherwise;
	// included is the output of the include that just ran, with its map.
	mapped   *Template
	included *pendingInclude
	// tmpl is the template being rendered; held is how much text the
	// render holds: its output so far and that of the includes running.
	tmpl *Template
	held int
}

// macroFile is the file of macro name in the render of r.tmpl: its own
// file for one of its {{ define }} blocks.
func (r *renderer) macroFile(name string) string {
	if _, own := r.tmpl.trees[name]; own {
		return r.tmpl.Path
	}
	return r.tmpl.set.File(name)
}

// checkArgs checks the arguments of an include of macro name, whose tree
// is tree, against what the macro reads (args.go).
func (r *renderer) checkArgs(name string, tree *parse.Tree, args []any) error {
	a := r.tmpl.set.argsOf(tree)
	if !a.known {
		return nil
	}
	file := r.macroFile(name)
	text, _ := r.tmpl.source(file)
	def := "defined at " + file
	if line := defineLine(text, name); line > 0 {
		def += ":" + strconv.Itoa(line)
	}
	return checkMacroArgs(name, def, a, args)
}

// maxIncludeDepth is how deeply include may nest before a render fails; no
// sensible project comes close, a macro that includes itself reaches it fast.
const maxIncludeDepth = 100

func (s *Set) newRenderer() (*renderer, error) {
	clone, err := s.base.Clone()
	if err != nil {
		return nil, err
	}
	r := &renderer{t: clone}
	clone.Funcs(r.funcs())
	return r, nil
}

// Render executes the template with env and data as dot.
func (t *Template) Render(env Env, data any) (string, Reads, error) {
	var buf bytes.Buffer
	reads, err := t.execute(env, data, &buf, false)
	if err != nil {
		return "", reads, err
	}
	return buf.String(), reads, nil
}

// RenderMapped is Render that also says where each byte of the output came
// from (see SourceMap), to place the database's errors in the user's files.
func (t *Template) RenderMapped(env Env, data any) (string, *SourceMap, Reads, error) {
	m := &SourceMap{t: t, file: t.Path}
	rec := &recorder{m: m}
	reads, err := t.execute(env, data, rec, true)
	if err != nil {
		return "", nil, reads, err
	}
	return rec.b.String(), m, reads, nil
}

// execute runs the template into w; a mapped render's w is a *recorder.
func (t *Template) execute(env Env, data any, w io.Writer, mapped bool) (Reads, error) {
	reads := Reads{}
	var r *renderer
	// Only files without their own {{ define }} blocks share renderers, so a
	// model's blocks never shadow the macros of another model's render; nor
	// do renders with macros replaced (env.Macros), for the same reason.
	pooled := len(t.trees) == 1 && len(env.Macros) == 0
	if pooled {
		r, _ = t.set.renderers.Get().(*renderer)
	}
	if r == nil {
		var err error
		if r, err = t.set.newRenderer(); err != nil {
			return reads, err
		}
	}
	r.env, r.reads, r.includes, r.mapped, r.included = env, &reads, r.includes[:0], nil, nil
	r.tmpl, r.held = t, 0
	if mapped {
		r.mapped = t
		w.(*recorder).r = r
	}
	var tmpl *template.Template
	for name, tree := range t.trees {
		nt, err := r.t.AddParseTree(name, tree)
		if err != nil {
			return reads, err
		}
		if name == t.Path {
			tmpl = nt
		}
	}
	// A replaced macro renders its text wherever it is called: by include
	// (which reads env.Macros) and by {{ template "name" }}, which runs the
	// namespace's tree of that name.
	for name, text := range env.Macros {
		if r.t.Lookup(name) == nil {
			continue // not a macro (is_incremental, run_started_at)
		}
		if _, err := r.t.AddParseTree(name, literalTree(name, text)); err != nil {
			return reads, err
		}
	}
	tmpl.Option("missingkey=error")
	err := tmpl.Execute(&blankNil{w: w, r: r, file: t.Path}, data)
	err = r.explainMissingKey(err, tmpl.Tree, data)
	r.env, r.reads, r.mapped, r.included, r.tmpl = Env{}, nil, nil, nil, nil
	if pooled {
		t.set.renderers.Put(r)
	}
	if err != nil {
		return reads, templateError(err, env.Caller, t.source)
	}
	return reads, nil
}

// literalTree is a macro named name whose body is text, as it is: what a
// unit test's override of the macro renders.
func literalTree(name, text string) *parse.Tree {
	return &parse.Tree{Name: name, ParseName: name, Root: &parse.ListNode{NodeType: parse.NodeList,
		Nodes: []parse.Node{&parse.TextNode{NodeType: parse.NodeText, Text: []byte(text)}}}}
}

// blankNil is the writer a template executes into. text/template prints a
// missing value (a key a dict lacks, read with index; dot in a macro
// included without arguments; sprig's first of an empty list) as
// "<no value>", in one write of its own; strata prints nothing instead, as
// for a null var, so the text never reaches the SQL (a string that is
// exactly "<no value>", which no SQL needs, goes too). Every other write
// passes through as it is (the same slice: a SourceMap names text nodes by
// their address), counted in the render's held text, which may not pass
// maxOutput.
type blankNil struct {
	w io.Writer
	r *renderer
	// file is the file whose template writes here: the node's, or an
	// included macro's.
	file string
	// last is the previous write, to place an action's output.
	last []byte
}

// noValue is what text/template prints for a missing value.
const noValue = "<no value>"

func (b *blankNil) Write(p []byte) (int, error) {
	if string(p) == noValue {
		return len(p), nil
	}
	b.r.held += len(p)
	if b.r.held > maxOutput {
		return 0, b.tooBig(p)
	}
	b.last = p
	return b.w.Write(p)
}

// tooBig is the error of a render whose text passed maxOutput with the
// write of p: placed at p when p is a text of the template, or else at the
// action after the text written last (what printed p), in text/template's
// words, so that templateError places it as its own errors.
func (b *blankNil) tooBig(p []byte) error {
	t := b.r.tmpl
	file, off := b.file, 0
	if l, ok := t.lookupText(&p[0]); ok {
		file, off = l.file, l.pos
	} else {
		if len(b.last) > 0 {
			if l, ok := t.lookupText(&b.last[0]); ok {
				file, off = l.file, l.pos+len(b.last)
			}
		}
		text, _ := t.source(file)
		off = min(off, len(text))
		if k := strings.Index(text[off:], "{{"); k >= 0 {
			off += k
		}
	}
	text, _ := t.source(file)
	off = min(off, len(text))
	line := 1 + strings.Count(text[:off], "\n")
	col := off - (strings.LastIndexByte(text[:off], '\n') + 1)
	node := b.r.env.Caller
	if node == "" {
		node = t.Path
	}
	in := ""
	if len(b.r.includes) > 0 {
		in = ", in " + includeChain(b.r.includes[:len(b.r.includes)-1], b.r.includes[len(b.r.includes)-1])
	}
	return fmt.Errorf("template: %s:%d:%d: %s renders more than %s of text, and stopped here%s (%s)", file, line, col, node, mib(maxOutput), in, limitHint)
}

func (r *renderer) funcs() template.FuncMap {
	return template.FuncMap{
		"ref": func(name string) (string, error) {
			if r.env.Ref == nil {
				return "", errors.New("ref is not available here")
			}
			return r.env.Ref(name)
		},
		"source": func(src, table string) (string, error) {
			if r.env.Source == nil {
				return "", errors.New("source is not available here")
			}
			return r.env.Source(src, table)
		},
		"this": func() (string, error) {
			if r.env.This != "" {
				return r.env.This, nil
			}
			if r.env.NoThis != "" {
				return "", errors.New(r.env.NoThis)
			}
			return "", errors.New("this is the relation of the model being built, and there is none here")
		},
		"is_incremental": func() bool { return r.env.IsIncremental },
		"config":         func(args ...any) string { return "" },
		"var": func(name string, def ...any) (any, error) {
			if len(def) > 1 {
				return nil, fmt.Errorf("var takes a name and at most one default, got %d arguments (for a list as the default, write var %q (list ...))", len(def)+1, name)
			}
			if v, ok := r.env.Vars[name]; ok {
				v = asVar(v)
				recordRead(&r.reads.Vars, name, fmt.Sprint(v))
				return v, nil
			}
			if len(def) > 0 {
				d := asVar(def[0])
				recordRead(&r.reads.Vars, name, "default:"+fmt.Sprint(d))
				return d, nil
			}
			for _, scope := range slices.Sorted(maps.Keys(r.env.Vars)) {
				if m, ok := r.env.Vars[scope].(map[string]any); ok {
					if _, ok := m[name]; ok {
						// dbt_project.yml's vars, scoped by the project's name.
						return nil, fmt.Errorf("var %q is not defined: the vars have it under %s: (as dbt scopes vars by a project's name), and strata's vars are not scoped: write it directly under vars: in project.yaml, or read it as index (var %q) %q", name, scope, scope, name)
					}
				}
			}
			return nil, fmt.Errorf("var %q is not defined (set it under vars: in project.yaml, pass --vars, or give a default: var %q <default>)", name, name)
		},
		"env_var": func(name string, def ...string) (string, error) {
			if len(def) > 1 {
				return "", fmt.Errorf("env_var takes a name and at most one default, got %d arguments", len(def)+1)
			}
			if r.env.LookupEnv != nil {
				if v, ok := r.env.LookupEnv(name); ok {
					recordRead(&r.reads.EnvVars, name, v)
					return v, nil
				}
			}
			if len(def) > 0 {
				recordRead(&r.reads.EnvVars, name, "default:"+def[0])
				return def[0], nil
			}
			return "", fmt.Errorf("environment variable %s is not set (set it, or give a default: env_var %q <default>)", name, name)
		},
		"target":         func() map[string]any { return r.env.Target },
		"run_started_at": func() string { return r.env.RunStartedAt },
		"include": func(name string, args ...any) (string, error) {
			if text, ok := r.env.Macros[name]; ok {
				return text, nil
			}
			m := r.t.Lookup(name)
			if m == nil {
				return "", fmt.Errorf("macro %q is not defined", name)
			}
			if len(r.includes) >= maxIncludeDepth {
				return "", fmt.Errorf("macro %q is included more than %d levels deep (does it include itself? %s)", name, maxIncludeDepth, includeChain(r.includes, name))
			}
			if err := r.checkArgs(name, m.Tree, args); err != nil {
				return "", err
			}
			r.includes = append(r.includes, name)
			defer func() { r.includes = r.includes[:len(r.includes)-1] }()
			var dot any
			switch len(args) {
			case 0:
			case 1:
				dot = args[0]
			default:
				dot = args
			}
			if t := r.mapped; t != nil {
				file := r.macroFile(name)
				rec := &recorder{m: &SourceMap{t: t, file: file}, r: r}
				if err := m.Execute(&blankNil{w: rec, r: r, file: file}, dot); err != nil {
					return "", r.explainMissingKey(err, m.Tree, dot)
				}
				out := rec.b.String()
				r.held -= len(out) // the caller's write counts it again
				r.included = &pendingInclude{text: out, m: rec.m}
				return out, nil
			}
			var buf bytes.Buffer
			if err := m.Execute(&blankNil{w: &buf, r: r, file: r.macroFile(name)}, dot); err != nil {
				return "", r.explainMissingKey(err, m.Tree, dot)
			}
			r.held -= buf.Len() // the caller's write counts it again
			return buf.String(), nil
		},
	}
}

func recordRead(m *map[string]string, k, v string) {
	if *m == nil {
		*m = map[string]string{}
	}
	(*m)[k] = v
}

// includeChain shows the start of an include chain that went too deep, as
// a -> b -> a -> ..., short enough to read.
func includeChain(chain []string, next string) string {
	const shown = 6
	all := append(append([]string(nil), chain...), next)
	if len(all) <= shown {
		return strings.Join(all, " -> ")
	}
	return strings.Join(all[:shown], " -> ") + " -> ..."
}

// identFunc is the template function ident: unlike pgname.Ident it refuses what
// PostgreSQL would reject later, at run time, so validate reports it. It takes
// any value so that a var of the wrong kind gets an error in the user's words
// rather than text/template's Go types.
func identFunc(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("ident needs a name, a string; got %s", describeValue(v))
	}
	if s == "" {
		return "", errors.New("ident needs a non-empty name (PostgreSQL has no zero-length identifiers)")
	}
	if strings.ContainsRune(s, 0) {
		return "", fmt.Errorf("ident %q contains a NUL byte, which PostgreSQL identifiers cannot hold", s)
	}
	return pgname.Ident(s), nil
}

// describeValue names the kind of v as a user knows it from YAML, with its value.
func describeValue(v any) string {
	rv := reflect.ValueOf(v)
	switch {
	case v == nil:
		return "nil"
	case rv.Kind() == reflect.Map:
		return fmt.Sprintf("a map (%v)", v)
	case isList(rv):
		return fmt.Sprintf("a list (%v)", v)
	case rv.Kind() == reflect.Bool:
		return fmt.Sprintf("a boolean (%v)", v)
	case rv.CanInt() || rv.CanUint() || rv.CanFloat():
		return fmt.Sprintf("a number (%v)", v)
	}
	return fmt.Sprintf("%v", v)
}

// literalFunc is the template function literal. nil and a null var are SQL null; a list is a
// parenthesized list of literals, for "x in {{ literal (list "a" "b") }}";
// maps and nested lists have no SQL literal and are errors, as is a NUL byte,
// which PostgreSQL text cannot hold.
func literalFunc(v any) (string, error) {
	rv := reflect.ValueOf(v)
	switch {
	case v == nil:
		return "null", nil
	case rv.Kind() == reflect.Map:
		return "", fmt.Errorf("literal cannot quote a map (%v): give it a string, number, boolean or list", v)
	case isList(rv):
		if rv.Len() == 0 {
			return "", errors.New("literal of an empty list: SQL has no empty list \"()\" (guard it with {{ if }})")
		}
		parts := make([]string, rv.Len())
		for i := range parts {
			el := rv.Index(i).Interface()
			if el != nil && (isList(reflect.ValueOf(el)) || reflect.ValueOf(el).Kind() == reflect.Map) {
				return "", fmt.Errorf("literal of a list: element %d (%v) is not a string, number or boolean", i+1, el)
			}
			p, err := literalFunc(el)
			if err != nil {
				return "", err
			}
			parts[i] = p
		}
		return "(" + strings.Join(parts, ", ") + ")", nil
	}
	if s := fmt.Sprint(v); strings.ContainsRune(s, 0) {
		return "", fmt.Errorf("literal %q contains a NUL byte, which PostgreSQL text cannot hold", s)
	}
	return pgname.Literal(fmt.Sprint(v)), nil
}

// isList reports whether v is a slice or array other than []byte (which prints as text).
func isList(v reflect.Value) bool {
	k := v.Kind()
	return (k == reflect.Slice || k == reflect.Array) && v.Type().Elem().Kind() != reflect.Uint8
}

var (
	tmplErrRe = regexp.MustCompile(`^template: ([^:]+):(\d+)(?::(\d+))?: (.*)$`)
	execRe    = regexp.MustCompile(`^executing "([^"]*)" at <([^>]*)>: (.*)$`)
)

// templateError turns a text/template error into a diagnostic with file, line
// and column in characters. Errors raised inside a macro name the model that
// called it.
func templateError(err error, caller string, source sourceOf) error {
	msg := err.Error()
	// Wrapped template errors (from include) nest: use the innermost position.
	for {
		i := strings.LastIndex(msg, "template: ")
		if i <= 0 {
			break
		}
		msg = msg[i:]
	}
	m := tmplErrRe.FindStringSubmatch(msg)
	if m == nil {
		return diag.Diagnostic{Msg: strings.TrimPrefix(msg, "template: ")}
	}
	src, at := source(m[1])
	line, _ := strconv.Atoi(m[2])
	text := m[4]
	byteCol := -1
	switch u := unclosedRe.FindStringSubmatch(text); {
	case m[3] != "":
		byteCol, _ = strconv.Atoi(m[3])
	case text == "unexpected EOF":
		if l, c, kw, ok := unclosedBlock(src); ok {
			line, byteCol = l, c
			text = "this {{ " + kw + " }} has no {{ end }} (the file ends before it is closed)"
		}
	case u != nil:
		// Point at the "{{" left open rather than where the file ended.
		if u[1] != "" {
			line, _ = strconv.Atoi(u[1])
		}
		text, byteCol = "unclosed action (expected }})", unclosedCol(src, line)
	case text == "unexpected <define> in command":
		// A {{ define }} inside a block: the mistake is the block above
		// left open, which text/template does not name.
		byteCol = parseErrCol(src, line, text)
		if off := offsetOf(src, line, byteCol); off >= 0 {
			if l, c, kw, ok := unclosedBlock(src[:off]); ok {
				next := at.Place(m[1], src, line, -1).Line
				line, byteCol = l, c
				text = fmt.Sprintf("this {{ %s }} has no {{ end }} (the {{ define }} at line %d starts before it is closed)", kw, next)
			}
		}
	default:
		// A parse error has a line only: find its action on that line.
		byteCol = parseErrCol(src, line, text)
	}
	inMacro := ""
	if e := execRe.FindStringSubmatch(text); e != nil {
		text = e[3]
		if c := errorCallingRe.FindStringSubmatch(text); c != nil {
			text = calledFailed(c[1], e[2], c[2])
		} else {
			text = execFailed(e[2], text)
		}
		if e[1] != m[1] {
			inMacro = e[1]
		}
	}
	if hint := unquotedName(text, src, line); hint != "" {
		text += hint
	} else {
		text = explain(text)
	}
	// An error in the caller's own text (a hook in project.yaml) needs no "called from".
	if !strings.HasPrefix(m[1], "models/") && caller != "" && m[1] != caller || inMacro != "" {
		if caller != "" {
			text += " (in macro " + strconv.Quote(inMacro) + ", called from " + caller + ")"
			if inMacro == "" {
				text = strings.Replace(text, `(in macro "", `, "(", 1)
			}
		}
	}
	return diag.Diagnostic{Pos: at.Place(m[1], src, line, byteCol), Msg: text}
}

// macroCalled explains 'function "cents" not defined' when cents is a
// macro, called as dbt calls its macros, {{ cents("amount") }} or
// {{ cents "amount" }}: strata's macros are called with include.
func (s *Set) macroCalled(err error) error {
	d, ok := err.(diag.Diagnostic)
	if !ok {
		return err
	}
	name, _, _ := strings.Cut(strings.TrimPrefix(d.Msg, `function "`), `"`)
	file := s.files[name]
	if file == "" || !strings.HasPrefix(d.Msg, `function "`+name+`" not defined`) {
		return err
	}
	d.Msg = fmt.Sprintf(`function %q not defined: %s is a macro (%s), which is called with include, its arguments after its name: {{ include %q "a" "b" }}, or named ones in a dict: {{ include %q (dict "col" "amount") }} (docs/templates.md#macros)`, name, name, file, name, name)
	return d
}

// unquotedName explains 'function "orders" not defined' when, on line of
// src, orders is an argument of ref, source, var or include written
// without quotes ({{ ref orders }}): the name is text, which Go templates
// write in double quotes. "" otherwise.
func unquotedName(text, src string, line int) string {
	m := undefinedFuncRe.FindStringSubmatch(text)
	lines := strings.Split(src, "\n")
	if m == nil || line < 1 || line > len(lines) {
		return ""
	}
	re := regexp.MustCompile(`\b(ref|source|var|include)\s+(?:"[^"]*"\s+)?` + regexp.QuoteMeta(m[1]) + `\b`)
	f := re.FindStringSubmatch(lines[line-1])
	if f == nil {
		return ""
	}
	return fmt.Sprintf(" (a name given to %s is text, written in double quotes: %q)", f[1], m[1])
}

// pastEndRe is indexFunc's error of an index past a list's end.
var pastEndRe = regexp.MustCompile(`^index -?\d+ of a list of \d+: past its end$`)

var undefinedFuncRe = regexp.MustCompile(`^function "([^"]*)" not defined$`)

// wrongArgsRe is text/template's error for a call with too few or too many
// arguments.
var textFieldRe = regexp.MustCompile(`^can't evaluate field (\w+) in type string$`)

var wrongArgsRe = regexp.MustCompile(`^wrong number of args for (\w+): want (at least )?(\d+) got (\d+)$`)

// strataUsage is how strata's functions are called, for the error of a
// call with the wrong number of arguments (ref, source and include say it
// themselves).
var strataUsage = map[string]string{
	"var":            `expected var "name", or var "name" <default>`,
	"env_var":        `expected env_var "NAME", or env_var "NAME" "<default>"`,
	"literal":        `expected literal <value>; the result of another function goes in parentheses: literal (var "x")`,
	"ident":          `expected ident "name"; the result of another function goes in parentheses: ident (printf "revenue_%s" $r)`,
	"this":           "this takes no arguments",
	"is_incremental": "is_incremental takes no arguments: {{ if is_incremental }}",
	"run_started_at": "run_started_at takes no arguments",
	"target":         "target takes no arguments: its fields are read as target.name, target.schema",
}

// explain adds what was expected to text/template's terser parse errors.
func explain(msg string) string {
	if m := undefinedFuncRe.FindStringSubmatch(msg); m != nil {
		names := append([]string(nil), builtinNames...)
		for name := range placeholderFuncs() {
			names = append(names, name)
		}
		sort.Strings(names)
		if why := leftOutWhy(m[1]); why != "" {
			return msg + why
		}
		if m[1] == "required" {
			// Helm's, not sprig's.
			return msg + ` (required is Helm's, not sprig's: write {{ if not $x }}{{ fail "the message" }}{{ end }}, which stops the render with the message as it is; a var without a default is an error when it is not set)`
		}
		if m[1] == "model" || m[1] == "column_name" {
			// dbt's {{ model }} and {{ column_name }} of a {% test %}.
			return msg + fmt.Sprintf(" ({{ %s }} is dbt's, in a generic test: strata's custom test is a macro {{ define \"test_<name>\" }} in macros/, which reads it as {{ .%s }}; docs/tests.md#custom-generic-tests)", m[1], m[1])
		}
		return msg + " (expected one of strata's functions such as ref, source, var, include, or a sprig function)" + diag.DidYouMean(m[1], names)
	}
	if m := wrongArgsRe.FindStringSubmatch(msg); m != nil {
		want, _ := strconv.Atoi(m[3])
		got, _ := strconv.Atoi(m[4])
		if use, ok := strataUsage[m[1]]; ok {
			return msg + " (" + use + ")"
		}
		if got > want && m[2] == "" {
			return msg + fmt.Sprintf(" (to pass one function's result to another, put the inner call in parentheses: %s (var \"x\"), or pipe it: var \"x\" | %s)", m[1], m[1])
		}
		return msg
	}
	switch {
	case msg == `unexpected "(" in operand`:
		return msg + ` (strata's templates are Go templates, not Jinja: a function's arguments follow its name, separated by spaces, without parentheses, as in {{ ref "orders" }}, {{ var "days" 30 }}, {{ if is_incremental }}; docs/templates.md#from-jinja-to-go-templates)`
	case msg == `unexpected "," in operand`:
		return msg + ` (arguments are separated by spaces, not commas: {{ var "days" 30 }})`
	case strings.HasPrefix(msg, "malformed character constant: '"):
		return msg + ` (text is written in double quotes, "orders", or backquotes; single quotes are a Go character)`
	}
	const pastEnd = ` (a list of n items has indexes 0 to n-1: a macro given two arguments reads them as index . 0 and index . 1; len . is how many there are)`
	switch {
	case pastEndRe.MatchString(msg):
		return msg + pastEnd
	case strings.HasPrefix(msg, "incompatible types for comparison: "):
		return msg + ` (eq, ne, lt, le, gt and ge compare values of one kind: a var written 90 in YAML is a number, "90" is text; compare like with like, eq (var "x") 90, or as text, eq (print (var "x")) "90")`
	}
	if m := textFieldRe.FindStringSubmatch(msg); m != nil {
		// dbt's {{ this.schema }}, {{ ref('x').identifier }}.
		return msg + ` (text has no fields: this, ref and source give a relation as quoted text, "schema"."name", not an object with .schema and .identifier as in dbt; write the relation whole, {{ this }}, and the target's schema as target.schema)`
	}
	switch msg {
	case "index of nil pointer":
		return msg + ` (a key before the last is missing: index of a missing key is nothing, which has no keys; dig "a" "b" "default" (var "x") gives a default instead)`
	case "unexpected EOF":
		return "unexpected end of file (an {{ if }}, {{ range }}, {{ with }} or {{ define }} has no {{ end }})"
	}
	return msg
}

func firstWord(s string) string {
	if i := strings.IndexAny(s, " ."); i >= 0 {
		return s[:i]
	}
	return s
}
