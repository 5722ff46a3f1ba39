package compile

import (
	"path/filepath"

	"strata/engine/manifest"
)

// Path is where Write puts a node's SQL under dir, without writing it.
func Path(dir string, n *manifest.Node) string {
	rel := n.Path
	if n.Kind == manifest.Test && n.Template == nil {
		rel = filepath.Join(filepath.Dir(n.Path), n.Name+".sql")
	}
	if rel == "" {
		rel = n.Name + ".sql"
	}
	return filepath.Join(dir, filepath.FromSlash(rel))
}
