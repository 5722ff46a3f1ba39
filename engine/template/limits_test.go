package template

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/Masterminds/sprig/v3"
)

// lowLimit lowers maxOutput for the test, so that passing it costs little.
func lowLimit(t *testing.T, n int) {
	old := maxOutput
	maxOutput = n
	t.Cleanup(func() { maxOutput = old })
}

// TestRenderSizeLimit: a render that would make more text than maxOutput
// (macros that double their text at each level, a loop too long) stops at
// the place where it passed the limit, naming the node and the limit,
// instead of eating the machine; up to the limit it renders.
func TestRenderSizeLimit(t *testing.T) {
	lowLimit(t, 1<<20)
	const kib = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	var b strings.Builder
	b.WriteString(`{{ define "d0" }}` + strings.Repeat(kib, 8) + `{{ end }}` + "\n")
	for i := 1; i <= 40; i++ {
		fmt.Fprintf(&b, `{{ define "d%d" }}{{ include "d%d" }}{{ include "d%d" }}{{ end }}`+"\n", i, i-1, i-1)
	}
	b.WriteString(`{{ define "t0" }}` + strings.Repeat(kib, 8) + `{{ end }}` + "\n")
	for i := 1; i <= 40; i++ {
		fmt.Fprintf(&b, `{{ define "t%d" }}{{ template "t%d" }}{{ template "t%d" }}{{ end }}`+"\n", i, i-1, i-1)
	}
	set, diags := ParseMacros([]MacroFile{{Path: "macros/double.sql", Text: b.String()}, {Path: "macros/self.sql", Text: `{{ define "self" }}{{ include "self" }}{{ include "self" }}{{ end }}`}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	const hint = " (strata's limit, which no real model comes near: a macro that includes another more than once, at every level, doubles its text at each; docs/templates.md#limits)"
	tests := []struct{ text, want, err string }{
		// 512 KiB twice is the limit, and renders; once more does not.
		{text: `{{ include "d10" }}`, want: strings.Repeat(kib, 8<<10)},
		{text: `{{ include "d10" }}x`, err: `models/me.sql:1:20: models/me.sql renders more than 1 MiB of text, and stopped here` + hint},
		{text: `select {{ include "d40" }}`, err: `macros/double.sql:1:18: models/me.sql renders more than 1 MiB of text, and stopped here, in d40 -> d39 -> d38 -> d37 -> d36 -> d35 -> ...` + hint + ` (called from models/me.sql)`},
		{text: `select {{ template "t40" }}`, err: `macros/double.sql:42:18: models/me.sql renders more than 1 MiB of text, and stopped here` + hint + ` (called from models/me.sql)`},
		{text: "select\n{{ range until 1000000 }}0123456789{{ end }}", err: `models/me.sql:2:26: models/me.sql renders more than 1 MiB of text, and stopped here` + hint},
		{text: `{{ range until 1000000 }}{{ "0123456789" }}{{ end }}`, err: `models/me.sql:1:1: models/me.sql renders more than 1 MiB of text, and stopped here` + hint},
		// A macro that includes itself twice ends at the depth limit first.
		{text: `{{ include "self" }}`, err: `macros/self.sql:1:23: macro "self" is included more than 100 levels deep (does it include itself? self -> self -> self -> self -> self -> self -> ...) (in macro "self", called from models/me.sql)`},
	}
	for _, tc := range tests {
		tp, diags := set.Parse("models/me.sql", tc.text)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		for i, mapped := range []bool{false, true} {
			var got string
			var err error
			if mapped {
				got, _, _, err = tp.RenderMapped(testEnv(), nil)
			} else {
				got, _, err = tp.Render(testEnv(), nil)
			}
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Errorf("render %d of %s:\n got %.80q, %v\nwant %s", i, tc.text, got, err, tc.err)
				}
				continue
			}
			if err != nil || got != tc.want {
				t.Errorf("render %d of %s: got %d bytes, %v; want %d bytes", i, tc.text, len(got), err, len(tc.want))
			}
		}
	}
}

// TestBoundedFunctions: sprig's functions that would make a text or a list
// as large as they are asked fail instead, before they allocate it, and
// so do text functions applied to their own result over and over; what
// they make within the limits is sprig's.
func TestBoundedFunctions(t *testing.T) {
	lowLimit(t, 1<<20)
	const hint = " (strata's limit on a text; docs/templates.md#limits)"
	tests := []struct{ text, want, err string }{
		{text: `{{ repeat 3 "ab" }}`, want: "ababab"},
		{text: `{{ repeat 1000000000000 "ab" }}`, err: `models/me.sql:1:4: repeat 1000000000000 of a text of 2 bytes would make a text longer than 1 MiB` + hint},
		{text: `{{ repeat 9223372036854775807 "ab" }}`, err: `models/me.sql:1:4: repeat 9223372036854775807 of a text of 2 bytes would make a text longer than 1 MiB` + hint},
		{text: `{{ repeat -1 "ab" }}`, err: `models/me.sql:1:4: repeat needs a count of 0 or more, got -1`},
		{text: `{{ indent 2 "a\nb" }}|{{ nindent 1 "c" }}|{{ indent -1 "d" }}`, want: "  a\n  b|\n c|d"},
		{text: `{{ indent 1000000000000 "a" }}`, err: `models/me.sql:1:4: indent 1000000000000 of 1 lines would make a text longer than 1 MiB` + hint},
		{text: `{{ nindent 40000000 "a\nb" }}`, err: `models/me.sql:1:4: nindent 40000000 of 2 lines would make a text longer than 1 MiB` + hint},
		{text: `{{ until 3 }} {{ until -2 }} {{ untilStep 1 10 4 }} {{ untilStep 0 10 0 }}`, want: "[0 1 2] [0 -1] [1 5 9] []"},
		{text: `{{ untilStep 9223372036854775806 9223372036854775807 2 }}`, want: "[9223372036854775806]"},
		{text: `{{ until 1000000000000 }}`, err: `models/me.sql:1:4: until from 0 to 1000000000000 would make a list of 1000000000000 items, more than 1048576 (strata's limit on a list; docs/templates.md#limits)`},
		{text: `{{ range untilStep -9223372036854775808 9223372036854775807 1 }}{{ end }}`, err: `models/me.sql:1:10: untilStep from -9223372036854775808 to 9223372036854775807 would make a list of 18446744073709551615 items, more than 1048576 (strata's limit on a list; docs/templates.md#limits)`},
		{text: `{{ seq 5 }}|{{ seq 3 1 }}|{{ seq 1 2 7 }}`, want: "1 2 3 4 5|3 2 1|1 3 5 7"},
		{text: `{{ seq 1 1000000000 }}`, err: `models/me.sql:1:4: seq from 1 to 1000000001 would make a list of 1000000000 items, more than 1048576 (strata's limit on a list; docs/templates.md#limits)`},
		{text: `{{ replace "" "-" "abc" }}`, want: "-a-b-c-"},
		{text: `{{ $s := repeat 1000000 "x" }}{{ replace "" $s $s | len }}`, err: `models/me.sql:1:34: replace of 1000001 places would make a text longer than 1 MiB` + hint},
		{text: `{{ regexReplaceAll "a(.)" "xabyac" "<$1>" }}`, want: "x<b>y<c>"},
		{text: `{{ $s := repeat 50000 "x" }}{{ regexReplaceAll "" $s "${0}0123456789" | len }}`, want: "550010"},
		{text: `{{ $s := repeat 100000 "x" }}{{ regexReplaceAllLiteral "" $s (repeat 1000 "y") | len }}`, err: `models/me.sql:1:33: regexReplaceAllLiteral of 100001 matches would make a text longer than 1 MiB` + hint},
		{text: `{{ wrapWith 3 "|" "abcdefg" }}`, want: "abc|def|g"},
		{text: `{{ wrapWith 1 (repeat 1000 "-") (repeat 100000 "x") }}`, err: `models/me.sql:1:4: wrapWith 1 would make a text longer than 1 MiB` + hint},
		{text: `{{ chunk 0 (list 1 2) }}`, err: `models/me.sql:1:4: chunk needs a size of 1 or more, got 0`},
		{text: `{{ chunk 2 (list 1 2 3) }}`, want: "[[1 2] [3]]"},
		// Doubling a text in a loop, in any function, stops at the limit.
		{text: `{{ $s := "x" }}{{ range until 100 }}{{ $s = cat $s $s }}{{ end }}`, err: `models/me.sql:1:45: cat would make a text longer than 1 MiB` + hint},
		{text: `{{ $s := "x" }}{{ range until 100 }}{{ $s = printf "%s%s" $s $s }}{{ end }}`, err: `models/me.sql:1:45: printf would make a text longer than 1 MiB` + hint},
		{text: `{{ $s := "xy" }}{{ range until 100 }}{{ $s = b64enc $s }}{{ end }}`, err: `models/me.sql:1:46: b64enc would make a text longer than 1 MiB` + hint},
		{text: `{{ $s := "x" }}{{ range until 100 }}{{ $s = toJson $s }}{{ end }}`, err: `models/me.sql:1:45: toJson would make a text longer than 1 MiB` + hint},
		{text: `{{ $s := "\\" }}{{ range until 100 }}{{ $s = js $s | print | html }}{{ end }}`, err: `models/me.sql:1:46: js would make a text longer than 1 MiB` + hint},
		{text: `{{ $l := list "x" }}{{ range until 100 }}{{ $l = concat $l $l }}{{ end }}`, err: `models/me.sql:1:50: concat would make a list of 2097152 items, more than 1048576 (strata's limit on a list; docs/templates.md#limits)`},
		// A list of many copies of one long text costs little, printing or joining it would.
		{text: `{{ $s := repeat 1000000 "x" }}{{ $l := list }}{{ range until 100 }}{{ $l = append $l $s }}{{ end }}{{ join "," $l }}`, err: `models/me.sql:1:103: join would make a text longer than 1 MiB` + hint},
		{text: `{{ $s := repeat 1000000 "x" }}{{ $l := list }}{{ range until 100 }}{{ $l = append $l $s }}{{ end }}{{ toJson $l }}`, err: `models/me.sql:1:103: toJson would make a text longer than 1 MiB` + hint},
		{text: `{{ join "," (list "a" 1 "b") }}`, want: "a,1,b"},
		// A dict put into itself would crash strata when printed.
		{text: `{{ $d := dict }}{{ $_ := set $d "self" $d }}{{ $d }}`, err: `models/me.sql:1:26: set would put a dict into itself, which never ends when it is printed (to copy it, write deepCopy)`},
		{text: `{{ $d := dict }}{{ $_ := set $d "l" (list 1 (dict "d" $d)) }}{{ $d }}`, err: `models/me.sql:1:26: set would put a dict into itself, which never ends when it is printed (to copy it, write deepCopy)`},
		{text: `{{ $d := dict "a" 1 }}{{ $_ := merge $d (dict "self" $d) }}{{ $d }}`, err: `models/me.sql:1:32: merge would put a dict into itself, which never ends when it is printed (to copy it, write deepCopy)`},
		{text: `{{ $d := dict "a" 1 }}{{ $_ := set $d "c" (deepCopy $d) }}{{ $_ := mergeOverwrite $d (dict "b" 2) }}{{ toJson $d }}`, want: `{"a":1,"b":2,"c":{"a":1}}`},
	}
	checkRenders(t, testEnv(), tests)
}

// TestBoundedSeqIsSprigs: within the limits, until, untilStep and seq make
// what sprig's do.
func TestBoundedSeqIsSprigs(t *testing.T) {
	fm := sprig.HermeticTxtFuncMap()
	ours := hermeticSprig()
	vals := []int{-7, -3, -2, -1, 0, 1, 2, 3, 7}
	for _, a := range vals {
		want := fm["until"].(func(int) []int)(a)
		got, err := ours["until"].(func(int) ([]int, error))(a)
		if err != nil || !reflect.DeepEqual(got, want) && len(got)+len(want) > 0 {
			t.Errorf("until %d: got %v, %v; want %v", a, got, err, want)
		}
		for _, b := range vals {
			want := fm["seq"].(func(...int) string)(a, b)
			got, err := ours["seq"].(func(...int) (string, error))(a, b)
			if err != nil || got != want {
				t.Errorf("seq %d %d: got %q, %v; want %q", a, b, got, err, want)
			}
			for _, c := range vals {
				want := fm["untilStep"].(func(int, int, int) []int)(a, b, c)
				got, err := ours["untilStep"].(func(int, int, int) ([]int, error))(a, b, c)
				if err != nil || !reflect.DeepEqual(got, want) && len(got)+len(want) > 0 {
					t.Errorf("untilStep %d %d %d: got %v, %v; want %v", a, b, c, got, err, want)
				}
				want2 := fm["seq"].(func(...int) string)(a, b, c)
				got2, err := ours["seq"].(func(...int) (string, error))(a, b, c)
				if err != nil || got2 != want2 {
					t.Errorf("seq %d %d %d: got %q, %v; want %q", a, b, c, got2, err, want2)
				}
			}
		}
	}
}
