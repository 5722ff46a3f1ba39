package project

import (
	"reflect"
	"testing"
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
