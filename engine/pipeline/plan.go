package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"

	"strata/engine/adapter/postgres"
	"strata/engine/check"
	"strata/engine/graph"
	"strata/engine/manifest"
	"strata/engine/materialize"
	"strata/engine/pgname"
	"strata/engine/plan"
	"strata/engine/state"
)

// PlanOptions say what plan reports on.
type PlanOptions struct {
	// Selection is what build would select; with none given (Explicit
	// false), state:modified+.
	Selection Selection
	Explicit  bool
	// Env is the environment the build would go to ("" production): the
	// project itself is loaded as production places it, for the diffs.
	Env string
}

// Plan compares the project with what production recorded in the target
// and says what a build would do (docs/environments.md). It changes nothing: it reads
// strata_meta and the catalog, and proves the changed models with check
// in a transaction that is rolled back.
func (l *Project) Plan(ctx context.Context, db *postgres.Adapter, opt PlanOptions) (*plan.Plan, error) {
	p := &plan.Plan{Project: l.Project.Name, Target: l.Target.Name, Env: opt.Env,
		Added: []plan.Model{}, Removed: []plan.Model{}, Modified: []plan.Change{}, Indirect: []plan.Indirect{}, Rebuild: []plan.Step{}}
	err := l.ReadState(ctx, db.Shared())
	// (ErrMissing itself: no strata_meta at all.)
	metaExists := err != state.ErrMissing
	if errors.Is(err, state.ErrMissing) {
		p.NothingRecorded = true
		p.Notes = append(p.Notes, "production has recorded nothing in target "+l.Target.Name+" yet: every model is new")
	} else if err != nil {
		return nil, err
	}
	sel := opt.Selection
	if !opt.Explicit {
		sel = Selection{Select: []string{"state:modified+"}}
	}
	selected, err := l.Select(sel)
	if err != nil {
		return nil, err
	}
	inReport := func(id string) bool { return !opt.Explicit || selected[id] }
	st := recorded{l}
	direct := map[string]bool{}
	var order []string
	for _, id := range l.Graph.Order(nil) {
		n := l.Manifest.Nodes[id]
		if n.Kind != manifest.Model && n.Kind != manifest.Seed {
			continue
		}
		order = append(order, id)
		if !inReport(id) || !st.Modified(n) {
			continue
		}
		direct[id] = true
		if l.prod[id] == nil {
			p.Added = append(p.Added, l.planModel(n, ""))
		} else {
			p.Modified = append(p.Modified, l.change(n, l.prod[id]))
		}
	}
	// Removed: what production records that the project no longer has
	// (a renamed model is removed and added).
	var removed []*state.Node
	for id, rec := range l.prod {
		if _, ok := l.Manifest.Nodes[id]; ok || rec.Kind != string(manifest.Model) && rec.Kind != string(manifest.Seed) {
			continue
		}
		p.Removed = append(p.Removed, plan.Model{Name: rec.Name, Kind: rec.Kind, Materialized: rec.Materialized, Relation: relText(rec.Relation)})
		removed = append(removed, rec)
	}
	sort.Slice(p.Removed, func(i, j int) bool { return p.Removed[i].Name < p.Removed[j].Name })
	if note, err := l.removedNote(ctx, db.Shared(), removed); err != nil {
		return nil, err
	} else if note != "" {
		p.Notes = append(p.Notes, note)
	}
	// Relations of production that another project builds: build refuses
	// the models and seeds placed there (an environment's are its own).
	if metaExists && opt.Env == "" {
		var in []string
		for _, id := range order {
			if inReport(id) {
				in = append(in, id)
			}
		}
		taken, err := l.takenElsewhere(ctx, db, in)
		if err != nil {
			return nil, fmt.Errorf("reading strata_meta: %w", err)
		}
		for _, id := range in {
			var te *TakenError
			if errors.As(taken[id], &te) {
				n := l.Manifest.Nodes[id]
				p.Notes = append(p.Notes, fmt.Sprintf("build refuses %s %s, at %s: %s. %s", n.Kind, n.Name, te.Relation, te.Why(), te.Fix()))
			}
		}
	}
	for _, id := range order {
		if direct[id] || !inReport(id) {
			continue
		}
		// One walk of id's ancestors, not one per directly modified model:
		// a macro that changes hundreds of models made that quadratic.
		var through []string
		if len(direct) > 0 {
			ancestors := map[string]bool{}
			for _, a := range l.Graph.Ancestors(id, -1) {
				ancestors[a] = true
			}
			for _, d := range order {
				if direct[d] && ancestors[d] {
					through = append(through, l.Manifest.Nodes[d].Name)
				}
			}
		}
		if len(through) > 0 {
			p.Indirect = append(p.Indirect, plan.Indirect{Model: l.planModel(l.Manifest.Nodes[id], ""), Through: through})
		}
	}
	checked, err := l.planColumns(ctx, db, p, direct, selected)
	if err != nil {
		return nil, err
	}
	citus := false
	if len(p.Modified) > 0 || len(selected) > 0 {
		if citus, err = postgres.HasCitus(ctx, db.Shared()); err != nil {
			return nil, fmt.Errorf("asking whether the database has Citus: %w", err)
		}
	}
	for i := range p.Modified {
		n := l.Manifest.Nodes[l.idOf(p.Modified[i].Name)]
		p.Modified[i].FullRefresh = l.fullRefresh(n, p.Modified[i])
		if !strings.HasPrefix(p.Modified[i].FullRefresh, "needs a full refresh") {
			refused, err := l.uncastable(ctx, db, n, p.Modified[i].Columns)
			if err != nil {
				return nil, err
			}
			if refused != "" {
				p.Modified[i].FullRefresh = refused
			}
		}
		if !citus {
			continue
		}
		refused, err := l.citusRefusal(ctx, db, n, p.Modified[i].Columns)
		if err != nil {
			return nil, err
		}
		if refused != "" {
			p.Modified[i].FullRefresh = refused
		}
	}
	if citus {
		notes, err := l.colocatedRefusals(ctx, db, direct, selected)
		if err != nil {
			return nil, err
		}
		p.Notes = append(p.Notes, notes...)
	}
	if err := l.planFullRefresh(ctx, db, p, checked, selected); err != nil {
		return nil, err
	}
	if err := l.planRebuild(ctx, db, p, selected, direct, opt.Env); err != nil {
		return nil, err
	}
	if p.Parents, err = l.unselectedParents(ctx, db, selected, opt.Env); err != nil {
		return nil, err
	}
	return p, nil
}

// planFullRefresh finds, for each directly modified incremental model
// that plan says a full refresh for, the views on its table that the
// full refresh could not recreate: it builds the table anew and swaps it
// in, and build --full-refresh refuses ('refusing to replace ...') when
// a view reads a column the new table lacks, or does not hold on a new
// type. They are check's ViewBreaks under FullRefresh, of the models plan
// checked (checked), in one more check, only when there is such a model.
func (l *Project) planFullRefresh(ctx context.Context, db *postgres.Adapter, p *plan.Plan, checked, selected map[string]bool) error {
	var refresh []int
	for i, c := range p.Modified {
		if c.FullRefresh != "" && c.Materialized == "incremental" && checked[l.idOf(c.Name)] {
			refresh = append(refresh, i)
		}
	}
	if len(refresh) == 0 {
		return nil
	}
	opt := planCheck
	opt.FullRefresh, opt.Builds = true, selected
	res, err := l.Check(ctx, db, checked, opt)
	if err != nil {
		return err
	}
	for _, i := range refresh {
		if cn := res.Nodes[l.idOf(p.Modified[i].Name)]; cn != nil {
			p.Modified[i].FullRefreshViews = views(cn)
		}
	}
	return nil
}

// idOf is the id of the model or seed called name.
func (l *Project) idOf(name string) string {
	n, _ := l.Manifest.Lookup(name)
	return n.ID
}

// removedNote says which relations of removed models and seeds (their
// production records) still exist and are no model's or seed's of the
// project now: build drops none of them.
func (l *Project) removedNote(ctx context.Context, q postgres.Querier, removed []*state.Node) (string, error) {
	_, live := l.builtNodes()
	placed := map[pgname.Rel]bool{}
	for _, r := range live {
		placed[r] = true
	}
	var left []string
	for _, rec := range removed {
		if rec.Relation.Name == "" || placed[rec.Relation] {
			continue
		}
		var exists bool
		if err := q.QueryRow(ctx, "select to_regclass($1) is not null", rec.Relation.Quoted()).Scan(&exists); err != nil {
			return "", err
		}
		if exists {
			left = append(left, rec.Relation.String())
		}
	}
	if len(left) == 0 {
		return "", nil
	}
	sort.Strings(left)
	one := len(left) == 1
	return fmt.Sprintf("build drops no relation of a removed model or seed: %s %s in production, and in its record, until dropped by hand (once nothing reads %s)",
		strings.Join(left, ", "), pick(one, "stays", "stay"), pick(one, "it", "them")), nil
}

func relText(r pgname.Rel) string {
	if r.Name == "" {
		return ""
	}
	return r.String()
}

// planModel names n as the build in env would place it.
func (l *Project) planModel(n *manifest.Node, env string) plan.Model {
	m := plan.Model{Name: n.Name, Kind: string(n.Kind), Materialized: n.Config.Materialized}
	if n.Kind == manifest.Seed {
		m.Materialized = "seed"
	}
	if !n.Ephemeral() {
		m.Relation = pgname.Rel{Schema: pgname.EnvSchema(n.Relation.Schema, env), Name: n.Relation.Name}.String()
	}
	return m
}

// change is what changed in n since production recorded rec.
func (l *Project) change(n *manifest.Node, rec *state.Node) plan.Change {
	an := l.NodeArtifact(n)
	c := plan.Change{Model: l.planModel(n, ""), Why: l.changedWhat(n, rec)}
	if an.ConfigSum != rec.ConfigSum {
		c.Config = configChanges(rec.Config, an.Config)
	}
	if res, ok := l.Compiled[n.ID]; ok && n.Kind == manifest.Model {
		c.Diff = plan.Diff("production/"+n.Name+".sql", "project/"+n.Name+".sql", rec.SQL, res.SQL)
	}
	return c
}

// configChanges are the keys whose values differ between two configs (JSON).
func configChanges(old, new json.RawMessage) []plan.ConfigChange {
	var a, b map[string]json.RawMessage
	_ = json.Unmarshal(old, &a)
	_ = json.Unmarshal(new, &b)
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	var out []plan.ConfigChange
	for k := range keys {
		av, bv := compact(a[k]), compact(b[k])
		if av != bv {
			out = append(out, plan.ConfigChange{Key: k, Old: av, New: bv})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func compact(v json.RawMessage) string {
	if len(v) == 0 {
		return "(not set)"
	}
	var x any
	if json.Unmarshal(v, &x) != nil {
		return string(v)
	}
	b, _ := json.Marshal(x)
	return string(b)
}

// planColumns proves the changed models and what reads them with check,
// in a transaction that is rolled back, and fills in each directly
// modified model's column changes, the views its build could not
// recreate on the new version (check's ViewBreaks), and the downstream
// models that read a removed or retyped column; and the views the build
// of each indirectly modified model could not recreate (checkThrough).
// planCheck is how plan checks the models' columns: a Citus node that
// does not answer is waited for a few seconds, as by the row estimates.
// Its own advice says what a build would refuse of the relation that
// exists (ColumnsOnly).
var planCheck = check.Options{CitusConnectTimeout: postgres.CitusConnectTimeout, ColumnsOnly: true}

func (l *Project) planColumns(ctx context.Context, db *postgres.Adapter, p *plan.Plan, direct, selected map[string]bool) (map[string]bool, error) {
	// A seed's columns are its file's, as check types them.
	hasColumns := func(id string) bool {
		k := l.Manifest.Nodes[id].Kind
		return k == manifest.Model || k == manifest.Seed
	}
	models := map[string]bool{}
	for id := range direct {
		if !hasColumns(id) {
			continue
		}
		models[id] = true
		for _, c := range l.Graph.Children(id) {
			if n := l.Manifest.Nodes[c]; n.Kind == manifest.Model {
				models[c] = true
			}
		}
	}
	if len(models) == 0 {
		return nil, nil
	}
	res, err := l.checkThrough(ctx, db, models, direct, selected)
	if err != nil {
		return nil, err
	}
	for i := range p.Indirect {
		if id := l.idOf(p.Indirect[i].Name); res.Nodes[id] != nil && !l.refusedAbove(res, id, selected) {
			p.Indirect[i].Views = views(res.Nodes[id])
		}
	}
	for i := range p.Added {
		id := l.idOf(p.Added[i].Name)
		if cn := res.Nodes[id]; hasColumns(id) && (cn == nil || cn.Status != check.OK) {
			p.Added[i].CheckError = checkError(res, cn, l.Manifest.Nodes[id])
		}
	}
	changed := map[string]map[string]bool{} // model id -> its removed or retyped columns
	for i := range p.Modified {
		c := &p.Modified[i]
		id := l.idOf(c.Name)
		cn := res.Nodes[id]
		if !hasColumns(id) {
			continue
		}
		if cn == nil || cn.Status != check.OK {
			c.ColumnsError = checkError(res, cn, l.Manifest.Nodes[id])
			continue
		}
		c.Columns = columnChanges(l.prod[id].Columns, cn.Columns)
		if !l.refusedAbove(res, id, selected) {
			c.Views = views(cn)
		}
		set := map[string]bool{}
		for _, x := range c.Columns.Removed {
			set[x.Name] = true
		}
		for _, x := range c.Columns.Retyped {
			set[x.Name] = true
		}
		if len(set) > 0 {
			changed[id] = set
		}
	}
	if len(changed) == 0 {
		return models, nil
	}
	// What the downstream models read of production's relation: checked
	// alone, the changed model is used as production has it.
	readers := map[string]bool{}
	for id := range changed {
		for _, c := range l.Graph.Children(id) {
			if n := l.Manifest.Nodes[c]; n.Kind == manifest.Model && !direct[c] {
				readers[c] = true
			}
		}
	}
	var before *check.Result
	if len(readers) > 0 {
		if before, err = l.Check(ctx, db, readers, planCheck); err != nil {
			return nil, err
		}
	}
	for i := range p.Modified {
		c := &p.Modified[i]
		id := l.idOf(c.Name)
		set := changed[id]
		if set == nil {
			continue
		}
		for _, child := range l.Graph.Children(id) {
			n := l.Manifest.Nodes[child]
			if n.Kind != manifest.Model {
				continue
			}
			var cols []string
			for _, r := range []*check.Result{before, res} {
				if r == nil || r.Nodes[child] == nil {
					continue
				}
				for _, u := range r.Nodes[child].ColumnsUsed {
					if u.Node == id && set[u.Column] && !slices.Contains(cols, u.Column) {
						cols = append(cols, u.Column)
					}
				}
			}
			sort.Strings(cols)
			switch {
			case len(cols) > 0:
				c.Readers = append(c.Readers, plan.Reader{Model: n.Name, Columns: cols})
			case res.Nodes[child] != nil && res.Nodes[child].Status == check.Error:
				c.Readers = append(c.Readers, plan.Reader{Model: n.Name, Error: "fails against the change: " + firstDiag(res, n)})
			}
		}
	}
	return models, nil
}

// checkThrough checks models (the directly modified ones, direct, and
// their children) as plan does, and then the children of each model
// that is not directly modified but whose columns change through a
// parent (a select * of a parent that lost a column, a type that comes
// from one), as far down as columns change: its build rebuilds it on its
// new columns, and the views on it may not be recreated on them (check's
// ViewBreaks) any more than on a directly modified one. A model whose
// columns do not change adds nothing, so the usual plan is one check.
// What the build builds is selected (its -s, or state:modified+): a
// model it leaves out keeps its columns, and a view model it leaves out
// is recreated by a swap of what it reads from its definition as it is,
// not its new SQL (check's Builds), as the build recreates it.
func (l *Project) checkThrough(ctx context.Context, db *postgres.Adapter, models, direct, selected map[string]bool) (*check.Result, error) {
	opt := planCheck
	opt.Builds = selected
	for {
		res, err := l.Check(ctx, db, models, opt)
		if err != nil {
			return nil, err
		}
		var more []string
		for id := range models {
			cn, rec := res.Nodes[id], l.prod[id]
			if direct[id] || !selected[id] || cn == nil || cn.Status != check.OK || rec == nil || columnChanges(rec.Columns, cn.Columns).Empty() {
				continue
			}
			for _, c := range l.Graph.Children(id) {
				if n := l.Manifest.Nodes[c]; n.Kind == manifest.Model && !models[c] {
					more = append(more, c)
				}
			}
		}
		if len(more) == 0 {
			return res, nil
		}
		for _, c := range more {
			models[c] = true
		}
	}
}

// refusedAbove says whether id is a view model whose views the build of
// a model above it recreates, and refuses: a swap recreates the views on
// its relation, a view model among them with its new SQL, and the views
// on that (check's ViewBreaks of that model: 'refusing to replace
// public.par: view rep.h2 ...'). What id's own build would refuse of its
// views is then that refusal, said under the model it is about, and the
// build skips id.
func (l *Project) refusedAbove(res *check.Result, id string, selected map[string]bool) bool {
	seen := map[string]bool{}
	var up func(string) bool
	up = func(id string) bool {
		n := l.Manifest.Nodes[id]
		if n == nil || n.Kind != manifest.Model || n.Config.Materialized != "view" && n.Config.Materialized != "materialized_view" || !selected[id] {
			return false
		}
		for _, p := range l.Graph.Parents(id) {
			if seen[p] {
				continue
			}
			seen[p] = true
			if cn := res.Nodes[p]; selected[p] && cn != nil && len(cn.ViewBreaks) > 0 || up(p) {
				return true
			}
		}
		return false
	}
	return up(id)
}

// views are the views check found that cn's build could not recreate.
func views(cn *check.Node) []plan.View {
	var out []plan.View
	for _, v := range cn.ViewBreaks {
		out = append(out, plan.View{View: v.View, Error: v.Message})
	}
	return out
}

// checkError says why check could not prove n (cn is its result, nil
// when check has none).
func checkError(res *check.Result, cn *check.Node, n *manifest.Node) string {
	msg := "strata check could not prove the model"
	if cn != nil && cn.Message != "" {
		return msg + ": " + cn.Message
	}
	if d := firstDiag(res, n); d != "" {
		return msg + ": " + d
	}
	return msg
}

// firstDiag is the first problem check placed in n's file.
func firstDiag(res *check.Result, n *manifest.Node) string {
	for _, d := range res.Diags {
		if d.Pos.File == n.Path {
			return d.Msg
		}
	}
	return ""
}

// columnChanges compares the columns production recorded with those
// check found.
func columnChanges(old []state.Column, new []check.Column) *plan.Columns {
	out := &plan.Columns{Added: []plan.Column{}, Removed: []plan.Column{}, Retyped: []plan.Retyped{}}
	was := map[string]string{}
	for _, c := range old {
		was[c.Name] = c.Type
	}
	is := map[string]bool{}
	for _, c := range new {
		is[c.Name] = true
		t, ok := was[c.Name]
		switch {
		case !ok:
			out.Added = append(out.Added, plan.Column{Name: c.Name, Type: c.Type})
		case t != c.Type:
			out.Retyped = append(out.Retyped, plan.Retyped{Name: c.Name, Old: t, New: c.Type})
		}
	}
	for _, c := range old {
		if !is[c.Name] {
			out.Removed = append(out.Removed, plan.Column{Name: c.Name, Type: c.Type})
		}
	}
	return out
}

// movedFromProd reports whether production recorded n at another
// relation than the one n builds now.
func (l *Project) movedFromProd(n *manifest.Node) bool {
	rec := l.prod[n.ID]
	return rec != nil && rec.Relation != n.Relation
}

// fullRefresh says what an incremental or scd2 model needs to take change c.
func (l *Project) fullRefresh(n *manifest.Node, c plan.Change) string {
	if n == nil || n.Kind != manifest.Model {
		return ""
	}
	keyChanged := false
	for _, cc := range c.Config {
		switch cc.Key {
		case "materialized", "unique_key", "partition_by", "strategy", "check_cols", "updated_at", "scd2_columns":
			keyChanged = true
		}
		// build refuses to replace a dimension's history without
		// --full-refresh-scd2 (docs/scd2.md), as run's wasSCD2 says: not
		// as an ephemeral model, which builds nothing, nor at another
		// relation, which leaves the dimension where it is.
		if cc.Key == "materialized" && strings.Trim(cc.Old, `"`) == "scd2" && n.Config.Materialized != "scd2" && n.Config.Materialized != "ephemeral" && !l.movedFromProd(n) {
			return fmt.Sprintf("was an scd2 dimension: build refuses to build it as %s, which loses its history, without --full-refresh-scd2 (strata build --full-refresh-scd2 -s %s)", n.Config.Materialized, n.Name)
		}
	}
	cols := c.Columns
	switch n.Config.Materialized {
	case "incremental":
		// A unique_key column new to the table matches no row loaded
		// before: build refuses it (docs/models.md).
		if !keyChanged && cols != nil {
			for _, a := range cols.Added {
				if slices.Contains(n.Config.UniqueKey, a.Name) {
					return fmt.Sprintf("needs a full refresh: its unique_key column %s is new to the table, so no row loaded before would match, and build refuses it (strata build --full-refresh -s %s)", a.Name, n.Name)
				}
			}
		}
		osc := n.Config.OnSchemaChange
		if osc == "" {
			osc = "ignore"
		}
		switch {
		case keyChanged:
			return fmt.Sprintf("needs a full refresh: its table was built with another config (strata build --full-refresh -s %s)", n.Name)
		case !cols.Empty() && osc == "ignore":
			return fmt.Sprintf("needs a full refresh to take the column change: on_schema_change is ignore, so the table keeps its columns (strata build --full-refresh -s %s)", n.Name)
		case !cols.Empty() && osc == "fail":
			return fmt.Sprintf("needs a full refresh: on_schema_change is fail, so the next incremental build fails on the column change (strata build --full-refresh -s %s)", n.Name)
		case !cols.Empty() && osc == "append_new_columns" && len(cols.Removed)+len(cols.Retyped) > 0:
			return fmt.Sprintf("new columns are appended, but removed or retyped ones stay as they are without a full refresh (strata build --full-refresh -s %s)", n.Name)
		case slices.Contains(c.Why, "sql") || slices.Contains(c.Why, "vars"):
			return fmt.Sprintf("rows loaded before keep the old logic unless it is fully refreshed (strata build --full-refresh -s %s)", n.Name)
		}
	case "scd2":
		// What build refuses on a dimension (docs/scd2.md): another
		// unique_key or scd2_columns, a relation that was not built as an
		// scd2 dimension (not an ephemeral model, nor one elsewhere, which
		// are first builds), a retyped column. It takes the rest in place,
		// history kept: a new strategy, check_cols or updated_at, columns
		// added (NULL in the versions before) or removed (NULL from now on).
		refresh := fmt.Sprintf("needs a full refresh, which loses the dimension's history (strata build --full-refresh --full-refresh-scd2 -s %s)", n.Name)
		for _, cc := range c.Config {
			if old := strings.Trim(cc.Old, `"`); cc.Key == "materialized" {
				if old == "ephemeral" || l.movedFromProd(n) {
					return "" // its first build
				}
				if old == "" {
					old = "view"
				}
				built := "a " + strings.ReplaceAll(old, "_", " ")
				if old == "incremental" {
					built = "an incremental model"
				}
				return fmt.Sprintf("it was built as %s, which build refuses to update as an scd2 dimension: it needs a full refresh (strata build --full-refresh --full-refresh-scd2 -s %s)", built, n.Name)
			}
		}
		for _, cc := range c.Config {
			switch cc.Key {
			case "unique_key":
				return "build refuses another unique_key on the dimension built with the old one: it " + refresh
			case "scd2_columns":
				return "build refuses other scd2_columns on the dimension built with the old ones: it " + refresh
			}
		}
		if cols != nil && len(cols.Retyped) > 0 {
			names := make([]string, len(cols.Retyped))
			for i, r := range cols.Retyped {
				names[i] = r.Name
			}
			what := "column " + names[0] + ": cast it in the model to the dimension's type, or alter the dimension's column"
			if len(names) > 1 {
				what = "columns " + strings.Join(names, ", ") + ": cast them in the model to the dimension's types, or alter the dimension's columns"
			}
			return fmt.Sprintf("build refuses the retyped %s, which keeps its history; a full refresh loses it (strata build --full-refresh --full-refresh-scd2 -s %s)", what, n.Name)
		}
		if keyChanged || !cols.Empty() || slices.Contains(c.Why, "sql") || slices.Contains(c.Why, "vars") {
			return "build takes the change in place: versions already recorded keep the old logic; a full refresh would lose the dimension's history"
		}
	}
	return ""
}

// uncastable is what production needs when incremental model n, under
// on_schema_change: sync_all_columns, retypes a column (cols) that
// PostgreSQL has no cast for from the type the table has: build alters a
// retyped column with a cast of its values (using x::newtype), and
// without one refuses the load (materialize.AdaptColumns), so only a full
// refresh rebuilds it; "" when every retyped column has a cast. The casts
// are asked of the server (postgres.CanCast) in a transaction of its own.
func (l *Project) uncastable(ctx context.Context, db *postgres.Adapter, n *manifest.Node, cols *plan.Columns) (string, error) {
	if n == nil || n.Kind != manifest.Model || n.Config.Materialized != "incremental" || n.Config.OnSchemaChange != "sync_all_columns" || cols == nil || len(cols.Retyped) == 0 {
		return "", nil
	}
	var none []string
	err := db.BeginFunc(ctx, func(tx pgx.Tx) error {
		for _, r := range cols.Retyped {
			ok, err := postgres.CanCast(ctx, tx, r.Old, r.New)
			if err != nil {
				return err
			}
			if !ok {
				none = append(none, fmt.Sprintf("%s from %s to %s", r.Name, r.Old, r.New))
			}
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("asking PostgreSQL for the casts of the retyped columns of %s: %w", n.Name, err)
	}
	if len(none) == 0 {
		return "", nil
	}
	what := "column " + none[0]
	if len(none) > 1 {
		what = "columns " + strings.Join(none, ", ")
	}
	return fmt.Sprintf("needs a full refresh: on_schema_change is sync_all_columns, but PostgreSQL has no cast for the retyped %s, so build refuses to alter the table and the column has to be rebuilt (strata build --full-refresh -s %s)", what, n.Name), nil
}

// citusRefusal is what production needs when build refuses to load into
// incremental or scd2 model n because its table sits on the Citus cluster
// otherwise than its config says (materialize.SamePlacement: a load never
// moves the rows there), "" when it does not. Only on a database with
// Citus: elsewhere the keys are ignored.
func (l *Project) citusRefusal(ctx context.Context, db *postgres.Adapter, n *manifest.Node, cols *plan.Columns) (string, error) {
	if n == nil || n.Kind != manifest.Model || n.Config.Materialized != "incremental" && n.Config.Materialized != "scd2" {
		return "", nil
	}
	kind, err := postgres.RelKind(ctx, db.Shared(), n.Relation)
	if err != nil || kind != "table" && kind != "partitioned_table" {
		return "", err
	}
	p, err := postgres.Placed(ctx, db.Shared(), n.Relation)
	if err != nil {
		return "", fmt.Errorf("reading how %s is placed on the Citus cluster: %w", n.Relation, err)
	}
	var d *materialize.Distribution
	var with *materialize.Placed
	if n.Config.OnCitus() {
		d = &materialize.Distribution{Column: n.Config.DistributedBy, Reference: n.Config.Reference, ShardCount: n.Config.ShardCount}
		if other := l.Manifest.Colocated(n); other != nil {
			rel := other.Relation
			d.Colocate, d.ColocateName = &rel, other.Name
			w, err := postgres.Placed(ctx, db.Shared(), rel)
			if err != nil {
				return "", fmt.Errorf("reading how %s is placed on the Citus cluster: %w", rel, err)
			}
			placed := materialize.Placed(w)
			with = &placed
			if to := materialize.ShardsMoveTo(other.Config, *with); to > 0 && p.Method == "distributed" && p.Colocation == w.Colocation {
				// Colocated with it now, not once it is rebuilt: the load
				// after that is refused, and its table must move with it.
				fix := "--full-refresh"
				if n.Config.Materialized == "scd2" {
					fix = "--full-refresh --full-refresh-scd2"
				}
				return fmt.Sprintf("needs a full refresh with %s: it is colocated with %s, which moves to %s when it is rebuilt (its shard_count), and build then refuses to load rows into a table no longer colocated with it (strata build %s -s '%s %s')",
					other.Name, other.Name, shardsText(to), fix, other.Name, n.Name), nil
			}
		}
	}
	is, want, ok := materialize.Wanted(d, materialize.Placed(p), with)
	if ok {
		// sync_all_columns does not drop or retype the distribution
		// column (materialize.AdaptColumns): build refuses.
		if d := n.Config.DistributedBy; d != "" && !n.Config.Reference && n.Config.Materialized == "incremental" && n.Config.OnSchemaChange == "sync_all_columns" && p.Method == "distributed" && !cols.Empty() {
			changed := slices.ContainsFunc(cols.Removed, func(c plan.Column) bool { return c.Name == d }) ||
				slices.ContainsFunc(cols.Retyped, func(c plan.Retyped) bool { return c.Name == d })
			if changed {
				return fmt.Sprintf("needs a full refresh: on_schema_change is sync_all_columns, but its distribution column %s changed, which Citus does not drop or retype, so build refuses the load (strata build --full-refresh -s %s)", d, n.Name), nil
			}
		}
		return "", nil
	}
	if n.Config.Materialized == "scd2" {
		return fmt.Sprintf("needs a full refresh, which loses the dimension's history: its table is %s on the Citus cluster, but its config makes it %s, and build refuses to add versions there (strata build --full-refresh --full-refresh-scd2 -s %s)", is, want, n.Name), nil
	}
	return fmt.Sprintf("needs a full refresh: its table is %s on the Citus cluster, but its config makes it %s, and build refuses to load rows there (strata build --full-refresh -s %s)", is, want, n.Name), nil
}

func shardsText(n int) string {
	if n == 1 {
		return "1 shard"
	}
	return fmt.Sprintf("%d shards", n)
}

// colocatedRefusals are plan's notes of the incremental models and scd2
// dimensions that are not directly modified, but that build refuses to
// load (citusRefusal): colocated (colocate_with) with one that is and
// moves to other shards when it is rebuilt, whether this build selects
// them or a later one does; or selected (downstream of a modified model,
// or named with -s) and placed otherwise than their config says already
// (a load refused before, once the table they colocate with moved).
func (l *Project) colocatedRefusals(ctx context.Context, db *postgres.Adapter, direct, selected map[string]bool) ([]string, error) {
	var notes []string
	for _, id := range l.Graph.Order(nil) {
		n := l.Manifest.Nodes[id]
		if n.Kind != manifest.Model || direct[id] {
			continue
		}
		if other := l.Manifest.Colocated(n); !selected[id] && (other == nil || !direct[other.ID]) {
			continue
		}
		refused, err := l.citusRefusal(ctx, db, n, nil)
		if err != nil {
			return nil, err
		}
		if refused != "" {
			notes = append(notes, fmt.Sprintf("%s (%s, %s) %s", n.Name, n.Config.Materialized, n.Relation, refused))
		}
	}
	return notes, nil
}

// planRebuild lists what build would rebuild of selected, in order, with
// the catalog's estimate of each production relation's rows.
func (l *Project) planRebuild(ctx context.Context, db *postgres.Adapter, p *plan.Plan, selected, direct map[string]bool, env string) error {
	s := l.Schedule(selected, manifest.Seed, manifest.Model)
	var rels []string
	var steps []plan.Step
	for _, id := range s.Order {
		n := l.Manifest.Nodes[id]
		why := "downstream"
		switch {
		case direct[id] && l.prod[id] == nil:
			why = "added"
		case direct[id]:
			why = "modified"
		case !inGraphBelow(l.Graph, id, direct):
			why = "selected"
		}
		steps = append(steps, plan.Step{Model: l.planModel(n, env), Why: why, Rows: -1})
		rels = append(rels, n.Relation.Quoted())
	}
	if len(rels) > 0 {
		rows, err := db.Shared().Query(ctx, `select i - 1, case when c.relkind in ('r', 'm', 'p') then `+postgres.RowEstimateSQL("c")+`
				else -1 end::float8
			from unnest($1::text[]) with ordinality as r(rel, i) join pg_class c on c.oid = to_regclass(r.rel)`, rels)
		if err != nil {
			return err
		}
		for rows.Next() {
			var i int
			var est float64
			if err := rows.Scan(&i, &est); err != nil {
				rows.Close()
				return err
			}
			steps[i].Rows = est
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		// On Citus, a distributed or reference table's rows are on the
		// workers: the coordinator's catalog counts none of them.
		citus, err := postgres.HasCitus(ctx, db.Shared())
		if err != nil {
			return err
		}
		if citus {
			// A node that does not answer is waited for a few seconds,
			// not Citus's default 30 for each question to each node.
			err := db.CitusLook(ctx, func(q postgres.Querier) error {
				est, err := postgres.CitusRowEstimates(ctx, q, rels)
				if err != nil {
					return fmt.Errorf("estimating the rows of the Citus tables: %w", err)
				}
				for i, n := range est {
					steps[i].Rows = n
				}
				if len(est) == 0 {
					return nil
				}
				// A node that does not answer counts for nothing: say
				// so, or its shards' rows go missing without a word.
				down, err := postgres.CitusNodesDown(ctx, q)
				if err != nil {
					return fmt.Errorf("asking which Citus nodes answer: %w", err)
				}
				for _, d := range down {
					p.Notes = append(p.Notes, fmt.Sprintf("Citus node %s did not answer (within %s): the row estimates of distributed and reference tables leave out the shards it holds, and a build that needs it fails until it is back", d, postgres.CitusConnectTimeout))
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
	}
	p.Rebuild = append(p.Rebuild, steps...)
	return nil
}

// inGraphBelow says whether id is a descendant of one of set.
func inGraphBelow(g *graph.Graph, id string, set map[string]bool) bool {
	for _, a := range g.Ancestors(id, -1) {
		if set[a] {
			return true
		}
	}
	return false
}
