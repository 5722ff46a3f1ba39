package check

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"strata/engine/adapter/postgres"
	"strata/engine/compile"
	"strata/engine/diag"
	"strata/engine/internal/par"
	"strata/engine/manifest"
	"strata/engine/materialize"
	"strata/engine/pgname"
	"strata/engine/seed"
)

// observed is what the catalog said before check changed anything: the
// relations of the nodes it handles, their columns, and the schemas.
type observed struct {
	rels    map[pgname.Rel]postgres.Found // by relation as the catalog keeps it
	cols    map[uint32][]postgres.Column
	schemas map[string]bool
}

func (o *observed) found(n *manifest.Node) (postgres.Found, bool) {
	f, ok := o.rels[n.Relation.Kept()]
	return f, ok
}

func (o *observed) exists(n *manifest.Node) bool {
	_, ok := o.found(n)
	return ok && !isEphemeral(n)
}

// observe reads, in three round trips, the relations of the nodes of set,
// the columns of those that exist, and which of their schemas exist.
func (c *checker) observe(ctx context.Context, tx pgx.Tx, set map[string]bool) (*observed, error) {
	var rels []pgname.Rel
	var schemas []string
	for id := range set {
		n := c.p.M.Nodes[id]
		if n.Kind == manifest.Test || isEphemeral(n) {
			continue
		}
		rels = append(rels, n.Relation.Kept())
		schemas = append(schemas, n.Relation.Kept().Schema)
	}
	found, err := postgres.Lookup(ctx, tx, rels)
	if err != nil {
		return nil, err
	}
	var oids []uint32
	for _, f := range found {
		oids = append(oids, f.OID)
	}
	cols, err := postgres.ColumnsOf(ctx, tx, oids)
	if err != nil {
		return nil, err
	}
	have, err := postgres.Schemas(ctx, tx, slices.Compact(slices.Sorted(slices.Values(schemas))))
	if err != nil {
		return nil, err
	}
	return &observed{rels: found, cols: cols, schemas: have}, nil
}

// inferred is a seed's table as its loader would create it, or why not.
type inferred struct {
	cols []materialize.Column
	err  error
}

// inferSeeds reads the files of the seeds check creates (selected ones,
// and those that do not exist), a few at once, as the loader would.
func (c *checker) inferSeeds(ctx context.Context, set map[string]bool, obs *observed) map[string]inferred {
	var todo []*manifest.Node
	for _, id := range c.p.M.Sorted() {
		n := c.p.M.Nodes[id]
		if set[id] && n.Kind == manifest.Seed && (c.selected[id] || !obs.exists(n)) && (n.Seed == nil || !n.Seed.Missing) {
			todo = append(todo, n)
		}
	}
	out := make([]inferred, len(todo))
	par.For(len(todo), min(runtime.GOMAXPROCS(0), len(todo)), func(i int) {
		n := todo[i]
		opts := seed.Options{Path: n.Path, Delimiter: n.Config.SeedDelimiter(), ColumnTypes: n.Config.ColumnTypes}
		sc, err := seed.InferFile(ctx, filepath.Join(c.p.Dir, filepath.FromSlash(n.Path)), opts)
		if err != nil {
			out[i].err = err
			return
		}
		for _, col := range sc.Columns {
			out[i].cols = append(out[i].cols, materialize.Column{Name: col.Name, Type: col.Type})
		}
	})
	m := make(map[string]inferred, len(todo))
	for i, n := range todo {
		m[n.ID] = out[i]
	}
	return m
}

// job is what check does with one node, decided before anything runs.
type job struct {
	n *manifest.Node
	// as says what the node becomes (Node.As).
	as string
	// steps run in one round trip under a savepoint.
	steps []materialize.Step
	// existing: the node is used as it is; nothing runs.
	existing bool
	// res is the node as rendered, to place errors in its SQL.
	res compile.Result
	// rel is the relation the node is once its steps ran (as the catalog
	// keeps it); zero for a test.
	rel pgname.Rel
	// view: rel is a view check created, whose column reads are recorded.
	view bool
	// err is why the node cannot be checked at all; skip, why it is not
	// checked (its schema could not be created for another node).
	err  error
	skip string
	// built is a selected model's relation as it was before check set
	// it aside (nil when there is none): what a build would update or
	// refuse (scd2Columns), or load into (tableRefusals, when loads).
	built *builtRel
	// loads: the model's next build loads into built (an incremental
	// load: no --full-refresh, not LeaveExisting).
	loads bool
}

// builtRel is a relation as it was before check set it aside: its kind
// (postgres.Found's) and its columns.
type builtRel struct {
	kind string
	cols []materialize.Column
}

// plan decides what check does with node id, from what was observed.
func (c *checker) plan(id string, obs *observed, seeds map[string]inferred) *job {
	n := c.p.M.Nodes[id]
	j := &job{n: n}
	selected := c.selected[id]
	found, exists := obs.found(n)
	switch n.Kind {
	case manifest.Test:
		j.as = "prepared"
		j.res, j.err = c.renderedIn(n, false)
		j.steps = materialize.PrepareTest(materialize.Body(j.res.SQL))
		return j
	case manifest.Source:
		j.rel = n.Relation.Kept()
		if exists {
			j.existing, j.as = true, "existing"
			return j
		}
		cols, err := declared(n)
		if err != nil {
			j.err = err
			return j
		}
		j.as = "declared table"
		j.steps = []materialize.Step{materialize.EmptyTable(n.Relation, cols)}
		return j
	case manifest.Seed:
		j.rel = n.Relation.Kept()
		if _, ok := c.described[id]; ok {
			// Its file gives it other columns: an empty temporary table
			// of those stands in, beside the table, which stays as it is.
			j.as, j.rel = "temporary table", describedRel(id).Kept()
			j.steps = []materialize.Step{materialize.EmptyTable(describedRel(id), seeds[id].cols)}
			return j
		}
		if exists && (!selected || c.opt.LeaveExisting) {
			j.existing, j.as = true, "existing"
			return j
		}
		if n.Seed != nil && n.Seed.Missing {
			// Declared in YAML, its file not there yet: the table loaded
			// before is all there is to check against.
			if exists {
				j.existing, j.as = true, "existing (no CSV file)"
				return j
			}
			// Its YAML may type every column (data_type, or column_types,
			// which a load would use): an empty table of those stands in.
			if cols, ok := declaredSeed(n); ok {
				j.as = "declared table"
				j.steps = []materialize.Step{materialize.EmptyTable(n.Relation, cols)}
				return j
			}
			j.err = fmt.Errorf("seed %s has no CSV file (%s) and no table on this target: create the file, or declare each of its columns with a data_type, so that check can type its table as a load would", n.Name, n.Path)
			return j
		}
		inf := seeds[id]
		if inf.err != nil {
			j.err = inf.err
			return j
		}
		if exists && sameColumns(obs.cols[found.OID], inf.cols) {
			// Its table has the columns a load would give it: nothing to replace.
			j.existing, j.as = true, "table as loaded"
			return j
		}
		j.as = "empty table"
		if exists {
			j.steps = append(j.steps, materialize.SetAside(n.Relation, found.Kind))
		}
		j.steps = append(j.steps, materialize.EmptyTable(n.Relation, inf.cols))
		return j
	}
	// A model.
	mat := n.Config.Materialized
	if isEphemeral(n) {
		// Checked on its own as a temporary view: it has no relation.
		j.res, j.err = c.renderedIn(n, false)
		rel := pgname.Rel{Schema: "pg_temp", Name: pgname.Ephemeral(n.Name)}
		j.as, j.rel, j.view = "ephemeral view", rel.Kept(), true
		v := materialize.CreateView(rel, materialize.Body(j.res.SQL))
		v.SQL = "create temporary" + strings.TrimPrefix(v.SQL, "create")
		v.Body += len("temporary ")
		j.steps = []materialize.Step{v}
		return j
	}
	j.rel = n.Relation.Kept()
	if exists && !selected {
		j.existing, j.as = true, "existing"
		return j
	}
	if exists {
		j.built = &builtRel{kind: found.Kind}
		for _, col := range obs.cols[found.OID] {
			j.built.cols = append(j.built.cols, materialize.Column{Name: col.Name, Type: col.Type})
		}
	}
	if c.p.WasSCD2[id] && mat != "scd2" && (found.Kind == "table" || found.Kind == "partitioned_table") && !c.opt.FullRefreshSCD2 && !c.opt.LeaveExisting {
		// As the build refuses it, before rendering: its history would be lost.
		err := materialize.SCD2Replaced(n.Relation, mat)
		pos := n.Pos
		if at, ok := n.ConfigPos["materialized"]; ok && at.File != "" {
			pos = at
		}
		j.err = diag.Diagnostic{Pos: pos, Msg: err.Error()}
		return j
	}
	incremental := exists && materialize.BuildsIncrementally(mat, found.Kind, c.opt.FullRefresh)
	j.res, j.err = c.renderedIn(n, incremental)
	if j.err != nil {
		return j
	}
	j.loads = incremental && !c.opt.LeaveExisting
	body := materialize.Body(j.res.SQL)
	j.as, j.view = "view", true
	at := n.Relation
	if _, described := c.described[n.ID]; c.opt.LeaveExisting && (exists || described) {
		// Described beside its relation, which stays as it is (or is
		// not there yet).
		at = describedRel(n.ID)
		j.as, j.rel = "temporary view", at.Kept()
	} else if exists {
		at = n.Relation.In(pgname.Check(n.Relation.Name))
	}
	var create materialize.Step
	if mat == "scd2" {
		d := materialize.NewSCD2(materialize.Model{Rel: n.Relation, Config: n.Config}, n.Name, runStarted(c.p.C))
		create = d.CheckView(at, body)
	} else {
		create = materialize.CreateView(at, body)
	}
	if at.Schema == "pg_temp" {
		create.SQL = "create temporary" + strings.TrimPrefix(create.SQL, "create")
		create.Body += len("temporary ")
	}
	j.steps = []materialize.Step{create}
	if exists && !c.opt.LeaveExisting {
		j.steps = append(j.steps, materialize.RenameTo(n.Relation, found.Kind, pgname.CheckedAside(n.Relation.Name)), materialize.RenameTo(at, "view", n.Relation.Name))
	}
	return j
}

// rendered is a model or test as a build would render it.
// describedRel is the temporary relation that describes node id beside
// its relation, under LeaveExisting.
func describedRel(id string) pgname.Rel {
	return pgname.Rel{Schema: "pg_temp", Name: pgname.Fit(pgname.Reserved + "described_" + id)}
}

// describe finds, under LeaveExisting, the nodes of order that are
// described beside their relation (c.described): the selected models and
// those that do not exist, and the selected seeds that exist with other columns than their
// file gives them. So a selected model reads its selected parents as
// their SQL and files say they are now, through any number of changed
// models, as it would if they were replaced, without taking a lock on
// what exists beyond a reader's.
func (c *checker) describe(order []string, obs *observed, seeds map[string]inferred) {
	c.described = nil
	if !c.opt.LeaveExisting {
		return
	}
	c.described = map[string]string{}
	for _, id := range order {
		n := c.p.M.Nodes[id]
		found, exists := obs.found(n)
		if isEphemeral(n) || !c.selected[id] && (n.Kind != manifest.Model || exists) {
			continue
		}
		switch n.Kind {
		case manifest.Model:
			// One that does not exist yet too, selected or a parent: it
			// may read one described, a temporary view, which PostgreSQL
			// makes a view in the model's own schema refuse ("cannot
			// create temporary relation in non-temporary schema").
			c.described[id] = describedRel(id).Quoted()
		case manifest.Seed:
			if !exists {
				continue
			}
			if inf, ok := seeds[id]; ok && inf.err == nil && len(inf.cols) > 0 && !sameColumns(obs.cols[found.OID], inf.cols) {
				c.described[id] = describedRel(id).Quoted()
			}
		}
	}
}

// renderedIn renders n as rendered does, reading the nodes described
// beside their relation (c.described) through what describes them.
func (c *checker) renderedIn(n *manifest.Node, incremental bool) (compile.Result, error) {
	in := map[string]string{}
	for id, rel := range c.described {
		if id != n.ID { // its own relation ({{ this }}) is the one that exists
			in[id] = rel
		}
	}
	if len(in) == 0 {
		return c.rendered(n, incremental)
	}
	return c.p.C.Inputs(in).Node(n, compile.Options{IsIncremental: incremental})
}

func (c *checker) rendered(n *manifest.Node, incremental bool) (compile.Result, error) {
	if res, ok := c.p.Compiled[n.ID]; ok && !incremental {
		return res, nil
	}
	return c.p.C.Node(n, compile.Options{IsIncremental: incremental})
}

// declared is the table an absent source is checked as: its YAML columns
// with their data_type.
func declared(n *manifest.Node) ([]materialize.Column, error) {
	if len(n.Columns) == 0 {
		return nil, fmt.Errorf("source %s does not exist and declares no columns (declare them with their data_type under columns:, so that check can stand in an empty table, or create the table)", n.Name)
	}
	var cols []materialize.Column
	var untyped []string
	for _, col := range n.Columns {
		if col.DataType == "" {
			untyped = append(untyped, col.Name)
			continue
		}
		cols = append(cols, materialize.Column{Name: col.Name, Type: col.DataType})
	}
	if len(untyped) > 0 {
		return nil, fmt.Errorf("source %s does not exist and its column%s %s declare%s no data_type (give each column its data_type, so that check can stand in an empty table)", n.Name, plural(len(untyped)), strings.Join(untyped, ", "), map[bool]string{true: "", false: "s"}[len(untyped) > 1])
	}
	return cols, nil
}

// declaredSeed is the table a seed's YAML declares: its columns, each
// typed by column_types or its data_type; false unless every one is.
func declaredSeed(n *manifest.Node) ([]materialize.Column, bool) {
	if len(n.Columns) == 0 {
		return nil, false
	}
	cols := make([]materialize.Column, len(n.Columns))
	for i, col := range n.Columns {
		typ := n.Config.ColumnTypes[col.Name]
		if typ == "" {
			typ = col.DataType
		}
		if typ == "" {
			return nil, false
		}
		cols[i] = materialize.Column{Name: col.Name, Type: typ}
	}
	return cols, true
}

// sameColumns says whether a table's columns are cols, names and types.
func sameColumns(have []postgres.Column, cols []materialize.Column) bool {
	if len(have) != len(cols) {
		return false
	}
	for i := range have {
		if have[i].Name != cols[i].Name || !sameType(have[i].Type, cols[i].Type) {
			return false
		}
	}
	return true
}

// sameType compares a type format_type printed with one the loader wrote
// (its own names, or a column_types value as the user wrote it).
func sameType(formatted, written string) bool {
	norm := map[string]string{"bigint": "bigint", "numeric": "numeric", "boolean": "boolean", "date": "date", "text": "text",
		"timestamp": "timestamp without time zone", "timestamptz": "timestamp with time zone"}
	if t, ok := norm[written]; ok {
		written = t
	}
	return formatted == written
}

// createSchemas creates the schemas of the relations check creates that
// do not exist, once each; a schema it cannot create fails the jobs in it.
func (c *checker) createSchemas(ctx context.Context, tx pgx.Tx, obs *observed) error {
	failed := map[string]error{}
	for _, j := range c.jobs {
		if j.existing || j.n.Kind == manifest.Test || j.err != nil || isEphemeral(j.n) {
			continue
		}
		schema := j.n.Relation.Kept().Schema
		if obs.schemas[schema] {
			continue
		}
		if err, done := failed[schema]; done {
			if err != nil {
				j.skip = fmt.Sprintf("not checked: schema %s could not be created", schema)
			}
			continue
		}
		step := materialize.CreateSchema(schema)
		err := postgres.Savepoint(ctx, tx, "strata_schema", func() error {
			_, err := tx.Exec(ctx, step.SQL)
			return err
		})
		if err != nil && !isPg(err) {
			return err
		}
		if err != nil {
			err = schemaError(schema, err)
			j.err = err
		}
		failed[schema] = err
	}
	return nil
}

func isPg(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg)
}

// runStarted is the run's start time the compiler renders with, for the
// scd2 change times.
func runStarted(c *compile.Compiler) time.Time {
	if t, err := time.Parse(time.RFC3339Nano, c.RunStartedAt); err == nil {
		return t
	}
	return time.Now().UTC()
}
