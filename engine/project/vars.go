package project

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Float is a float var: a float64 to templates, so that gt, eq and sprig's
// arithmetic compare and compute with it, printed as a decimal with a point
// (1.0 stays a numeric literal in SQL rather than becoming the integer 1).
type Float float64

// Float64 lets sprig's arithmetic (spf13/cast) read a Float as the number it is.
func (f Float) Float64() float64 { return float64(f) }

func (f Float) String() string {
	s := strconv.FormatFloat(float64(f), 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// MaxVarValues and MaxVarDepth bound what the vars of one file (or one
// --vars) expand to. YAML aliases let a few lines stand for billions of
// values (each of ten lists holding ten aliases of the one before: an
// "alias bomb"), which would take all memory while loading; no real var
// comes near either bound.
const (
	MaxVarValues = 100_000
	MaxVarDepth  = 100
)

// VarLimitError says that vars expand beyond MaxVarValues or MaxVarDepth,
// or hold an alias of the value it is in.
type VarLimitError struct {
	Msg string
	at  *yaml.Node // where it was found
}

func (e *VarLimitError) Error() string { return e.Msg }

// VarKeyError is a key of a var's mapping that is not plain text, or that
// appears twice in it (YAML forbids that; the later value silently won).
type VarKeyError struct{ Msg string }

func (e *VarKeyError) Error() string { return e.Msg }

// VarReader converts the YAML values of vars (from project.yaml's vars:,
// --vars or a unit test's overrides) to what templates see, counting what
// they expand to against MaxVarValues and MaxVarDepth across all the
// values it reads. The zero value is ready to use.
type VarReader struct {
	aliasBounds
}

// VarValue converts one var's value with a fresh VarReader (see Value).
func VarValue(n *yaml.Node) (any, error) {
	var r VarReader
	return r.Value(n)
}

// Value converts the YAML value of a var to what templates see, keeping
// what the user wrote where Go's decoding would not: a date or timestamp
// stays its text (2024-01-01, not a time.Time printed as "2024-01-01
// 00:00:00 +0000 UTC"), a float is a Float (printed 1.0, not 1; .inf and
// .nan stay their text), and null is the empty string rather than Go's
// "<no value>" (so string functions take it; literal renders it as ”).
// Mappings and lists hold values converted the same way. Aliases are
// followed, within the reader's bounds; an alias inside the value it
// names is an error.
func (r *VarReader) Value(n *yaml.Node) (any, error) {
	return r.value(n, 0)
}

func (r *VarReader) value(n *yaml.Node, depth int) (any, error) {
	n, pop, err := r.follow(n)
	if err != nil {
		return nil, err
	}
	defer pop()
	if err := r.count(1, n); err != nil {
		return nil, err
	}
	if err := r.deep(depth, n); err != nil {
		return nil, err
	}
	switch n.Kind {
	case yaml.MappingNode:
		entries, err := r.entries(n, depth)
		if err != nil {
			return nil, err
		}
		m := make(map[string]any, len(entries))
		for _, kv := range entries {
			val, err := r.value(kv[1], depth+1)
			if err != nil {
				return nil, err
			}
			m[kv[0].Value] = val
		}
		return m, nil
	case yaml.SequenceNode:
		l := make([]any, len(n.Content))
		for i, c := range n.Content {
			val, err := r.value(c, depth+1)
			if err != nil {
				return nil, err
			}
			l[i] = val
		}
		return l, nil
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!str":
			return n.Value, nil // what Decode would return, without a decoder per value
		case "!!null":
			return "", nil
		case "!!timestamp":
			return n.Value, nil
		case "!!float":
			var f float64
			if err := n.Decode(&f); err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
				return n.Value, nil // no SQL number: kept as written
			}
			return Float(f), nil
		}
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// entries lists the keys and values of mapping n with YAML merge keys
// expanded (aliasBounds.entries), each mapping's keys plain text written
// once. Without it, a var written {<<: *base, b: 2} held a key "<<" and
// lacked base's keys.
func (r *VarReader) entries(n *yaml.Node, depth int) ([][2]*yaml.Node, error) {
	entries, errs := r.aliasBounds.entries(n, depth, varKeys)
	if len(errs) == 0 {
		return entries, nil
	}
	if m, ok := errs[0].(*mergeError); ok {
		return nil, &VarKeyError{fmt.Sprintf("line %d: << merges a mapping or a list of mappings (<<: *defaults, <<: [*a, *b]), got %s", m.key.Line, m.got)}
	}
	return nil, errs[0]
}

// varKeys checks the keys of the mapping n of a var: plain text, each once.
func varKeys(n *yaml.Node) error {
	first := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if isMergeKey(k) {
			continue
		}
		if k.Kind != yaml.ScalarNode {
			return &VarKeyError{fmt.Sprintf("line %d: var keys must be strings", k.Line)}
		}
		if line, dup := first[k.Value]; dup {
			return &VarKeyError{fmt.Sprintf("line %d: key %q appears twice (first at line %d)", k.Line, k.Value, line)}
		}
		first[k.Value] = k.Line
	}
	return nil
}

// VarSyntaxError is a --vars argument that is not YAML at all.
type VarSyntaxError struct {
	Line int // 0 when the parser named none
	Msg  string
}

func (e *VarSyntaxError) Error() string {
	if e.Line > 1 {
		return fmt.Sprintf("invalid YAML at line %d: %s", e.Line, e.Msg)
	}
	return "invalid YAML: " + e.Msg
}

// DecodeVars parses a --vars argument, a YAML mapping, into vars.
func DecodeVars(text string) (map[string]any, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		msg := yamlErrMsg(err)
		if strings.HasPrefix(msg, "mapping values are not allowed") {
			msg += ` (a value holding ": " is quoted: --vars '{note: "a: b"}')`
		}
		return nil, &VarSyntaxError{Line: yamlErrLine("", err).Line, Msg: msg}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return map[string]any{}, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("got %s", kindName(root))
	}
	var r VarReader
	v, err := r.Value(root)
	if err != nil {
		return nil, err
	}
	m, _ := v.(map[string]any) // root is a mapping, so v is one
	return m, nil
}
