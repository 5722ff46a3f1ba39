package template

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// errorCallingRe is text/template's error of a function that failed: its
// name and its own error.
var errorCallingRe = regexp.MustCompile(`^(?s)error calling (\S+): (.*)$`)

// wrongTypeRe is text/template's error for an argument of the wrong Go type.
var wrongTypeRe = regexp.MustCompile(`^wrong type for value; expected (.+); got (.+)$`)

// nilDataRe is text/template's error for .key read of nothing.
var nilDataRe = regexp.MustCompile(`^nil data; no entry for key "([^"]*)"$`)

// calledFailed puts into strata's words the error err of function fn,
// called as cmd (the action text/template names): which function failed,
// and what to do. strata's own functions (ref, var, include, ...) word
// their errors themselves, sprig's fail is the template's own message,
// index's are explained by explain(), and an error that names its function
// first is strata's already: those are kept as they are.
func calledFailed(fn, cmd, err string) string {
	// An error that starts with the function's name is strata's own
	// (limits.go's "repeat 1000 of a text ...", ident's, literal's).
	if fn == "fail" || fn == "index" || slices.Contains(strataFuncs, fn) || strings.HasPrefix(err, fn+" ") || strings.HasPrefix(err, fn+":") || strings.HasPrefix(err, fn+"'s ") {
		return err
	}
	if explain(err) != err {
		return err // explain() words it
	}
	call := shortCall(cmd)
	switch {
	case strings.HasSuffix(err, "integer divide by zero"):
		return fmt.Sprintf("%s divides by zero (test the divisor first, {{ if ne $d 0 }} ... {{ end }}, or divide in SQL, where x / nullif(y, 0) is null)", call)
	case fn == "slice" && strings.Contains(err, "out of"):
		return fmt.Sprintf("%s: an index is past the end of the list (slice cuts a list of n items with indexes from 0 to n, the first no greater than the second; len gives n)", call)
	case strings.HasPrefix(err, "reflect") || strings.HasPrefix(err, "runtime error"):
		// A panic inside the function, in Go's words: the function
		// was given a value of a kind it cannot work on, often
		// nothing (a missing key or var).
		return fmt.Sprintf("%s failed: %s cannot work on the value it was given (often nothing: a missing key, a null var; or a list or dict where it takes text); Go said %q", call, fn, err)
	}
	return fmt.Sprintf("%s failed: %s", call, err)
}

// shortCall is cmd, a call as text/template prints it, cut to be read in a
// message.
func shortCall(cmd string) string {
	if r := []rune(cmd); len(r) > 60 {
		return string(r[:60]) + "..."
	}
	return cmd
}

// goTypeWords names a Go type of text/template's errors as a template
// writer knows it.
func goTypeWords(t string) string {
	switch {
	case t == "string":
		return "text"
	case t == "bool":
		return "true or false"
	case strings.HasPrefix(t, "int") || strings.HasPrefix(t, "uint") || strings.HasPrefix(t, "float"):
		return "a number"
	case strings.HasPrefix(t, "[]") || strings.HasSuffix(t, "List"):
		return "a list"
	case strings.HasPrefix(t, "map[") || strings.HasSuffix(t, "Map"):
		return "a dict"
	case t == "<nil>" || t == "nil":
		return "nothing (nil)"
	}
	return t
}

// execFailed puts into strata's words text/template's error msg of
// evaluating expr, other than a function's.
func execFailed(expr, msg string) string {
	if m := nilDataRe.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("%s reads the key %q of nothing (nil): in a model or a hook, . is nothing, and in a macro it is what include gave it; a key before it that is missing is nothing too (read a path that may be missing with dig \"a\" \"b\" \"<default>\" <map>; docs/templates.md#vars)", shortCall(expr), m[1])
	}
	// text/template names the argument it evaluated last, which is not
	// always the one of the wrong kind: say the kinds only.
	if m := wrongTypeRe.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("an argument is %s, where the function takes %s (a function's result goes in parentheses, (var \"x\"); docs/templates.md#go-templates-in-five-minutes)", goTypeWords(m[2]), goTypeWords(m[1]))
	}
	if m := expectedFoundRe.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("the argument %s is not %s, which the function takes there (text is written in double quotes: \"%s\")", m[2], goTypeWords(m[1]), strings.Trim(m[2], `"`))
	}
	if m := cantHandleRe.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("the argument %s is not %s, which the function takes there", m[1], goTypeWords(m[2]))
	}
	if m := fieldInTypeRe.FindStringSubmatch(msg); m != nil && m[2] != "string" {
		return fmt.Sprintf("%s reads the key %q of a dict, and the value before it is %s, which has no keys (a list's items are read with index <list> 0; docs/templates.md#vars)", shortCall(expr), m[1], goTypeWords(m[2]))
	}
	return msg
}

var (
	expectedFoundRe = regexp.MustCompile(`^expected (\S+); found (.+)$`)
	cantHandleRe    = regexp.MustCompile(`^can't handle (.+) for arg of type (.+)$`)
	fieldInTypeRe   = regexp.MustCompile(`^can't evaluate field (\w+) in type (.+)$`)
)
