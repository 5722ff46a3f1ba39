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

// VarValue converts the YAML value of a var (from project.yaml's vars: or
// --vars) to what templates see, keeping what the user wrote where Go's
// decoding would not: a date or timestamp stays its text (2024-01-01, not a
// time.Time printed as "2024-01-01 00:00:00 +0000 UTC"), a float is a Float
// (printed 1.0, not 1; .inf and .nan stay their text), and null is the empty
// string rather than Go's "<no value>" (so string functions take it; literal
// renders it as ”). Mappings and lists hold values converted the same way.
func VarValue(n *yaml.Node) (any, error) {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		return VarValue(n.Alias)
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: var keys must be strings", k.Line)
			}
			val, err := VarValue(v)
			if err != nil {
				return nil, err
			}
			m[k.Value] = val
		}
		return m, nil
	case yaml.SequenceNode:
		l := make([]any, len(n.Content))
		for i, c := range n.Content {
			val, err := VarValue(c)
			if err != nil {
				return nil, err
			}
			l[i] = val
		}
		return l, nil
	case yaml.ScalarNode:
		switch n.ShortTag() {
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

// DecodeVars parses a --vars argument, a YAML mapping, into vars.
func DecodeVars(text string) (map[string]any, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		return nil, err
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return map[string]any{}, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("got %s", kindName(root))
	}
	v, err := VarValue(root)
	if err != nil {
		return nil, err
	}
	m, _ := v.(map[string]any) // root is a mapping, so v is one
	return m, nil
}
