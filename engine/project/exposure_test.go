package project

import (
	"testing"
	"testing/fstest"
)

// An exposure's maturity: is dbt's (high, medium or low): it is kept as
// written, and another value is an error at its place, said once; left
// empty (null) it is no maturity, as in dbt, where it was refused as
// 'exposure maturity "" is not known'.
func TestExposureMaturity(t *testing.T) {
	cases := []struct {
		maturity string // as written in the YAML; "" leaves the key out
		want     string // the maturity read
		err      string // the diagnostic, exactly; "" for none
	}{
		{"", "", ""},
		{"high", "high", ""},
		{"medium", "medium", ""},
		{"low", "low", ""},
		{"hihg", "", `models/e.yml:4:15: exposure maturity "hihg" is not known (expected high, medium or low) (did you mean "high"?)`},
		{"High", "", `models/e.yml:4:15: exposure maturity "High" is not known (expected high, medium or low) (did you mean "high"?)`},
		{"null", "", ""},
		{"~", "", ""},
		{" ", "", ""}, // maturity: left empty
		{`""`, "", `models/e.yml:4:15: exposure maturity "" is not known (expected high, medium or low)`},
		{"[high]", "", `models/e.yml:4:15: maturity must be a string, got a list`},
	}
	for _, c := range cases {
		t.Run(c.maturity, func(t *testing.T) {
			yml := "exposures:\n  - name: e\n    type: dashboard\n"
			if c.maturity != "" {
				yml += "    maturity: " + c.maturity + "\n"
			}
			p, diags := Load(fstest.MapFS{"project.yaml": {Data: []byte("name: shop\n")}, "models/e.yml": {Data: []byte(yml)}})
			var got string
			for _, d := range diags {
				got += d.Error()
			}
			if got != c.err {
				t.Fatalf("diagnostics = %q, want %q", got, c.err)
			}
			if c.err != "" {
				return
			}
			if len(p.Exposures) != 1 || p.Exposures[0].Maturity != c.want {
				t.Errorf("exposures = %+v, want one with maturity %q", p.Exposures, c.want)
			}
		})
	}
}
