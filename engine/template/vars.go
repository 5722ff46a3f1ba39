package template

import (
	"encoding/json"
	"fmt"
)

// VarMap is a mapping var as templates see it: indexed, ranged over and
// given to sprig like a map[string]any, but rendered as JSON ({"a":1})
// rather than Go's map[a:1], which means nothing in SQL.
type VarMap map[string]any

func (m VarMap) String() string { return toJSON(m, map[string]any(m)) }

// VarList is a list var: a []any that renders as JSON (["a","b"]).
type VarList []any

func (l VarList) String() string { return toJSON(l, []any(l)) }

// toJSON renders v as JSON, or as plain (the same value without the String
// method, which would recurse) with Go's formatting if v holds something JSON
// cannot encode, which no YAML value is.
func toJSON(v, plain any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(plain)
	}
	return string(b)
}

// asVar wraps the maps and lists in a var's value, at any depth, so that
// each renders as JSON wherever a template reaches it.
func asVar(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(VarMap, len(t))
		for k, x := range t {
			m[k] = asVar(x)
		}
		return m
	case []any:
		l := make(VarList, len(t))
		for i, x := range t {
			l[i] = asVar(x)
		}
		return l
	}
	return v
}
