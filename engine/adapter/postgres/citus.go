package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"strata/engine/pgname"
)

// HasCitus reports whether the database has the Citus extension (SPEC 13):
// then models and seeds with distributed_by or reference are placed on
// its cluster; without it those keys are ignored.
func HasCitus(ctx context.Context, q Querier) (bool, error) {
	var ok bool
	err := q.QueryRow(ctx, "select exists (select from pg_extension where extname = 'citus')").Scan(&ok)
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
