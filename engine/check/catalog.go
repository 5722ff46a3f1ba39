package check

import (
	"context"

	"github.com/jackc/pgx/v5"

	"strata/engine/adapter/postgres"
	"strata/engine/pgname"
)

// readCatalog reads back, in three round trips, the columns of every node
// check created or used, and the columns each view it created reads in
// the others.
func (c *checker) readCatalog(ctx context.Context, tx pgx.Tx) error {
	var rels []pgname.Rel
	for _, j := range c.jobs {
		if j.rel.Name != "" && c.ok(j) {
			rels = append(rels, j.rel)
		}
	}
	found, err := postgres.Lookup(ctx, tx, rels)
	if err != nil {
		return err
	}
	byOID := map[uint32]string{}
	var oids, views []uint32
	for _, j := range c.jobs {
		f, ok := found[j.rel]
		if j.rel.Name == "" || !ok || !c.ok(j) {
			continue
		}
		byOID[f.OID] = j.n.ID
		oids = append(oids, f.OID)
		if j.view && !j.existing {
			views = append(views, f.OID)
		}
	}
	cols, err := postgres.ColumnsOf(ctx, tx, oids)
	if err != nil {
		return err
	}
	for oid, id := range byOID {
		for _, col := range cols[oid] {
			c.res.Nodes[id].Columns = append(c.res.Nodes[id].Columns, Column{Name: col.Name, Type: col.Type})
		}
	}
	reads, err := postgres.ColumnsRead(ctx, tx, views)
	if err != nil {
		return err
	}
	for _, r := range reads {
		reader, from := byOID[r.View], byOID[r.Rel]
		// A relation that is no node (a catalog table, or the relation a
		// selected model stands in for, which its {{ this }} reads) is
		// not an upstream column.
		if reader == "" || from == "" {
			continue
		}
		n := c.res.Nodes[reader]
		n.ColumnsUsed = append(n.ColumnsUsed, ColumnRef{Node: from, Column: r.Column})
	}
	for _, n := range c.res.Nodes {
		n.ColumnsUsed = uniqueSorted(n.ColumnsUsed)
	}
	return nil
}

// ok says whether job j ended well: its node is usable.
func (c *checker) ok(j *job) bool {
	s := c.res.Nodes[j.n.ID].Status
	return s == OK || s == Existing
}
