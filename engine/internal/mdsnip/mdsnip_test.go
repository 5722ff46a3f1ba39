package mdsnip

import (
	"reflect"
	"testing"
)

func TestParse(t *testing.T) {
	cases := []struct {
		name, text string
		want       []Block
		err        string
	}{
		{"a marked block", "text\n\n<!-- yaml: project.yaml -->\n```yaml\nname: shop\n```\n",
			[]Block{{File: "p.md", Line: 4, Lang: "yaml", Kind: "project.yaml", Text: "name: shop\n"}}, ""},
		{"the marker a blank line above", "<!-- yaml: other: a workflow -->\n\n```yaml\non: push\n```\n",
			[]Block{{File: "p.md", Line: 3, Lang: "yaml", Kind: "other: a workflow", Text: "on: push\n"}}, ""},
		{"a marker above other text is not the block's", "<!-- yaml: model -->\nsome text\n```yaml\na: 1\n```\n",
			[]Block{{File: "p.md", Line: 3, Lang: "yaml", Text: "a: 1\n"}}, ""},
		{"inside a list item, indented", "- item:\n\n  <!-- yaml: model -->\n  ```yaml\n  config:\n    a: 1\n  ```\n",
			[]Block{{File: "p.md", Line: 4, Lang: "yaml", Kind: "model", Text: "config:\n  a: 1\n"}}, ""},
		{"two blocks, a bare one and CRLF", "```\r\nout\r\n```\r\n```sh\r\nbin/strata build\r\n```\r\n",
			[]Block{{File: "p.md", Line: 1, Text: "out\n"}, {File: "p.md", Line: 4, Lang: "sh", Text: "bin/strata build\n"}}, ""},
		{"a fence in text is no block", "write ```yaml``` to open one\n", nil, ""},
		{"unclosed", "ok\n```sh\nbin/strata build\n", nil, "p.md:2: the block opened here is never closed with ```"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Parse("p.md", c.text)
			if c.err != "" {
				if err == nil || err.Error() != c.err {
					t.Fatalf("err = %v, want %s", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("Parse =\n%+v\nwant\n%+v", got, c.want)
			}
		})
	}
}
