package manifest

import (
	"fmt"

	"strata/engine/diag"
)

// RefPos returns where n's template refs name (the first such ref), so that
// an error about that dependency points at the ref; n's own position when n
// has no such ref (an exposure's depends_on, say).
func (n *Node) RefPos(name string) diag.Pos {
	if n.Template != nil {
		for _, r := range n.Template.Refs {
			if len(r.Args) == 1 && r.Args[0] == name {
				return r.Pos
			}
		}
	}
	return n.Pos
}

// disabledDep is the error for node n depending on the disabled node dep
// (id), placed at n's ref to it when n has one.
func disabledDep(n *Node, id string, dep *Node) diag.Diagnostic {
	if dep == nil {
		return diag.Diagnostic{Pos: n.Pos, Msg: fmt.Sprintf("%s %s depends on %s, which is disabled", n.Kind, n.Name, id)}
	}
	if pos := n.RefPos(dep.Name); pos != n.Pos {
		return diag.Diagnostic{Pos: pos, Msg: fmt.Sprintf("ref %q: %s %s is disabled (enabled: false)", dep.Name, dep.Kind, dep.Name)}
	}
	return diag.Diagnostic{Pos: n.Pos, Msg: fmt.Sprintf("%s %s depends on %s %s, which is disabled (enabled: false)", n.Kind, n.Name, dep.Kind, dep.Name)}
}
