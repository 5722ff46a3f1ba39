package template

import (
	"reflect"
	"sort"
	"testing"
)

// TestDataFields: the names a macro reads from its data are found in its
// parse tree, over every branch and through include "m" .; a macro that
// uses its data whole reads names that cannot be known.
func TestDataFields(t *testing.T) {
	tests := []struct {
		name, macros string
		want         []string // nil: not known
	}{
		{"fields", `{{ define "test_x" }}select * from {{ .relation }} where {{ ident .column }} < {{ .min_value }}{{ end }}`, []string{"column", "min_value", "relation"}},
		{"nested field counts its first name", `{{ define "test_x" }}{{ .opts.limit }}{{ end }}`, []string{"opts"}},
		{"every branch", `{{ define "test_x" }}{{ if .a }}{{ .b }}{{ else }}{{ .c }}{{ end }}{{ end }}`, []string{"a", "b", "c"}},
		{"inside range dot is the element", `{{ define "test_x" }}{{ range .values }}{{ .name }}{{ $.quote }}{{ . }}{{ end }}{{ end }}`, []string{"quote", "values"}},
		{"with: else keeps the data", `{{ define "test_x" }}{{ with .a }}{{ .inner }}{{ else }}{{ .b }}{{ end }}{{ end }}`, []string{"a", "b"}},
		{"include with the same data", `{{ define "test_x" }}{{ include "helper" . }}{{ .a }}{{ end }}{{ define "helper" }}{{ .b }}{{ include "test_x" . }}{{ end }}`, []string{"a", "b"}},
		{"include with other data", `{{ define "test_x" }}{{ include "helper" .column }}{{ end }}{{ define "helper" }}{{ .b }}{{ end }}`, []string{"column"}},
		{"template with the same data", `{{ define "test_x" }}{{ template "helper" . }}{{ end }}{{ define "helper" }}{{ .b }}{{ end }}`, []string{"b"}},
		{"index with a constant key", `{{ define "test_x" }}{{ index . "min value" "k" }}{{ end }}`, []string{"min value"}},
		{"field in a nested pipe", `{{ define "test_x" }}{{ printf "%v" (.a | upper) }}{{ end }}`, []string{"a"}},
		{"data passed whole", `{{ define "test_x" }}{{ toJson . }}{{ end }}`, nil},
		{"ranged over", `{{ define "test_x" }}{{ range $k, $v := . }}{{ $k }}{{ end }}{{ end }}`, nil},
		{"kept in a variable", `{{ define "test_x" }}{{ $d := . }}{{ $d.a }}{{ end }}`, nil},
		{"$ whole", `{{ define "test_x" }}{{ with .a }}{{ toJson $ }}{{ end }}{{ end }}`, nil},
		{"index with a computed key", `{{ define "test_x" }}{{ index . .key }}{{ end }}`, nil},
		{"include of more than the data", `{{ define "test_x" }}{{ include "helper" . 1 }}{{ end }}{{ define "helper" }}{{ end }}`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set, diags := ParseMacros([]MacroFile{{Path: "macros/m.sql", Text: tc.macros}})
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			fields, known := set.DataFields("test_x")
			var got []string
			for f := range fields {
				got = append(got, f)
			}
			sort.Strings(got)
			if known != (tc.want != nil) || !reflect.DeepEqual(got, tc.want) && tc.want != nil {
				t.Errorf("DataFields = %q, known %v; want %q, known %v", got, known, tc.want, tc.want != nil)
			}
		})
	}
	set, _ := ParseMacros(nil)
	if _, known := set.DataFields("test_missing"); known {
		t.Errorf("DataFields of an undefined macro is known")
	}
}
