package template

import (
	"encoding/json"
	"errors"
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

// digFunc is sprig's dig (dig "a" "b" default mapping: the value at that
// path of keys, or default where a key is missing) for var mappings too:
// sprig's asserts each level to be a plain map[string]any, so on a var it
// failed with Go's "interface conversion". A level that is no mapping, or
// a key that is no string, is an error in the user's words.
func digFunc(args ...any) (any, error) {
	if len(args) < 3 {
		return nil, errors.New(`dig needs one or more keys, a default and a mapping, as in dig "a" "b" 0 (var "x")`)
	}
	keys, def, cur := args[:len(args)-2], args[len(args)-2], args[len(args)-1]
	path := ""
	for _, k := range keys {
		key, ok := k.(string)
		if !ok {
			return nil, fmt.Errorf("dig's keys are strings; got %v", k)
		}
		var m map[string]any
		switch t := cur.(type) {
		case VarMap:
			m = t
		case map[string]any:
			m = t
		default:
			if path == "" {
				return nil, fmt.Errorf("dig's last argument must be a mapping; got %v", cur)
			}
			return nil, fmt.Errorf("dig: %s is not a mapping (%v), so it has no key %q", path, cur, key)
		}
		v, ok := m[key]
		if !ok {
			return def, nil
		}
		cur = v
		path += "." + key
	}
	return cur, nil
}
