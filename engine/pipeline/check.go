package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"strata/engine/adapter/postgres"
	"strata/engine/artifacts"
	"strata/engine/check"
	"strata/engine/graph"
	"strata/engine/manifest"
	"strata/engine/project"
	"strata/engine/state"
)

// Check proves the selected nodes against db in a transaction that is
// rolled back (docs/check.md): see engine/check. What it found is the Result;
// WriteCheck keeps it.
func (l *Project) Check(ctx context.Context, db *postgres.Adapter, selected map[string]bool, opt check.Options) (*check.Result, error) {
	p := check.Project{M: l.Manifest, G: l.Graph, C: l.Compiler, Compiled: l.Compiled, Dir: l.Dir, Config: l.Project.Check,
		RunHooks: len(l.Project.OnRunStart) + len(l.Project.OnRunEnd)}
	if !opt.LeaveExisting && !opt.ColumnsOnly {
		// A model that was an scd2 dimension is refused another
		// materialization, as the build refuses it; a state that does not
		// read leaves that to the build.
		if recs, err := state.Read(ctx, db.Shared(), l.Scope()); err == nil {
			var ids []string
			for id := range selected {
				ids = append(ids, id)
			}
			p.WasSCD2 = wasSCD2(l.Manifest, ids, recs)
		}
	}
	return check.Run(ctx, db, p, selected, opt)
}

// checkState is target/check.json as this process knows it, and the
// lineage checksums that say which of its entries are still current.
type checkState struct {
	once        sync.Once
	res         *artifacts.CheckResults // nil when there is none
	err         error
	lineageOnce sync.Once
	sums        map[string]string
}

// lineage is the lineage checksum of node id (see lineageSums).
func (l *Project) lineage(id string) string {
	l.check.lineageOnce.Do(func() { l.check.sums = l.lineageSums() })
	return l.check.sums[id]
}

// checkPath is target/check.json.
func (l *Project) checkPath() string { return filepath.Join(l.TargetDir(), "check.json") }

// checked is target/check.json of this project and target (read once);
// nil when check never ran, or ran on another target.
func (l *Project) checked() (*artifacts.CheckResults, error) {
	s := &l.check
	s.once.Do(func() {
		res, err := artifacts.ReadCheck(l.checkPath())
		switch {
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			s.err = withoutPath(err)
		case res.Version == artifacts.CheckVersion && res.Project == l.Project.Name && res.Target == l.Target.Name:
			s.res = res
		}
	})
	return s.res, s.err
}

// lineageSums is, for every node, a checksum of its SQL, config and the
// vars it reads and those of all its ancestors: the columns check found
// for a node hold while it is unchanged.
func (l *Project) lineageSums() map[string]string {
	out := make(map[string]string, len(l.Manifest.Nodes))
	for _, id := range l.Graph.Order(nil) {
		n := l.Manifest.Nodes[id]
		cfg, _ := json.Marshal(n.Config)
		var b strings.Builder
		b.WriteString(n.Checksum + "|" + project.Checksum(cfg))
		if res, ok := l.Compiled[id]; ok {
			for _, m := range []map[string]string{res.Reads.Vars, res.Reads.EnvVars} {
				keys := make([]string, 0, len(m))
				for k := range m {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				for _, k := range keys {
					b.WriteString("|" + k + "=" + m[k])
				}
			}
		}
		if n.Kind == manifest.Source {
			b.WriteString("|" + n.Relation.Quoted())
			for _, c := range n.Columns {
				b.WriteString("|" + c.Name + " " + c.DataType)
			}
		}
		for _, p := range l.Graph.Parents(id) {
			b.WriteString("|" + out[p])
		}
		out[id] = project.Checksum([]byte(b.String()))
	}
	return out
}

// freshCheck is what check found of n when it still holds: n and its
// ancestors are unchanged since, and PostgreSQL accepted n.
func (l *Project) freshCheck(n *manifest.Node) *artifacts.CheckNode {
	res, _ := l.checked()
	if res == nil {
		return nil
	}
	cn := res.Nodes[n.ID]
	if cn == nil || cn.Lineage != l.lineage(n.ID) || cn.Status != string(check.OK) && cn.Status != string(check.Existing) {
		return nil
	}
	return cn
}

// WriteCheck keeps what res found in target/check.json, over what earlier
// checks found of other nodes, so that a check of some models keeps the
// rest; nodes no longer in the project are dropped. A node used as it is
// (not selected) does not replace what an earlier check proved of it.
func (l *Project) WriteCheck(res *check.Result, at time.Time) error {
	prev, _ := l.checked()
	out := &artifacts.CheckResults{Version: artifacts.CheckVersion, Project: l.Project.Name, Target: l.Target.Name, Nodes: map[string]*artifacts.CheckNode{}}
	if prev != nil {
		for id, cn := range prev.Nodes {
			if _, ok := l.Manifest.Nodes[id]; ok {
				out.Nodes[id] = cn
			}
		}
	}
	stamp := at.UTC().Format(time.RFC3339)
	for id, n := range res.Nodes {
		old := out.Nodes[id]
		if n.Status == check.Existing && old != nil && old.Lineage == l.lineage(id) && old.Status == string(check.OK) {
			continue
		}
		cn := &artifacts.CheckNode{Lineage: l.lineage(id), CheckedAt: stamp, Status: string(n.Status)}
		for _, c := range n.Columns {
			cn.Columns = append(cn.Columns, artifacts.CheckColumn{Name: c.Name, Type: c.Type})
		}
		for _, r := range n.ColumnsUsed {
			cn.ColumnsUsed = append(cn.ColumnsUsed, artifacts.ColumnRef{Node: r.Node, Column: r.Column})
		}
		out.Nodes[id] = cn
	}
	if err := artifacts.WriteJSON(l.checkPath(), out); err != nil {
		return err
	}
	l.check.res, l.check.err = out, nil
	return nil
}

// checkedColumns are n's columns in manifest.json once check found them:
// those it produces, with their types and what YAML says of them, then
// those YAML declares that it does not produce.
func checkedColumns(n *manifest.Node, cn *artifacts.CheckNode) []artifacts.Column {
	yes, no := true, false
	docs := map[string]*project.Column{}
	for _, c := range n.Columns {
		docs[c.Name] = c
	}
	var out []artifacts.Column
	produced := map[string]bool{}
	for _, c := range cn.Columns {
		ac := artifacts.Column{Name: c.Name, DataType: c.Type, Produced: &yes}
		if d := docs[c.Name]; d != nil {
			ac.Description, ac.DeclaredType = d.Description, d.DataType
		}
		produced[c.Name] = true
		out = append(out, ac)
	}
	for _, c := range n.Columns {
		if !produced[c.Name] {
			out = append(out, artifacts.Column{Name: c.Name, Description: c.Description, DeclaredType: c.DataType, Produced: &no})
		}
	}
	return out
}

// columnUsage answers column: selectors from target/check.json.
type columnUsage struct {
	l       *Project
	res     *artifacts.CheckResults
	readers map[[2]string][]string
}

var _ graph.ColumnUsage = (*columnUsage)(nil)

// ColumnUsage is what the column: selector reads: target/check.json, or
// an error saying to run check first.
func (l *Project) ColumnUsage() (graph.ColumnUsage, error) {
	res, err := l.checked()
	if err != nil {
		return nil, err
	}
	if res == nil {
		return nil, errors.New("strata check has not run on target " + l.Target.Name + " (target/check.json is what it found): run strata check first")
	}
	u := &columnUsage{l: l, res: res, readers: map[[2]string][]string{}}
	for id, cn := range res.Nodes {
		for _, r := range cn.ColumnsUsed {
			k := [2]string{r.Node, r.Column}
			u.readers[k] = append(u.readers[k], id)
		}
	}
	return u, nil
}

// Readers are the nodes whose check found them reading column of node id.
func (u *columnUsage) Readers(id, column string) []string {
	return u.readers[[2]string{id, column}]
}

// Columns are the columns check found node id producing.
func (u *columnUsage) Columns(id string) ([]string, bool) {
	cn := u.res.Nodes[id]
	if cn == nil || len(cn.Columns) == 0 {
		return nil, false
	}
	out := make([]string, len(cn.Columns))
	for i, c := range cn.Columns {
		out[i] = c.Name
	}
	return out, true
}

// StaleChecks names the models that changed (they or an ancestor) since
// check found what they read, or that it never checked: what column:
// selection knows of them may be out of date.
func (l *Project) StaleChecks() []string {
	res, _ := l.checked()
	var out []string
	for _, id := range l.Manifest.Sorted() {
		n := l.Manifest.Nodes[id]
		if n.Kind != manifest.Model {
			continue
		}
		if res == nil || res.Nodes[id] == nil || res.Nodes[id].Lineage != l.lineage(id) || res.Nodes[id].Status != string(check.OK) {
			out = append(out, n.Name)
		}
	}
	return out
}
