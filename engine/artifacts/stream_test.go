package artifacts

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// WriteJSON streams a struct's maps and slices; the file must hold exactly
// what json.Marshal makes of the same value, for every shape the artifacts
// have: empty and nil maps and slices, omitempty fields, raw config, strings
// that JSON escapes, nested values of any type.
func TestWriteJSONMatchesMarshal(t *testing.T) {
	cfg := json.RawMessage(`{"materialized": "table", "tags": ["<a&b>"]}`)
	yes, no := true, false
	node := func(id string) *Node {
		return &Node{ID: id, ResourceType: "model", Name: "m", Path: "models/m.sql", Line: 3, Config: cfg,
			DependsOn: DependsOn{Nodes: []string{"model.p.a"}, Macros: []string{}}, Checksum: "abc",
			Vars: map[string]string{"z": "1", "a": "2"}, Columns: []Column{{Name: "id", Description: "é \u2028 \"quoted\""},
				{Name: "amount", DataType: "numeric(12,2)", DeclaredType: "numeric(12, 2)", Produced: &yes}, {Name: "gone", DeclaredType: "text", Produced: &no}},
			ColumnsUsed: []ColumnRef{{Node: "model.p.<a>", Column: "x"}, {Node: "seed.p.s", Column: "y"}}, ColumnsCheckedAt: "2024-01-01T00:00:00Z",
			Test:         &TestMeta{Kind: "accepted_values", Args: map[string]any{"values": []any{"a", 1.5, nil, true}}},
			CompiledCode: "select '<script>' as \"x\"\n\tfrom t"}
	}
	values := map[string]any{
		"manifest": &Manifest{Version: 1, Project: "p", Target: "dev",
			Nodes: map[string]*Node{"model.p.b": node("model.p.b"), "model.p.a": node("model.p.a"), "model.p.é": {ID: "x"}, "nil": nil,
				"exposure.p.e": {ID: "exposure.p.e", ResourceType: "exposure", Type: "dashboard", Label: "<L&>", Maturity: "high", URL: "https://x/?a=1&b=<2>",
					Owner: &Owner{Name: "An \"a\"", Email: "a@x"}, DependsOn: DependsOn{Nodes: []string{"model.p.a"}, Macros: []string{}}},
				"source.p.s.t":    {ID: "source.p.s.t", ResourceType: "source", Name: "s.t", Description: "T.", SourceName: "s", SourceDescription: "<S & \"s\">"},
				"source.p.s.u":    {ID: "source.p.s.u", SourceName: "s"},
				"exposure.p.mail": {ID: "exposure.p.mail", Owner: &Owner{Email: "m@x"}}, "exposure.p.owner": {Owner: &Owner{}},
				"spaced config": {Config: json.RawMessage(" { \"a\" : [ 1 , \"<\u2028>\" ] } "), Columns: []Column{}, Tags: []string{},
					DependsOn: DependsOn{Nodes: []string{}}, Test: &TestMeta{Kind: "t"}, Vars: map[string]string{}}},
			Macros:  map[string]*Macro{"m": {Name: "m"}},
			Parents: map[string][]string{"a": {}, "b": nil, "c": {"a", "b"}}, Children: map[string][]string{},
			Extra: map[string]any{"k": map[string]any{"y": 1, "x": []string{"&"}}}},
		"empty manifest": Manifest{},
		"run results":    &RunResults{Command: "run", Args: &RunArgs{Select: []string{"a<b"}, Vars: "k: \"<\""}, InProgress: true, Results: []Result{{ID: "x", Status: "pass"}, {ID: "y"}}},
		"no results":     &RunResults{Results: []Result{}},
		"not a struct":   map[string]int{"b": 2, "a": 1},
	}
	dir := t.TempDir()
	for name, v := range values {
		path := filepath.Join(dir, "out.json")
		if err := WriteJSON(path, v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if want = append(want, '\n'); !bytes.Equal(got, want) {
			t.Errorf("%s: WriteJSON wrote\n%s\njson.Marshal makes\n%s", name, got, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "out.json.tmp")); !os.IsNotExist(err) {
		t.Errorf("the temporary file is left behind: %v", err)
	}
}

// appendJSONString must quote every string exactly as json.Marshal does.
func TestAppendJSONString(t *testing.T) {
	cases := []string{"", "plain", "<a href=\"x\">&amp;</a>", "tab\tnl\ncr\rbs\bff\f\x00\x1f\x7f", "é ü 日本 🙂",
		"\u2028\u2029", "bad \xff\xfe utf8 \xe2\x82", "back\\slash 'single'"}
	for i := range 256 {
		cases = append(cases, string([]byte{byte(i)}), "a"+string(rune(i))+"z")
	}
	for _, s := range cases {
		checkQuoted(t, s)
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "<&>", "\u2028", "\xff", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(checkQuoted)
}

func checkQuoted(t *testing.T, s string) {
	want, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
		t.Errorf("appendJSONString(%q) = %s, json.Marshal makes %s", s, got, want)
	}
}
