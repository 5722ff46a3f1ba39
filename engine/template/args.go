package template

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/template/parse"

	"strata/engine/diag"
)

// A macro declares no parameters: it reads what include gave it as dot
// (docs/templates.md#macros), one argument as . itself, several as index . 0,
// index . 1, named ones as .alias of a dict. macroArgs is what a macro's
// tree reads of its dot, found without running it, so that a call giving it
// more or fewer arguments than it reads is an error at the call, rather
// than a Go list printed into the SQL ([a b]) or nothing.
type macroArgs struct {
	// known is false when the macro uses its dot in a way this does not
	// follow (range ., len ., passing . to a function or a macro): its
	// calls are not checked.
	known bool
	// whole: the macro prints . itself; wholeAlways: on every render (not
	// only inside an if, a range or a with, or past the first argument of
	// and/or).
	whole, wholeAlways bool
	// indexes: the highest N of index . N read, and the highest read on every
	// render (-1: none).
	maxIndex, needIndex int
	// keys: the keys of a dict read as .key on every render (required), and
	// the others read (.key sometimes, index . "key" always optional).
	required, optional map[string]bool
}

// analyzeArgs walks tree, the body of a macro, for what it reads of its dot.
func analyzeArgs(tree *parse.Tree) macroArgs {
	a := macroArgs{known: true, maxIndex: -1, needIndex: -1, required: map[string]bool{}, optional: map[string]bool{}}
	if tree == nil || tree.Root == nil {
		a.known = false
		return a
	}
	a.list(tree.Root, true, true)
	if !a.known {
		return a
	}
	for k := range a.required {
		delete(a.optional, k)
	}
	kinds := 0
	if a.whole {
		kinds++
	}
	if a.maxIndex >= 0 {
		kinds++
	}
	if len(a.required)+len(a.optional) > 0 {
		kinds++
	}
	if kinds > 1 {
		a.known = false // . printed and indexed: not a shape to check
	}
	return a
}

// list walks a list of nodes; dot says whether . is the macro's argument
// there (not inside a range or with, which rebind it), always whether the
// nodes run on every render.
func (a *macroArgs) list(l *parse.ListNode, dot, always bool) {
	if l == nil {
		return
	}
	for _, n := range l.Nodes {
		a.node(n, dot, always)
	}
}

func (a *macroArgs) node(n parse.Node, dot, always bool) {
	switch n := n.(type) {
	case *parse.ActionNode:
		// {{ . }} (or {{ $ }}) prints the argument whole.
		if p := n.Pipe; p != nil && len(p.Decl) == 0 && len(p.Cmds) == 1 && len(p.Cmds[0].Args) == 1 {
			if isArg(p.Cmds[0].Args[0], dot) {
				a.whole = true
				a.wholeAlways = a.wholeAlways || always
				return
			}
		}
		a.pipe(n.Pipe, dot, always)
	case *parse.IfNode:
		a.pipe(n.Pipe, dot, always)
		a.list(n.List, dot, false)
		a.list(n.ElseList, dot, false)
	case *parse.RangeNode:
		a.pipe(n.Pipe, dot, always)
		a.list(n.List, false, false)
		a.list(n.ElseList, dot, false)
	case *parse.WithNode:
		a.pipe(n.Pipe, dot, always)
		a.list(n.List, false, false)
		a.list(n.ElseList, dot, false)
	case *parse.TemplateNode:
		a.pipe(n.Pipe, dot, always)
	}
}

// isArg says whether n is the macro's argument itself: . where dot is it,
// or $ anywhere.
func isArg(n parse.Node, dot bool) bool {
	switch n := n.(type) {
	case *parse.DotNode:
		return dot
	case *parse.VariableNode:
		return len(n.Ident) == 1 && n.Ident[0] == "$"
	}
	return false
}

func (a *macroArgs) pipe(p *parse.PipeNode, dot, always bool) {
	if p == nil {
		return
	}
	for _, c := range p.Cmds {
		a.command(c, dot, always)
	}
}

func (a *macroArgs) command(c *parse.CommandNode, dot, always bool) {
	if len(c.Args) == 0 {
		return
	}
	// index . 0 and index . "key" read one argument, or one key.
	if id, ok := c.Args[0].(*parse.IdentifierNode); ok && id.Ident == "index" && len(c.Args) >= 3 && isArg(c.Args[1], dot) {
		switch k := c.Args[2].(type) {
		case *parse.NumberNode:
			if !k.IsInt || k.Int64 < 0 {
				a.known = false
				return
			}
			a.maxIndex = max(a.maxIndex, int(k.Int64))
			if always {
				a.needIndex = max(a.needIndex, int(k.Int64))
			}
		case *parse.StringNode:
			a.optional[k.Text] = true
		default:
			a.known = false
			return
		}
		for _, arg := range c.Args[3:] {
			a.arg(arg, dot, always)
		}
		return
	}
	// The arguments of and and or after the first are evaluated only when
	// the first does not decide.
	andOr := false
	if id, ok := c.Args[0].(*parse.IdentifierNode); ok && (id.Ident == "and" || id.Ident == "or") {
		andOr = true
	}
	for i, arg := range c.Args {
		a.arg(arg, dot, always && !(andOr && i > 1))
	}
}

func (a *macroArgs) arg(n parse.Node, dot, always bool) {
	switch n := n.(type) {
	case *parse.DotNode:
		if dot {
			a.known = false // . given to a function or a macro: not followed
		}
	case *parse.FieldNode:
		if dot {
			a.key(n.Ident[0], always)
		}
	case *parse.VariableNode:
		if n.Ident[0] == "$" {
			if len(n.Ident) == 1 {
				a.known = false
				return
			}
			a.key(n.Ident[1], always)
		}
	case *parse.ChainNode:
		a.arg(n.Node, dot, always)
	case *parse.PipeNode:
		a.pipe(n, dot, always)
	}
}

func (a *macroArgs) key(k string, always bool) {
	if always {
		a.required[k] = true
	} else {
		a.optional[k] = true
	}
}

// argsOf is what the macro tree reads of its arguments, worked out once
// per tree.
func (s *Set) argsOf(tree *parse.Tree) macroArgs {
	if v, ok := s.args.Load(tree); ok {
		return v.(macroArgs)
	}
	a := analyzeArgs(tree)
	s.args.Store(tree, a)
	return a
}

// checkArgs says, as an error, how a call of macro name (defined at def)
// with args does not give what the macro reads; nil when it does, or when
// what it reads is not known.
func checkMacroArgs(name, def string, a macroArgs, args []any) error {
	if !a.known {
		return nil
	}
	// strata's own call of a custom generic test, with the test's dict:
	// the test's arguments are checked where it is declared.
	if strings.HasPrefix(name, "test_") && len(args) == 1 && isMap(args[0]) {
		return nil
	}
	takes, write := a.describe(name)
	fail := func(given string) error {
		return fmt.Errorf("macro %q (%s) takes %s, and is given %s (write %s; docs/templates.md#macros)", name, def, takes, given, write)
	}
	switch {
	case len(a.required)+len(a.optional) > 0:
		if len(args) != 1 || !isMap(args[0]) {
			return fail(givenArgs(args))
		}
		m := reflect.ValueOf(args[0])
		have := map[string]bool{}
		for _, k := range m.MapKeys() {
			have[fmt.Sprint(k.Interface())] = true
		}
		var missing []string
		for k := range a.required {
			if !have[k] {
				missing = append(missing, k)
			}
		}
		read := append(sortedSet(a.required), sortedSet(a.optional)...)
		for _, k := range slices.Sorted(maps.Keys(have)) {
			if !a.required[k] && !a.optional[k] {
				return fail(fmt.Sprintf("the key %q, which it does not read%s", k, diag.DidYouMean(k, missing)+didYouMeanIfNone(k, missing, read)))
			}
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			return fail(fmt.Sprintf("a dict without %s (it has %s)", quotedList(missing, "and"), quotedList(slices.Sorted(maps.Keys(have)), "and")))
		}
	case a.whole:
		if len(args) > 1 || len(args) == 0 && a.wholeAlways {
			return fail(givenArgs(args))
		}
	case a.maxIndex >= 0:
		n := len(args)
		if n == 1 {
			if v := reflect.ValueOf(args[0]); args[0] != nil && isList(v) {
				n = v.Len()
			} else {
				return fail(givenArgs(args) + ", which a macro given one argument has as . itself, not as index . 0 (to give it a list of one, write (list ...))")
			}
		}
		if n > a.maxIndex+1 || n < a.needIndex+1 {
			return fail(givenArgs(args))
		}
	default:
		// {{ include "m" . }} in a model passes its dot, nothing: a
		// habit of Go's {{ template "m" . }}, harmless.
		if len(args) > 1 || len(args) == 1 && args[0] != nil {
			return fail(givenArgs(args))
		}
	}
	return nil
}

// didYouMeanIfNone is the did-you-mean of k among all the keys read, when
// none among the missing ones came close.
func didYouMeanIfNone(k string, missing, read []string) string {
	if diag.DidYouMean(k, missing) != "" {
		return ""
	}
	return diag.DidYouMean(k, read)
}

// describe says what the macro takes and how a call gives it.
func (a macroArgs) describe(name string) (takes, write string) {
	q := strconv.Quote(name)
	switch {
	case len(a.required)+len(a.optional) > 0:
		var pairs []string
		for _, k := range sortedSet(a.required) {
			pairs = append(pairs, strconv.Quote(k)+" ...")
		}
		takes = "one dict"
		if len(a.required) > 0 {
			takes += " with the keys " + dotList(sortedSet(a.required))
		}
		if len(a.optional) > 0 {
			if len(a.required) > 0 {
				takes += ", and optionally "
			} else {
				takes += " with the optional keys "
			}
			takes += dotList(sortedSet(a.optional))
		}
		return takes, fmt.Sprintf("include %s (dict %s)", q, strings.Join(pairs, " "))
	case a.whole:
		if a.wholeAlways {
			return "one argument, read as .", fmt.Sprintf(`include %s <value>, one value; a macro that takes several reads them as index . 0, index . 1`, q)
		}
		return "at most one argument, read as .", fmt.Sprintf(`include %s <value>, one value or none; a macro that takes several reads them as index . 0, index . 1`, q)
	case a.maxIndex >= 0:
		var reads, vals []string
		for i := 0; i <= a.maxIndex; i++ {
			reads = append(reads, fmt.Sprintf("index . %d", i))
			vals = append(vals, fmt.Sprintf("<%d>", i))
		}
		count := fmt.Sprintf("%d arguments", a.maxIndex+1)
		if a.needIndex < a.maxIndex {
			count = fmt.Sprintf("%d to %d arguments", a.needIndex+1, a.maxIndex+1)
		}
		return fmt.Sprintf("%s, read as %s", count, joinAnd(reads)), fmt.Sprintf("include %s %s", q, strings.Join(vals, " "))
	}
	return "no arguments (it never reads .)", "include " + q
}

// givenArgs describes the arguments of a call.
func givenArgs(args []any) string {
	if len(args) == 0 {
		return "none"
	}
	if len(args) == 1 {
		return "one: " + shortValue(args[0])
	}
	const shown = 4
	var parts []string
	for i, v := range args {
		if i == shown {
			parts = append(parts, "...")
			break
		}
		parts = append(parts, shortValue(v))
	}
	return fmt.Sprintf("%d: %s", len(args), strings.Join(parts, ", "))
}

// shortValue shows one argument: text quoted, a list or dict as such.
func shortValue(v any) string {
	rv := reflect.ValueOf(v)
	var s string
	switch {
	case v == nil:
		return "nothing (nil)"
	case rv.Kind() == reflect.String:
		s = strconv.Quote(rv.String())
	case rv.Kind() == reflect.Map:
		s = fmt.Sprintf("a dict (%v)", v)
	case isList(rv):
		s = fmt.Sprintf("a list of %d (%v)", rv.Len(), v)
	default:
		s = fmt.Sprint(v)
	}
	if r := []rune(s); len(r) > 60 {
		s = string(r[:60]) + "..."
	}
	return s
}

func isMap(v any) bool {
	rv := reflect.ValueOf(v)
	return v != nil && rv.Kind() == reflect.Map && rv.Type().Key().Kind() == reflect.String
}

func sortedSet(m map[string]bool) []string { return slices.Sorted(maps.Keys(m)) }

// dotList writes keys as .a, .b and .c.
func dotList(keys []string) string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = "." + k
	}
	return joinAnd(out)
}

func quotedList(keys []string, and string) string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = strconv.Quote(k)
	}
	if len(out) == 0 {
		return "no key"
	}
	return joinWith(out, and)
}

func joinAnd(items []string) string { return joinWith(items, "and") }

func joinWith(items []string, and string) string {
	if len(items) <= 1 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " " + and + " " + items[len(items)-1]
}
