package project

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestCheckSeedDelimiter(t *testing.T) {
	const expected = " is not allowed (expected one ASCII character other than a quote or a line break)"
	tests := []struct {
		d, want string
	}{
		{",", ""},
		{";", ""},
		{"\t", ""},
		{"|", ""},
		{"é", `delimiter "é"` + expected},
		{"\"", `delimiter "\""` + expected},
		{"\n", `delimiter "\n"` + expected},
		{"\r", `delimiter "\r"` + expected},
		{"\x00", `delimiter "\x00"` + expected},
		{"\xff", `delimiter "\xff"` + expected},
		{"", `delimiter ""` + expected},
		{";;", `delimiter ";;"` + expected},
	}
	for _, tc := range tests {
		err := CheckSeedDelimiter(tc.d)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("CheckSeedDelimiter(%q) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestCheckSeedColumnType(t *testing.T) {
	const expected = " is not a PostgreSQL type name strata accepts (expected words, numbers in parentheses and [], like numeric(12, 2), varchar(20) or timestamp(3) with time zone)"
	tests := []struct {
		typ, want string
	}{
		{"text", ""},
		{"numeric(12, 2)", ""},
		{"timestamp(3) with time zone", ""},
		{"character varying(20)[]", ""},
		{"public.money_type", ""},
		{" date ", ""},
		{"int); drop table x; --", `"int); drop table x; --"` + expected},
		{"int, evil int", `"int, evil int"` + expected},
		{"größe", `"größe"` + expected},
		{"", `""` + expected},
	}
	for _, tc := range tests {
		err := CheckSeedColumnType(tc.typ)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("CheckSeedColumnType(%q) = %q, want %q", tc.typ, got, tc.want)
		}
	}
}

// TestLoadSeedConfigChecks: validate reports a delimiter or column type the
// seed loader would reject at its position, and accepts what it would load.
func TestLoadSeedConfigChecks(t *testing.T) {
	tests := []struct {
		name, config, want string
	}{
		{"non-ascii delimiter", `{delimiter: "é"}`, `seeds/s.yml:3:25: delimiter: delimiter "é" is not allowed`},
		{"quote delimiter", `{delimiter: "\""}`, `seeds/s.yml:3:25: delimiter: delimiter "\"" is not allowed`},
		{"newline delimiter", `{delimiter: "\n"}`, `seeds/s.yml:3:25: delimiter: delimiter "\n" is not allowed`},
		{"two-word type with precision", `{column_types: {id: "timestamp(3) with time zone"}}`, ""},
		{"injection", `{column_types: {id: "int); drop table x"}}`, `seeds/s.yml:3:28: column_types: id: "int); drop table x" is not a PostgreSQL type name strata accepts`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{
				"project.yaml": {Data: []byte("name: shop\n")},
				"seeds/s.csv":  {Data: []byte("id\n1\n")},
				"seeds/s.yml":  {Data: []byte("seeds:\n  - name: s\n    config: " + tc.config + "\n")},
			}
			_, diags := Load(fsys)
			got := diags.Error()
			if tc.want == "" && diags.HasErrors() {
				t.Errorf("unexpected errors: %s", got)
			}
			if tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("errors:\n%s\nwant one containing %q", got, tc.want)
			}
		})
	}
}
