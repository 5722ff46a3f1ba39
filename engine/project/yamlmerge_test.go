package project

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"gopkg.in/yaml.v3"
)

// mergeBomb is a merge of merges of lists of ten aliases, levels deep:
// 10^levels keys to expand; x merges the last.
func mergeBomb(indent string, levels int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%sm0: &m0 {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9, j: 10}\n", indent)
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, "%sm%d: &m%d {<<: [%s]}\n", indent, i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*m%d,", i-1), 10), ","))
	}
	fmt.Fprintf(&b, "%sx: {<<: *m%d}\n", indent, levels)
	return b.String()
}

// mergeChain is x merging a mapping that merges one that merges ...,
// levels deep.
func mergeChain(levels int) string {
	var b strings.Builder
	b.WriteString("m0: &m0 {a: 0}\n")
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, "m%d: &m%d {<<: *m%d}\n", i, i, i-1)
	}
	fmt.Fprintf(&b, "x: {<<: *m%d}\n", levels)
	return b.String()
}

// TestMergeEntries: the one expansion of YAML merge keys that vars, the
// decoder and dbt's nested config check all use. The value of x in each
// document is expanded; its entries are listed as key=value@line.
func TestMergeEntries(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     string // the entries
		errs     string // the errors, "; "-separated
	}{
		{name: "no merge", in: "x: {b: 1, a: 2}", want: "b=1@1 a=2@1"},
		{name: "a written key wins", in: "d: &d {a: 1, b: 2}\nx:\n  <<: *d\n  b: 3", want: "b=3@4 a=1@1"},
		{name: "a written key wins, written after", in: "d: &d {a: 1}\nx: {a: 2, <<: *d}", want: "a=2@2"},
		{name: "the first of a list wins", in: "a: &a {k: a, p: 1}\nb: &b {k: b, q: 2}\nx: {<<: [*b, *a]}", want: "k=b@2 q=2@2 p=1@1"},
		{name: "the first of several << wins", in: "a: &a {k: a}\nb: &b {k: b}\nx: {<<: *a, <<: *b}", want: "k=a@1"},
		{name: "a merge of a merge", in: "a: &a {p: 1}\nb: &b {<<: *a, q: 2}\nx: {<<: *b, r: 3}", want: "r=3@3 q=2@2 p=1@1"},
		{name: "a merged mapping's own keys win over its merges", in: "a: &a {p: 1}\nb: &b {<<: *a, p: 2}\nx: {<<: *b}", want: "p=2@2"},
		{name: "a mapping written in place", in: "x: {<<: [{a: 1}, {a: 2, b: 2}]}", want: "a=1@1 b=2@1"},
		{name: "an alias of a list of mappings", in: "a: &a {p: 1}\nb: &b {q: 2}\nl: &l [*a, *b]\nx: {<<: *l}", want: "p=1@1 q=2@2"},
		{name: "a quoted << is a key", in: "x: {'<<': 1}", want: "<<=1@1"},
		{name: "a key written twice is the caller's to report", in: "x: {a: 1, a: 2}", want: "a=1@1 a=2@1"},
		{name: "an empty list merges nothing", in: "x: {<<: [], a: 1}", want: "a=1@1"},
		{name: "a scalar", in: "x:\n  a: 1\n  <<: 3", want: "a=1@2", errs: `3:3: << merges a mapping or a list of mappings, got "3"`},
		{name: "nothing", in: "x: {<<: , a: 1}", want: "a=1@1", errs: `1:5: << merges a mapping or a list of mappings, got nothing`},
		{name: "a list in a list", in: "a: &a {p: 1}\nx: {<<: [[*a], *a]}", want: "p=1@1", errs: `2:5: << merges a mapping or a list of mappings, got a list`},
		{name: "an alias of a list of lists", in: "l: &l [1]\nx: {<<: [*l]}", errs: `2:5: << merges a mapping or a list of mappings, got a list`},
		{name: "every problem is said", in: "a: &a {p: 1}\nx: {<<: [1, *a, 2]}", want: "p=1@1", errs: `2:5: << merges a mapping or a list of mappings, got "1"; 2:5: << merges a mapping or a list of mappings, got "2"`},
		{name: "a merge of itself", in: "x: &x {y: 1, <<: *x}", want: "y=1@1", errs: "1:14: alias *x (line 1) is inside the value it names, which would never end"},
		{name: "a merge of a mapping that merges this one", in: "x: &x {y: 1, z: {<<: *x}}", want: "y=1@1 z=?@1"},
		{name: "a merge bomb", in: mergeBomb("", 30), want: "a=1@1 b=2@1 c=3@1 d=4@1 e=5@1 f=6@1 g=7@1 h=8@1 i=9@1 j=10@1", errs: "32:5: merge keys (<<) expand to more than 100000 values through YAML aliases (expected at most 100000: an alias repeated in lists of aliases multiplies at each level)"},
		{name: "within the bound", in: mergeBomb("", 3), want: "a=1@1 b=2@1 c=3@1 d=4@1 e=5@1 f=6@1 g=7@1 h=8@1 i=9@1 j=10@1"},
		{name: "merges nested too deep", in: mergeChain(101), errs: "103:5: merge keys (<<) nest more than 100 levels deep (line 2; expected at most 100)"},
		{name: "merges nested as deep as may be", in: mergeChain(100), want: "a=0@1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var doc yaml.Node
			if err := yaml.Unmarshal([]byte(tc.in), &doc); err != nil {
				t.Fatal(err)
			}
			var x *yaml.Node
			for i, root := 0, doc.Content[0]; i+1 < len(root.Content); i += 2 {
				if root.Content[i].Value == "x" {
					x = root.Content[i+1]
				}
			}
			done := make(chan struct{})
			var entries [][2]*yaml.Node
			var errs []error
			go func() {
				defer close(done)
				entries, errs = mergeEntries(x)
			}()
			select {
			case <-done:
			case <-time.After(time.Minute):
				t.Fatal("still expanding after a minute")
			}
			var got []string
			for _, kv := range entries {
				var v any
				if err := kv[1].Decode(&v); err != nil {
					v = "?"
				}
				got = append(got, fmt.Sprintf("%s=%v@%d", kv[0].Value, v, kv[0].Line))
			}
			var gotErrs []string
			for _, err := range errs {
				at := map[bool]*yaml.Node{}
				switch e := err.(type) {
				case *mergeError:
					at[true] = e.key
				case *VarLimitError:
					at[true] = e.at
				default:
					t.Fatalf("%T: %v", err, err)
				}
				gotErrs = append(gotErrs, fmt.Sprintf("%d:%d: %v", at[true].Line, at[true].Column, err))
			}
			if strings.Join(got, " ") != tc.want || strings.Join(gotErrs, "; ") != tc.errs {
				t.Errorf("got %s, errors %q\nwant %s, errors %q", strings.Join(got, " "), strings.Join(gotErrs, "; "), tc.want, tc.errs)
			}
		})
	}
}

// TestMergeKeysEverywhere: project.yaml's models:, read by the decoder and
// checked for dbt's nested config, expands merge keys as vars do, within
// the same bounds. A merge bomb there never ended (the decoder and the
// nested check bounded nothing but the depth, at 32) and a mapping that
// merged itself was "<< merges nested more than 32 deep"; vars said both
// rightly.
func TestMergeKeysEverywhere(t *testing.T) {
	for _, tc := range []struct {
		name, models string
		errs         string
	}{
		{name: "a merge bomb", models: mergeBomb("  ", 30),
			errs: "project.yaml:34:11: merge keys (<<) expand to more than 100000 values through YAML aliases (expected at most 100000: an alias repeated in lists of aliases multiplies at each level)"},
		{name: "a merge of itself", models: "  x: &x {schema: s, <<: *x}\n",
			errs: "project.yaml:3:25: alias *x (line 3) is inside the value it names, which would never end"},
		{name: "a scalar", models: "  x: {<<: 3}\n",
			errs: `project.yaml:3:11: << merges a mapping or a list of mappings, got "3" (write <<: *defaults, or <<: [*a, *b] for several)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{
				"project.yaml": {Data: []byte("name: shop\nmodels:\n" + strings.Replace(tc.models, "  x:", "  marts:", 1))},
				"models/a.sql": {Data: []byte("select 1")},
			}
			done := make(chan string)
			go func() {
				_, diags := Load(fsys)
				done <- diags.Error()
			}()
			select {
			case got := <-done:
				if !strings.Contains(got, tc.errs) {
					t.Errorf("got\n%s\nwant it to hold\n%s", got, tc.errs)
				}
			case <-time.After(time.Minute):
				t.Fatal("still loading after a minute")
			}
		})
	}
}

// FuzzMergeEntries expands the merge keys of arbitrary YAML: it never
// panics nor runs on (the bounds), and where yaml.v3 decodes the document
// the plain keys of its top mapping are the keys yaml.v3 gives it.
func FuzzMergeEntries(f *testing.F) {
	for _, s := range []string{
		"a: &a {p: 1}\nb: &b {q: 2}\nx: {<<: [*a, *b], r: 3}", "x: &x {<<: *x}", "<<: {a: 1}\nb: 2", "a: &a {k: 1}\n<<: *a\nk: 2",
		"<<: [{a: 1}, {a: 2, b: 3}]", "<<: 1", "<<: [[{a: 1}]]", "l: &l [{a: 1}]\n<<: *l", mergeBomb("", 6), mergeChain(40),
		"a: &a {p: 1, p: 2}\n<<: *a", "? [k]\n: v\n<<: {a: 1}", "'<<': 1",
	} {
		f.Add(s)
	}
	plain := regexp.MustCompile(`^[a-z_]+$`)
	f.Fuzz(func(t *testing.T, text string) {
		var doc yaml.Node
		if yaml.Unmarshal([]byte(text), &doc) != nil || len(doc.Content) == 0 {
			return
		}
		entries, errs := mergeEntries(doc.Content[0])
		for _, err := range errs {
			if err.Error() == "" {
				t.Fatalf("%q: an empty error", text)
			}
		}
		if len(errs) > 0 {
			return
		}
		v3, ok := yamlV3Decodes(text)
		if !ok {
			return
		}
		var got, want []string
		seen := map[string]bool{}
		for _, kv := range entries {
			if k := kv[0].Value; kv[0].Kind == yaml.ScalarNode && plain.MatchString(k) && !seen[k] {
				seen[k] = true
				got = append(got, k)
			}
		}
		for k := range v3 {
			if plain.MatchString(k) {
				want = append(want, k)
			}
		}
		sort.Strings(got)
		sort.Strings(want)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%q: keys %v, yaml.v3 decodes %v", text, got, want)
		}
	})
}

// yamlV3Decodes is text as yaml.v3 decodes it, when it does: it panics on
// a merge into a mapping with a key that is a list.
func yamlV3Decodes(text string) (m map[string]any, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return m, yaml.Unmarshal([]byte(text), &m) == nil
}
