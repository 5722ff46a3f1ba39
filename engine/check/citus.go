package check

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"

	"strata/engine/adapter/postgres"
	"strata/engine/diag"
	"strata/engine/manifest"
	"strata/engine/materialize"
	"strata/engine/pgname"
)

// readPlacements reads, on a Citus cluster and before check sets anything
// aside, how the table of each selected table, incremental or scd2 model
// that exists sits on the cluster, the table each colocates with
// (colocate_with), and the tables of the models and seeds that colocate
// with it: what misplaced holds them against. Not for plan
// (ColumnsOnly), which says it in its own words, nor when typing the
// inputs of unit tests (LeaveExisting).
func (c *checker) readPlacements(ctx context.Context, tx pgx.Tx, obs *observed) error {
	c.placed = nil
	if !c.citus || c.opt.ColumnsOnly || c.opt.LeaveExisting {
		return nil
	}
	c.placed = map[pgname.Rel]materialize.Placed{}
	read := func(rel pgname.Rel) error {
		if _, ok := c.placed[rel.Kept()]; ok {
			return nil
		}
		p, err := postgres.Placed(ctx, tx, rel)
		if err != nil {
			return fmt.Errorf("reading how %s is placed on the Citus cluster: %w", rel, err)
		}
		c.placed[rel.Kept()] = materialize.Placed(p)
		return nil
	}
	c.colocatedWith = map[string][]*manifest.Node{}
	for _, n := range c.p.M.Nodes {
		if other := c.p.M.Colocated(n); other != nil {
			c.colocatedWith[other.ID] = append(c.colocatedWith[other.ID], n)
		}
	}
	for id := range c.selected {
		n := c.p.M.Nodes[id]
		if n == nil || n.Kind != manifest.Model || n.Config.Materialized != "table" && n.Config.Materialized != "incremental" && n.Config.Materialized != "scd2" {
			continue
		}
		if f, ok := obs.found(n); !ok || f.Kind != "table" && f.Kind != "partitioned_table" {
			continue
		}
		if err := read(n.Relation); err != nil {
			return err
		}
		if other := c.p.M.Colocated(n); other != nil {
			if err := read(c.colocatedRel(other)); err != nil {
				return err
			}
		}
		for _, x := range c.colocatedWith[id] {
			if !c.selected[x.ID] {
				if err := read(x.Relation); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// colocatedRel is the relation of other, the model or seed a
// colocate_with names: in an environment, production's when the
// environment does not build it, as the build colocates with.
func (c *checker) colocatedRel(other *manifest.Node) pgname.Rel {
	if deferred, ok := c.p.C.Defer[other.ID]; ok {
		return deferred
	}
	return other.Relation
}

// misplaced holds selected table, incremental or scd2 model n, whose
// table exists, against where its config puts it on the Citus cluster, as
// its next build would. A build that loads into the table (loads: an
// incremental load, an scd2 update) refuses one placed otherwise, since a
// load never moves the rows there (materialize.SamePlacement): n fails
// with the build's words, at the config key the build names. A build
// that rebuilds it (a table model's, or --full-refresh) moves it: a note
// says so, and names the tables colocated with it that the build leaves
// in its old colocation group (leftBehind). The table
// colocate_with names is taken as this build leaves it: a selected table
// model or seed moves to its shard_count when it is rebuilt, before n's
// build, which then finds n no longer colocated with it.
func (c *checker) misplaced(n *manifest.Node, out *Node, loads bool) {
	placed, ok := c.placed[n.Relation.Kept()]
	if !ok {
		return
	}
	m := materialize.Model{Rel: n.Relation, Config: n.Config}
	var with *materialize.Placed
	if cfg := n.Config; cfg.OnCitus() {
		m.Dist = &materialize.Distribution{Column: cfg.DistributedBy, Reference: cfg.Reference, ShardCount: cfg.ShardCount}
		if other := c.p.M.Colocated(n); other != nil {
			rel := c.colocatedRel(other)
			m.Dist.Colocate, m.Dist.ColocateName = &rel, other.Name
			if w, ok := c.placed[rel.Kept()]; ok {
				if to := materialize.ShardsMoveTo(other.Config, w); to > 0 && c.selected[other.ID] && c.rebuilds(other) {
					w.Shards, w.Colocation = to, -1 // a new colocation group
				}
				with = &w
			}
		}
	}
	msg, keys := materialize.Misplaced(m, &placed, with)
	if msg == "" {
		return
	}
	if !loads {
		is, want, _ := materialize.Wanted(m.Dist, placed, with)
		var note string
		switch n.Config.Materialized {
		case "table":
			note = fmt.Sprintf("%s (table, %s) is %s, but its config makes it %s: build rebuilds it there, as it rebuilds a table model every time", n.Name, n.Relation, is, want)
		case "scd2":
			note = fmt.Sprintf("%s (scd2, %s) is %s, but its config makes it %s: build --full-refresh --full-refresh-scd2 rebuilds it there, without its history (without them, build refuses to add versions to it)", n.Name, n.Relation, is, want)
		default:
			note = fmt.Sprintf("%s (incremental, %s) is %s, but its config makes it %s: build --full-refresh rebuilds it there (without --full-refresh, build refuses to load rows into it)", n.Name, n.Relation, is, want)
		}
		c.res.Notes = append(c.res.Notes, note+c.leftBehind(n, m.Dist, placed, with))
		return
	}
	// Where the build places it: at the key, else in the model's file.
	pos := diag.Pos{File: n.Path}
	for _, k := range keys {
		if at, ok := n.ConfigPos[k]; ok && at.File != "" {
			pos = at
			break
		}
	}
	c.failWith(out, []diag.Diagnostic{{Pos: pos, Severity: diag.Error, Msg: msg}})
}

// rebuilds says whether this build (check's options) builds model or seed
// n's table anew, placed as its config says, rather than loading into it:
// a table model always, a seed placed otherwise than its config (its
// loader loads it again in full), an incremental model or scd2 dimension
// under --full-refresh.
func (c *checker) rebuilds(n *manifest.Node) bool {
	if n.Kind == manifest.Seed {
		return true
	}
	switch n.Config.Materialized {
	case "table":
		return true
	case "incremental", "scd2":
		return c.opt.FullRefresh
	}
	return false
}

// leftBehind is what misplaced's note adds of the tables colocated with
// model n (colocate_with: n) that this build does not select, when the
// build moves n's table, placed as placed, out of its colocation group
// (to other shards, to the group of the table it colocates with, placed
// as with, or off the distributed tables): they stay in the old group,
// no longer colocated with n, until each is built again; "" when there
// is none.
func (c *checker) leftBehind(n *manifest.Node, d *materialize.Distribution, placed materialize.Placed, with *materialize.Placed) string {
	if placed.Method != "distributed" {
		return ""
	}
	moves := d == nil || d.Reference || materialize.ShardsMoveTo(n.Config, placed) > 0 ||
		d.Colocate != nil && with != nil && with.Method == "distributed" && with.Colocation != placed.Colocation
	if !moves {
		return ""
	}
	var left []string
	for _, x := range c.colocatedWith[n.ID] {
		if c.selected[x.ID] {
			continue
		}
		p, ok := c.placed[x.Relation.Kept()]
		if !ok || p.Method != "distributed" || p.Colocation != placed.Colocation {
			continue
		}
		what := x.Config.Materialized
		if x.Kind == manifest.Seed {
			what = "seed"
		}
		left = append(left, fmt.Sprintf("%s (%s, %s)", x.Name, what, x.Relation))
	}
	if len(left) == 0 {
		return ""
	}
	sort.Strings(left)
	verb, them, shards := "stays", "it", fmt.Sprintf("%d shards", placed.Shards)
	if len(left) > 1 {
		verb, them = "stay", "them"
	}
	if placed.Shards == 1 {
		shards = "1 shard"
	}
	return fmt.Sprintf("; colocated with it and not selected, %s %s in its old colocation group (%s), no longer colocated with it, until built again (select %s too; an incremental model or scd2 dimension with --full-refresh)",
		strings.Join(left, ", "), verb, shards, them)
}
