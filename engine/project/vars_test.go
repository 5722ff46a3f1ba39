package project

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"
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
