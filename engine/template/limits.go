package template

import (
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
)

// A template is a program, and a mistake in one can ask for more than the
// machine has: a macro that includes another twice, which includes another
// twice, and so on, doubles its text at each level (thirty levels make
// gigabytes), and sprig's repeat, until and seq allocate whatever count they
// are given. These limits make such a render fail, at the place it went
// wrong, long before it eats the machine; no real model comes near them.
var (
	// maxOutput bounds the text one render holds at once (the node's
	// output and the output of the macros being included into it), and
	// every text a function returns. A var so that tests can lower it.
	maxOutput = 64 << 20
	// maxItems bounds the lists functions return (until 1000000 is the
	// largest loop): a list of refs to the same text costs little memory,
	// but printing or joining it does not.
	maxItems = 1 << 20
	// maxNesting bounds how deeply lists and dicts nest, when strata
	// measures a value: a dict set into itself nests forever.
	maxNesting = 100
)

// mib says maxOutput (or n bytes) in MiB for messages.
func mib(n int) string {
	if n%(1<<20) == 0 {
		return strconv.Itoa(n>>20) + " MiB"
	}
	return strconv.Itoa(n) + " bytes"
}

// limitHint is what the error of a render too large says of its cause.
const limitHint = "strata's limit, which no real model comes near: a macro that includes another more than once, at every level, doubles its text at each; docs/templates.md#limits"

// tooLong is the error of function call what, whose text would be longer
// than maxOutput.
func tooLong(what string) error {
	return fmt.Errorf("%s would make a text longer than %s (strata's limit on a text; docs/templates.md#limits)", what, mib(maxOutput))
}

// tooMany is the error of function name, whose list would have n items.
func tooMany(name string, n uint64) error {
	return fmt.Errorf("%s would make a list of %d items, more than %d (strata's limit on a list; docs/templates.md#limits)", name, n, maxItems)
}

// checkText is s, or an error when s is longer than maxOutput.
func checkText(name, s string) (string, error) {
	if len(s) > maxOutput {
		return "", tooLong(name)
	}
	return s, nil
}

// checkResult is the error of function name's result v, when v is text
// longer than maxOutput or a list of more than maxItems.
func checkResult(name string, v reflect.Value) error {
	for v.Kind() == reflect.Interface && !v.IsNil() {
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.String:
		if v.Len() > maxOutput {
			return tooLong(name)
		}
	case reflect.Slice, reflect.Array:
		if v.Len() > maxItems {
			return tooMany(name, uint64(v.Len()))
		}
	}
	return nil
}

// textSize is about how long the text of v is (what its strings hold, in
// lists and dicts as deep as they go), counted until it passes max: the
// size of what printing, joining or encoding v makes. An error when v
// nests more than maxNesting deep.
func textSize(v reflect.Value, max, depth int) (int, error) {
	if depth > maxNesting {
		return 0, fmt.Errorf("a value nested more than %d levels deep (does a dict or list hold itself? set $d \"k\" $d makes one that never ends)", maxNesting)
	}
	for v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return 0, nil
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.String:
		return v.Len(), nil
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return v.Len(), nil
		}
		n := v.Len()
		for i := 0; i < v.Len() && n <= max; i++ {
			m, err := textSize(v.Index(i), max, depth+1)
			if err != nil {
				return 0, err
			}
			n += m
		}
		return n, nil
	case reflect.Map:
		n := v.Len()
		it := v.MapRange()
		for it.Next() && n <= max {
			k, err := textSize(it.Key(), max, depth+1)
			if err != nil {
				return 0, err
			}
			m, err := textSize(it.Value(), max, depth+1)
			if err != nil {
				return 0, err
			}
			n += k + m
		}
		return n, nil
	}
	return 1, nil
}

// checkArgs is the error of a call of function name with args whose text
// together passes maxOutput: printing or encoding them would.
func checkArgs(name string, args ...any) error {
	n := 0
	for _, a := range args {
		switch a := a.(type) {
		case string:
			n += len(a)
		case int, int64, float64, bool, nil:
			n++
		default:
			m, err := textSize(reflect.ValueOf(a), maxOutput-n, 0)
			if err != nil {
				return fmt.Errorf("%s of %w", name, err)
			}
			n += m
		}
		if n > maxOutput {
			return tooLong(name)
		}
	}
	return nil
}

// bounded is fn, function name of a template, made to fail rather than
// return text longer than maxOutput or a list longer than maxItems, or to
// be given values whose text is. Functions whose result cannot grow are
// returned as they are. Common signatures are wrapped without reflection,
// which is slower.
func bounded(name string, fn any) any {
	switch f := fn.(type) {
	case func(string) string:
		return func(s string) (string, error) { return checkText(name, f(s)) }
	case func(string, string) string:
		return func(a, b string) (string, error) { return checkText(name, f(a, b)) }
	case func(any) string:
		return func(v any) (string, error) {
			if err := checkArgs(name, v); err != nil {
				return "", err
			}
			return checkText(name, f(v))
		}
	case func(...any) string:
		return func(args ...any) (string, error) {
			if err := checkArgs(name, args...); err != nil {
				return "", err
			}
			return checkText(name, f(args...))
		}
	case func(...any) []any:
		return func(args ...any) ([]any, error) {
			out := f(args...)
			if len(out) > maxItems {
				return nil, tooMany(name, uint64(len(out)))
			}
			return out, nil
		}
	case func(any, ...any) any:
		return func(a any, args ...any) (any, error) {
			out := f(a, args...)
			return out, checkResult(name, reflect.ValueOf(out))
		}
	case func(...any) any:
		return func(args ...any) (any, error) {
			out := f(args...)
			return out, checkResult(name, reflect.ValueOf(out))
		}
	case func(any) any:
		return func(v any) (any, error) {
			out := f(v)
			return out, checkResult(name, reflect.ValueOf(out))
		}
	case func(any, any, bool) any:
		return func(a, b any, c bool) (any, error) {
			out := f(a, b, c)
			return out, checkResult(name, reflect.ValueOf(out))
		}
	case func(any) []any:
		return func(v any) ([]any, error) {
			out := f(v)
			if len(out) > maxItems {
				return nil, tooMany(name, uint64(len(out)))
			}
			return out, nil
		}
	case func(any, any) []any:
		return func(a, b any) ([]any, error) {
			out := f(a, b)
			if len(out) > maxItems {
				return nil, tooMany(name, uint64(len(out)))
			}
			return out, nil
		}
	case func(string, string) []string:
		return func(a, b string) ([]string, error) {
			out := f(a, b)
			if len(out) > maxItems {
				return nil, tooMany(name, uint64(len(out)))
			}
			return out, nil
		}
	}
	v := reflect.ValueOf(fn)
	t := v.Type()
	if t.Kind() != reflect.Func || t.NumOut() == 0 {
		return fn
	}
	switch t.Out(0).Kind() {
	case reflect.String, reflect.Slice, reflect.Array, reflect.Interface:
	default:
		return fn
	}
	// text/template turns a panic in a function into the error of its
	// call, which is how a function whose type has no error fails here.
	return reflect.MakeFunc(t, func(args []reflect.Value) []reflect.Value {
		var out []reflect.Value
		if t.IsVariadic() {
			out = v.CallSlice(args)
		} else {
			out = v.Call(args)
		}
		if err := checkResult(name, out[0]); err != nil {
			panic(err)
		}
		return out
	}).Interface()
}

// boundedFuncs are the functions whose arguments alone say that their
// result would be too large, checked before it is made: the ones that
// repeat their text a given number of times, make a list of a given
// length, or put text in at every place of another.
func boundedFuncs(fm template.FuncMap) {
	fm["repeat"] = func(count int, s string) (string, error) {
		if count < 0 {
			return "", fmt.Errorf("repeat needs a count of 0 or more, got %d", count)
		}
		if len(s) > 0 && count > maxOutput/len(s) {
			return "", tooLong(fmt.Sprintf("repeat %d of a text of %d bytes", count, len(s)))
		}
		return strings.Repeat(s, count), nil
	}
	indent := func(name string, pre string) func(int, string) (string, error) {
		return func(spaces int, s string) (string, error) {
			if spaces < 0 {
				spaces = 0 // as sprig's: strings.Repeat would panic
			}
			lines := 1 + strings.Count(s, "\n")
			if spaces > maxOutput || lines*spaces > maxOutput-len(s) {
				return "", tooLong(fmt.Sprintf("%s %d of %d lines", name, spaces, lines))
			}
			pad := strings.Repeat(" ", spaces)
			return pre + pad + strings.ReplaceAll(s, "\n", "\n"+pad), nil
		}
	}
	fm["indent"] = indent("indent", "")
	fm["nindent"] = indent("nindent", "\n")
	fm["until"] = func(count int) ([]int, error) {
		step := 1
		if count < 0 {
			step = -1
		}
		return untilStep("until", 0, count, step)
	}
	fm["untilStep"] = func(start, stop, step int) ([]int, error) { return untilStep("untilStep", start, stop, step) }
	fm["seq"] = seq
	fm["replace"] = func(old, new, s string) (string, error) {
		if len(new) > len(old) {
			n := strings.Count(s, old)
			if grow := len(new) - len(old); n > (maxOutput-len(s))/grow {
				return "", tooLong(fmt.Sprintf("replace of %d places", n))
			}
		}
		return strings.ReplaceAll(s, old, new), nil
	}
	wrapWith := sprig.HermeticTxtFuncMap()["wrapWith"].(func(int, string, string) string)
	fm["wrapWith"] = func(l int, sep, s string) (string, error) {
		if sep != "" {
			n := uint64(len(s))/uint64(max(l, 1)) + 1
			if n*uint64(len(sep))+uint64(len(s)) > uint64(maxOutput) {
				return "", tooLong(fmt.Sprintf("wrapWith %d", l))
			}
		}
		return checkText("wrapWith", wrapWith(l, sep, s))
	}
	chunk := sprig.HermeticTxtFuncMap()["mustChunk"]
	for _, name := range []string{"chunk", "mustChunk"} {
		fm[name] = func(size int, list any) ([][]any, error) {
			if size < 1 {
				return nil, fmt.Errorf("%s needs a size of 1 or more, got %d", name, size)
			}
			return chunk.(func(int, any) ([][]any, error))(size, list)
		}
	}
	for _, name := range []string{"regexReplaceAll", "mustRegexReplaceAll", "regexReplaceAllLiteral", "mustRegexReplaceAllLiteral"} {
		literal := strings.Contains(name, "Literal")
		fm[name] = func(expr, s, repl string) (string, error) {
			re, err := regexp.Compile(expr)
			if err != nil {
				return "", err
			}
			// Each match is replaced by repl, in which each $1 is a part of
			// the match, and matches do not overlap: the text is at most
			// s, n repls and, for each $ in repl, s again. A bound first,
			// with n as many as there can be; the matches are counted only
			// when it is too high.
			refs := uint64(0)
			if !literal {
				refs = uint64(strings.Count(repl, "$"))
			}
			size := func(n uint64) uint64 { return (1+refs)*uint64(len(s)) + n*uint64(len(repl)) }
			if size(uint64(len(s))+1) > uint64(maxOutput) {
				n := uint64(len(re.FindAllStringIndex(s, -1)))
				if size(n) > uint64(maxOutput) {
					return "", tooLong(fmt.Sprintf("%s of %d matches", name, n))
				}
			}
			if literal {
				return checkText(name, re.ReplaceAllLiteralString(s, repl))
			}
			return checkText(name, re.ReplaceAllString(s, repl))
		}
	}
	fm["join"] = func(sep string, v any) (string, error) {
		rv := reflect.ValueOf(v)
		if rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array {
			n, err := textSize(rv, maxOutput, 0)
			if err != nil {
				return "", fmt.Errorf("join of %w", err)
			}
			if uint64(n)+uint64(rv.Len())*uint64(len(sep)) > uint64(maxOutput) {
				return "", tooLong("join")
			}
		}
		return checkText("join", sprigJoin(sep, v))
	}
	// Go's own print, printf and println, and its escapers, which a
	// template can apply to their own result over and over.
	fm["print"] = bounded("print", fmt.Sprint)
	fm["println"] = bounded("println", fmt.Sprintln)
	fm["printf"] = func(format string, args ...any) (string, error) {
		if err := checkArgs("printf", append([]any{format}, args...)...); err != nil {
			return "", err
		}
		return checkText("printf", fmt.Sprintf(format, args...))
	}
	fm["html"] = bounded("html", template.HTMLEscaper)
	fm["js"] = bounded("js", template.JSEscaper)
	fm["urlquery"] = bounded("urlquery", template.URLQueryEscaper)

	// A dict that holds itself never ends: printing it, or encoding it, would
	// recurse until Go's stack overflows, which ends strata at once.
	set := sprig.HermeticTxtFuncMap()["set"].(func(map[string]any, string, any) map[string]any)
	fm["set"] = func(d map[string]any, k string, v any) (map[string]any, error) {
		if err := holdsDict("set", reflect.ValueOf(v), d, 0); err != nil {
			return nil, err
		}
		return set(d, k, v), nil
	}
	for _, name := range []string{"merge", "mergeOverwrite", "mustMerge", "mustMergeOverwrite"} {
		merge := reflect.ValueOf(sprig.HermeticTxtFuncMap()[name])
		fm[name] = func(d map[string]any, srcs ...map[string]any) (any, error) {
			for _, src := range srcs {
				if err := holdsDict(name, reflect.ValueOf(src), d, 0); err != nil {
					return nil, err
				}
			}
			args := []reflect.Value{reflect.ValueOf(d)}
			for _, src := range srcs {
				args = append(args, reflect.ValueOf(src))
			}
			out := merge.Call(args)
			if len(out) == 2 && !out[1].IsNil() {
				return nil, out[1].Interface().(error)
			}
			return out[0].Interface(), nil
		}
	}
}

// holdsDict is the error of function name when v holds dict d (or nests more
// than maxNesting deep): putting v into d would make d hold itself.
func holdsDict(name string, v reflect.Value, d map[string]any, depth int) error {
	if depth > maxNesting {
		return fmt.Errorf("%s of a value nested more than %d levels deep", name, maxNesting)
	}
	for v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Map:
		if d != nil && v.UnsafePointer() == reflect.ValueOf(d).UnsafePointer() {
			return fmt.Errorf("%s would put a dict into itself, which never ends when it is printed (to copy it, write deepCopy)", name)
		}
		it := v.MapRange()
		for it.Next() {
			if err := holdsDict(name, it.Value(), d, depth+1); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return nil
		}
		for i := 0; i < v.Len(); i++ {
			if err := holdsDict(name, v.Index(i), d, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

var sprigJoin = sprig.HermeticTxtFuncMap()["join"].(func(string, any) string)

// untilStep is sprig's untilStep (the numbers from start, by step, up to
// stop but not stop), which fails rather than make more than maxItems of
// them, and counts them in a way that cannot overflow (sprig's loops
// forever near the largest int).
func untilStep(name string, start, stop, step int) ([]int, error) {
	var n uint64
	switch {
	case stop < start && step < 0:
		d, s := uint64(start)-uint64(stop), uint64(-(step+1))+1
		n = d / s
		if d%s != 0 {
			n++
		}
	case stop > start && step > 0:
		d, s := uint64(stop)-uint64(start), uint64(step)
		n = d / s
		if d%s != 0 {
			n++
		}
	}
	if n > uint64(maxItems) {
		return nil, tooMany(fmt.Sprintf("%s from %d to %d", name, start, stop), n)
	}
	v := make([]int, n)
	for i := range v {
		v[i] = start + i*step
	}
	return v, nil
}

// seq is sprig's seq (the numbers from a start to an end, both included,
// as text), bounded as untilStep is.
func seq(params ...int) (string, error) {
	var start, end, step int
	switch len(params) {
	case 1:
		start, end, step = 1, params[0], 1
		if end < start {
			step = -1
		}
		end += step
	case 2:
		start, end, step = params[0], params[1], 1
		if end < start {
			step = -1
		}
		end += step
	case 3:
		start, end, step = params[0], params[2], params[1]
		inc := 1
		if end < start {
			inc = -1
			if step > 0 {
				return "", nil
			}
		}
		end += inc
	default:
		return "", nil
	}
	v, err := untilStep("seq", start, end, step)
	if err != nil {
		return "", err
	}
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = strconv.Itoa(x)
	}
	return strings.Join(parts, " "), nil
}
