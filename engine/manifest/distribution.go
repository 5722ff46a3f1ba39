package manifest

import (
	"slices"
	"strings"

	"strata/engine/diag"
	"strata/engine/project"
)

// checkDistribution reports the Citus config (SPEC 13: distributed_by,
// colocate_with, shard_count, reference) of models and seeds that no Citus
// cluster could build, at the key that set it: contradictory keys, keys on
// a kind that stores nothing, a colocate_with that names no distributed
// model or seed or would make a cycle, and unique keys and indexes that
// leave out the distribution column (Citus enforces uniqueness per shard).
// Whether the column exists is known only once the query runs. It also
// warns of reference: true on an incremental model.
func (m *Manifest) checkDistribution(diags *diag.List) {
	for _, id := range m.sorted {
		n := m.Nodes[id]
		if n.Kind != Model && n.Kind != Seed {
			continue
		}
		c := n.Config
		set := func(key string) bool { _, ok := n.ConfigPos[key]; return ok }
		if !set("distributed_by") && !set("colocate_with") && !set("shard_count") && !set("reference") {
			continue
		}
		at := func(key string) diag.Pos {
			if p, ok := n.ConfigPos[key]; ok {
				return p
			}
			return n.Pos
		}
		mat := c.Materialized
		switch mat {
		case "view", "ephemeral", "materialized_view":
			key := "distributed_by"
			if !set(key) {
				key = "reference"
			}
			switch {
			case !c.OnCitus() && c.ColocateWith == "" && c.ShardCount == 0:
			case mat == "materialized_view":
				diags.Errorf(at(key), "%s: Citus does not shard a materialized view (it stays on the coordinator): distribute the tables it reads instead", key)
			default:
				diags.Errorf(at(key), "%s: a %s stores no rows: distribute the tables it reads instead", key, mat)
			}
			continue
		}
		if c.Reference {
			for _, k := range []string{"distributed_by", "colocate_with", "shard_count"} {
				if set(k) {
					diags.Errorf(at(k), "%s: a reference table (reference: true) is copied whole to every node, so it is not sharded; remove %s, or remove reference: true to shard the table", k, k)
				}
			}
			if c.PartitionBy != nil {
				diags.Errorf(at("reference"), "reference: true: Citus partitions only distributed tables; remove partition_by, or shard the table with distributed_by")
			}
			if mat == "incremental" {
				diags.Warnf(at("reference"), "reference: true on an incremental model: every load writes its rows to every node of the cluster; fine for a small table, costly for a large one (shard it with distributed_by instead)")
			}
			continue
		}
		if c.DistributedBy == "" {
			for _, k := range []string{"colocate_with", "shard_count"} {
				if set(k) {
					diags.Errorf(at(k), "%s needs distributed_by (the column to shard the table on)", k)
				}
			}
			continue
		}
		if c.ColocateWith != "" && c.ShardCount > 0 {
			diags.Errorf(at("shard_count"), "shard_count: a table colocated with %s has %s's shards; remove shard_count (or colocate_with)", c.ColocateWith, c.ColocateWith)
		}
		if c.ColocateWith != "" {
			m.checkColocateWith(n, at("colocate_with"), diags)
		}
		col := c.DistributedBy
		switch {
		case mat == "incremental" && c.IncrementalStrategy != "append" && len(c.UniqueKey) > 0 && !slices.Contains(c.UniqueKey, col):
			diags.Errorf(at("unique_key"), "unique_key (%s) must include the distribution column %s: Citus finds a row's shard by it, so a merge or delete+insert can only match rows on it (add it to unique_key, e.g. [%s, %s])", strings.Join(c.UniqueKey, ", "), col, strings.Join(c.UniqueKey, ", "), col)
		case mat == "scd2" && len(c.UniqueKey) > 0 && !slices.Contains(c.UniqueKey, col):
			diags.Errorf(at("unique_key"), "unique_key (%s) must include the distribution column %s: each key's versions must live on one shard (or make the dimension a reference table with reference: true)", strings.Join(c.UniqueKey, ", "), col)
		}
		for _, ix := range c.Indexes {
			if ix.Unique && !slices.Contains(ix.Columns, col) {
				diags.Errorf(at("indexes"), "indexes: a unique index on (%s) must include the distribution column %s: Citus enforces uniqueness within a shard only", strings.Join(ix.Columns, ", "), col)
			}
		}
	}
}

// checkColocateWith reports a colocate_with of n that names nothing, itself,
// a model or seed that is not distributed, or one that cannot be built
// first: one built from n, or colocated, in a chain, with n.
func (m *Manifest) checkColocateWith(n *Node, at diag.Pos, diags *diag.List) {
	name := n.Config.ColocateWith
	other, ok := m.byName[name]
	if ok && other.Kind != Model && other.Kind != Seed {
		ok = false
	}
	if d := m.disabledNamed(name); !ok && d != nil {
		diags.Errorf(at, "colocate_with: %s %s is disabled (enabled: false), so its table is not built; enable it, or colocate with another distributed model or seed", d.Kind, name)
		return
	}
	if !ok {
		var names []string
		for _, id := range m.sorted {
			if k := m.Nodes[id].Kind; k == Model || k == Seed {
				names = append(names, m.Nodes[id].Name)
			}
		}
		diags.Errorf(at, "colocate_with: %q is not a model or seed of this project%s", name, diag.DidYouMean(name, names))
		return
	}
	if other == n {
		diags.Errorf(at, "colocate_with: %s names this %s itself (expected another distributed model or seed)", name, n.Kind)
		return
	}
	switch mat := other.Config.Materialized; {
	case other.Kind == Model && (mat == "view" || mat == "ephemeral" || mat == "materialized_view"):
		diags.Errorf(at, "colocate_with: model %s is a %s, not a table: it has no shards to share; colocate with a distributed table model or seed", name, strings.ReplaceAll(mat, "_", " "))
		return
	case other.Config.Reference:
		diags.Errorf(at, "colocate_with: %s %s is a reference table (reference: true), copied whole to every node: it has no shards to share; colocate with a distributed model or seed, or remove colocate_with", other.Kind, name)
		return
	case other.Config.DistributedBy == "":
		diags.Errorf(at, "colocate_with: %s %s is not distributed (it sets no distributed_by), so there are no shards to share", other.Kind, name)
		return
	}
	// The table colocated with is built first (it must exist): it must not
	// be built from this one, nor wait for it through a chain.
	if m.readsFrom(other, n) {
		diags.Errorf(at, "colocate_with: %s is built from this %s (it reads it), so it cannot be built first; colocate %s with %s instead", name, n.Kind, name, n.Name)
		return
	}
	seen := map[*Node]bool{n: true}
	for x := other; x.Config.ColocateWith != ""; {
		next, ok := m.byName[x.Config.ColocateWith]
		if !ok {
			break
		}
		if seen[next] {
			diags.Errorf(at, "colocate_with: %s and %s name each other in a chain; one of them must be the table the others colocate with", name, n.Name)
			return
		}
		seen[next] = true
		x = next
	}
}

// disabledNamed is the model or seed called name that enabled: false
// left out, or nil.
func (m *Manifest) disabledNamed(name string) *Node {
	var ids []string
	for id, n := range m.Disabled {
		if n.Name == name && (n.Kind == Model || n.Kind == Seed) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	slices.Sort(ids)
	return m.Disabled[ids[0]]
}

// readsFrom says whether node a is built from node b: b is among its
// ancestors through depends_on.
func (m *Manifest) readsFrom(a, b *Node) bool {
	seen := map[string]bool{}
	stack := slices.Clone(a.DependsOn)
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if id == b.ID {
			return true
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		if d, ok := m.Nodes[id]; ok {
			stack = append(stack, d.DependsOn...)
		}
	}
	return false
}

// Colocated is the model or seed that node n's table shares its shards
// with (colocate_with), or nil.
func (m *Manifest) Colocated(n *Node) *Node {
	if n.Config.ColocateWith == "" || !n.Config.OnCitus() {
		return nil
	}
	return m.byName[n.Config.ColocateWith]
}

// DistributionKeysSet lists the Citus keys (project.DistributionKeys) that
// the config of node n sets, in that order.
func DistributionKeysSet(n *Node) []string {
	var out []string
	for _, k := range project.DistributionKeys {
		if _, ok := n.ConfigPos[k]; ok {
			out = append(out, k)
		}
	}
	return out
}
