package pipeline

// colocationParents makes a model or seed with colocate_with wait for the
// one it colocates with when both are in the run (subset): on Citus, its
// table is created in the other's colocation group, which must exist, and
// not be in the middle of its own swap. The loader has refused cycles.
func (l *Project) colocationParents(subset map[string]bool, parents func(string) []string) func(string) []string {
	waits := map[string]string{}
	for id := range subset {
		if other := l.Manifest.Colocated(l.Manifest.Nodes[id]); other != nil && subset[other.ID] {
			waits[id] = other.ID
		}
	}
	if len(waits) == 0 {
		return parents
	}
	return func(id string) []string {
		ps := parents(id)
		if other, ok := waits[id]; ok {
			return append(append([]string(nil), ps...), other)
		}
		return ps
	}
}
