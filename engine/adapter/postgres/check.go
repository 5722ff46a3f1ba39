package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"strata/engine/pgname"
)

// The catalog queries of strata check. None of them reads a row of user
// data: they read pg_class, pg_attribute, pg_depend and pg_rewrite, or ask
// the server to describe a statement without running it.

// Found is a relation the catalog has: its oid and kind (as RelKind names it).
type Found struct {
	OID  uint32
	Kind string
}

// Lookup finds rels in one round trip, by their names in the catalog
// (which needs no privilege on their schemas); schema "pg_temp" is the
// session's temporary schema. Those that do not exist are not in the map.
func Lookup(ctx context.Context, q Querier, rels []pgname.Rel) (map[pgname.Rel]Found, error) {
	schemas := make([]string, len(rels))
	names := make([]string, len(rels))
	for i, r := range rels {
		schemas[i], names[i] = r.Schema, r.Name
	}
	rows, err := q.Query(ctx, `select r.s, r.n, c.oid, c.relkind::text
		from unnest($1::text[], $2::text[]) as r(s, n)
		join pg_namespace ns on ns.nspname = r.s or (r.s = 'pg_temp' and ns.oid = pg_my_temp_schema())
		join pg_class c on c.relnamespace = ns.oid and c.relname = r.n`, schemas, names)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[pgname.Rel]Found{}
	for rows.Next() {
		var r pgname.Rel
		var kind string
		var oid uint32
		if err := rows.Scan(&r.Schema, &r.Name, &oid, &kind); err != nil {
			return nil, err
		}
		out[r] = Found{OID: oid, Kind: kindOf(kind)}
	}
	return out, rows.Err()
}

// Schemas returns which of names are schemas that exist, in one round
// trip.
func Schemas(ctx context.Context, q Querier, names []string) (map[string]bool, error) {
	rows, err := q.Query(ctx, `select nspname from pg_namespace where nspname = any($1::text[])`, Once, names)
	if err != nil {
		return nil, err
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, s := range found {
		out[s] = true
	}
	return out, nil
}

// ColumnsOf lists the columns of the relations oids, in order, with their
// types as format_type prints them.
func ColumnsOf(ctx context.Context, q Querier, oids []uint32) (map[uint32][]Column, error) {
	rows, err := q.Query(ctx, `select a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod)
		from pg_attribute a
		where a.attrelid = any($1::oid[]) and a.attnum > 0 and not a.attisdropped
		order by a.attrelid, a.attnum`, oids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[uint32][]Column{}
	for rows.Next() {
		var rel uint32
		var c Column
		if err := rows.Scan(&rel, &c.Name, &c.Type); err != nil {
			return nil, err
		}
		out[rel] = append(out[rel], c)
	}
	return out, rows.Err()
}

// ColumnRead is a column a view reads: PostgreSQL records, for the rule
// that defines a view, a dependency on each column of another relation
// that its query names (pg_depend's refobjsubid is the column's number).
type ColumnRead struct {
	View, Rel uint32
	Column    string
}

// ColumnsRead lists the columns that the views oids read in other
// relations, sorted by view, relation and column number.
func ColumnsRead(ctx context.Context, q Querier, views []uint32) ([]ColumnRead, error) {
	rows, err := q.Query(ctx, `select distinct r.ev_class, d.refobjid, a.attnum, a.attname
		from pg_rewrite r
		join pg_depend d on d.classid = 'pg_rewrite'::regclass and d.objid = r.oid
		join pg_attribute a on a.attrelid = d.refobjid and a.attnum = d.refobjsubid
		where r.ev_class = any($1::oid[]) and d.refclassid = 'pg_class'::regclass
		  and d.refobjsubid > 0 and d.refobjid <> r.ev_class
		order by 1, 2, 3`, views)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ColumnRead
	for rows.Next() {
		var c ColumnRead
		var attnum int16
		if err := rows.Scan(&c.View, &c.Rel, &attnum, &c.Column); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ColumnReader is a view or materialized view that reads a column of a
// relation (its rule depends on that column, in pg_depend).
type ColumnReader struct {
	View pgname.Rel
	// Kind is "view" or "materialized view".
	Kind   string
	Column string
}

// ColumnReaders lists the views and materialized views whose query reads
// one of columns of rel, by view and column: those a drop of the column
// (sync_all_columns) fails on, or leaves unable to be recreated.
func ColumnReaders(ctx context.Context, q Querier, rel pgname.Rel, columns []string) ([]ColumnReader, error) {
	rows, err := q.Query(ctx, `select distinct n.nspname, v.relname, v.relkind::text, a.attname
		from pg_depend d
		join pg_rewrite r on d.classid = 'pg_rewrite'::regclass and r.oid = d.objid
		join pg_class v on v.oid = r.ev_class
		join pg_namespace n on n.oid = v.relnamespace
		join pg_attribute a on a.attrelid = d.refobjid and a.attnum = d.refobjsubid
		where d.refclassid = 'pg_class'::regclass and d.refobjid = (quote_ident($1) || '.' || quote_ident($2))::regclass
		  and d.refobjsubid > 0 and r.ev_class <> d.refobjid and a.attname = any($3::text[])
		order by 1, 2, 4`, rel.Schema, rel.Name, columns)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ColumnReader
	for rows.Next() {
		var c ColumnReader
		var kind string
		if err := rows.Scan(&c.View.Schema, &c.View.Name, &kind, &c.Column); err != nil {
			return nil, err
		}
		c.Kind = map[string]string{"v": "view", "m": "materialized view"}[kind]
		out = append(out, c)
	}
	return out, rows.Err()
}

// Describe returns the columns sql would return, from the server's
// description of the statement: it is parsed and analysed, not planned or
// run. In a transaction, a failure aborts it: describe under a savepoint.
func Describe(ctx context.Context, tx pgx.Tx, sql string) ([]Column, error) {
	sd, err := tx.Conn().PgConn().Prepare(ctx, "", sql, nil)
	if err != nil {
		return nil, err
	}
	oids := make([]uint32, len(sd.Fields))
	mods := make([]int32, len(sd.Fields))
	for i, f := range sd.Fields {
		oids[i], mods[i] = f.DataTypeOID, f.TypeModifier
	}
	types, err := formatTypes(ctx, tx, oids, mods)
	if err != nil {
		return nil, err
	}
	out := make([]Column, len(sd.Fields))
	for i, f := range sd.Fields {
		out[i] = Column{Name: f.Name, Type: types[i]}
	}
	return out, nil
}

func formatTypes(ctx context.Context, q Querier, oids []uint32, mods []int32) ([]string, error) {
	rows, err := q.Query(ctx, `select format_type(t, m) from unnest($1::oid[], $2::int4[]) with ordinality as x(t, m, i) order by i`, oids, mods)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// TypeNames returns, for each type as a user writes it (a YAML data_type:
// "int", "varchar(20)", "numeric(12, 2)"), the name format_type gives it
// ("integer", "character varying(20)", "numeric(12,2)"), so that declared
// and actual types compare. A name PostgreSQL does not know is in bad with
// its error. It describes statements under savepoints of tx.
func TypeNames(ctx context.Context, tx pgx.Tx, names []string) (known map[string]string, bad map[string]error, err error) {
	names = slices.Compact(slices.Sorted(slices.Values(names)))
	known, bad = map[string]string{}, map[string]error{}
	if len(names) == 0 {
		return known, bad, nil
	}
	probe := func(names []string) ([]Column, error) {
		cols := make([]string, len(names))
		for i, n := range names {
			cols[i] = fmt.Sprintf("null::%s", n)
		}
		var out []Column
		err := Savepoint(ctx, tx, "strata_types", func() error {
			var err error
			out, err = Describe(ctx, tx, "select "+strings.Join(cols, ", "))
			return err
		})
		return out, err
	}
	// One statement for all (a select list holds up to 1664 columns), one
	// per type only when one of them is wrong.
	for chunk := range slices.Chunk(names, 1000) {
		cols, err := probe(chunk)
		if err == nil {
			for i, n := range chunk {
				known[n] = cols[i].Type
			}
			continue
		}
		if !isPg(err) {
			return nil, nil, err
		}
		for _, n := range chunk {
			cols, err := probe([]string{n})
			switch {
			case err == nil:
				known[n] = cols[0].Type
			case isPg(err):
				bad[n] = Explain(err, "", 0)
			default:
				return nil, nil, err
			}
		}
	}
	return known, bad, nil
}

func isPg(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg)
}

// Savepoint runs f under a savepoint of tx: when f fails, the transaction
// is rolled back to the savepoint (so it goes on), else the savepoint is
// released. f's error is returned.
func Savepoint(ctx context.Context, tx pgx.Tx, name string, f func() error) error {
	sp := `"` + name + `"`
	if _, err := tx.Exec(ctx, "savepoint "+sp); err != nil {
		return err
	}
	if err := f(); err != nil {
		if _, rerr := tx.Exec(context.WithoutCancel(ctx), "rollback to savepoint "+sp); rerr != nil {
			return fmt.Errorf("%w (and rolling back to a savepoint: %v)", err, rerr)
		}
		return err
	}
	_, err := tx.Exec(ctx, "release savepoint "+sp)
	return err
}
