package project

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestThresholds: a warn_if or error_if is kept as the run compares it,
// its blanks (tabs too) taken out, and one whose number no count of
// failures can be compared with is refused at its line. A tab was kept, and
// a number beyond int64 accepted: the run could not read either and took
// the threshold for "!=0", so error_if: ">\t10" failed the test at its
// first failing row.
func TestThresholds(t *testing.T) {
	for _, tc := range []struct {
		in, want, err string
	}{
		{in: ">10", want: ">10"},
		{in: " >= 5 ", want: ">=5"},
		{in: ">\t10", want: ">10"},
		{in: "!=\n0", want: "!=0"},
		{in: "<>9223372036854775807", want: "<>9223372036854775807"},
		{in: "=007", want: "=007"},
		{in: ">9223372036854775808", err: `the number of ">9223372036854775808" is too large: a count of failures is compared with a number up to 9223372036854775807`},
		{in: "> 99999999999999999999", err: `the number of ">99999999999999999999" is too large: a count of failures is compared with a number up to 9223372036854775807`},
		{in: "> ten", err: `expected a comparison with a number such as ">10" or "!=0", got "> ten"`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			for _, key := range []string{"warn_if", "error_if"} {
				var c Config
				err := c.Apply(key, tc.in)
				if tc.err != "" {
					if err == nil || err.Error() != tc.err {
						t.Errorf("%s %q: got %v, want error %s", key, tc.in, err, tc.err)
					}
					continue
				}
				got := c.WarnIf
				if key == "error_if" {
					got = c.ErrorIf
				}
				if err != nil || got != tc.want {
					t.Errorf("%s %q is %q (%v), want %q", key, tc.in, got, err, tc.want)
				}
			}
		})
	}
}

// FuzzThreshold feeds arbitrary warn_if and error_if values to their
// check: what it accepts, the run compares (run.compare), so it is an
// operator and a number of int64 without blanks, and the value as written
// but for its blanks.
func FuzzThreshold(f *testing.F) {
	for _, s := range []string{">10", "!=0", " >= 5 ", ">\t10", "=0", "==1", "<>3", "<=4", "<5", "=>5", ">-1", ">9223372036854775808", ">1e3", "> 1 0", "", ">", "0"} {
		f.Add(s)
	}
	valid := regexp.MustCompile(`^(=|==|!=|<>|>=|<=|>|<)(\d+)$`)
	f.Fuzz(func(t *testing.T, s string) {
		got, err := asThreshold(s)
		if err != nil {
			if strings.TrimSpace(err.Error()) == "" {
				t.Fatalf("%q: empty error", s)
			}
			return
		}
		m := valid.FindStringSubmatch(got)
		if m == nil {
			t.Fatalf("%q accepted as %q, which is no operator and number", s, got)
		}
		if _, err := strconv.ParseInt(m[2], 10, 64); err != nil {
			t.Fatalf("%q accepted as %q, whose number the run cannot read: %v", s, got, err)
		}
		if strings.Join(strings.Fields(s), "") != got {
			t.Fatalf("%q accepted as %q", s, got)
		}
	})
}
