package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"strata/engine/pgname"
)

// HasCitus reports whether the database has the Citus extension (SPEC 13):
// then models and seeds with distributed_by or reference are placed on
// its cluster; without it those keys are ignored.
func HasCitus(ctx context.Context, q Querier) (bool, error) {
	var ok bool
	err := q.QueryRow(ctx, "select exists (select from pg_extension where extname = 'citus')", Once).Scan(&ok)
	return ok, err
}

// Placement is how a table sits on a Citus cluster, as pg_dist_partition
// records it.
type Placement struct {
	// Method is "local" (not a Citus table, or no such table), "distributed"
	// (hash-distributed on Column), "reference", or "other" (a Citus local
	// table, or an append- or range-distributed one).
	Method string
	// Column and Type are the distribution column and its type.
	Column, Type string
	// Colocation is the colocation group (0 for a local table).
	Colocation int
	// Shards is how many shards it has.
	Shards int
}

// Placed reads how table r sits on the Citus cluster. Only on a server
// with Citus (HasCitus).
func Placed(ctx context.Context, q Querier, r pgname.Rel) (Placement, error) {
	var p Placement
	var method, model string
	err := q.QueryRow(ctx, `select p.partmethod::text, p.repmodel::text,
		  coalesce(column_to_column_name(p.logicalrelid, p.partkey), ''), coalesce(format_type(a.atttypid, a.atttypmod), ''),
		  p.colocationid, (select count(*) from pg_dist_shard s where s.logicalrelid = p.logicalrelid)::int
		from pg_dist_partition p
		left join pg_attribute a on a.attrelid = p.logicalrelid and a.attnum > 0 and not a.attisdropped
		  and a.attname = column_to_column_name(p.logicalrelid, p.partkey)
		where p.logicalrelid = to_regclass($1)`, r.Quoted()).Scan(&method, &model, &p.Column, &p.Type, &p.Colocation, &p.Shards)
	if errors.Is(err, pgx.ErrNoRows) {
		return Placement{Method: "local"}, nil
	}
	if err != nil {
		return p, err
	}
	switch {
	case method == "h":
		p.Method = "distributed"
	case method == "n" && model == "t":
		p.Method = "reference"
	default:
		p.Method = "other"
	}
	return p, nil
}

// CitusShardsMoving reports whether err is Citus refusing to create a
// table in a colocation group while shards of that group are being moved
// or copied (citus_rebalance_start, citus_move_shard_placement...): it does
// not wait for the move, it fails at once. table is the table Citus names,
// the one whose colocation group the new table was to join ("" when
// Citus names another operation): once the move is over, the same
// statement goes through.
func CitusShardsMoving(err error) (table string, ok bool) {
	var pg *pgconn.PgError
	if !errors.As(err, &pg) || pg.Code != "XX000" || !strings.Contains(pg.Detail, "concurrent shard move") ||
		!strings.HasPrefix(pg.Message, "could not acquire the lock required to ") {
		return "", false
	}
	table, named := strings.CutPrefix(pg.Message, "could not acquire the lock required to colocate distributed table ")
	if !named {
		table = ""
	}
	return table, true
}

// CitusConnectTimeout is how long a command that only looks at a Citus
// cluster (plan) waits for a node to accept a connection, where Citus
// waits citus.node_connection_timeout (30 s by default) for each node
// that does not answer, such as a machine gone from the network.
const CitusConnectTimeout = 3 * time.Second

// CitusLook runs f in a transaction whose connections from the
// coordinator to the nodes (run_command_on_all_nodes) give up after
// CitusConnectTimeout: a node that does not answer by then counts as down.
func (a *Adapter) CitusLook(ctx context.Context, f func(q Querier) error) error {
	return a.BeginFunc(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, fmt.Sprintf("set local citus.node_connection_timeout = %d", CitusConnectTimeout.Milliseconds())); err != nil {
			return err
		}
		return f(tx)
	})
}

// CitusNodesDown are the nodes of the Citus cluster (host:port, as
// pg_dist_node names them) that the coordinator cannot reach now, by a
// trivial command on every node (run_command_on_all_nodes).
func CitusNodesDown(ctx context.Context, q Querier) ([]string, error) {
	rows, err := q.Query(ctx, `select n.nodename || ':' || n.nodeport
		from pg_catalog.run_command_on_all_nodes('select 1') as r join pg_dist_node n on n.nodeid = r.nodeid
		where not r.success order by n.nodeid`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// CitusRowEstimates is the planner's estimate of the rows of each of rels
// (quoted names) that is a Citus table, by its index in rels; the others
// are left out. A Citus table's rows are in its shards, on the workers:
// the coordinator's pg_class has nothing of them (its table is an empty
// shell, analyzed as such), so the estimate is the sum over the shards of
// the estimate (RowEstimateSQL) of the shard's table on a node that holds
// it, the largest where several do (a reference table's copies). One
// connection to each node, side by side (run_command_on_all_nodes, whose
// sessions see the shards); a node that does not answer counts for nothing.
func CitusRowEstimates(ctx context.Context, q Querier, rels []string) (map[int]float64, error) {
	perNode := `select coalesce(json_object_agg(n, ` + RowEstimateSQL("c") + `), '{}')
		from unnest(%L::text[]) as n join pg_class c on c.oid = to_regclass(n)`
	rows, err := q.Query(ctx, `with rels as (
			select i, to_regclass(r) as rel from unnest($1::text[]) with ordinality as x(r, i)
		), shards as (
			select rels.i, pg_catalog.shard_name(s.logicalrelid, s.shardid) as name
			from rels join pg_dist_shard s on s.logicalrelid = rels.rel
		), results as (
			select r.result from (select format($2, array_agg(name)) as command from shards having count(*) > 0) as c
			cross join lateral pg_catalog.run_command_on_all_nodes(c.command) as r
			where r.success
		), tuples as (
			select j.key as name, max(j.value::float8) as n
			from results cross join lateral json_each_text(results.result::json) as j group by j.key
		)
		select rels.i - 1, coalesce(sum(greatest(t.n, 0)), 0)::float8
		from rels join pg_dist_partition p on p.logicalrelid = rels.rel
		left join shards s on s.i = rels.i left join tuples t on t.name = s.name
		group by rels.i`, rels, perNode)
	if err != nil {
		return nil, err
	}
	out := map[int]float64{}
	for rows.Next() {
		var i int
		var n float64
		if err := rows.Scan(&i, &n); err != nil {
			rows.Close()
			return nil, err
		}
		out[i] = n
	}
	return out, rows.Err()
}

// CanCast says whether PostgreSQL casts a value of type from to type to
// (explicitly: by pg_cast, through text, to or from a domain...), trying
// null::from::to under a savepoint in q's transaction, so that a failure
// leaves it as it was. from and to are type names as format_type writes
// them (quoted where need be). A type or cast that does not exist is
// false; an error that is not the types' (the connection's) is returned.
func CanCast(ctx context.Context, q Querier, from, to string) (bool, error) {
	if _, err := q.Exec(ctx, "savepoint strata_cast"); err != nil {
		return false, err
	}
	_, err := q.Exec(ctx, "select null::"+from+"::"+to)
	end := "release savepoint strata_cast"
	if err != nil {
		end = "rollback to savepoint strata_cast"
	}
	if _, rerr := q.Exec(context.WithoutCancel(ctx), end); rerr != nil {
		return false, rerr
	}
	var pg *pgconn.PgError
	if err != nil && !(errors.As(err, &pg) && strings.HasPrefix(pg.Code, "42")) {
		return false, err
	}
	return err == nil, nil
}
