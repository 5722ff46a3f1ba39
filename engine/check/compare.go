package check

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"strata/engine/adapter/postgres"
	"strata/engine/diag"
	"strata/engine/manifest"
	"strata/engine/materialize"
)

// compare holds each selected model that PostgreSQL accepted against its
// YAML columns: a declared column it does not produce, produced columns
// that are not declared (once per model, when its YAML declares any), a
// declared data_type that differs. Errors under contract (a build would
// refuse the model), else warnings; undeclared columns can be ignored
// (check: {undeclared_columns: ignore} in project.yaml) except under
// contract.
func (c *checker) compare(ctx context.Context, tx pgx.Tx) error {
	var todo []*job
	var types []string
	for _, j := range c.jobs {
		n := j.n
		if c.belowRefused(j) {
			continue
		}
		// Not when typing the inputs of unit tests (LeaveExisting), which
		// test the model's SQL wherever its table goes.
		if c.citus && !c.opt.LeaveExisting && c.selected[n.ID] && c.res.Nodes[n.ID].Status == OK {
			if err := c.distributionColumn(ctx, tx, n, c.res.Nodes[n.ID].Columns); err != nil {
				return err
			}
		}
		if n.Kind != manifest.Model || !c.selected[n.ID] || c.res.Nodes[n.ID].Status != OK {
			continue
		}
		c.checking([]*job{j})
		if err := c.scd2Columns(ctx, tx, j, c.res.Nodes[n.ID].Columns); err != nil {
			return err
		}
		if err := c.tableRefusals(ctx, tx, j, c.res.Nodes[n.ID].Columns); err != nil {
			return err
		}
		if c.res.Nodes[n.ID].Status != OK {
			continue
		}
		todo = append(todo, j)
		for _, col := range n.Columns {
			if col.DataType != "" {
				types = append(types, col.DataType)
			}
		}
	}
	c.at = nil
	var known map[string]string
	var bad map[string]error
	err := c.db(func() (err error) { known, bad, err = postgres.TypeNames(ctx, tx, types); return err })
	if err != nil {
		return err
	}
	for _, j := range todo {
		c.compareModel(j.n, c.res.Nodes[j.n.ID].Columns, known, bad)
	}
	return nil
}

// belowRefused marks j not checked when PostgreSQL accepted it below a
// node refused after it ran (compare goes in graph order): a model whose
// build check refuses once it has its columns (an scd2 whose unique_key
// changed, an incremental load the build refuses, a contract violated, a
// Citus distribution column), against which the data tests and models
// after it were prepared. A build would skip them, so they were not
// proved: they are not checked, as below a node PostgreSQL rejected, in
// the same words. Not for plan (ColumnsOnly), which reads their columns
// either way, nor when typing the inputs of unit tests (LeaveExisting).
func (c *checker) belowRefused(j *job) bool {
	out := c.res.Nodes[j.n.ID]
	if c.opt.ColumnsOnly || c.opt.LeaveExisting || out == nil || out.Status != OK {
		return false
	}
	msg := c.blocked(j.n)
	if msg == "" {
		return false
	}
	out.Status, out.As, out.Message = NotChecked, "", msg
	out.Columns, out.ColumnsUsed = nil, nil
	return true
}

func (c *checker) compareModel(n *manifest.Node, got []Column, known map[string]string, bad map[string]error) {
	// The build enforces a contract only where it applies (not to an scd2
	// or ephemeral model, where validate warns that it is ignored).
	contract := n.Config.Contract && manifest.ConfigApplies("contract", n.Config.Materialized)
	severity := diag.Warning
	if contract {
		severity = diag.Error
	}
	add := func(sev diag.Severity, pos diag.Pos, format string, args ...any) {
		c.res.Diags = append(c.res.Diags, diag.Diagnostic{Pos: pos, Severity: sev, Msg: fmt.Sprintf(format, args...)})
		if sev == diag.Error {
			out := c.res.Nodes[n.ID]
			out.Status = Error
			if out.Message == "" {
				out.Message = fmt.Sprintf(format, args...)
			}
		}
	}
	have := map[string]string{}
	for _, col := range got {
		have[col.Name] = col.Type
	}
	declared := map[string]bool{}
	for _, col := range n.Columns {
		declared[col.Name] = true
	}
	// A declared column the model does not produce is often one it
	// produces under another spelling, which its YAML does not declare.
	var undeclared []string
	for _, col := range got {
		if !declared[col.Name] {
			undeclared = append(undeclared, col.Name)
		}
	}
	for _, col := range n.Columns {
		t, ok := have[col.Name]
		if !ok {
			add(severity, col.Pos, "model %s does not produce column %s, which its YAML declares%s%s", n.Name, col.Name, contractNote(contract), diag.DidYouMean(col.Name, undeclared))
			continue
		}
		if col.DataType == "" {
			if contract {
				add(severity, col.Pos, "column %s of model %s has no data_type, and contract: true needs the type of every column (a build would refuse the model)", col.Name, n.Name)
			}
			continue
		}
		if err, isBad := bad[col.DataType]; isBad {
			add(severity, col.Pos, "column %s of model %s: data_type %q is not a type PostgreSQL knows: %v", col.Name, n.Name, col.DataType, err)
			continue
		}
		if want := known[col.DataType]; want != "" && want != t {
			add(severity, col.Pos, "column %s of model %s is %s, but its YAML declares data_type %s%s", col.Name, n.Name, t, col.DataType, contractNote(contract))
		}
	}
	// A model whose YAML declares no column is undocumented rather than
	// out of date: its columns are in manifest.json and the docs site.
	if !contract && (c.p.Config.UndeclaredColumns == "ignore" || len(n.Columns) == 0) {
		return
	}
	var extra []string
	for _, col := range got {
		if !declared[col.Name] {
			extra = append(extra, col.Name+" ("+col.Type+")")
		}
	}
	if len(extra) == 0 {
		return
	}
	pos := n.Pos
	if n.Model != nil && n.Model.Doc != nil && n.Model.Doc.Pos.File != "" {
		pos = n.Model.Doc.Pos
	}
	hint := " (declare them under columns:, or set check: {undeclared_columns: ignore} in project.yaml)"
	if contract {
		hint = contractNote(true)
	}
	add(severity, pos, "model %s produces %d column%s that its YAML does not declare: %s%s", n.Name, len(extra), plural(len(extra)), strings.Join(extra, ", "), hint)
}

func contractNote(contract bool) string {
	if contract {
		return " (contract: true, so a build would refuse the model)"
	}
	return ""
}

// distributionColumn holds a selected model or seed that PostgreSQL
// accepted, on a Citus cluster, against its distributed_by: a column its
// query (or file) does not have, or one whose type is not that of the
// distribution column of the table colocate_with names, is an error at
// the key, in the words the build would fail with (docs/citus.md). The
// colocated table's column is the one check made of it, or else (it was
// not made: not selected, or there already) the table's in the database
// (none there, or not distributed: the build says so, check does not).
// Without Citus the keys are ignored.
func (c *checker) distributionColumn(ctx context.Context, tx pgx.Tx, n *manifest.Node, got []Column) error {
	col := n.Config.DistributedBy
	if col == "" || n.Config.Reference || n.Kind != manifest.Model && n.Kind != manifest.Seed || len(got) == 0 {
		return nil
	}
	i := slices.IndexFunc(got, func(g Column) bool { return g.Name == col })
	if i < 0 {
		names := make([]string, len(got))
		for i, g := range got {
			names[i] = g.Name
		}
		source := "the model's query returns"
		if n.Kind == manifest.Seed {
			source = "the seed's file has"
		}
		c.configError(n, "distributed_by", fmt.Sprintf("distributed_by: %s no column %q (it has: %s)", source, col, strings.Join(names, ", ")))
		return nil
	}
	other := c.p.M.Colocated(n)
	if other == nil || other.Config.DistributedBy == "" {
		return nil
	}
	otherType := ""
	if out := c.res.Nodes[other.ID]; out != nil && out.Status != Existing {
		if out.Status == OK {
			if k := slices.IndexFunc(out.Columns, func(g Column) bool { return g.Name == other.Config.DistributedBy }); k >= 0 {
				otherType = out.Columns[k].Type
			}
		}
	} else {
		rel := other.Relation
		if deferred, ok := c.p.C.Defer[other.ID]; ok {
			rel = deferred
		}
		var p postgres.Placement
		if err := c.db(func() (err error) { p, err = postgres.Placed(ctx, tx, rel); return err }); err != nil {
			return err
		}
		if p.Method == "distributed" && p.Column == other.Config.DistributedBy {
			otherType = p.Type
		}
	}
	if otherType == "" || otherType == got[i].Type {
		return nil
	}
	what := "model"
	if n.Kind == manifest.Seed {
		what = "seed"
	}
	var castable bool
	if err := c.db(func() (err error) { castable, err = postgres.CanCast(ctx, tx, got[i].Type, otherType); return err }); err != nil {
		return err
	}
	c.configError(n, "colocate_with", materialize.ColocateTypeMismatch(other.Name, other.Config.DistributedBy, otherType, what, col, got[i].Type, castable))
	return nil
}

// configError fails node n with msg, at its config key (or the node).
func (c *checker) configError(n *manifest.Node, key, msg string) {
	pos, ok := n.ConfigPos[key]
	if !ok || pos.File == "" {
		pos = n.Pos
	}
	c.res.Diags = append(c.res.Diags, diag.Diagnostic{Pos: pos, Severity: diag.Error, Msg: msg})
	out := c.res.Nodes[n.ID]
	out.Status = Error
	out.Message = msg
}
