package manifest

import (
	"strings"

	"strata/engine/diag"
	"strata/engine/materialize"
	"strata/engine/pgname"
)

// checkRelations reports the relations that models and seeds cannot build:
// names PostgreSQL would cut, names strata reserves, two nodes building
// one relation (the last would silently replace the other's data), and a
// relation named like an index or partition strata derives from another node.
func (m *Manifest) checkRelations(diags *diag.List) {
	builders := map[pgname.Rel]*Node{}
	for _, id := range m.sorted {
		n := m.Nodes[id]
		if !buildsRelation(n) {
			continue
		}
		checkRelationNames(n, diags)
		key := n.Relation.Kept()
		if prev, dup := builders[key]; dup && prev.Name == n.Name {
			continue // reported by the loader: names are unique across models and seeds
		} else if dup {
			diags.Errorf(clashPos(prev, n), "%s %s (%s) and %s %s (%s) both build the relation %s (expected each model and seed to build its own: set a different alias or schema)",
				prev.Kind, prev.Name, prev.Path, n.Kind, n.Name, n.Path, key.Quoted())
			continue
		}
		builders[key] = n
	}
	m.checkDerivedClashes(builders, diags)
}

// derived is a relation strata creates beside a node's own: an index or a
// partition, named after the node's relation.
type derived struct {
	node *Node
	what string // "index" or "partition"
	desc string // an index as its config says it: index {columns: [a, b]}
}

// checkDerivedClashes reports a model or seed whose relation has the name of
// an index or partition that strata creates for another node in the same
// schema: PostgreSQL keeps tables and indexes in one namespace per schema,
// so one of the two would fail to build at run time.
func (m *Manifest) checkDerivedClashes(builders map[pgname.Rel]*Node, diags *diag.List) {
	made := map[pgname.Rel]derived{}
	partitioned := map[pgname.Rel]*Node{}
	for _, id := range m.sorted {
		n := m.Nodes[id]
		if !buildsRelation(n) {
			continue
		}
		schema := n.Relation.Kept().Schema
		for _, ix := range indexesOf(n) {
			key := pgname.Rel{Schema: schema, Name: ix.name}
			prev := made[key]
			if prev.node == nil {
				made[key] = derived{n, "index", ix.what}
				continue
			}
			// PostgreSQL holds one relation of a name per schema: the build
			// would fail on the second index, or (creating only the indexes
			// a table it keeps lacks) leave it out without a word.
			if prev.node == n {
				diags.Errorf(indexesPos(n), "%s %s: its %s and its %s would both be named %s (strata names an index <relation>__<columns joined by _>_idx, or _uidx when unique), and PostgreSQL holds one index of a name in a schema (expected indexes whose names differ: leave one out, or create it in a post_hook under a name of your own)",
					n.Kind, n.Name, prev.desc, ix.what, key.Quoted())
			} else {
				diags.Errorf(indexesPos(n), "%s %s: its %s would be named %s, as the %s of %s %s (%s) is, and PostgreSQL holds one index of a name in a schema (expected another alias or schema for one of them, or the index created in a post_hook under a name of your own)",
					n.Kind, n.Name, ix.what, key.Quoted(), prev.desc, prev.node.Kind, prev.node.Name, prev.node.Path)
			}
		}
		if isPartitioned(n) {
			partitioned[pgname.Rel{Schema: schema, Name: n.Relation.Name}] = n
		}
	}
	for _, id := range m.sorted {
		n := m.Nodes[id]
		if !buildsRelation(n) {
			continue
		}
		key := n.Relation.Kept()
		if builders[key] != n {
			continue // its clash with the node that builds the same relation is reported
		}
		d, ok := made[key]
		if !ok {
			d, ok = partitionOwner(partitioned, key)
		}
		if ok && d.node != n {
			diags.Errorf(namePos(n), "%s %s (%s) builds the relation %s, which is the name of the %s strata creates for %s %s (%s) (expected another name: set an alias for one of them)",
				n.Kind, n.Name, n.Path, key.Quoted(), d.what, d.node.Kind, d.node.Name, d.node.Path)
		}
	}
}

// namedIndex is an index strata creates, its name and what it is.
type namedIndex struct{ name, what string }

// indexesOf are the indexes strata creates on n's relation: those of its
// indexes: config (a view has none) and an scd2 model's own two.
func indexesOf(n *Node) []namedIndex {
	var out []namedIndex
	if n.Config.Materialized != "view" {
		for _, ix := range n.Config.Indexes {
			what := "index {columns: [" + strings.Join(ix.Columns, ", ") + "]"
			if ix.Unique {
				what += ", unique: true"
			}
			if ix.Type != "" {
				what += ", type: " + ix.Type
			}
			out = append(out, namedIndex{materialize.IndexName(n.Relation.Name, ix), what + "}"})
		}
	}
	if n.Kind == Model && n.Config.Materialized == "scd2" {
		d := &materialize.SCD2{Target: n.Relation}
		out = append(out, namedIndex{d.SurrogateKeyIndex(), "scd2 index on its surrogate key"},
			namedIndex{d.HistoryIndex(), "scd2 index on its unique key and valid_from"})
	}
	return out
}

// indexesPos is where n's indexes are configured, else n itself.
func indexesPos(n *Node) diag.Pos {
	if p, ok := n.ConfigPos["indexes"]; ok {
		return p
	}
	return n.Pos
}

// isPartitioned says whether n is built as a partitioned table.
func isPartitioned(n *Node) bool {
	pb := n.Config.PartitionBy
	return n.Kind == Model && pb != nil && pb.Column != "" && (n.Config.Materialized == "table" || n.Config.Materialized == "incremental")
}

// partitionOwner finds the partitioned node that would name one of its
// partitions like rel: <base>_p<period> or <base>_pdefault, as
// pgname.Partition derives them.
func partitionOwner(partitioned map[pgname.Rel]*Node, rel pgname.Rel) (derived, bool) {
	name := rel.Name
	end := len(name)
	for end > 0 && name[end-1] >= '0' && name[end-1] <= '9' {
		end--
	}
	suffix := name[end:]
	if strings.HasSuffix(name, "_pdefault") {
		end, suffix = len(name)-len("default"), "default"
	}
	base, ok := strings.CutSuffix(name[:end], "_p")
	if !ok {
		return derived{}, false
	}
	p := partitioned[pgname.Rel{Schema: rel.Schema, Name: base}]
	if p == nil || suffix != "default" && len(suffix) != materialize.PeriodDigits(p.Config.PartitionBy.Granularity) {
		return derived{}, false
	}
	return derived{p, "partition", ""}, pgname.Partition(p.Relation.Name, suffix) == name
}

// buildsRelation says whether n is a model or seed with a relation of its
// own; an ephemeral model is a CTE inside its users.
func buildsRelation(n *Node) bool {
	return n.Kind == Seed || (n.Kind == Model && !n.Ephemeral())
}

// checkRelationNames reports the names of n's relation that PostgreSQL would
// cut or that strata reserves.
func checkRelationNames(n *Node, diags *diag.List) {
	r := n.Relation
	if len(r.Name) > pgname.MaxIdent {
		diags.Errorf(namePos(n), "%s %s: relation name %q is %d bytes, longer than PostgreSQL's %d (expected a shorter file name or alias)", n.Kind, n.Name, r.Name, len(r.Name), pgname.MaxIdent)
	}
	if len(r.Schema) > pgname.MaxIdent {
		diags.Errorf(schemaPos(n), "%s %s: schema name %q is %d bytes, longer than PostgreSQL's %d (expected a shorter schema or schema_prefix)", n.Kind, n.Name, r.Schema, len(r.Schema), pgname.MaxIdent)
	}
	if strings.Contains(r.Name, pgname.Reserved) {
		diags.Errorf(namePos(n), "%s %s: relation name %q contains %q, which strata reserves for its own relations (expected another file name or alias)", n.Kind, n.Name, r.Name, pgname.Reserved)
	}
	if key := materialize.DefaultSurrogateKey(n.Name); n.Config.Materialized == "scd2" && len(key) > pgname.MaxIdent && !hasSurrogateKey(n) {
		diags.Errorf(n.Pos, "model %s: its scd2 surrogate key column %q is %d bytes, longer than PostgreSQL's %d (name it with scd2_columns: {surrogate_key: ...})", n.Name, key, len(key), pgname.MaxIdent)
	}
	if n.Kind == Model && n.Config.Materialized == "scd2" && n.Config.SCD2Columns != nil {
		checkSCD2Columns(n, diags)
	}
	checkColumnNames(n, diags)
}

// checkColumnNames reports the columns that n's config and YAML name with
// more than PostgreSQL's 63 bytes. PostgreSQL cuts such a name wherever
// SQL holds it, so the column is made under the cut name and tests read it
// there, but strata looks for it by the name as written: a later build of
// an incremental model with such a unique_key said 'the model returns no
// column ...', of a column the model returns.
func checkColumnNames(n *Node, diags *diag.List) {
	at := func(key string) diag.Pos {
		if p, ok := n.ConfigPos[key]; ok {
			return p
		}
		return n.Pos
	}
	long := func(pos diag.Pos, what, name string) {
		if len(name) > pgname.MaxIdent {
			diags.Errorf(pos, "%s: column name %q is %d bytes, longer than PostgreSQL's %d, which cuts it to %q (expected a name of at most %d bytes: give the column a shorter one, in the model and here)",
				what, name, len(name), pgname.MaxIdent, pgname.Cut(name, pgname.MaxIdent), pgname.MaxIdent)
		}
	}
	c := n.Config
	for _, k := range c.UniqueKey {
		long(at("unique_key"), "unique_key", k)
	}
	long(at("updated_at"), "updated_at", c.UpdatedAt)
	for _, k := range c.CheckCols {
		long(at("check_cols"), "check_cols", k)
	}
	if c.PartitionBy != nil {
		long(at("partition_by"), "partition_by", c.PartitionBy.Column)
	}
	for _, ix := range c.Indexes {
		for _, col := range ix.Columns {
			long(at("indexes"), "indexes", col)
		}
	}
	long(at("distributed_by"), "distributed_by", c.DistributedBy)
	for _, col := range n.Columns {
		long(col.Pos, "columns", col.Name)
	}
}

// checkSCD2Columns reports the bookkeeping columns scd2_columns names that
// the dimension cannot have: a name PostgreSQL would cut (the first build
// made the column under the cut name, and the next one, looking for the
// name as written, took the dimension for one built otherwise), or one
// column named for two (the build failed, "specified more than once").
func checkSCD2Columns(n *Node, diags *diag.List) {
	sc := n.Config.SCD2Columns
	cols := []struct{ key, name string }{
		{"valid_from", sc.ValidFrom}, {"valid_to", sc.ValidTo}, {"is_current", sc.IsCurrent},
		{"surrogate_key", sc.SurrogateKey}, {"is_deleted", ""},
	}
	given := map[string]bool{}
	for i, c := range cols {
		given[c.key] = c.name != ""
		if c.name == "" {
			cols[i].name = c.key
		}
	}
	if !given["surrogate_key"] {
		cols[3].name = materialize.DefaultSurrogateKey(n.Name)
	}
	if n.Config.HardDeletes != "new_record" {
		cols = cols[:4]
	}
	seen := map[string]string{}
	for _, c := range cols {
		if !given[c.key] {
			seen[c.name] = c.key
		}
	}
	for _, c := range cols {
		if !given[c.key] {
			continue
		}
		pos := n.EntryPos("scd2_columns", c.key)
		if len(c.name) > pgname.MaxIdent {
			diags.Errorf(pos, "scd2_columns: %s: column name %q is %d bytes, longer than PostgreSQL's %d, which would cut it (expected a shorter name)", c.key, c.name, len(c.name), pgname.MaxIdent)
			continue
		}
		if other, dup := seen[c.name]; dup {
			what := "model " + n.Name + "'s " + other + " column"
			if !given[other] {
				what += ", by default"
			}
			diags.Errorf(pos, "scd2_columns: %s: %q already names %s (expected a column of its own for each of valid_from, valid_to, is_current and surrogate_key, and is_deleted with hard_deletes: new_record)", c.key, c.name, what)
			continue
		}
		seen[c.name] = c.key
	}
}

func hasSurrogateKey(n *Node) bool {
	return n.Config.SCD2Columns != nil && n.Config.SCD2Columns.SurrogateKey != ""
}

// clashPos is where to report that a and b build one relation: at the alias
// or schema that moved one of them there, else at b.
func clashPos(a, b *Node) diag.Pos {
	for _, n := range []*Node{b, a} {
		if n.Config.Alias != "" {
			return namePos(n)
		}
		if n.Config.Schema != "" {
			return schemaPos(n)
		}
	}
	return b.Pos
}

// namePos is where the name of n's relation is set: its alias, or its file.
func namePos(n *Node) diag.Pos {
	if p, ok := n.ConfigPos["alias"]; ok && n.Config.Alias != "" {
		return p
	}
	return n.Pos
}

// schemaPos is where the schema of n's relation is set, or its file.
func schemaPos(n *Node) diag.Pos {
	if p, ok := n.ConfigPos["schema"]; ok && n.Config.Schema != "" {
		return p
	}
	return n.Pos
}
