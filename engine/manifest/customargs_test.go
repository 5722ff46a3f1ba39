package manifest

import (
	"testing"
)

// TestCustomTestArgumentsTheMacroReads: an argument of a custom generic test
// that its macro never reads is reported where it is written, with the
// nearest config key or argument (at its value: the position kept for it);
// one the macro reads, or any argument of a macro that uses its data whole,
// is fine.
func TestCustomTestArgumentsTheMacroReads(t *testing.T) {
	const positive = `{{ define "test_positive" }}select * from {{ .relation }} where {{ ident .column }} < {{ .min_value }}{{ end }}`
	const whole = `{{ define "test_positive" }}select {{ toJson . | literal }}{{ end }}`
	cases := []struct {
		name, macro, test string
		want              []string // the problems, in order
	}{
		{"arguments it reads", positive, "positive: {min_value: 5, severity: warn}", nil},
		{"config key typo", positive, "positive: {serverity: warn, min_value: 5}", []string{
			`models/m.yml:6:35: test positive: argument "serverity" is not read by macro test_positive (expected a test config key (severity, warn_if, error_if, where, limit, store_failures, name, tags, enabled) or an argument it reads (min_value)) (did you mean "severity"?)`}},
		{"argument typo", positive, "positive: {min_valeu: 5}", []string{
			`models/m.yml:6:35: test positive: argument "min_valeu" is not read by macro test_positive (expected a test config key (severity, warn_if, error_if, where, limit, store_failures, name, tags, enabled) or an argument it reads (min_value)) (did you mean "min_value"?)`}},
		{"two unread", positive, "positive: {min_value: 5, wehre: x, zzz: 1}", []string{
			`models/m.yml:6:45: test positive: argument "wehre" is not read by macro test_positive (expected a test config key (severity, warn_if, error_if, where, limit, store_failures, name, tags, enabled) or an argument it reads (min_value)) (did you mean "where"?)`,
			`models/m.yml:6:53: test positive: argument "zzz" is not read by macro test_positive (expected a test config key (severity, warn_if, error_if, where, limit, store_failures, name, tags, enabled) or an argument it reads (min_value))`}},
		{"macro uses its data whole", whole, "positive: {anything: 1}", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, diags := buildWithDiags(t, map[string]string{
				"macros/tests.sql": c.macro,
				"models/m.sql":     "select 1 as v",
				"models/m.yml":     "models:\n  - name: m\n    columns:\n      - name: v\n        tests:\n          - " + c.test + "\n",
			})
			var got []string
			for _, d := range diags {
				got = append(got, d.Error())
			}
			if len(got) != len(c.want) {
				t.Fatalf("got problems %q, want %q", got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Errorf("problem %d:\n got %s\nwant %s", i, got[i], c.want[i])
				}
			}
		})
	}
}
