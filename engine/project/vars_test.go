package project

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"gopkg.in/yaml.v3"
)

// TestDecodeVars: vars keep what the user wrote where Go's YAML decoding
// would not: dates and timestamps as text, floats with their digits, null as
// the empty string.
func TestDecodeVars(t *testing.T) {
	tests := []struct {
		in   string
		want map[string]any
		err  string
	}{
		{in: "n: 2024-01-01", want: map[string]any{"n": "2024-01-01"}},
		{in: "ts: 2024-01-01T10:00:00Z\r\nd: !!timestamp 2024-02-03", want: map[string]any{"ts": "2024-01-01T10:00:00Z", "d": "2024-02-03"}},
		{in: "f: 1.0\ng: 2.50\nh: 1e3\ni: .5\nj: .inf", want: map[string]any{"f": Float(1), "g": Float(2.5), "h": Float(1000), "i": Float(0.5), "j": ".inf"}},
		{in: "n: null\nm: ~\no:", want: map[string]any{"n": "", "m": "", "o": ""}},
		{in: "i: 3\nb: true\ns: 'é'", want: map[string]any{"i": 3, "b": true, "s": "é"}},
		{in: "m: {a: 1, d: 2024-01-01, l: [x, 1.0, null]}", want: map[string]any{"m": map[string]any{"a": 1, "d": "2024-01-01", "l": []any{"x", Float(1), ""}}}},
		{in: "base: &b {a: 1}\nc: *b", want: map[string]any{"base": map[string]any{"a": 1}, "c": map[string]any{"a": 1}}},
		{in: "", want: map[string]any{}},
		{in: "[1, 2]", err: "got a list"},
		{in: "x", err: `got "x"`},
		{in: "{a: [", err: "invalid YAML: did not find expected node content"},
		{in: "a: 1\nb: x: y", err: `invalid YAML at line 2: mapping values are not allowed in this context (a value holding ": " is quoted: --vars '{note: "a: b"}')`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := DecodeVars(tc.in)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Errorf("got %v, %v; want error %s", got, err, tc.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v, %v\nwant %#v", got, err, tc.want)
			}
		})
	}
}

// aliasBomb is issue 21's project.yaml: eleven lines whose last var stands
// for 10^10 strings through aliases of aliases.
func aliasBomb(indent string) string {
	var b strings.Builder
	b.WriteString(indent + `l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]` + "\n")
	for i := 1; i <= 10; i++ {
		fmt.Fprintf(&b, "%sl%d: &l%d [%s]\n", indent, i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*l%d,", i-1), 10), ","))
	}
	return b.String()
}

// TestVarAliasBomb (issue 21 item 1): vars that expand through aliases
// beyond MaxVarValues, nest beyond MaxVarDepth or hold an alias of
// themselves are errors at the var's line, found without expanding them:
// in project.yaml, in --vars and in a unit test's overrides. The bomb
// would take all memory (and never end) if expanded; the test's deadline
// is its bound on time.
func TestVarAliasBomb(t *testing.T) {
	const bound = "vars expand to more than 100000 values through YAML aliases"
	fsys := fstest.MapFS{
		"project.yaml": {Data: []byte("name: bomb\nvars:\n" + aliasBomb("  "))},
		"models/m.sql": {Data: []byte("select 1")},
	}
	start := time.Now()
	_, diags := Load(fsys)
	took := time.Since(start)
	if len(diags) != 1 || !strings.HasPrefix(diags[0].Error(), "project.yaml:7:7: var l4: "+bound) {
		t.Fatalf("project.yaml: got %d problems:\n%v", len(diags), diags)
	}
	t.Logf("project.yaml's bomb rejected in %s", took)

	start = time.Now()
	_, err := DecodeVars(aliasBomb(""))
	var limit *VarLimitError
	if !errors.As(err, &limit) || !strings.HasPrefix(err.Error(), bound) {
		t.Fatalf("--vars: got %v", err)
	}
	t.Logf("--vars' bomb rejected in %s", time.Since(start))

	for _, tc := range []struct{ in, err string }{
		{"a: &a [1, *a]", "alias *a (line 1) is inside the value it names, which would never end"},
		{"a: &a {x: *a}", "alias *a (line 1) is inside the value it names, which would never end"},
		{"b: &b [1]\na: &a\n  - *b\n  - [*b, *a]", "alias *a (line 4) is inside the value it names, which would never end"},
		{"a: " + strings.Repeat("[", 102) + strings.Repeat("]", 102), "vars nest more than 100 levels deep (line 1; expected at most 100)"},
	} {
		if _, err := DecodeVars(tc.in); err == nil || err.Error() != tc.err {
			t.Errorf("%s: got %v, want %s", tc.in, err, tc.err)
		}
	}
	// Within the bounds, aliases expand as before: 10^4 values.
	m, err := DecodeVars(strings.Join(strings.Split(aliasBomb(""), "\n")[:4], "\n"))
	if err != nil || len(m["l3"].([]any)) != 10 || m["l3"].([]any)[9].([]any)[9].([]any)[9].([]any)[9] != "lol" {
		t.Fatalf("three levels: %v %v", m, err)
	}

	fsys = fstest.MapFS{
		"project.yaml": {Data: []byte("name: bomb\n")},
		"models/m.sql": {Data: []byte("select 1")},
		"models/m.yml": {Data: []byte("unit_tests:\n  - name: u\n    model: m\n    given: []\n    expect: {rows: []}\n    overrides:\n      vars:\n" + aliasBomb("        "))},
	}
	_, diags = Load(fsys)
	if len(diags) != 1 || !strings.HasPrefix(diags[0].Error(), "models/m.yml:12:13: var l4: "+bound) {
		t.Fatalf("unit test overrides: got %d problems:\n%v", len(diags), diags)
	}
}

// BenchmarkVarAliasBomb: how long rejecting issue 21's alias bomb takes
// (the bound is MaxVarValues values converted).
func BenchmarkVarAliasBomb(b *testing.B) {
	bomb := aliasBomb("")
	for b.Loop() {
		if _, err := DecodeVars(bomb); err == nil {
			b.Fatal("no error")
		}
	}
}

// FuzzDecodeVars feeds arbitrary --vars arguments to DecodeVars: errors
// are fine, panics and hangs are not (aliases stay within MaxVarValues);
// an error is never empty, and what it returns holds only the values
// templates are given: text, whole numbers, booleans, Floats, and
// mappings and lists of them.
func FuzzDecodeVars(f *testing.F) {
	for _, s := range []string{
		"", "a: 1", "{a: 1, b: x}", "start_date: 2024-01-01", "f: 1.0\ng: .inf\nh: .nan", "n: null\nm: ~\no:",
		"m: {a: 1, l: [x, 1.0, null]}", "base: &b {a: 1}\nc: *b", "a: &a [*a]", "c: {<<: {a: 1}, b: 2}",
		"[1, 2]", "x", "{a: [", "a: 1\nb: x: y", "a: 1\na: 2", "? [k]\n: v", "a: !!binary aGk=", "a: !!int 0x1F",
		"a: 18446744073709551616", "a: -9223372036854775809", "a: !custom x", "a: !!str 1", "a: !!float 1",
		"a: !!timestamp 2024-01-01T00:00:00Z", "a: |\n  text\n", "'a': \"\\u00e9\"", "\ufeffa: 1", "a: 1\n---\nb: 2",
		"a: 0o17", "a: 1_000", "a: +1", "a: .5e3", "a: 0b101", "a: yes", "a: on",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		m, err := DecodeVars(text)
		if err != nil {
			if strings.TrimSpace(err.Error()) == "" {
				t.Fatalf("%q: empty error", text)
			}
			return
		}
		if m == nil {
			t.Fatalf("%q: no vars and no error", text)
		}
		var check func(path string, v any)
		check = func(path string, v any) {
			switch v := v.(type) {
			case string, int, int64, uint64, bool, Float:
			case map[string]any:
				for k, x := range v {
					check(path+"."+k, x)
				}
			case []any:
				for i, x := range v {
					check(fmt.Sprintf("%s[%d]", path, i), x)
				}
			default:
				t.Fatalf("%q: %s is a %T (%v), which templates print as Go does", text, path, v, v)
			}
		}
		check("vars", m)
	})
}

// TestVarMergeKeys: a YAML merge key (<<: *anchor, or a list of them) in
// vars is merged as yaml.v3 merges it (a key written beside it wins, the
// first of a list wins), in --vars and in project.yaml's vars at any
// depth; it gave a key "<<" and lacked the merged keys. A << that merges
// no mapping, or merges the mapping it is in, is an error at its line.
func TestVarMergeKeys(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want map[string]any
		err  string
	}{
		{in: "base: &b {a: 1, b: 2}\nc: {<<: *b, b: 3}", want: map[string]any{"base": map[string]any{"a": 1, "b": 2}, "c": map[string]any{"a": 1, "b": 3}}},
		{in: "base: &b {k: 1}\nc: {k: 2, <<: *b}", want: map[string]any{"base": map[string]any{"k": 1}, "c": map[string]any{"k": 2}}},
		{in: "x: &x {a: 1}\ny: &y {a: 2, b: 2}\nz:\n  <<: [*x, *y]\n  c: 3", want: map[string]any{"x": map[string]any{"a": 1}, "y": map[string]any{"a": 2, "b": 2}, "z": map[string]any{"a": 1, "b": 2, "c": 3}}},
		{in: "a: &a {x: 1}\nb: &b {<<: *a, y: 2}\nc: {<<: *b, z: [1.0, 2024-01-01]}", want: map[string]any{"a": map[string]any{"x": 1}, "b": map[string]any{"x": 1, "y": 2}, "c": map[string]any{"x": 1, "y": 2, "z": []any{Float(1), "2024-01-01"}}}},
		{in: "c: {<<: {a: 1}, b: 2}", want: map[string]any{"c": map[string]any{"a": 1, "b": 2}}},
		{in: "base: &b {a: 1}\n<<: *b", want: map[string]any{"base": map[string]any{"a": 1}, "a": 1}},
		{in: "c: {'<<': 1}", want: map[string]any{"c": map[string]any{"<<": 1}}}, // quoted: a key like any other
		{in: "c:\n  <<: 1", err: `line 2: << merges a mapping or a list of mappings (<<: *defaults, <<: [*a, *b]), got "1"`},
		{in: "l: &l [1]\nc:\n  <<: [*l]", err: `line 3: << merges a mapping or a list of mappings (<<: *defaults, <<: [*a, *b]), got a list`},
		{in: "a: &a {x: 1, <<: *a}", err: "alias *a (line 1) is inside the value it names, which would never end"},
		{in: "b: &b {a: 1}\nc: {<<: *b, x: 1, x: 2}", err: `line 2: key "x" appears twice (first at line 2)`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := DecodeVars(tc.in)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Errorf("got %v, %v; want error %s", got, err, tc.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v, %v\nwant %#v", got, err, tc.want)
			}
			// As yaml.v3 merges them (its values typed its own way:
			// compared where both agree, on the keys).
			var v3 map[string]any
			if err := yaml.Unmarshal([]byte(tc.in), &v3); err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(keys(v3)) != fmt.Sprint(keys(got)) {
				t.Errorf("keys %v, yaml.v3 decodes %v", keys(got), keys(v3))
			}
		})
	}

	// project.yaml's vars, where a top-level << was merged already, and
	// a unit test's overrides.
	fsys := fstest.MapFS{
		"project.yaml": {Data: []byte("name: merge\nvars:\n  defaults: &d {region: north, days: 90}\n  south:\n    <<: *d\n    region: south\n")},
		"models/m.sql": {Data: []byte("select 1")},
		"models/m.yml": {Data: []byte("unit_tests:\n  - name: u\n    model: m\n    given: []\n    expect: {rows: []}\n    overrides:\n      vars:\n        d: &d {a: 1}\n        e: {<<: *d, b: 2}\n")},
	}
	p, diags := Load(fsys)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if want := map[string]any{"region": "south", "days": 90}; !reflect.DeepEqual(p.Vars["south"], want) {
		t.Errorf("project.yaml: south = %#v, want %#v", p.Vars["south"], want)
	}
	if want := map[string]any{"a": 1, "b": 2}; len(p.UnitTests) != 1 || !reflect.DeepEqual(p.UnitTests[0].Overrides.Vars["e"], want) {
		t.Errorf("unit test overrides: %#v, want e = %#v", p.UnitTests, want)
	}

	// Merges of lists of merges multiply as lists of aliases do: bounded.
	var b strings.Builder
	b.WriteString("m0: &m0 {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9, j: 10}\n")
	for i := 1; i <= 30; i++ {
		fmt.Fprintf(&b, "m%d: &m%d {<<: [%s]}\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*m%d,", i-1), 10), ","))
	}
	var limit *VarLimitError
	if _, err := DecodeVars(b.String()); !errors.As(err, &limit) {
		t.Errorf("a merge bomb: got %v, want the bound", err)
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			for _, s := range keys(sub) {
				out = append(out, k+"."+s)
			}
			continue
		}
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
