package template

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"

	"strata/engine/diag"
)

// missingKeyRe is text/template's error for a key a map does not have, read
// as .key (missingkey=error): group 1 is what comes before its message
// (the position and the executing part), 2 the template, 3 the expression,
// 4 the key. The innermost error of a chain of includes is the last.
var missingKeyRe = regexp.MustCompile(`^(?s)(.*template: [^\n]*?: executing "([^"]*)" at <([^>]*)>: )map has no entry for key "([^"]*)"$`)

// explainMissingKey rewrites err, the error of running tree with dot, when
// it is text/template's `map has no entry for key "k"` raised in tree
// itself, to name the key, the keys the map has (a few, sorted) and the
// nearest one. The map is found by running the expression before the key
// again with the same dot and functions (.at's is ., (var "x").a.b's is
// (var "x").a); where that cannot be done (the expression reads a variable
// other than $, or a dot that range or with has changed), the message
// still says what to write.
func (r *renderer) explainMissingKey(err error, tree *parse.Tree, dot any) error {
	if err == nil || tree == nil {
		return err
	}
	m := missingKeyRe.FindStringSubmatch(err.Error())
	if m == nil || m[2] != tree.Name {
		return r.placeChainError(err, tree)
	}
	expr, key := m[3], m[4]
	off := r.errorOffset(m[1])
	recv, at, found, runnable := receiverOf(tree, off, key)
	prefix := m[1]
	if !found {
		return errors.New(prefix + fmt.Sprintf("%s: the map has no key %q (read a key that may be missing with index <the map> %q, which is empty when it is; docs/templates.md#vars)", expr, key, key))
	}
	if at >= 0 && at != off {
		// text/template places a chain's error at what it evaluated last,
		// the "x" of (var "x").a: place it at the key instead.
		prefix = r.movePosition(prefix, at)
	}
	name := recv
	if recv == "." && runnable && tree.Name != r.tmpl.Path {
		name = ". (the dict the macro was given)"
	}
	have := ""
	if keys, ok := r.keysOf(recv, dot); runnable && ok && !slices.Contains(keys, key) {
		have = fmt.Sprintf(": its keys are %s%s", someKeys(keys), diag.DidYouMean(key, keys))
	}
	return errors.New(prefix + fmt.Sprintf("%s.%s: the map %s has no key %q%s (read a key that may be missing with index %s %q, which is empty when it is; docs/templates.md#vars)", strings.TrimSuffix(recv, "."), key, name, key, have, recv, key))
}

// chainErrorRe is text/template's error of a key read of nothing, or of a
// value that has no keys: group 1 is what comes before the expression it
// names, 2 the template, 3 the expression, 4 what follows, 5 or 6 the key.
var chainErrorRe = regexp.MustCompile(`^(?s)(.*template: [^\n]*?: executing "([^"]*)" at <)([^>]*)(>: (?:nil data; no entry for key "([^"]*)"|can't evaluate field (\w+) in type .+))$`)

// placeChainError places err, text/template's error of a key of a chain
// ((index $m "a").b, (var "x").y) read of nothing or of a value without
// keys, at the key, naming the chain: text/template names and places what
// it evaluated last inside it ("a").
func (r *renderer) placeChainError(err error, tree *parse.Tree) error {
	m := chainErrorRe.FindStringSubmatch(err.Error())
	if m == nil || m[2] != tree.Name {
		return err
	}
	key := m[5] + m[6]
	off := r.errorOffset(m[1])
	recv, at, found, _ := receiverOf(tree, off, key)
	if !found || at < 0 || at == off {
		return err
	}
	return errors.New(r.movePosition(m[1], at) + strings.TrimSuffix(recv, ".") + "." + key + m[4])
}

// movePosition rewrites the position of the innermost text/template error
// in prefix to byte offset off of its template's text.
func (r *renderer) movePosition(prefix string, off int) string {
	i := strings.LastIndex(prefix, "template: ")
	if i < 0 {
		return prefix
	}
	m := tmplErrRe.FindStringSubmatch(prefix[i:] + "x")
	if m == nil || m[3] == "" {
		return prefix
	}
	text, _ := r.tmpl.source(m[1])
	if off > len(text) {
		return prefix
	}
	line := 1 + strings.Count(text[:off], "\n")
	col := off - (strings.LastIndexByte(text[:off], '\n') + 1)
	old := fmt.Sprintf("template: %s:%s:%s: ", m[1], m[2], m[3])
	if !strings.HasPrefix(prefix[i:], old) {
		return prefix
	}
	return prefix[:i] + fmt.Sprintf("template: %s:%d:%d: ", m[1], line, col) + prefix[i+len(old):]
}

// errorOffset is the byte offset, in its template's text, of the position
// that the start of a text/template error gives ("template: file:3:14: ").
func (r *renderer) errorOffset(prefix string) int {
	i := strings.LastIndex(prefix, "template: ")
	if i < 0 {
		return -1
	}
	m := tmplErrRe.FindStringSubmatch(prefix[i:] + "x")
	if m == nil || m[3] == "" {
		return -1
	}
	line, _ := strconv.Atoi(m[2])
	col, _ := strconv.Atoi(m[3])
	text, _ := r.tmpl.source(m[1])
	return offsetOf(text, line, col)
}

// receiverOf finds the expression at offset off of tree that read key (a
// field .a.key, a variable $.a.key, a chain (var "x").key or target.key,
// whose error text/template places at what it evaluated last, inside it)
// and returns the expression before the key, and where the key is
// (-1: unknown); runnable=false when that expression cannot be run on its
// own: it reads a variable other than $, or a dot that a range or a with
// has changed.
func receiverOf(tree *parse.Tree, off int, key string) (recv string, at int, found, runnable bool) {
	at = -1
	if off < 0 || tree.Root == nil {
		return "", -1, false, false
	}
	before := func(fields []string) (string, bool) {
		i := slices.Index(fields, key)
		if i < 0 {
			return "", false
		}
		return strings.Join(fields[:i], "."), true
	}
	var visit func(n parse.Node, rebound bool)
	visit = func(n parse.Node, rebound bool) {
		if found || n == nil {
			return
		}
		switch n := n.(type) {
		case *parse.ListNode:
			if n == nil {
				return
			}
			for _, c := range n.Nodes {
				visit(c, rebound)
			}
		case *parse.ActionNode:
			visit(n.Pipe, rebound)
		case *parse.IfNode:
			visit(n.Pipe, rebound)
			visit(n.List, rebound)
			visit(n.ElseList, rebound)
		case *parse.RangeNode:
			visit(n.Pipe, rebound)
			visit(n.List, true)
			visit(n.ElseList, rebound)
		case *parse.WithNode:
			visit(n.Pipe, rebound)
			visit(n.List, true)
			visit(n.ElseList, rebound)
		case *parse.TemplateNode:
			visit(n.Pipe, rebound)
		case *parse.PipeNode:
			if n == nil {
				return
			}
			for _, c := range n.Cmds {
				visit(c, rebound)
			}
		case *parse.CommandNode:
			for _, a := range n.Args {
				visit(a, rebound)
			}
		case *parse.FieldNode:
			if int(n.Pos) != off {
				return
			}
			if b, ok := before(n.Ident); ok {
				recv, found, runnable = "."+b, true, !rebound
			}
		case *parse.VariableNode:
			if int(n.Pos) != off {
				return
			}
			if b, ok := before(n.Ident[1:]); ok {
				recv, found, runnable = n.Ident[0], true, n.Ident[0] == "$"
				if b != "" {
					recv += "." + b
				}
			}
		case *parse.ChainNode:
			b, ok := before(n.Field)
			if ok && (int(n.Pos) == off || holdsOffset(n.Node, off)) {
				recv = n.Node.String()
				if _, pipe := n.Node.(*parse.PipeNode); pipe {
					recv = "(" + recv + ")"
				}
				if b != "" {
					recv += "." + b
				}
				found, runnable = true, !(rebound && readsDot(n.Node))
				at = int(n.Pos)
				return
			}
			visit(n.Node, rebound)
		}
	}
	visit(tree.Root, false)
	return recv, at, found, runnable
}

// holdsOffset says whether a node under n (n too) is at offset off.
func holdsOffset(n parse.Node, off int) bool {
	if n == nil {
		return false
	}
	if int(n.Position()) == off {
		return true
	}
	switch n := n.(type) {
	case *parse.PipeNode:
		if n == nil {
			return false
		}
		for _, c := range n.Cmds {
			if holdsOffset(c, off) {
				return true
			}
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			if holdsOffset(a, off) {
				return true
			}
		}
	case *parse.ChainNode:
		return holdsOffset(n.Node, off)
	}
	return false
}

// readsDot says whether the expression n reads . (not $).
func readsDot(n parse.Node) bool {
	s := n.String()
	return strings.Contains(s, ".") && (strings.HasPrefix(s, ".") || strings.Contains(s, " .") || strings.Contains(s, "(."))
}

// keysOf runs the expression recv with dot and returns the keys of the
// map it gives, sorted; found=false when it gives no map or cannot run.
func (r *renderer) keysOf(recv string, dot any) (keys []string, found bool) {
	var got any
	fm := template.FuncMap{"strata_keys_of": func(v any) string { got = v; return "" }}
	t, err := template.New("keys").Funcs(hermeticSprig()).Funcs(r.funcs()).Funcs(fm).Option("missingkey=error").Parse("{{ strata_keys_of " + recv + " }}")
	if err != nil {
		return nil, false
	}
	if err := t.Execute(discard{}, dot); err != nil {
		return nil, false
	}
	v := reflect.ValueOf(got)
	if got == nil || v.Kind() != reflect.Map {
		return nil, false
	}
	for _, k := range v.MapKeys() {
		keys = append(keys, fmt.Sprint(k.Interface()))
	}
	slices.Sort(keys)
	return keys, true
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// someKeys lists keys, a few of them, quoted.
func someKeys(keys []string) string {
	const shown = 8
	if len(keys) == 0 {
		return "no keys"
	}
	q := make([]string, 0, shown)
	for i, k := range keys {
		if i == shown {
			return strings.Join(q, ", ") + fmt.Sprintf(", ... (%d in all)", len(keys))
		}
		q = append(q, strconv.Quote(k))
	}
	return joinAnd(q)
}
