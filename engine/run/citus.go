package run

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"strata/engine/adapter/postgres"
	"strata/engine/manifest"
	"strata/engine/materialize"
	"strata/engine/pgname"
	"strata/engine/seed"
)

// onCitus reports whether the target's database has the Citus extension,
// asking it once per run.
func (e *Executor) onCitus(ctx context.Context) (bool, error) {
	e.citusMu.Lock()
	defer e.citusMu.Unlock()
	if e.citusKnown {
		return e.citus, nil
	}
	ok, err := postgres.HasCitus(ctx, e.DB.Shared())
	if err != nil {
		return false, fmt.Errorf("asking whether the database has Citus: %w", err)
	}
	e.citus, e.citusKnown = ok, true
	return ok, nil
}

// citusNodesDown adds to the error of a node that failed on a Citus
// cluster, when the error may be a node's that went away, which nodes of
// the cluster do not answer now and what to do. Citus relays what a
// worker that stopped under a statement said, 'terminating connection due
// to administrator command', as its own error, naming no worker, or says
// only 'connection not open' of the worker.
func (e *Executor) citusNodesDown(ctx context.Context, r Result) Result {
	if r.Status != Error || r.Err == nil || ctx.Err() != nil || !mayBeNodeGone(r.Err) {
		return r
	}
	if ok, err := e.onCitus(ctx); err != nil || !ok {
		return r
	}
	var down []string
	err := e.DB.CitusLook(ctx, func(q postgres.Querier) error {
		var err error
		down, err = postgres.CitusNodesDown(ctx, q)
		return err
	})
	if err != nil || len(down) == 0 {
		return r
	}
	nodes := "node " + down[0] + " does"
	if len(down) > 1 {
		nodes = "nodes " + strings.Join(down, ", ") + " do"
	}
	r.Message += fmt.Sprintf("\nCitus %s not answer: the build needs it; start it again (strata db start, on a local cluster), then run strata retry", nodes)
	return r
}

// mayBeNodeGone says whether err may come of a Citus node that went away:
// a lost connection, a server shutting down, or an error Citus relays
// without a SQLSTATE of its own (XX000).
func mayBeNodeGone(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "XX000" || strings.HasPrefix(pg.Code, "08") || strings.HasPrefix(pg.Code, "57P")
	}
	return false
}

// newTxn starts a build's transaction on conn; on a Citus cluster its
// statements go out one at a time (postgres.Txn.OneAtATime).
func newTxn(conn *pgx.Conn, citus bool) *postgres.Txn {
	t := postgres.NewTxn(conn)
	if citus {
		t.OneAtATime()
	}
	return t
}

// distribution is where node n's table goes on the target's Citus
// cluster, from its config (SPEC 13); nil when it stays on the coordinator
// or the database has no Citus (the config is then ignored: the run said
// so once, before it started).
func (e *Executor) distribution(ctx context.Context, n *manifest.Node) (*materialize.Distribution, error) {
	c := n.Config
	if !c.OnCitus() {
		return nil, nil
	}
	if ok, err := e.onCitus(ctx); err != nil || !ok {
		return nil, err
	}
	key := "distributed_by"
	if c.Reference {
		key = "reference"
	}
	d := &materialize.Distribution{Column: c.DistributedBy, Reference: c.Reference, ShardCount: c.ShardCount, What: string(n.Kind)}
	if pos, ok := n.ConfigPos[key]; ok && pos.File != "" {
		d.Where = pos.String()
	}
	if pos, ok := n.ConfigPos["colocate_with"]; ok && pos.File != "" {
		d.ColocateWhere = pos.String()
	}
	if pos, ok := n.ConfigPos["shard_count"]; ok && pos.File != "" {
		d.ShardWhere = pos.String()
	}
	if other := e.M.Colocated(n); other != nil {
		// In an environment, a table not built there is production's,
		// as a ref to it reads.
		rel := other.Relation
		if deferred, ok := e.C.Defer[other.ID]; ok {
			rel = deferred
		}
		d.Colocate, d.ColocateName = &rel, other.Name
	}
	return d, nil
}

// modelFor is what a plan needs of model n, with where its table goes on
// a Citus cluster.
func (e *Executor) modelFor(ctx context.Context, n *manifest.Node) (materialize.Model, error) {
	m := e.modelOf(n)
	var err error
	m.Dist, err = e.distribution(ctx, n)
	return m, err
}

// placed reads how the model's existing table sits on the Citus cluster,
// for a load into it; nil when the database has no Citus.
func (e *Executor) placed(ctx context.Context, q postgres.Querier, rel pgname.Rel) (*materialize.Placed, error) {
	if ok, err := e.onCitus(ctx); err != nil || !ok {
		return nil, err
	}
	p, err := postgres.Placed(ctx, q, rel)
	if err != nil {
		return nil, fmt.Errorf("reading how %s is placed on the Citus cluster: %w", rel, err)
	}
	placed := materialize.Placed(p)
	return &placed, nil
}

// colocatedWith reads how the table d colocates with is placed (nil
// without colocate_with): a relation that is not one of Citus's is
// "missing" when there is none, its kind when it is no table (a "view"),
// and "local" otherwise.
func colocatedWith(ctx context.Context, q postgres.Querier, d materialize.Distribution) (*materialize.Placed, error) {
	if d.Colocate == nil {
		return nil, nil
	}
	p, err := postgres.Placed(ctx, q, *d.Colocate)
	if err != nil {
		return nil, err
	}
	placed := materialize.Placed(p)
	with := &placed
	if p.Method == "local" {
		kind, err := postgres.RelKind(ctx, q, *d.Colocate)
		if err != nil {
			return nil, err
		}
		switch kind {
		case "":
			with.Method = "missing"
		case "table", "partitioned_table":
		default:
			with.Method = kind
		}
	}
	return with, nil
}

// distribute runs a Distribute op: it reads the columns of the table to
// distribute and how the table it colocates with is placed, and
// distributes it.
func (b *builder) distribute(ctx context.Context, tx *postgres.Txn, op materialize.Distribute) error {
	b.executed = append(b.executed, "-- reads the columns of "+op.Rel.Quoted())
	cols, err := postgres.Columns(ctx, tx, op.Rel)
	if err != nil {
		return err
	}
	with, err := colocatedWith(ctx, tx, op.Dist)
	if err != nil {
		return err
	}
	steps, err := op.Steps(mcols(cols), with, canCast(ctx, tx))
	if err != nil {
		return distributionError(op.Dist, err)
	}
	return b.run(ctx, tx, steps...)
}

// canCast asks q's server whether it casts one type to another
// (postgres.CanCast), in q's transaction.
func canCast(ctx context.Context, q postgres.Querier) func(from, to string) (bool, error) {
	return func(from, to string) (bool, error) { return postgres.CanCast(ctx, q, from, to) }
}

// seedCitus is how seed n's table is placed on the Citus cluster, for the
// loader; nil when it stays on the coordinator, where it is, or there is
// no Citus.
func (e *Executor) seedCitus(ctx context.Context, n *manifest.Node) (*seed.Citus, error) {
	d, err := e.distribution(ctx, n)
	if err != nil {
		return nil, err
	}
	if d == nil {
		return e.seedToCoordinator(ctx, n)
	}
	return &seed.Citus{
		Begin: func(ctx context.Context, tx pgx.Tx, views bool) error {
			for _, s := range materialize.CitusSettings(d, views) {
				if err := execStep(ctx, tx, s); err != nil {
					return err
				}
			}
			return nil
		},
		Distribute: func(ctx context.Context, tx pgx.Tx, rel pgname.Rel) error {
			cols, err := postgres.Columns(ctx, tx, rel)
			if err != nil {
				return err
			}
			with, err := colocatedWith(ctx, tx, *d)
			if err != nil {
				return err
			}
			steps, err := materialize.Distribute{Rel: rel, Dist: *d}.Steps(mcols(cols), with, canCast(ctx, tx))
			if err != nil {
				return distributionError(*d, err)
			}
			for _, s := range steps {
				if err := execStep(ctx, tx, s); err != nil {
					return err
				}
			}
			return nil
		},
		Placed: func(ctx context.Context, q postgres.Querier, rel pgname.Rel) (bool, error) {
			p, err := postgres.Placed(ctx, q, rel)
			if err != nil {
				return false, err
			}
			with, err := colocatedWith(ctx, q, *d)
			if err != nil {
				return false, err
			}
			_, _, ok := materialize.Wanted(d, materialize.Placed(p), with)
			return ok, nil
		},
	}, nil
}

// seedToCoordinator is, for seed n that stays on the coordinator, how its
// loader moves its table there when it is a distributed or reference table
// (its config said so before): replaced in full, not appended to or
// skipped, and sequentially when views on it are recreated, as Citus
// wants for the views on one of its tables. nil when there is no Citus or
// the table is not one of Citus's.
func (e *Executor) seedToCoordinator(ctx context.Context, n *manifest.Node) (*seed.Citus, error) {
	if ok, err := e.onCitus(ctx); err != nil || !ok {
		return nil, err
	}
	p, err := postgres.Placed(ctx, e.DB.Shared(), n.Relation)
	if err != nil {
		return nil, fmt.Errorf("reading how %s is placed on the Citus cluster: %w", n.Relation, err)
	}
	if p.Method == "local" {
		return nil, nil
	}
	return &seed.Citus{
		Begin: func(ctx context.Context, tx pgx.Tx, views bool) error {
			if !views {
				return nil
			}
			return execStep(ctx, tx, materialize.SequentialMode())
		},
		Distribute: func(context.Context, pgx.Tx, pgname.Rel) error { return nil },
		Placed: func(ctx context.Context, q postgres.Querier, rel pgname.Rel) (bool, error) {
			p, err := postgres.Placed(ctx, q, rel)
			return p.Method == "local", err
		},
	}, nil
}

// startsPlaced is an error whose message starts with the position of the
// config it is about, so the report puts no other place in front.
type startsPlaced struct{ error }

func (e startsPlaced) Unwrap() error { return e.error }

// distributionError is an error of materialize.Distribute.Steps, placed at
// the config when d says where it is.
func distributionError(d materialize.Distribution, err error) error {
	if d.Where == "" && d.ColocateWhere == "" {
		return err
	}
	return startsPlaced{err}
}

// nullDistribution says, in the config's words, Citus's refusal of a row
// of node n's without a value in its distribution column: Citus says "the
// partition column of table <a scratch table> cannot be NULL" (SQLSTATE
// 22004), naming neither the column nor a table of the user's. Other
// errors are returned as they are.
func nullDistribution(n *manifest.Node, err error) error {
	c := n.Config
	var pg *pgconn.PgError
	if c.DistributedBy == "" || c.Reference || !errors.As(err, &pg) || pg.Code != "22004" ||
		!strings.HasPrefix(pg.Message, "the partition column of table ") {
		return err
	}
	col := pgname.Ident(c.DistributedBy)
	what := "the model's query returns a row whose " + col + " is NULL"
	fix := "filter such rows out, or give them a value (coalesce)"
	if n.Kind == manifest.Seed {
		what = "this row's " + col + " is empty (NULL)"
		fix = "remove such rows from the file, or distribute the seed by a column that always has a value"
	}
	msg := fmt.Sprintf("distributed_by: %s; Citus places each row on the shard of its distribution column's value and refuses a row without one: %s", what, fix)
	if pos, ok := n.ConfigPos["distributed_by"]; ok && pos.File != "" {
		msg += " (distributed_by is set at " + pos.String() + ")"
	}
	return &reworded{err: err, from: pg.Message, to: msg}
}

// reworded is err with the text from said as to.
type reworded struct {
	err      error
	from, to string
}

func (r *reworded) Error() string { return strings.Replace(r.err.Error(), r.from, r.to, 1) }
func (r *reworded) Unwrap() error { return r.err }
