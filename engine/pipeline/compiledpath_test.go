package pipeline

import (
	"testing"

	"strata/engine/manifest"
)

// manifest.json names no compiled file outside target/compiled.
func TestCompiledPathStaysUnderTarget(t *testing.T) {
	cases := []struct {
		node *manifest.Node
		want string
	}{
		{&manifest.Node{Kind: manifest.Model, Name: "a", Path: "models/a.sql"}, "target/compiled/models/a.sql"},
		{&manifest.Node{Kind: manifest.Test, Name: "not_null_a_id", Path: "models/a.yml"}, "target/compiled/models/a.yml/not_null_a_id.sql"},
		{&manifest.Node{Kind: manifest.Test, Name: "../../../../escaped", Path: "models/a.yml"}, ""},
	}
	for _, c := range cases {
		if got := compiledPath(c.node); got != c.want {
			t.Errorf("compiledPath(%s) = %q, want %q", c.node.Name, got, c.want)
		}
	}
}
