package compile

import (
	"fmt"
	"path/filepath"
	"strings"

	"strata/engine/manifest"
)

// RelPath is where a node's SQL goes, relative to target/compiled (or
// target/run). A node with a file of its own (a model, a singular test)
// goes to that file's path. A test declared in YAML goes under a folder
// named after its YAML file, which no file of the project can be under:
// a data test to <yaml file>/<name>.sql, a unit test to
// <yaml file>/unit_tests/<name>.sql (a test name has no /), so a test
// named like a model, or a unit test like a data test, never writes over
// the other's SQL. A path that would leave that folder is an error: test
// names are checked when the manifest is built, this keeps a name that
// slipped through from writing anywhere else on disk.
func RelPath(n *manifest.Node) (string, error) {
	rel := n.Path
	switch {
	case n.IsUnit():
		rel = filepath.Join(filepath.FromSlash(n.Path), "unit_tests", n.Name+".sql")
	case n.Kind == manifest.Test && n.Template == nil:
		rel = filepath.Join(filepath.FromSlash(n.Path), n.Name+".sql")
	}
	if rel == "" {
		rel = n.Name + ".sql"
	}
	rel = filepath.Clean(filepath.FromSlash(rel))
	up := ".." + string(filepath.Separator)
	if filepath.IsAbs(rel) || rel == "." || rel == ".." || strings.HasPrefix(rel, up) || strings.ContainsRune(rel, 0) {
		return "", fmt.Errorf("%s %s: its compiled file %q would be outside target/compiled", n.Kind, n.Name, rel)
	}
	return rel, nil
}

// Path is where Write puts a node's SQL under dir, without writing it.
func Path(dir string, n *manifest.Node) (string, error) {
	rel, err := RelPath(n)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, rel), nil
}
